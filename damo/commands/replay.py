"""``damo replay``: turn a recording's access pattern back into accesses.

By default the pattern becomes a workload of the simulator, run under the
memory configuration (``--memory``), monitoring parameters and DAMOS schemes
given on the command line: "what would this scheme or this CXL machine have
done to that workload".  It writes a new recording and its profile.

``--real`` makes real memory accesses in the recorded pattern instead, from
compiled code, paced to the recording's time (damo's replay, at memory
speed); ``--test_perf`` measures how fast (damo's output).
"""
import os
import signal
import time

import click

from damo.params import presets as presets_mod
from damo.params import schemes as schemes_mod
from damo import units
from damo.commands import record as record_cmd
from damo.errors import DamoError


@click.command(context_settings={"help_option_names": ["-h", "--help"]},
               epilog=record_cmd.machine_epilog())
@click.argument("recording", required=False, metavar="[<file>]")
@click.option("--real", is_flag=True,
              help="make real memory accesses in the recorded pattern (paced to its time) "
                   "instead of simulating them")
@click.option("--progress_notice_interval", metavar="<seconds>",
              help="time interval between replay progress notices (--real; default 3 s)")
@click.option("--test_perf", is_flag=True,
              help="measure the replayer's speed (real accesses, as fast as possible): on "
                   "the recording if one is given, else on --test_perf_sz_mem of memory")
@click.option("--test_perf_sz_mem", default="1 GiB", show_default=True, metavar="<bytes>",
              help="size of memory to use for --test_perf without a recording")
@click.option("--test_perf_runtime", default="1 m", show_default=True, metavar="<seconds>",
              help="runtime of --test_perf")
@click.option("--source_intervals", nargs=2, metavar="<sample> <aggr>",
              help="the recording's sampling and aggregation intervals, for recordings "
                   "without them (default: inferred from the snapshots)")
@record_cmd.monitoring_options
@record_cmd.simulation_options
@schemes_mod.damos_options
@presets_mod.preset_options
@record_cmd.output_options("replay.data")
def replay(recording, real, progress_notice_interval, test_perf, test_perf_sz_mem,
           test_perf_runtime, source_intervals, out, output_type, permission, **opts):
    """Replay the access pattern of a recording (default: damon.data).

    Without --real, the recorded pattern runs as a workload of the simulated
    machine under simulated DAMON (monitoring intervals default to the
    recording's) and DAMOS schemes (--damos_*, --preset, --kdamonds); the
    result is a new recording (-o), in the original's time, and its machine
    metrics (OUT.sim_metrics: `damo report profile -i OUT` shows runtime,
    per-tier stalls and memory, faults, scheme effects).  Recordings without
    intervals (perf-script ones, or damo's real sample) are replayed with
    intervals inferred from their snapshots.
    """
    from damo import records
    from damo.workloads import replay as replay_mod

    source_iv = None
    if source_intervals is not None:
        from damo.params import damon as params_mod
        source_iv = tuple(params_mod.parse_us(v, "--source_intervals")
                          for v in source_intervals)
        if not (0 < source_iv[0] <= source_iv[1]):
            raise DamoError("--source_intervals: the sampling interval must be positive "
                            "and at most the aggregation interval", exit_code=2)
    if (test_perf or real) and opts.get("ground_truth"):
        raise DamoError("--ground_truth: only for simulated replays (not --real or "
                        "--test_perf)", exit_code=2)
    if test_perf:
        runtime = _seconds(test_perf_runtime, "--test_perf_runtime")
        if recording is None:
            size = _size(test_perf_sz_mem, "--test_perf_sz_mem")
            return _test_perf_memory(size, runtime)
        rec = records.load(recording)
        p = replay_mod.plans(rec, source_iv)[0]
        return _test_perf_recording(rec, p, runtime)
    path = recording or "damon.data"
    rec = records.load(path)
    plans = replay_mod.plans(rec, source_iv)
    for p in plans:
        if p.intervals_inferred:
            click.echo("damo: note: %s has no monitoring intervals; replaying with sampling "
                       "%s and aggregation %s inferred from its snapshots "
                       "(--source_intervals sets them)" % (
                           path, units.format_time_us(p.sample_us, False),
                           units.format_time_us(p.aggr_us, False)), err=True)
            break
    if real:
        interval = _seconds(progress_notice_interval or "3 s", "--progress_notice_interval")
        return _replay_real(path, plans, interval)
    _replay_simulated(path, rec, plans, out, output_type, permission, opts)


def _seconds(text, what):
    try:
        try:
            value = float(text)         # a plain number is seconds, as in damo
        except ValueError:
            value = units.to_us(text) / 1e6
    except (ValueError, TypeError):
        raise DamoError("%s: %r is not a time" % (what, text), exit_code=2) from None
    if value <= 0:
        raise DamoError("%s: must be positive" % what, exit_code=2)
    return value


def _size(text, what):
    try:
        value = int(units.to_bytes(text))
    except (ValueError, TypeError):
        raise DamoError("%s: %r is not a size" % (what, text), exit_code=2) from None
    if value < 4096:
        raise DamoError("%s: must be at least 4 KiB" % what, exit_code=2)
    return value // 4096 * 4096


# ---------------------------------------------------------------------------
# simulated

class _ShiftedWriter:
    """A RecordingWriter whose snapshots are moved to the original's time."""

    def __init__(self, writer, offset_ns, target_ids):
        self.writer = writer
        self.offset = offset_ns
        self.target_ids = target_ids
        self.metadata = writer.metadata

    def add_snapshot(self, kdamond_idx, context_idx, target_id, start_ns, end_ns, *args,
                     **kwargs):
        if kwargs.get("scheme_idx") is None and target_id < len(self.target_ids):
            target_id = self.target_ids[target_id]
        self.writer.add_snapshot(kdamond_idx, context_idx, target_id, start_ns + self.offset,
                                 end_ns + self.offset, *args, **kwargs)


def _replay_simulated(path, rec, plans, out, output_type, permission, opts):
    from damo.params import damon as params_mod
    from damo.params import presets as presets_mod
    from damo import runner
    from damo.commands.record import _explicit_monitoring_options
    from damo.metrics import RecordSession
    from damo.records import RecordingWriter

    first = plans[0]
    opts = dict(opts)
    if not opts.get("monitoring_intervals"):
        src = rec.records[first.record_index].intervals
        update = "%dus" % src.ops_update_us if src is not None and src.ops_update_us \
            else "%dus" % params_mod.DEFAULT_UPDATE_US
        opts["monitoring_intervals"] = ("%dus" % round(first.sample_us),
                                        "%dus" % round(first.aggr_us), update)
    ctx = record_cmd.context_from_options(opts)
    if ctx.ops != "paddr":
        ctx.targets = [params_mod.TargetParams(None, list(ctx.targets[0].regions))
                       for _ in plans]
    workloads = [p.workload(opts.get("sequential_access_rate")) for p in plans]
    kdamonds = presets_mod.kdamonds_from_options(opts, ctx, workloads,
                                                 explicit=_explicit_monitoring_options())
    ground_truth = record_cmd.ground_truth_wanted(opts, kdamonds)
    run = runner.Run(kdamonds, workloads, memory=opts["memory"], seed=opts["seed"],
                     ground_truth=ground_truth)
    offset = int(round(first.t0_ns))
    writer = RecordingWriter(out, output_type, permission)
    shifted = _ShiftedWriter(writer, offset, [p.target_id for p in plans]
                             if kdamonds[0].contexts[0].ops != "paddr" else [])
    session = RecordSession(run, shifted, memory_spec=opts["memory"],
                            tried_regions=opts.get("schemes_target_regions"),
                            ground_truth=ground_truth,
                            interval_ns=max(int(first.aggr_us * 1000), 1))
    interrupted = False
    try:
        run.run(None, session.on_snapshot, label="replaying")
    except KeyboardInterrupt:
        interrupted = True
    except BaseException:
        writer.abort()
        raise
    metrics = session.finish()
    writer.metadata["simulation"] = {
        "workload": "replay of %s" % os.path.abspath(path), "seed": opts["seed"],
        "memory": opts["memory"], "time_offset_ns": offset,
        "kdamonds": params_mod.kdamonds_to_kvpairs(run.kdamonds),
        "replay": [_replay_summary(p, w) for p, w in zip(plans, workloads)]}
    recording = writer.recording()
    nr = sum(len(r.start_ns) for r in recording.records)
    if nr == 0:
        writer.abort()
        raise DamoError("nothing was recorded: the replay ended before the first "
                        "aggregation interval", exit_code=130 if interrupted else 1)
    writer.commit(sidecars=session.sidecars(out, metrics))
    for p, w in zip(plans, workloads):
        summary = _replay_summary(p, w)
        click.echo("target %s: %s of recording replayed in %s (%s late), %d page touches"
                   % (summary["target_id"],
                      units.format_time_ns(summary["original_ns"], False),
                      units.format_time_ns(summary["replay_ns"], False),
                      units.format_time_ns(summary["late_ns"], False),
                      summary["pages_touched"]))
    click.echo("%s %d snapshots of %.3f simulated seconds to %s; `damo report profile -i %s` "
               "shows where the time and memory went" % (
                   "interrupted; wrote" if interrupted else "wrote", nr, run.sim.now_ns / 1e9,
                   out, out), err=True)
    if interrupted:
        raise SystemExit(130)


def _replay_summary(p, w):
    return {"target_id": p.target_id, "original_ns": p.duration_ns, "replay_ns": w.clock_ns,
            "late_ns": w.lag_ns, "pages_touched": int(w.pages_touched),
            "mapped_bytes": p.footprint}


# ---------------------------------------------------------------------------
# real

def _replay_real(path, plans, notice_s):
    from damo.workloads.replay import RealReplay

    if len(plans) > 1:
        click.echo("damo: note: replaying the first of %d records" % len(plans), err=True)
    rr = RealReplay(plans[0])
    n = len(plans[0].start_ns)
    state = {"next": notice_s}

    def on_snapshot(k, elapsed):
        if elapsed >= state["next"]:
            click.echo("%d/%d snapshots replayed in %.3f seconds" % (k, n, elapsed))
            state["next"] += notice_s

    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        pages, secs = rr.play(paced=True, on_snapshot=on_snapshot)
    except KeyboardInterrupt:
        raise DamoError("interrupted", exit_code=130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo("all snapshots are replayed")
    late = secs - plans[0].duration_ns / 1e9
    click.echo("# %s of pages touched in %.3f s (%s/s; the recording lasts %.3f s%s); "
               "%s resident" % (
                   units.format_sz(pages * 4096, False), secs,
                   units.format_sz(pages * 4096 / secs if secs > 0 else 0, False),
                   plans[0].duration_ns / 1e9,
                   ", replay ran %.3f s late" % late if late > 0.01 else "",
                   units.format_sz(rr.buffer.resident_pages * 4096, False)))


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _perf_loop(step, runtime):
    """Run step() (returning bytes accessed) for runtime seconds, printing
    damo's per-second line; returns the average bytes per second."""
    start = last = time.monotonic()
    done_total = done = 0
    while True:
        done += step()
        now = time.monotonic()
        if now - last >= 1:
            click.echo("replayer can access %s memory per second"
                       % units.format_sz(done / (now - last), False))
            done_total += done
            done = 0
            last = now
        if now - start >= runtime:
            done_total += done
            break
    avg = done_total / (now - start)
    click.echo("# average: %s per second over %.1f s"
               % (units.format_sz(avg, False), now - start))
    return avg


def _test_perf_memory(size, runtime):
    from damo_engine.replay import RealBuffer
    import numpy as np

    try:
        buf = RealBuffer(size)
    except MemoryError as e:
        raise DamoError(str(e)) from None
    offs = np.zeros(1, dtype=np.uint64)
    npages = np.array([size // 4096], dtype=np.uint64)
    _perf_loop(lambda: buf.touch(offs, npages) * 4096, runtime)


def _test_perf_recording(rec, plan, runtime):
    from damo.workloads.replay import RealReplay

    rr = RealReplay(plan)
    _perf_loop(lambda: rr.play(paced=False)[0] * 4096, runtime)
