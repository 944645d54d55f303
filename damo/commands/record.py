"""``damo record``: run a workload under simulated DAMON and write a recording."""
import os

import click

from damo import cliutil
from damo.params import damon as params_mod
from damo.params import presets as presets_mod
from damo import runner
from damo.workloads import masim as workload_mod
from damo.params import schemes as schemes_mod
from damo.errors import DamoError
from damo.commands import record_trace as trace_mod
from damo.params import damon_args as damon_args_mod
from damo.commands import record_snapshot as snapshot_mod


def monitoring_options(f):
    """damo's DAMON monitoring options and kdamond/context/target markers,
    shared by record, start, tune and replay (damo.params.damon_args)."""
    from damo.params import damon_args
    return damon_args.debug_option(damon_args.damon_options(f))


def machine_epilog():
    """The --memory grammar, for commands' --help."""
    from damo_engine.machines import grammar
    return "\b\nMachine spec (--memory):\n" + grammar()


def simulation_options(f):
    """Options of the simulated machine and workload."""
    opts = [
        click.option("--memory", metavar="SPEC",
                     help="simulated machine: comma-separated parts (dram|cxl|pmem|host:SIZE, "
                          "swap:zswap|zram|ssd|hdd[:SIZE], cpu:..., thp:..., fault:NS, ...; "
                          "see 'Machine spec' below) or a file of them (damo calibrate), e.g. "
                          "dram:8G,cxl:32G,swap:zswap (default: one DRAM node big enough for "
                          "the workload)"),
        # finite and bounded where they enter (a NaN rate would never end a phase)
        click.option("--sequential_access_rate", type=cliutil.finite_float(1, 10 ** 7),
                     metavar="<per ms>",
                     help="sequential accesses per ms on the reference memory, which defines "
                          "a phase's work (default: each pattern's speed there, from the cost "
                          "model)"),
        click.option("--random_access_rate", type=cliutil.finite_float(1, 10 ** 7),
                     metavar="<per ms>",
                     help="random accesses per ms on the reference memory (default: each "
                          "pattern's speed there, from the cost model)"),
        click.option("--seed", type=click.IntRange(min=0, max=2 ** 64 - 1), default=0,
                     show_default=True, help="random seed: the same seed gives the same result"),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def exact_accesses_option(f):
    """A masim workload's accesses made one by one (slow; for checking the
    default, which draws a batch's page bits at once)."""
    return click.option(
        "--exact_accesses", is_flag=True,
        help="make a masim workload's random accesses one by one, as masim does, instead "
             "of drawing the pages each batch of them touches (same distribution, "
             "much slower)")(f)


def _explicit_monitoring_options():
    """Monitoring options given on the command line (not defaults)."""
    from damo.params import damon_args
    cctx = click.get_current_context(silent=True)
    if cctx is None:
        return []
    return damon_args.given(cctx.params)


def _octal_mode(ctx, param, value):
    try:
        return int(value, 8)
    except ValueError:
        raise DamoError("--output_permission: %r is not an octal mode like 600" % value,
                        exit_code=2)


def _perf_readable(ctx, param, value):
    from damo.records import perf_data
    if value == "perf_data" and perf_data.perf_path() is None:
        # damo records perf_data with perf (and reads it back through perf
        # script); without it the file could not be read
        raise DamoError("--output_type perf_data: perf is not installed, so the file could "
                        "not be read back (install perf, e.g. apt-get install linux-perf, "
                        "or pick another type)", exit_code=2)
    return value


def output_options(default_out):
    """Where and how a command writes its recording (record, replay)."""
    opts = [
        click.option("--schemes_target_regions", is_flag=True,
                     help="record the regions each DAMOS scheme tried in each apply "
                          "interval (records with a scheme_idx) instead of the aggregated "
                          "snapshots"),
        click.option("-o", "--out", default=default_out, show_default=True,
                     metavar="<file path>", help="output file path"),
        click.option("--output_type", type=click.Choice(["json_compressed", "json",
                                                         "perf_script", "perf_data",
                                                         "native"]),
                     default="json_compressed", show_default=True, callback=_perf_readable,
                     help="output file's type (perf_data: DAMON's tracepoints as perf "
                          "record writes them)"),
        click.option("--output_permission", "permission", default="600", show_default=True,
                     metavar="<octal>", callback=_octal_mode,
                     help="permission of the output files"),
        click.option("--ground_truth", is_flag=True,
                     help="also keep the exact truth DAMON estimates (per region: bytes "
                          "accessed, mean access frequency; per snapshot: working set size, "
                          "a histogram of the pages' access frequencies), in a native "
                          "recording or in OUT.truth, for damo report accuracy"),
    ]

    def decorate(f):
        for opt in reversed(opts):
            f = opt(f)
        return f
    return decorate


def ground_truth_wanted(opts, kdamonds, plan=None):
    """--ground_truth, checked against what it can describe."""
    if not opts.get("ground_truth"):
        return False
    if plan is not None and (plan.snapshot or not plan.access):
        raise DamoError("--ground_truth: describes aggregated snapshots, not --snapshot "
                        "or --do_record without access", exit_code=2)
    if opts.get("schemes_target_regions"):
        raise DamoError("--ground_truth: describes aggregated snapshots, not "
                        "--schemes_target_regions", exit_code=2)
    if any(c.ops == "paddr" for kd in kdamonds for c in kd.contexts):
        raise DamoError("--ground_truth: needs a virtual address space (--ops vaddr or "
                        "fvaddr); the truth is kept per page of the workload's process",
                        exit_code=2)
    return True


def context_from_options(opts):
    """The first context the monitoring options give (checked: errors in
    any of them end the command here)."""
    from damo.params import damon_args
    return damon_args.kdamonds_from_options(opts, schemes=[])[0].contexts[0]


@click.command(cls=trace_mod.RecordCommand,
               context_settings={"help_option_names": ["-h", "--help"]},
               epilog="Built-in workloads:\n\n" + "\b\n" + workload_mod.describe_builtins()
               + "\n\n" + machine_epilog())
@click.argument("workload", required=False, metavar="[WORKLOAD]")
@monitoring_options
@simulation_options
@exact_accesses_option
@trace_mod.trace_options
@schemes_mod.damos_options
@presets_mod.preset_options
@output_options("damon.data")
@damon_args_mod.child_tasks_options
@snapshot_mod.record_options
@click.option("--timeout", type=cliutil.finite_float(0, 10 ** 9, min_open=True),
              metavar="<seconds>", help="stop recording after this many simulated seconds")
def record(workload, out, output_type, permission, timeout, child_tasks, debug_damon,
           **opts):
    """Record the data access pattern of WORKLOAD under simulated DAMON.

    WORKLOAD is a masim config file or a built-in workload (default: stairs),
    or `ongoing` to record the kdamonds that `damo start` runs (until they
    stop, --timeout simulated seconds pass, or ^C).  The recording is a
    damo-compatible file that damo itself reads.

    `damo record [OPTIONS] -- CMD [ARGS]...` runs CMD under valgrind's lackey
    and records its own memory accesses as it runs (the clock is its
    instruction count; see --time_per_instruction); `--trace FILE` records a
    saved trace instead.  Functions touching memory are kept in OUT.code.
    """
    from damo.params import damon_args
    workload = damon_args.deduce_target(workload, opts)
    damos_given = schemes_mod.given_options(opts) or opts.get("preset") or \
        opts.get("kdamonds_file") or opts.get("schemes_target_regions")
    if damos_given and workload == "ongoing":
        raise DamoError("DAMOS schemes (--damos_*, --preset, --kdamonds) apply to recorded "
                        "workloads only, not to ongoing kdamonds (give them to damo start)",
                        exit_code=2)
    if workload == "ongoing" and opts.get("ground_truth"):
        raise DamoError("--ground_truth: only for recorded workloads (the kdamonds of damo "
                        "start keep no truth)", exit_code=2)
    if workload == "ongoing":
        from damo.commands.record_ongoing import record_ongoing
        return record_ongoing(out, output_type, permission, timeout, opts)
    plan = snapshot_mod.RecordPlan(opts)
    if opts.get("time_scale") is not None and not trace_mod.wants_trace(workload, opts):
        raise DamoError("--time_scale: for traced programs (-- CMD or --trace FILE) only",
                        exit_code=2)
    if trace_mod.wants_trace(workload, opts):
        if plan.special:
            raise DamoError("--snapshot, --do_record and --output_flush_sec are for simulated "
                            "workloads; a traced program records its aggregated snapshots",
                            exit_code=2)
        damon_args_mod.check_child_tasks(child_tasks, None, True)
        return trace_mod.record_trace(workload, out, output_type, permission, timeout, opts)
    ctx = context_from_options(opts)
    w = workload_mod.resolve(workload, access_rate=opts["sequential_access_rate"],
                             random_access_rate=opts["random_access_rate"],
                             exact_accesses=opts["exact_accesses"])
    damon_args_mod.check_child_tasks(child_tasks, w.name, False)
    kdamonds = presets_mod.kdamonds_from_options(
        opts, ctx, [w], explicit=_explicit_monitoring_options())
    for kd in kdamonds:
        for c in kd.contexts:
            for s in c.schemes:
                for warning in s.warnings(c.ops):
                    click.echo("damo: warning: %s" % warning, err=True)
    if opts["schemes_target_regions"] and not any(c.schemes for kd in kdamonds
                                                  for c in kd.contexts):
        raise DamoError("--schemes_target_regions: there is no DAMOS scheme (give "
                        "--damos_action, --preset or --kdamonds)", exit_code=2)
    snapshot_schemes = plan.add_snapshot_schemes(kdamonds, opts)
    ground_truth = ground_truth_wanted(opts, kdamonds, plan)
    run = runner.Run(kdamonds, [w], memory=opts["memory"], seed=opts["seed"],
                     ground_truth=ground_truth)
    if run.machine.swap_kind is None and any(
            s.action == "pageout" for kd in kdamonds for c in kd.contexts for s in c.schemes):
        click.echo("damo: warning: pageout cannot reclaim anonymous memory without swap: "
                   "give the machine some (e.g. --memory dram:8G,swap:zswap)", err=True)
    from damo.metrics import RecordSession
    from damo.records import RecordingWriter
    if plan.flush_ns:
        writer = snapshot_mod.FlushingWriter(
            out, output_type, permission, plan.flush_ns,
            lambda: session.recorder.footprints if plan.footprints else [])
    else:
        writer = RecordingWriter(out, output_type, permission)
    writer.metadata["simulation"] = {
        "workload": w.name, "seed": opts["seed"], "memory": opts["memory"],
        "kdamonds": params_mod.kdamonds_to_kvpairs(run.kdamonds)}
    session = RecordSession(run, writer, memory_spec=opts["memory"],
                            tried_regions=opts["schemes_target_regions"] and not plan.snapshot,
                            ground_truth=ground_truth)
    taker = None
    if plan.snapshot:
        taker = snapshot_mod.SnapshotTaker(run, writer, snapshot_schemes, plan.delay_s,
                                           plan.count, session.intervals)

    if timeout is not None:
        # a duration asked for: refuse now what the recording could not hold
        # (with --output_flush_sec, what one part could not hold)
        budget_ns = timeout * 1e9 if not plan.flush_ns else min(timeout * 1e9, plan.flush_ns)
        run.check_snapshot_budget(budget_ns, RecordingWriter.MAX_SNAPSHOTS)
    interrupted = False
    try:
        run.run(None if timeout is None else timeout * 1e9,
                None if plan.snapshot else session.on_snapshot, label="recording")
    except snapshot_mod.Done:
        pass
    except KeyboardInterrupt:
        interrupted = True
    except BaseException:
        writer.abort()
        raise
    metrics = session.finish()
    recording = writer.recording()
    if not plan.access:
        writer.abort()
        session.save_sidecars(out, metrics, permission, footprints=plan.footprints)
        click.echo("%s no access pattern (--do_record %s) in %.1f simulated seconds; machine "
                   "metrics in %s%s" % ("interrupted; recorded" if interrupted else "recorded",
                                        " ".join(plan.do_record), run.sim.now_ns / 1e9,
                                        out, ".sim_metrics"), err=True)
        if interrupted:
            raise SystemExit(130)
        return
    has_schemes = any(c.schemes for c in sum(run.contexts, [])) and not plan.snapshot
    # ctx->pause: a paused context samples nothing, so it never aggregates
    paused = [i for i, c in enumerate(sum(run.contexts, [])) if c.pause]
    paused_why = "context%s %s %s paused (--pause_ctx) for the whole run" % (
        "s" if len(paused) > 1 else "", ", ".join(str(i) for i in paused),
        "were" if len(paused) > 1 else "was")
    nr = taker.nr_taken if taker is not None else writer_snapshots(writer, recording)
    if not nr and not has_schemes:
        writer.abort()
        if interrupted:
            raise DamoError("interrupted before the first %s; nothing recorded" % (
                "snapshot" if plan.snapshot else "aggregation"), exit_code=130)
        if plan.snapshot:
            raise DamoError("nothing was recorded: the workload ended before the first "
                            "snapshot (--snapshot %s)" % " ".join(opts["snapshot"]))
        if paused:
            raise DamoError("nothing was recorded: %s" % paused_why)
        raise DamoError("nothing was recorded: the workload ended before the first "
                        "aggregation interval")
    if plan.flush_ns:
        # parts have their own footprints (written as they were flushed)
        written = writer.commit(run.sim.now_ns, sidecars_for=lambda path: session.sidecars(
            path, metrics, footprints=plan.footprints and not writer.parts))
    else:
        writer.commit(sidecars=session.sidecars(out, metrics, footprints=plan.footprints))
        written = out
    if not nr:
        click.echo("damo: warning: no access snapshot: %s (machine metrics are in %s%s)"
                   % (paused_why if paused else "every kdamond waited on its watermarks",
                      written, ".sim_metrics"), err=True)
    parts = ""
    if plan.flush_ns and len(writer.parts) > 1:
        parts = " (the last of %d parts, one every %s simulated seconds)" % (
            len(writer.parts), opts["output_flush_sec"])
    click.echo("%s %d snapshots of %.1f simulated seconds to %s%s" % (
        "interrupted; wrote" if interrupted else "wrote", nr, run.sim.now_ns / 1e9,
        os.path.relpath(written) if not os.path.isabs(out) else written, parts), err=True)
    if interrupted:
        raise SystemExit(130)


def writer_snapshots(writer, recording):
    """Snapshots written or held by a (flushing) writer."""
    if hasattr(writer, "nr_snapshots"):
        return writer.nr_snapshots
    return sum(len(r.start_ns) for r in recording.records)
