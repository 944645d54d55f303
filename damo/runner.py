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

    def __init__(self, kdamonds, workloads, *, memory=None, seed=0, ground_truth=False):
        from damo_engine import machines
        from damo_engine.sim import Simulation

        try:
            self.machine = machines.make_machine(memory, fits=footprint(workloads))
        except machines.MachineSpecError as e:
            raise DamoError("--memory: %s" % e, exit_code=2)
        self.sim = Simulation(self.machine, seed=seed)
        self.workloads = workloads
        self.pids = [self.sim.add_workload(w, track_ground_truth=ground_truth)
                     for w in workloads]
        self.kdamonds = kdamonds
        self.contexts = []
        for kd in kdamonds:
            ctxs = [params_mod.build_context(c, pids=self.pids, machine=self.machine)
                    for c in kd.contexts]
            self.contexts.append(ctxs)
            self.sim.add_kdamond(ctxs)

    @property
    def expected_ns(self):
        """Nominal length of the workloads, for progress bars."""
        lengths = [w.config.total_ms * 1e6 if hasattr(w, "config")
                   else getattr(w, "expected_ns", None) for w in self.workloads]
        lengths = [x for x in lengths if x]
        return max(lengths) if lengths else None

    def run(self, duration_ns=None, on_snapshot=None, progress=True, label="recording"):
        """Run to the end of the workloads (or duration_ns); SIGTERM and ^C
        stop early and raise KeyboardInterrupt after the simulation is left
        in a consistent state."""
        from damo_engine.memory import SimulationError

        self.sim.on_snapshot = on_snapshot
        total = duration_ns if duration_ns is not None else self.expected_ns
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            with _progress(progress, total, label) as update:
                self.sim.run(duration_ns, on_progress=update)
        except SimulationError as e:
            raise DamoError(str(e))
        finally:
            signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


class _progress:
    """A rich progress bar over simulated seconds, on a terminal only."""

    def __init__(self, enabled, total_ns, label):
        self.enabled = enabled
        self.total_ns = total_ns
        self.label = label

    def __enter__(self):
        import sys
        if not self.enabled or not sys.stderr.isatty():
            return lambda now_ns: None
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
        self.bar = Progress(TextColumn("[bold]%s" % self.label), BarColumn(),
                            TextColumn("{task.completed:.1f}/{task.total:.1f} simulated s"),
                            TimeElapsedColumn(), transient=True)
        self.bar.__enter__()
        self.task = self.bar.add_task(self.label, total=(self.total_ns or 1e9) / 1e9)

        def update(now_ns):
            total = max(self.bar.tasks[0].total, now_ns / 1e9)
            self.bar.update(self.task, completed=now_ns / 1e9, total=total)
        return update

    def __exit__(self, *exc):
        if hasattr(self, "bar"):
            self.bar.__exit__(*exc)
        return False
