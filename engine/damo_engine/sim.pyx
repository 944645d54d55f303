"""The simulation: one machine, its processes (workloads) and its kdamonds,
advanced together in simulated time.

Each kdamond context is a resumable loop (Context.step) that says when it
next wakes up; before each wake-up every workload runs up to that moment, so
the Accessed bits a context reads were set by accesses made between its
prepare and its check, as on a real machine.
"""
from libc.stdint cimport uint64_t, int64_t, INT64_MAX
from damo_engine.memory cimport Machine, AddressSpace
from damo_engine.core cimport Context, KernelState, Target
from damo_engine.workloads cimport Workload
from damo_engine.core import STATE_NAMES

from collections import namedtuple

import numpy as np

TargetSnapshot = namedtuple(
    "TargetSnapshot",
    "target_idx pid starts ends nr_accesses ages ground_truth ground_truth_samples probe_hits",
    defaults=(None, None))
TargetSnapshot.__doc__ = """Regions of one target at the end of an aggregation
interval (numpy arrays), and, when tracked, the exact per-page access counts
of the interval as [(vma_start, counts)] and, in the same order, the number
of the context's sampling intervals each page was accessed in (what DAMON's
nr_accesses estimates) as [(vma_start, samples)]; with probes, each region's
hits of each probe in the interval (uint8, regions x probes;
damon_region_aggregated)."""

# the kdamond state right after prepare_access_checks(): a sampling interval begins
_ST_SAMPLING = next(k for k, v in STATE_NAMES.items() if v == "sampling")

Snapshot = namedtuple(
    "Snapshot", "kdamond_idx context_idx start_ns end_ns sample_us aggr_us targets")
Snapshot.__doc__ = """One damon_aggregated event of a context."""


def derive_seed(seed, *keys):
    """A well-mixed 64-bit seed for one stream (a context, a workload...)."""
    x = (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    for k in keys:
        x ^= (k + 0x9E3779B97F4A7C15 + (x << 6) + (x >> 2)) & 0xFFFFFFFFFFFFFFFF
        x = (x * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 31
    return x


cdef class Simulation:
    """A simulated machine running workloads under simulated kdamonds."""
    cdef readonly Machine machine
    cdef readonly KernelState kstate
    cdef readonly list workloads
    cdef readonly list kdamonds             # [[Context, ...], ...]
    cdef list contexts                      # flattened, in kdamond/context order
    cdef list ctx_index                     # (kdamond_idx, context_idx) per context
    cdef list next_wake                     # next step time per context (-1: stopped)
    cdef readonly int64_t now_ns
    cdef readonly uint64_t seed
    cdef public object on_snapshot
    cdef public bint ground_truth_snapshots  # snapshots carry the truth's page arrays
    cdef dict gt_prev
    cdef list gt_mms                        # per context: address spaces whose truth
                                            # it samples (None: none)
    # periodic machine work and observation
    cdef public object on_tick              # callable(sim, now_ns) or None
    cdef public int64_t tick_interval_ns    # how often on_tick runs (0: never)
    cdef int64_t next_tick_ns
    cdef double next_khugepaged_ns

    def __init__(self, Machine machine, uint64_t seed=0):
        self.machine = machine
        self.kstate = KernelState(machine)
        self.workloads = []
        self.kdamonds = []
        self.contexts = []
        self.ctx_index = []
        self.next_wake = []
        self.now_ns = 0
        self.seed = seed
        self.on_snapshot = None
        self.ground_truth_snapshots = True
        self.gt_prev = {}
        self.gt_mms = []
        self.on_tick = None
        self.tick_interval_ns = 0
        self.next_tick_ns = 0
        self.next_khugepaged_ns = machine.khugepaged_sleep_ns

    def add_workload(self, Workload w, bint track_ground_truth=False):
        """Start a workload's process now; returns its pid."""
        pid = w.attach(self.machine, derive_seed(self.seed, 1, len(self.workloads)),
                       track_ground_truth)
        w.clock_ns += self.now_ns      # attach() may have spent time starting up
        self.workloads.append(w)
        self.kstate.processes[pid] = w.mm
        return pid

    def add_kdamond(self, contexts):
        """Start a kdamond running the given contexts now; returns its index."""
        cdef Context ctx
        kd = len(self.kdamonds)
        contexts = list(contexts)
        for ci, ctx in enumerate(contexts):
            ctx.kstate = self.kstate
            ctx.seed_rng(derive_seed(self.seed, 2, kd, ci))
            ctx.on_aggregated = self._make_sink(kd, ci)
            self.contexts.append(ctx)
            self.ctx_index.append((kd, ci))
            self.gt_mms.append(self._truth_owned(ctx))
            for ti, t in enumerate(ctx.targets):
                # the truth counts from the context's start, not the process's
                self._ground_truth(kd, ci, ti, t)
            self.next_wake.append(self.now_ns)
        self.kdamonds.append(contexts)
        return kd

    def _truth_owned(self, Context ctx):
        """The truth-tracking address spaces of ctx's targets that no earlier
        context samples: the truth's sampling intervals are that context's."""
        owned = set()
        for m in self.gt_mms:
            owned.update(id(x) for x in (m or ()))
        mms = []
        for t in ctx.targets:
            mm = self.kstate.processes.get(t.pid) if t.pid is not None else None
            if mm is not None and mm.track_ground_truth and id(mm) not in owned:
                owned.add(id(mm))
                mms.append(mm)
        return mms or None

    def _make_sink(self, int kd, int ci):
        def sink(Context ctx, start_ns, end_ns, regions):
            if self.on_snapshot is None:
                return
            targets = []
            for ti, columns in enumerate(regions):
                starts, ends, nrs, ages = columns[:4]
                t = ctx.targets[ti]
                gt = self._ground_truth(kd, ci, ti, t) if self.ground_truth_snapshots \
                    else None
                targets.append(TargetSnapshot(ti, t.pid, starts, ends, nrs, ages,
                                              None if gt is None else gt[0],
                                              None if gt is None else gt[1],
                                              columns[4] if len(columns) > 4 else None))
            self.on_snapshot(Snapshot(kd, ci, start_ns, end_ns, ctx.sample_us, ctx.aggr_us,
                                      targets))
        return sink

    def _ground_truth(self, kd, ci, ti, Target t):
        """Exact per-page access counts of each VMA since this context's last
        aggregation, and the sampling intervals each page was accessed in, if
        the target's process tracks them."""
        mm = self.kstate.processes.get(t.pid) if t.pid is not None else None
        if mm is None or not mm.track_ground_truth:
            return None
        counts, samples = [], []
        for vma in mm.truth_vmas():
            for kind, cum, out in ((0, vma.ground_truth(), counts),
                                   (1, vma.ground_truth_samples(), samples)):
                key = (kd, ci, ti, vma.start, kind)
                prev = self.gt_prev.get(key)
                self.gt_prev[key] = cum
                out.append((vma.start, cum if prev is None or len(prev) != len(cum)
                            else cum - prev))
        return counts, samples

    def process(self, pid):
        return self.kstate.processes.get(pid)

    @property
    def running(self):
        """True while any workload or kdamond has work left."""
        return any(not (<Workload>w).finished for w in self.workloads) or \
            any(t >= 0 for t in self.next_wake)

    def run(self, duration_ns=None, *, bint stop_with_workloads=True, on_progress=None,
            int64_t progress_every_ns=100000000):
        """Advance the simulation by duration_ns (None: until every workload
        has finished).  When stop_with_workloads is set, kdamonds are stopped
        once every workload has finished (as damo record does when its
        command exits).  on_progress(now_ns) is called every
        progress_every_ns of simulated time.  Returns the simulated time."""
        cdef int64_t end = INT64_MAX if duration_ns is None else self.now_ns + <int64_t>duration_ns
        cdef int64_t t_next, wake, next_progress = self.now_ns + progress_every_ns
        cdef int i, n
        cdef Context ctx
        cdef Workload w
        cdef bint workloads_done
        n = len(self.contexts)
        while True:
            t_next = INT64_MAX
            for i in range(n):
                wake = self.next_wake[i]
                if 0 <= wake < t_next:
                    t_next = wake
            workloads_done = True
            for w in self.workloads:
                if not w.finished:
                    workloads_done = False
                    break
            if workloads_done and (stop_with_workloads or t_next == INT64_MAX):
                if self.workloads or t_next == INT64_MAX:
                    self._stop_all()
                    break
            if not workloads_done:
                # the machine's own periodic work happens while programs run
                t_next = self._next_machine_event(t_next)
            if t_next > end:
                # nothing else is due before the end: the workloads run to it
                for w in self.workloads:
                    if not w.finished:
                        w.run_until(<double>end)
                self.now_ns = end
                break
            if t_next == INT64_MAX:
                # nothing monitors: run the workloads to their end
                for w in self.workloads:
                    while not w.finished:
                        w.run_until(w.clock_ns + 1e9)
                    if w.clock_ns > self.now_ns:
                        self.now_ns = <int64_t>w.clock_ns
                continue
            for w in self.workloads:
                if not w.finished:
                    if w.mm is not None and (<AddressSpace>w.mm).mm.async_ns:
                        # stalls others caused it (migrations of its pages)
                        w.clock_ns += (<AddressSpace>w.mm).mm.async_ns
                        (<AddressSpace>w.mm).mm.async_ns = 0
                    w.run_until(<double>t_next)
            self.now_ns = t_next
            self._machine_events()
            self._update_pressure()
            for i in range(n):
                if self.next_wake[i] == t_next:
                    ctx = self.contexts[i]
                    self.next_wake[i] = ctx.step(t_next)
                    if self.gt_mms[i] is not None and ctx.state == _ST_SAMPLING:
                        for mm in self.gt_mms[i]:
                            mm.next_gt_epoch()
            if on_progress is not None and self.now_ns >= next_progress:
                next_progress = self.now_ns + progress_every_ns
                on_progress(self.now_ns)
        if on_progress is not None:
            on_progress(self.now_ns)
        return self.now_ns

    def stop(self):
        """Stop every kdamond now."""
        self._stop_all()

    cdef void _stop_all(self) except *:
        cdef Context ctx
        cdef int i
        for i in range(len(self.contexts)):
            if self.next_wake[i] >= 0:
                ctx = self.contexts[i]
                ctx.request_stop()
                self.next_wake[i] = ctx.step(self.now_ns)

    cdef void _update_pressure(self):
        """PSI 'some' memory stall: time processes spent waiting on swap-ins
        (major faults) and in direct reclaim."""
        cdef double stall = 0
        cdef Workload w
        for w in self.workloads:
            if w.mm is not None:
                stall += (<AddressSpace>w.mm).mm.swapin_ns + (<AddressSpace>w.mm).mm.reclaim_ns
        self.kstate.psi_some_us = <uint64_t>(stall / 1000)

    cdef int64_t _next_machine_event(self, int64_t t_next) noexcept:
        """The earlier of t_next and the next khugepaged wake-up or tick."""
        cdef int64_t t
        if self.machine.thp_policy != 0:
            t = <int64_t>self.next_khugepaged_ns
            if t < t_next:
                t_next = t
        if self.tick_interval_ns > 0 and self.on_tick is not None:
            if self.next_tick_ns < t_next:
                t_next = self.next_tick_ns
        return t_next

    cdef void _machine_events(self) except *:
        """khugepaged wakes up; the tick observer runs."""
        if self.machine.thp_policy != 0 and self.now_ns >= self.next_khugepaged_ns:
            while self.next_khugepaged_ns <= self.now_ns:
                self.next_khugepaged_ns += self.machine.khugepaged_sleep_ns
            self.machine.khugepaged_scan()
        if self.tick_interval_ns > 0 and self.on_tick is not None and \
                self.now_ns >= self.next_tick_ns:
            while self.next_tick_ns <= self.now_ns:
                self.next_tick_ns += self.tick_interval_ns
            self._update_pressure()
            self.on_tick(self, self.now_ns)

    def metrics(self):
        """What the machine and its processes look like now: memory in use
        per node, each process's resident memory per node and where its
        time went, swap, the vmstat counters, memory pressure, and the
        kdamonds' own work (access checks, time spent applying schemes)."""
        cdef Context ctx
        machine = self.machine
        procs = []
        for w in self.workloads:
            if w.mm is None:
                continue
            procs.append({"pid": w.mm.pid, "name": w.name, "alive": w.mm.alive,
                          "clock_ns": w.clock_ns, "finished": w.finished,
                          # time spent working (a replay also idles, paced to
                          # its recording; other workloads never idle)
                          "busy_ns": getattr(w, "busy_ns", w.clock_ns),
                          "rss_by_node": w.mm.rss_by_node() if w.mm.alive
                          else [0] * machine.nr_nodes,
                          "swapped": w.mm.swapped if w.mm.alive else 0,
                          "runtime": w.mm.runtime_breakdown()})
        return {
            "time_ns": self.now_ns,
            "node_used": [nd["used"] for nd in machine.nodes],
            "processes": procs,
            "vmstat": machine.vmstat(),
            "psi_some_us": self.kstate.psi_some_us,
            "kswapd_ns": machine.kswapd_ns,
            "kdamonds": [{"kdamond_idx": kd, "context_idx": ci,
                          "nr_access_checks": (<Context>self.contexts[i]).nr_access_checks,
                          "apply_ns": (<Context>self.contexts[i]).total_apply_ns,
                          "sample_us": (<Context>self.contexts[i]).sample_us,
                          # CPU time so far: its work, less what is still to come
                          "work_ns": (<Context>self.contexts[i]).total_work_ns - max(
                              0, (<Context>self.contexts[i]).busy_until_ns - self.now_ns)}
                         for i, (kd, ci) in enumerate(self.ctx_index)],
        }
