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
# million instructions a second), so DAMON's times -- damo's default
# intervals (5 ms, 100 ms, 1 s), a preset's or a kdamonds file's intervals,
# apply intervals, quotas, watermarks -- are divided by a time scale, 100 by
# default; explicit --monitoring_intervals are simulated times (scale 1)
# unless --time_scale is given.
DEFAULT_TIME_SCALE = 100
TRACE_INTERVALS = ("50us", "1ms", "10ms")       # damo's defaults at the default scale
COMMAND_KEY = "damo.record.command"


def _scaled(v, scale, floor=1):
    """v / scale, at least `floor` unless v is 0 (0 keeps its meaning)."""
    if not v:
        return v
    return max(int(round(v / scale)), floor)


def scale_kdamonds(kdamonds, scale):
    """Divide every DAMON time of the kdamonds by ``scale``: sampling,
    aggregation and update intervals, the intervals goal's bounds, apply
    intervals, ages in microseconds, quota reset intervals (with the size
    and time quotas, so that their rates stay), watermark check intervals."""
    from damo.params.schemes import ULONG_MAX
    if scale == 1:
        return kdamonds
    for kd in kdamonds:
        for c in kd.contexts:
            c.sample_us = _scaled(c.sample_us, scale)
            c.aggr_us = _scaled(c.aggr_us, scale)
            c.update_us = _scaled(c.update_us, scale)
            g = c.intervals_goal
            if g is not None:
                g.min_sample_us = _scaled(g.min_sample_us, scale)
                g.max_sample_us = _scaled(g.max_sample_us, scale)
            for s in c.schemes:
                s.apply_interval_us = _scaled(s.apply_interval_us, scale)
                p = s.access_pattern
                if p.age_unit == "usec":
                    p.age = tuple(a if a >= ULONG_MAX else _scaled(a, scale, 0)
                                  for a in p.age)
                q = s.quotas
                if q.reset_interval_ms and q.reset_interval_ms < ULONG_MAX:
                    q.reset_interval_ms = _scaled(q.reset_interval_ms, scale)
                    q.sz_bytes = _scaled(q.sz_bytes, scale, 4096)
                    q.time_ms = _scaled(q.time_ms, scale)
                s.watermarks.interval_us = _scaled(s.watermarks.interval_us, scale)
    return kdamonds


def _waits_us(kdamonds):
    """(aggregation interval, longest watermarks check interval) of the
    first context, in us: what a run must outlast to record anything."""
    c = kdamonds[0].contexts[0]
    wm = [s.watermarks.interval_us for s in c.schemes if s.watermarks.metric != "none"]
    return c.aggr_us, (max(wm) if wm and len(wm) == len(c.schemes) else 0)


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
            from damo.commands._report_common import one_line
            from damo.errors import DamoError
            raise DamoError(one_line(e.format_message().replace(VALUE_SEP, " ")),
                            exit_code=2) from None

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
        click.option("--time_scale", type=click.IntRange(1, 10 ** 6), metavar="<N>",
                     help="divide DAMON's times (intervals, apply intervals, quotas, "
                          "watermarks; of the defaults, --preset, --kdamonds and the options) "
                          "by N for a traced program, which runs for simulated milliseconds "
                          "(default: %d, or 1 when --monitoring_intervals is given); the "
                          "kdamond's access checks cost 1/N as much" % DEFAULT_TIME_SCALE),
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
    scale = opts.get("time_scale")
    if scale is None:
        scale = 1 if opts.get("monitoring_intervals") else DEFAULT_TIME_SCALE
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
    if scale != 1 and opts.get("time_scale") is None:
        click.echo("damo: note: DAMON's times are divided by %d for traced programs (the "
                   "default intervals are %s); set --time_scale, or give "
                   "--monitoring_intervals in simulated time" % (scale, " ".join(
                       TRACE_INTERVALS)), err=True)

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
        kdamonds = scale_kdamonds(presets_mod.kdamonds_from_options(
            opts, ctx, [w], explicit=_explicit_monitoring_options()), scale)
        aggr_us, wmarks_us = _waits_us(kdamonds)
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
                                 ground_truth=ground_truth, time_scale=scale)
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
        metrics["time_scale"] = scale
        writer.metadata["simulation"] = {
            "workload": label, "trace": source.describe(), "ns_per_instruction": nspi,
            "time_scale": scale,
            "seed": opts["seed"], "memory": opts["memory"],
            "kdamonds": params_mod.kdamonds_to_kvpairs(run.kdamonds),
            "trace_stats": w.stats()}
        recording = writer.recording()
        nr = sum(len(r.start_ns) for r in recording.records)
        if nr == 0:
            at = "" if scale == 1 else ", at time scale %d" % scale
            schemes = metrics["final"]["schemes"]
            if schemes and all(not s["active"] for s in schemes):
                why = "while the schemes' watermarks kept the kdamond waiting (free memory " \
                    "never fell below their mid watermark; DAMON checks them every %g ms%s): " \
                    "give the machine less memory (--memory) or set the watermarks" % (
                        wmarks_us / 1000, at)
            elif wmarks_us > aggr_us and w.clock_ns < wmarks_us * 1000:
                why = "less than the schemes' watermarks check interval (%g ms%s), before " \
                    "which the kdamond waits; raise --time_scale or --time_per_instruction" % (
                        wmarks_us / 1000, at)
            else:
                why = "less than one aggregation interval (%g ms%s); shorten " \
                    "--monitoring_intervals or raise --time_per_instruction (or " \
                    "--time_scale)" % (aggr_us / 1000, at)
            raise DamoError(
                "nothing was recorded: %s ran %.3f simulated ms (%d instructions at %g ns), "
                "%s" % (label, w.clock_ns / 1e6, w.icount, nspi, why),
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
    # a traced program runs for simulated ms: "0.000 simulated seconds" said nothing
    now_ns = run.sim.now_ns
    span = "%.3f simulated seconds" % (now_ns / 1e9) if now_ns >= 1e9 else \
        "%.3f simulated ms" % (now_ns / 1e6)
    click.echo("%s %d snapshots of %s to %s (%s: %d instructions, "
               "%d accesses%s)" % (
                   "interrupted; wrote" if interrupted else "wrote", nr, span,
                   os.path.relpath(out) if not os.path.isabs(out) else out, label, w.icount,
                   w.nr_accesses, ending), err=True)
    if save_trace:
        click.echo("saved the trace to %s" % save_trace, err=True)
    if interrupted:
        raise SystemExit(130)
