"""The simulated machine's own measurements over a run, and where they are
kept: per-tier memory in use and resident memory over time, swap, vmstat
counters, memory pressure, DAMOS scheme statistics, the kdamonds' own work,
and, at the end, where each process's time went.

``MetricsRecorder`` samples a running ``runner.Run`` every tick (the
simulation calls it) and gives the result as one JSON-friendly dict, which
``damo record`` keeps in the recording's metadata (native format) and in
sidecar files beside any recording:

- ``<out>.sim_metrics``: the whole dict (JSON);
- ``<out>.mem_footprint``: damo's memory footprint snapshots (what ``damo
  report footprints`` reads), in simulated time, with per-node extras.

``load(path)`` finds the metrics of a recording again.
"""
import hashlib
import json
import os

from damo import fileutil
from damo.errors import DamoError

FORMAT = "damo-sim-metrics"
VERSION = 1
SIDECAR = ".sim_metrics"
FOOTPRINT_SIDECAR = ".mem_footprint"
DEFAULT_INTERVAL_NS = 100_000_000
# vmstat counters kept over time (others are kept at the end only)
VMSTAT_SERIES = ("pgfault", "pgmajfault", "pswpin", "pswpout", "pgmigrate_success",
                 "pgpromote_success", "pgdemote", "pgsteal_kswapd", "pgsteal_direct",
                 "thp_fault_alloc", "thp_collapse_alloc", "nr_active", "nr_inactive")


def describe_machine(machine, spec=None):
    """The machine's tiers, swap device, CPU model and costs, as plain values."""
    from damo_engine.machines import describe_dict
    return describe_dict(machine, spec)


class MetricsRecorder:
    """Samples a runner.Run's simulation every interval_ns of simulated time."""

    def __init__(self, run, interval_ns=DEFAULT_INTERVAL_NS, memory_spec=None,
                 schemes_description=None):
        self.run = run
        self.sim = run.sim
        self.interval_ns = int(interval_ns)
        self.memory_spec = memory_spec
        self.schemes = []       # (kd, ci, si, engine scheme, description)
        for kd, ctxs in enumerate(run.contexts):
            for ci, ctx in enumerate(ctxs):
                for si, s in enumerate(ctx.schemes):
                    desc = None
                    try:
                        desc = run.kdamonds[kd].contexts[ci].schemes[si].describe()
                    except (IndexError, AttributeError):
                        pass
                    self.schemes.append((kd, ci, si, s, desc))
        self.samples = []
        self.footprints = []
        self.sim.tick_interval_ns = self.interval_ns
        self.sim.on_tick = self._tick

    def _tick(self, sim, now_ns):
        m = sim.metrics()
        if m["processes"] and all(p["finished"] for p in m["processes"]):
            return              # the programs are gone; the run is over
        self.samples.append(self._sample(m))

    def _sample(self, m):
        procs = m["processes"]
        sample = {
            "time_ns": m["time_ns"],
            "node_used": list(m["node_used"]),
            "rss_by_node": [list(p["rss_by_node"]) for p in procs],
            "swapped": [p["swapped"] for p in procs],
            "swap_used": m["vmstat"]["swap_used"],
            "psi_some_us": m["psi_some_us"],
            "vmstat": {k: m["vmstat"][k] for k in VMSTAT_SERIES},
            "kdamonds": [(k["nr_access_checks"], k["apply_ns"]) for k in m["kdamonds"]],
            "schemes": [(s.stats(), s.quota_state()["esz"], bool(s.wmarks_activated))
                        for _, _, _, s, _ in self.schemes],
        }
        self.footprints.append(self._footprint(m))
        return sample

    def _footprint(self, m):
        """One of damo's MemFootprintsSnapshot: per process statm-like pages,
        and the system's meminfo-like kB; extras keep the tiers."""
        machine = self.sim.machine
        fps = []
        for p in m["processes"]:
            mm = self.sim.process(p["pid"])
            size = sum(v.size for v in mm.vmas) // 4096 if mm is not None and mm.alive else 0
            fps.append({"pid": p["pid"], "footprint": {
                "size": size, "resident": sum(p["rss_by_node"]) // 4096, "shared": 0,
                "trs": 0, "lrs": 0, "drs": 0, "dt": 0,
                "resident_by_node": [b // 4096 for b in p["rss_by_node"]],
                "swapped": p["swapped"] // 4096}})
        total = machine.total_bytes
        free = machine.free_bytes
        fps.append({"pid": None, "footprint": {
            "total": total // 1024, "free": free // 1024, "available": free // 1024,
            "buffers": 0, "cached": 0,
            "used_by_node": [u // 1024 for u in m["node_used"]],
            "swap_used": m["vmstat"]["swap_used"] // 1024}})
        return {"time": m["time_ns"] / 1e9, "footprints": fps}

    def finish(self):
        """The metrics of the run so far, as one JSON-friendly dict."""
        m = self.sim.metrics()
        running = any(not p["finished"] for p in m["processes"])
        if not self.samples or (running and self.samples[-1]["time_ns"] != m["time_ns"]):
            # the state at the end, unless the programs are gone (then the
            # last tick, taken while they ran, is the end state)
            self.samples.append(self._sample(m))
        s = self.samples
        out = {
            "format": FORMAT, "version": VERSION,
            "machine": describe_machine(self.sim.machine, self.memory_spec),
            "interval_ns": self.interval_ns,
            "processes": [{"pid": p["pid"], "name": p["name"]} for p in m["processes"]],
            "time_ns": [x["time_ns"] for x in s],
            "node_used": [x["node_used"] for x in s],
            "rss_by_node": [x["rss_by_node"] for x in s],
            "swapped": [x["swapped"] for x in s],
            "swap_used": [x["swap_used"] for x in s],
            "psi_some_us": [x["psi_some_us"] for x in s],
            "vmstat": {k: [x["vmstat"][k] for x in s] for k in VMSTAT_SERIES},
            "kdamonds": [],
            "schemes": [],
        }
        for i, (kd, ci) in enumerate((k["kdamond_idx"], k["context_idx"])
                                     for k in m["kdamonds"]):
            out["kdamonds"].append({
                "kdamond_idx": kd, "context_idx": ci,
                "nr_access_checks": [x["kdamonds"][i][0] for x in s],
                "apply_ns": [x["kdamonds"][i][1] for x in s]})
        for j, (kd, ci, si, scheme, desc) in enumerate(self.schemes):
            stats = [x["schemes"][j][0] for x in s]
            out["schemes"].append({
                "kdamond_idx": kd, "context_idx": ci, "scheme_idx": si,
                "action": scheme.action_name, "description": desc,
                "stats": {f: [st[f] for st in stats] for f in stats[-1]},
                "esz": [x["schemes"][j][1] for x in s],
                "active": [x["schemes"][j][2] for x in s]})
        elapsed = m["time_ns"]
        out["final"] = {
            "time_ns": elapsed,
            "processes": [{"pid": p["pid"], "name": p["name"], "finished": p["finished"],
                           "runtime_ns": p["clock_ns"], "busy_ns": p["busy_ns"],
                           "runtime": p["runtime"]}
                          for p in m["processes"]],
            "vmstat": dict(m["vmstat"]),
            "psi_some_us": m["psi_some_us"],
            "kswapd_ns": m["kswapd_ns"],
            # a kdamond's CPU time is the time it was busy checking accesses
            # and applying schemes, which delays its loop as the kernel's
            # work does: at most the run's time
            "kdamonds": [dict(k, cpu_ns=k["work_ns"],
                              cpu_util=k["work_ns"] / elapsed if elapsed else 0.0)
                         for k in m["kdamonds"]],
            "schemes": [{"kdamond_idx": kd, "context_idx": ci, "scheme_idx": si,
                         "action": scheme.action_name, "description": desc,
                         "stats": scheme.stats(), "quota": scheme.quota_state(),
                         "active": bool(scheme.wmarks_activated),
                         "apply_state": scheme.apply_state()
                         if hasattr(scheme, "apply_state") else None}
                        for kd, ci, si, scheme, desc in self.schemes],
        }
        # the parameters, for damo diagnose (damo's layout)
        from damo.params import damon as params_mod
        out["kdamonds_params"] = params_mod.kdamonds_to_kvpairs(self.run.kdamonds)
        return out

    def add_sidecars(self, output_set, out, metrics, digest, footprints=True):
        """Add <out>.sim_metrics and (unless not ``footprints``: damo record
        --do_record without mem_footprint) <out>.mem_footprint to the
        recording's OutputSet (committed with it; existing ones become .old,
        as damo does).  The metrics carry the recording's checksum (``digest``,
        None when no recording is written), and the footprint's, so that a
        sidecar left from another run is refused."""
        files = {}
        if digest is not None:
            files["recording"] = {"sha256": digest[0], "bytes": digest[1]}
        if footprints:
            footprint = json.dumps(self.footprints, separators=(",", ":")).encode()
            output_set.add(out + FOOTPRINT_SIDECAR, "mem_footprint").write(footprint)
            files["mem_footprint"] = {"sha256": hashlib.sha256(footprint).hexdigest(),
                                      "bytes": len(footprint)}
        metrics = dict(metrics, files=files)
        output_set.add(out + SIDECAR, "sim_metrics").write(
            json.dumps(metrics, separators=(",", ":")).encode())


def file_digest(path):
    """(sha256 hex, bytes) of a file."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return h.hexdigest(), size
            h.update(chunk)
            size += len(chunk)


def check_identity(path, metrics, side):
    """Refuse a .sim_metrics sidecar that was not written with this
    recording (a run killed between its renames, or files mixed by hand)."""
    files = metrics.get("files") if isinstance(metrics, dict) else None
    want = files.get("recording") if isinstance(files, dict) else None
    if not isinstance(want, dict):
        return                          # written before sidecars carried it
    try:
        got = file_digest(path)
    except OSError:
        return
    if [want.get("sha256"), want.get("bytes")] != list(got):
        raise DamoError("%s belongs to another recording than %s (left by an interrupted "
                        "run?); record again, or remove it" % (side, path))


def load(path, recording=None):
    """The metrics of the recording at path: from its metadata (native
    format) or its .sim_metrics sidecar; None if it has neither."""
    metrics = None
    if recording is not None:
        metrics = (recording.metadata or {}).get("sim_metrics")
    if metrics is None:
        side = os.fspath(path) + SIDECAR
        if not os.path.exists(side):
            return None
        try:
            with open(side) as f:
                metrics = json.load(f)
        except (OSError, ValueError, RecursionError) as e:
            raise DamoError("%s: not a damo-sim metrics file (%s)" % (side, e)) from None
        check_identity(path, metrics, side)
    if not isinstance(metrics, dict) or metrics.get("format") != FORMAT:
        raise DamoError("%s: not damo-sim machine metrics" % path)
    if metrics.get("version") != VERSION:
        raise DamoError("%s: unsupported metrics version %r" % (path, metrics.get("version")))
    return metrics


# ------------------------------------------------------- damo record

def context_intervals(ctxp):
    """RecordingWriter intervals of a params.ContextParams."""
    intervals = {"sample_us": ctxp.sample_us, "aggr_us": ctxp.aggr_us,
                 "ops_update_us": ctxp.update_us}
    if ctxp.intervals_goal is not None:
        g = ctxp.intervals_goal
        intervals["intervals_goal"] = {"access_bp": g.access_bp, "aggrs": g.aggrs,
                                       "min_sample_us": g.min_sample_us,
                                       "max_sample_us": g.max_sample_us}
    return intervals


class RecordSession:
    """What ``damo record`` keeps of a run besides access snapshots: the
    machine metrics, and (tried_regions) the regions each scheme tried in
    each apply interval, as damo's records with a scheme_idx, instead of the
    aggregated snapshots (damo record --schemes_target_regions)."""

    def __init__(self, run, writer, memory_spec=None, tried_regions=False,
                 interval_ns=DEFAULT_INTERVAL_NS, ground_truth=False):
        self.run = run
        self.truth = None
        if ground_truth:
            from damo.records.truth import TruthCollector
            self.truth = TruthCollector(run.sim)
        self.writer = writer
        self.tried_regions = tried_regions
        self.intervals = {}
        for kd, kdp in enumerate(run.kdamonds):
            for ci, ctxp in enumerate(kdp.contexts):
                self.intervals[(kd, ci)] = (context_intervals(ctxp),
                                            ctxp.intervals_goal is not None)
        self.recorder = MetricsRecorder(run, interval_ns, memory_spec)
        self.nr_tried_snapshots = 0
        self._last_end = {}
        if tried_regions:
            for kd, ctxs in enumerate(run.contexts):
                for ci, ctx in enumerate(ctxs):
                    for si, s in enumerate(ctx.schemes):
                        s.tried_regions_sink = self._sink(kd, ci, si, ctx)

    def on_snapshot(self, snap):
        """Simulation.on_snapshot: keep an aggregated snapshot."""
        if self.tried_regions:
            return
        intervals, tuned = self.intervals[(snap.kdamond_idx, snap.context_idx)]
        for t in snap.targets:
            self.writer.add_snapshot(snap.kdamond_idx, snap.context_idx, t.target_idx,
                                     snap.start_ns, snap.end_ns, t.starts, t.ends,
                                     t.nr_accesses, t.ages, intervals=intervals,
                                     sample_interval_us=snap.sample_us if tuned else None,
                                     truth=None if self.truth is None
                                     else self.truth.snapshot(snap, t))

    def _sink(self, kd, ci, si, ctx):
        import numpy as np

        intervals, tuned = self.intervals[(kd, ci)]

        def sink(scheme, regions):
            end = int(ctx.kstate.clock_ns)
            stats = scheme.stats()
            for ti, t in enumerate(ctx.targets):
                mine = [r for r in regions if r[5] is t]
                key = (kd, ci, si, ti)
                start = self._last_end.get(key)
                if start is None:
                    start = end - (scheme.apply_interval_us or ctx.aggr_us) * 1000
                self._last_end[key] = end
                cols = np.array([r[:5] for r in mine], dtype=np.int64).reshape(-1, 5)
                self.writer.add_snapshot(
                    kd, ci, ti, start, end, cols[:, 0].astype(np.uint64),
                    cols[:, 1].astype(np.uint64), cols[:, 2], cols[:, 3],
                    intervals=intervals, sample_interval_us=ctx.sample_us if tuned else None,
                    damos_stats=dict(stats), scheme_idx=si, sz_filter_passed=cols[:, 4])
                self.nr_tried_snapshots += 1
        return sink

    def finish(self):
        """The run's metrics; also kept in the writer's metadata."""
        metrics = self.recorder.finish()
        self.writer.metadata["sim_metrics"] = metrics
        return metrics

    def sidecars(self, out, metrics, footprints=True):
        """What RecordingWriter.commit(sidecars=...) takes: the sidecars of
        this run, committed with the recording."""
        def add(output_set, digest):
            self.recorder.add_sidecars(output_set, out, metrics, digest, footprints)
        return add

    def save_sidecars(self, out, metrics, permission, footprints=True):
        """The sidecars alone, as one unit (no access recording is written)."""
        output_set = fileutil.OutputSet(permission)
        try:
            self.recorder.add_sidecars(output_set, out, metrics, None, footprints)
            output_set.commit()
        except OSError as e:
            output_set.abort()
            raise DamoError("%s: cannot write (%s)" % (out + SIDECAR, e.strerror or e)) from None
        except BaseException:
            output_set.abort()
            raise
