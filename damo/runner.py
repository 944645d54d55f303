"""Running a simulation for a command: machine, workloads and kdamonds set
up from damo parameters, advanced with a progress bar, snapshots handed to
a sink (a RecordingWriter, a live status file...)."""
import signal

from damo.errors import DamoError
from damo.params import damon as params_mod


def footprint(workloads):
    """Bytes the workloads may touch (masim configs' regions, a replay's
    address ranges), for sizing a default machine."""
    return sum(w.config.total_size if hasattr(w, "config") else getattr(w, "footprint_bytes", 0)
               for w in workloads)


class Run:
    """One simulated machine running workloads under kdamonds."""

    def __init__(self, kdamonds, workloads, *, memory=None, seed=0, ground_truth=False,
                 time_scale=1):
        from damo_engine import costs, machines
        from damo_engine.sim import Simulation

        try:
            self.machine = machines.make_machine(memory, fits=footprint(workloads))
        except machines.MachineSpecError as e:
            raise DamoError("--memory: %s" % e, exit_code=2)
        except MemoryError as e:
            raise DamoError("--memory: this host cannot hold the simulated machine's page "
                            "metadata (%s)" % (e or "out of memory"))
        self.sim = Simulation(self.machine, seed=seed)
        self.workloads = workloads
        self.pids = []
        for w in workloads:
            try:
                self.pids.append(self.sim.add_workload(w, track_ground_truth=ground_truth))
            except MemoryError as e:
                raise DamoError("workload %s: this host cannot hold its page tables (%s)"
                                % (getattr(w, "name", w), e or "out of memory"))
            except (ValueError, OverflowError) as e:
                # its regions do not fit the simulated process's address space
                raise DamoError("workload %s does not fit a simulated process: %s"
                                % (getattr(w, "name", w), e))
        self.kdamonds = kdamonds
        self.contexts = []
        for kd in kdamonds:
            ctxs = [params_mod.build_context(c, pids=self.pids, machine=self.machine)
                    for c in kd.contexts]
            for ctx in ctxs:
                # each access check costs the kdamond CPU time, delaying
                # its loop as the kernel's work does
                # (at a time scale, DAMON's work shrinks with its intervals)
                ctx.access_check_ns = costs.ACCESS_CHECK_NS / time_scale
            self.contexts.append(ctxs)
            self.sim.add_kdamond(ctxs)

    def check_snapshot_budget(self, duration_ns, max_snapshots):
        """Refuse up front a run whose recording would hold more snapshots
        than ``max_snapshots`` (e.g. --monitoring_intervals 0 0 1s, which
        aggregates about every simulated microsecond, as the kernel does)."""
        total = duration_ns if duration_ns is not None else self.expected_ns
        if not total:
            return
        nr = 0
        for kd in self.kdamonds:
            for c in kd.contexts:
                if c.intervals_goal is not None:
                    continue            # tuned intervals: the writer's cap guards
                # a zero sampling interval still takes about a microsecond
                aggr_us = max(c.aggr_us, c.sample_us, 1)
                nr += (total / 1000 / aggr_us) * max(len(c.targets), 1)
        if nr > max_snapshots:
            what = "--timeout: %g simulated seconds" % (total / 1e9) if duration_ns is not None \
                else "the workload's %g simulated seconds" % (total / 1e9)
            raise DamoError(
                "%s at one aggregation every %s make about %s snapshots, more than a "
                "recording holds (%s); raise the aggregation interval (--monitoring_intervals)"
                " or shorten the run (--timeout)" % (
                    what, _fmt_us(max(min(c.aggr_us for kd in self.kdamonds
                                          for c in kd.contexts), 1)),
                    "{:,}".format(int(nr)), "{:,}".format(max_snapshots)), exit_code=2)

    @property
    def expected_ns(self):
        """Nominal length of the workloads, for progress bars."""
        lengths = [w.config.total_ms * 1e6 if hasattr(w, "config")
                   else getattr(w, "expected_ns", None) for w in self.workloads]
        lengths = [x for x in lengths if x]
        return max(lengths) if lengths else None

    def work_done(self, now_ns, duration_ns=None):
        """The share of the run done, 0 to 1: of --timeout's simulated time
        when one is given, else of the workloads' own work (phases' accesses
        at nominal speed, replayed slices), or None when unknown (traces)."""
        if duration_ns:
            return min(now_ns / duration_ns, 1.0)
        shares = [getattr(w, "work_done", None) for w in self.workloads]
        shares = [s for s in shares if s is not None]
        return min(shares) if shares else None

    def run(self, duration_ns=None, on_snapshot=None, progress=True, label="recording"):
        """Run to the end of the workloads (or duration_ns); SIGTERM and ^C
        stop early and raise KeyboardInterrupt after the simulation is left
        in a consistent state."""
        from damo_engine.memory import SimulationError
        from damo.records.writer import RecordingFull

        self.sim.on_snapshot = on_snapshot
        total = duration_ns if duration_ns is not None else self.expected_ns
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            with _progress(progress, total, label,
                           lambda now: self.work_done(now, duration_ns)) as update:
                self.sim.run(duration_ns, on_progress=update)
        except SimulationError as e:
            raise DamoError(str(e))
        except RecordingFull as e:
            # bounded memory: the run ends there, what was recorded is kept
            import sys
            sys.stderr.write("damo: warning: %s\n" % e)
        except MemoryError as e:
            raise DamoError("the simulation ran out of host memory (%s)" % (e or "no detail"))
        finally:
            signal.signal(signal.SIGTERM, previous)


def _fmt_us(us):
    from damo import units
    return units.format_time_us(us, False)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


class _progress:
    """Progress of a run: on a terminal a rich bar of the work done (a
    phase's accesses at nominal speed, not simulated seconds, so that a run
    on slow memory is not at 100% after its nominal length), else a line on
    stderr every $DAMO_SIM_PROGRESS_S seconds of wall time (10; 0: none)."""

    def __init__(self, enabled, total_ns, label, work=None):
        self.enabled = enabled
        self.total_ns = total_ns
        self.label = label
        self.work = work or (lambda now_ns: None)

    def __enter__(self):
        import sys
        import time
        if not self.enabled:
            return lambda now_ns: None
        if not sys.stderr.isatty():
            import os
            try:
                every = float(os.environ.get("DAMO_SIM_PROGRESS_S", "10"))
            except ValueError:
                every = 10.0
            if not every > 0:
                return lambda now_ns: None
            self.every = every
            self.start = time.monotonic()
            self.next_line = self.start + every

            def line(now_ns):
                t = time.monotonic()
                if t < self.next_line:
                    return
                self.next_line = t + self.every
                done = self.work(now_ns)
                sys.stderr.write("damo: %s: %s%.3f simulated s, %.0f s elapsed\n" % (
                    self.label, "" if done is None else "%.0f%% done, " % (done * 100),
                    now_ns / 1e9, t - self.start))
                sys.stderr.flush()
            return line
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
        self.bar = Progress(TextColumn("[bold]%s" % self.label), BarColumn(),
                            TextColumn("{task.percentage:>3.0f}%"),
                            TextColumn("{task.fields[sim]:.1f} simulated s"),
                            TimeElapsedColumn(), transient=True)
        self.bar.__enter__()
        self.task = self.bar.add_task(self.label, total=1.0, sim=0.0)

        def update(now_ns):
            done = self.work(now_ns)
            if done is None:            # no measure of work: simulated time
                done = now_ns / self.total_ns if self.total_ns else 0.0
            self.bar.update(self.task, completed=min(done, 1.0), sim=now_ns / 1e9)
        return update

    def __exit__(self, *exc):
        if hasattr(self, "bar"):
            self.bar.__exit__(*exc)
        return False
