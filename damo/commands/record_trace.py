"""``damo record -- CMD [ARGS...]`` and ``damo record --trace FILE``: record a
real program's memory accesses under simulated DAMON.

The program runs under valgrind's lackey and its trace streams into the
engine (``damo.workloads.tracing``); the simulated process uses the program's own
virtual addresses and mappings, and its clock is the instruction count
(``--time_per_instruction``).  Besides the recording P, ``P.code`` keeps which
functions made the accesses (``damo.reports.code_attribution``).
"""
import os
import shutil

import click

from damo import cliutil
from damo.errors import DamoError

# A traced program runs for simulated milliseconds (lackey runs about two
# million instructions a second), so its default monitoring intervals are
# damo's (5 ms, 100 ms, 1 s) divided by 100.
TRACE_INTERVALS = ("50us", "1ms", "10ms")
COMMAND_KEY = "damo.record.command"


class RecordCommand(click.Command):
    """``damo record``'s click command: what follows ``--`` is a command to
    trace, kept aside before click parses the options."""

    def parse_args(self, ctx, args):
        if "--" in args:
            i = args.index("--")
            ctx.meta[COMMAND_KEY] = list(args[i + 1:])
            args = list(args[:i])
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as e:
            # one line, as every other damo error (a missing value, a bad number)
            from damo.cliutil import VALUE_SEP
            from damo.errors import DamoError
            raise DamoError(e.format_message().replace(VALUE_SEP, " "), exit_code=2) from None

    def collect_usage_pieces(self, ctx):
        return super().collect_usage_pieces(ctx) + ["[-- CMD [ARGS]...]"]


def traced_command():
    """The command given after ``--``, or None."""
    ctx = click.get_current_context(silent=True)
    return None if ctx is None else ctx.meta.get(COMMAND_KEY)


def trace_options(f):
    """Options of traced programs."""
    opts = [
        click.option("--trace", "trace_file", metavar="<file>",
                     help="record a saved memory trace: valgrind lackey --trace-mem=yes "
                          "output (plain or gzip) or a binary trace from --save-trace"),
        click.option("--save-trace", "--save_trace", "save_trace", metavar="<file>",
                     help="with -- CMD (or --trace): also save the trace in damo-sim's "
                          "compact binary format, to record it again with --trace"),
        click.option("--time_per_instruction", "--time-per-instruction",
                     "time_per_instruction", type=cliutil.finite_float(0, 10 ** 9, min_open=True),
                     default=1.0, show_default=True, metavar="<ns>",
                     help="simulated time of one traced instruction"),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def wants_trace(workload, opts):
    return (traced_command() is not None or opts.get("trace_file") is not None
            or opts.get("save_trace") is not None)


def record_trace(workload, out, output_type, permission, timeout, opts):
    from damo.params import damon as params_mod
    from damo.params import presets as presets_mod
    from damo import runner
    from damo.workloads import tracing
    from damo.commands.record import _explicit_monitoring_options, context_from_options
    from damo.commands import record as record_cmd
    from damo.metrics import RecordSession
    from damo.records import RecordingWriter
    from damo.reports import code_attribution

    command = traced_command()
    trace_file = opts.get("trace_file")
    save_trace = opts.get("save_trace")
    nspi = opts.get("time_per_instruction") or tracing.DEFAULT_NS_PER_INSTRUCTION
    if workload is not None and (command is not None or trace_file):
        raise DamoError("give a WORKLOAD, -- CMD or --trace FILE, not several", exit_code=2)
    if command is not None and trace_file:
        raise DamoError("give either -- CMD or --trace FILE, not both", exit_code=2)
    if command is None and not trace_file:
        raise DamoError("--save-trace: needs -- CMD (or --trace FILE) to take the trace from",
                        exit_code=2)
    if save_trace and trace_file and os.path.abspath(save_trace) == os.path.abspath(trace_file):
        raise DamoError("--save-trace: %s is the trace being read" % save_trace, exit_code=2)
    opts = dict(opts)
    default_intervals = not opts.get("monitoring_intervals") and not (
        opts.get("preset") or opts.get("kdamonds_file"))
    if default_intervals:
        opts["monitoring_intervals"] = TRACE_INTERVALS
    ctx = context_from_options(opts)

    if command is not None:
        argv, trace_children = tracing.resolve_command(command)
        if shutil.which("valgrind") is None:
            raise DamoError("valgrind not found: `damo record -- CMD` runs CMD under "
                            "valgrind's lackey; " + tracing.VALGRIND_HINT)
        source = tracing.LackeyPipeSource(argv, trace_children=trace_children)
        label = tracing.short_label(command)
        if trace_children:
            click.echo("damo: note: %s is not a program valgrind can trace directly; "
                       "tracing its exec chain (slower)" % command[0], err=True)
    else:
        source = tracing.open_trace(trace_file)
        label = os.path.basename(trace_file)
    if default_intervals:
        click.echo("damo: note: monitoring intervals for traced programs default to %s "
                   "(damo's / 100); set them with --monitoring_intervals"
                   % " ".join(TRACE_INTERVALS), err=True)

    from damo_engine.traces import TraceWorkload

    saver = None
    writer = None
    run = None
    progress = tracing.Progress(("tracing " if command is not None else "reading ") + label)
    source.progress = progress
    interrupted = False
    try:
        if save_trace:
            header = {"source": source.kind, "ns_per_instruction": nspi}
            header.update({k: v for k, v in source.describe().items() if k == "command"})
            saver = tracing.BinaryTraceWriter(save_trace, header)
            source.saver = saver
        from damo.workloads.symbols import FunctionTable
        functions = FunctionTable(source)
        w = TraceWorkload(source, ns_per_instruction=nspi, symbolizer=functions, name=label)
        kdamonds = presets_mod.kdamonds_from_options(
            opts, ctx, [w], explicit=_explicit_monitoring_options())
        aggr_us = kdamonds[0].contexts[0].aggr_us
        if source.has_ip:
            w.set_bucket(aggr_us * 1000.0)      # code attribution per aggregation
        writer = RecordingWriter(out, output_type, permission)
        session = None
        with progress:
            try:
                if command is not None:
                    source.start()
                ground_truth = record_cmd.ground_truth_wanted(opts, kdamonds)
                run = runner.Run(kdamonds, [w], memory=opts["memory"], seed=opts["seed"],
                                 ground_truth=ground_truth)
                session = RecordSession(run, writer, memory_spec=opts["memory"],
                                        tried_regions=opts.get("schemes_target_regions"),
                                        ground_truth=ground_truth,
                                        interval_ns=aggr_us * 1000)
                run.run(None if timeout is None else timeout * 1e9, session.on_snapshot,
                        progress=False)
            except KeyboardInterrupt:
                interrupted = True
            finally:
                source.close()
        if session is None:
            raise DamoError("interrupted before the trace started; nothing recorded",
                            exit_code=130)
        metrics = session.finish()
        writer.metadata["simulation"] = {
            "workload": label, "trace": source.describe(), "ns_per_instruction": nspi,
            "seed": opts["seed"], "memory": opts["memory"],
            "kdamonds": params_mod.kdamonds_to_kvpairs(run.kdamonds),
            "trace_stats": w.stats()}
        recording = writer.recording()
        nr = sum(len(r.start_ns) for r in recording.records)
        if nr == 0:
            raise DamoError(
                "nothing was recorded: %s ran %.3f simulated ms (%d instructions at %g ns), "
                "less than one aggregation interval (%g ms); shorten --monitoring_intervals "
                "or raise --time_per_instruction" % (
                    label, w.clock_ns / 1e6, w.icount, nspi, aggr_us / 1000),
                exit_code=130 if interrupted else 1)
        attribution = w.attribution()
        metric_sidecars = session.sidecars(out, metrics)

        def sidecars(output_set, digest):
            # committed with the recording, as one unit
            metric_sidecars(output_set, digest)
            code_path = out + code_attribution.SUFFIX
            if attribution is not None:
                code_attribution.write(output_set.add(code_path, "code", hashed=False),
                                       code_attribution.build(attribution, functions.names,
                                                              functions.objects))
            elif os.path.lexists(code_path):
                output_set.remove(code_path, "code")    # it would describe another run
        writer.commit(sidecars=sidecars)
        writer = None
        if saver is not None:
            saver.commit(w.icount, getattr(source, "exit_status", None))
            saver = None
    finally:
        if saver is not None:
            saver.abort()
        if writer is not None:
            writer.abort()
    status = getattr(source, "exit_status", None)
    if getattr(source, "stopped", False):
        ending = "; stopped before its end"
    elif status in (None, 0):
        ending = ""
    else:
        ending = "; it exited with status %s" % status
    click.echo("%s %d snapshots of %.3f simulated seconds to %s (%s: %d instructions, "
               "%d accesses%s)" % (
                   "interrupted; wrote" if interrupted else "wrote", nr, run.sim.now_ns / 1e9,
                   os.path.relpath(out) if not os.path.isabs(out) else out, label, w.icount,
                   w.nr_accesses, ending), err=True)
    if save_trace:
        click.echo("saved the trace to %s" % save_trace, err=True)
    if interrupted:
        raise SystemExit(130)
