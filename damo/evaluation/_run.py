"""Running one evaluation in this process (what every worker calls)."""
import os
import time
import traceback

from damo.errors import DamoError

# what a worker sends back: ("ok", Result) or ("error", message, traceback text)
OK, ERROR = "ok", "error"

_RECORDING_HEADS = (b"\x89DAMOREC", b"[", b"{", b"\x78")


def workload_kind(spec):
    """'masim', 'trace' or 'replay' for a workload spec (a name or a file)."""
    if spec is None or not os.path.isfile(spec):
        return "masim"
    try:
        with open(spec, "rb") as f:
            head = f.read(64)
    except OSError as e:
        raise DamoError("%s: %s" % (spec, e.strerror or e)) from None
    from damo.workloads import tracing
    first = head.lstrip(b"\n")
    if head.startswith(tracing.MAGIC) or head.startswith(b"\x1f\x8b") or \
            first[:2] == b"==" or first[:3] in (b"I  ", b" L ", b" S ", b" M "):
        return "trace"
    if head.lstrip().startswith(_RECORDING_HEADS):
        return "replay"
    return "masim"


def _workloads(ev):
    """The engine workloads of an evaluation, and the monitoring intervals
    its default context takes (None: damo's)."""
    kind = ev.workload_kind or workload_kind(ev.workload)
    if kind == "masim":
        from damo.workloads import masim
        return kind, [masim.resolve(ev.workload, access_rate=ev.access_rate,
                                    random_access_rate=ev.random_access_rate)], None
    if kind == "trace":
        from damo.workloads import tracing
        from damo_engine.traces import TraceWorkload
        source = tracing.open_trace(ev.workload)
        # damo's default intervals, divided by the time scale with the rest
        return kind, [TraceWorkload(source, ns_per_instruction=ev.ns_per_instruction
                                    or tracing.DEFAULT_NS_PER_INSTRUCTION,
                                    name=os.path.basename(ev.workload))], None
    if kind == "replay":
        from damo import records
        from damo.workloads import replay as replay_mod
        rec = records.load(ev.workload)
        plans = replay_mod.plans(rec)
        first = plans[0]
        # accesses per ms while busy (default: the cost model's nominal speed);
        # damo replay's default intervals: the recording's (or inferred)
        from damo.params import damon as params_mod
        src = rec.records[first.record_index].intervals
        update = src.ops_update_us if src is not None and src.ops_update_us \
            else params_mod.DEFAULT_UPDATE_US
        return kind, [p.workload(ev.access_rate) for p in plans], (
            "%dus" % round(first.sample_us), "%dus" % round(first.aggr_us), "%dus" % update)
    raise DamoError("workload_kind: %r is not masim, trace or replay" % kind, exit_code=2)


def time_scale(ev, kind):
    """What DAMON's times are divided by: for a trace, as `damo record
    --trace` divides them (--time_scale, 100 by default: its default
    intervals, a preset's, a kdamonds file's); 1 for other workloads."""
    from damo.commands.record_trace import DEFAULT_TIME_SCALE
    scale = ev.time_scale
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int)
                              or not 1 <= scale <= 10 ** 6):
        raise DamoError("time_scale: %r is not an integer in [1, 1000000]" % (scale,),
                        exit_code=2)
    if kind != "trace":
        if scale not in (None, 1):
            raise DamoError("time_scale: only a trace's times are scaled (workload %s is %s)"
                            % (ev.workload, kind), exit_code=2)
        return 1
    return DEFAULT_TIME_SCALE if scale is None else scale


def default_context(intervals=None, nr_targets=1):
    """The monitoring context `damo record WORKLOAD` runs without options."""
    from damo.params import damon as params_mod
    ctx = params_mod.monitoring_from_options(intervals=intervals)
    ctx.targets = [params_mod.TargetParams() for _ in range(nr_targets)]
    return ctx


def _kdamonds(ev, workloads, intervals):
    from damo.params import damon as params_mod
    from damo.params import presets as presets_mod

    if ev.preset is not None:
        machine = presets_mod.probe_machine(ev.memory, workloads)
        return presets_mod.kdamonds(ev.preset, list(ev.preset_params or ()), machine)
    if ev.kdamonds is None:
        return [params_mod.KdamondParams([default_context(intervals, len(workloads))])]
    kdamonds = params_mod.kdamonds_from_kvpairs(ev.kdamonds, "evaluation kdamonds")
    machine = presets_mod.probe_machine(ev.memory, workloads)
    for kd in kdamonds:
        for ctx in kd.contexts:
            for t in ctx.targets:
                t.pid = None            # the workloads started here
            if ctx.ops != "paddr" and len(ctx.targets) < len(workloads):
                ctx.targets += [params_mod.TargetParams()
                                for _ in range(len(workloads) - len(ctx.targets))]
            try:
                ctx.validate()
                for s in ctx.schemes:
                    s.validate(ctx.ops, len(ctx.targets), len(machine.nodes))
            except DamoError as e:
                raise DamoError("evaluation kdamonds: %s" % e, exit_code=e.exit_code)
    return kdamonds


def _measure_fn(name):
    import importlib
    module, sep, attr = name.partition(":")
    if not sep:
        raise DamoError("measure: %r is not module:function" % name, exit_code=2)
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise DamoError("measure: cannot load %s: %s" % (name, e), exit_code=2)


# what evaluate() imports as it goes (and the measure of damo sweep), so
# that a worker has it all before its first evaluation
PRELOAD = ("damo_engine.sim", "damo_engine.truth", "damo.runner", "damo.metrics",
           "damo.params.damon", "damo.params.presets", "damo.reports.profile",
           "damo.records", "damo.records.truth", "damo.workloads.masim",
           "damo.reports.accuracy")


def preload(modules=()):
    """Import what evaluations need (PRELOAD and ``modules``) in this
    process; returns the process id (a dask worker's, from Client.run)."""
    import importlib
    for name in PRELOAD + tuple(modules):
        importlib.import_module(name)
    return os.getpid()


def evaluate(ev):
    """Run one Evaluation here and return its Result (DamoError for bad
    parameters)."""
    from damo import runner
    from damo.evaluation import Result, Run
    from damo.metrics import MetricsRecorder, DEFAULT_INTERVAL_NS
    from damo.params import damon as params_mod
    from damo.reports import profile
    from damo_engine.memory import SimulationError

    t0 = time.perf_counter()
    kind, workloads, intervals = _workloads(ev)
    scale = time_scale(ev, kind)
    kdamonds = _kdamonds(ev, workloads, intervals)
    if scale != 1:
        from damo.commands.record_trace import scale_kdamonds
        kdamonds = scale_kdamonds(kdamonds, scale)
    run = runner.Run(kdamonds, workloads, memory=ev.memory, seed=ev.seed,
                     ground_truth=ev.ground_truth, time_scale=scale)
    # the metrics' sampling interval of the command that would run it
    interval_ns = DEFAULT_INTERVAL_NS if kind == "masim" else \
        max(int(kdamonds[0].contexts[0].aggr_us * 1000), 1)
    writer = None
    if ev.keep_recording or ev.measure:
        from damo.metrics import RecordSession
        from damo.records import RecordingWriter
        writer = RecordingWriter(os.devnull, "json_compressed")   # kept in memory only
        session = RecordSession(run, writer, memory_spec=ev.memory, interval_ns=interval_ns,
                                ground_truth=ev.ground_truth)
        recorder, on_snapshot = session.recorder, session.on_snapshot
    else:
        recorder, on_snapshot = MetricsRecorder(run, interval_ns, ev.memory), None
    # Run.run() sets a SIGTERM handler, which only the main thread may (a
    # dask worker runs tasks in threads): drive the simulation directly.
    run.sim.on_snapshot = on_snapshot
    try:
        run.sim.run(None if ev.timeout is None else ev.timeout * 1e9)
    except SimulationError as e:
        raise DamoError(str(e))
    metrics = recorder.finish()
    procs = metrics["final"]["processes"]
    result = Result(
        evaluation=ev,
        summary=profile.summary(metrics),
        accesses_by_node=[sum(p["runtime"]["accesses"][n] for p in procs)
                          for n in range(len(metrics["machine"]["nodes"]))],
        vmstat=dict(metrics["final"]["vmstat"]),
        schemes=[{"kdamond_idx": s["kdamond_idx"], "context_idx": s["context_idx"],
                  "scheme_idx": s["scheme_idx"], "action": s["action"],
                  "stats": dict(s["stats"])} for s in metrics["final"]["schemes"]],
        simulated_ns=metrics["final"]["time_ns"],
        finished=all(p["finished"] for p in procs),
        kdamonds=params_mod.kdamonds_to_kvpairs(kdamonds),
        wall_s=0.0)
    if ev.keep_metrics:
        result.metrics = metrics
    recording = writer.recording() if writer is not None else None
    if ev.keep_recording:
        result.recording = recording
    if ev.measure:
        extra = _measure_fn(ev.measure)(Run(ev, run, metrics, recording,
                                            writer.truths() if ev.ground_truth else None))
        result.extra = dict(extra or {})
    result.wall_s = time.perf_counter() - t0
    return result


def run_safely(ev):
    """evaluate(), its outcome as a message a worker can always send back."""
    try:
        return (OK, evaluate(ev))
    except DamoError as e:
        return (ERROR, str(e), "")
    except KeyboardInterrupt:
        raise
    except Exception as e:     # a bug: keep the traceback for the caller
        return (ERROR, "%s: %s" % (type(e).__name__, e), traceback.format_exc())
