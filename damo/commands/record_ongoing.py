"""``damo record ongoing``: record the running simulated kdamonds' aggregated
snapshots, as damo records a kdamond that `damo start` started."""
import os
import signal

import click
from click.core import ParameterSource

from damo.errors import DamoError


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def record_ongoing(out, output_type, permission, timeout, opts):
    from damo.live import client
    from damo.live.snapshot import OngoingRecorder
    from damo.records import RecordingWriter

    cctx = click.get_current_context()
    for name in sorted(opts):
        if cctx.get_parameter_source(name) == ParameterSource.COMMANDLINE:
            raise DamoError("--%s: cannot be used with 'ongoing', which records the running "
                            "kdamonds as they are (change them with damo tune)" % name,
                            exit_code=2)
    kds = client.running_kdamonds()
    writer = RecordingWriter(out, output_type, permission)
    recorder = OngoingRecorder(kds, writer)
    interrupted = False
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with _Progress(timeout) as progress:
            recorder.run(timeout, on_poll=progress)
    except KeyboardInterrupt:
        interrupted = True
    except BaseException:
        writer.abort()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    writer.metadata["simulation"] = {
        "ongoing": True,
        "kdamonds": {str(idx): info for idx, info in recorder.info.items()}}
    if recorder.nr_snapshots == 0:
        writer.abort()
        raise DamoError("nothing was recorded: no aggregation interval of the running "
                        "kdamonds ended while recording", exit_code=130 if interrupted else 1)
    writer.commit()
    if recorder.lost:
        click.echo("damo: %d snapshots were lost (the kdamond ran ahead of the recorder)"
                   % recorder.lost, err=True)
    click.echo("%s %d snapshots of %.1f simulated seconds to %s" % (
        "interrupted; wrote" if interrupted else "wrote", recorder.nr_snapshots,
        max(recorder.sim_ns.values()) / 1e9,
        os.path.relpath(out) if not os.path.isabs(out) else out), err=True)
    if interrupted:
        raise SystemExit(130)


class _Progress:
    """What `record ongoing` has recorded so far: on a terminal a spinner
    (or a bar of the simulated time when --timeout bounds it), else a line
    on stderr every $DAMO_SIM_PROGRESS_S seconds (10; 0: none)."""

    def __init__(self, timeout_s):
        import sys
        import time
        self.timeout_s = timeout_s
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.every = 10.0
        try:
            self.every = float(os.environ.get("DAMO_SIM_PROGRESS_S", "10"))
        except ValueError:
            pass
        self.next_line = self.start + self.every
        self.bar = None

    def __enter__(self):
        if self.tty:
            from rich.progress import (BarColumn, Progress, SpinnerColumn, TextColumn,
                                       TimeElapsedColumn)
            columns = [SpinnerColumn(), TextColumn("[bold]recording ongoing kdamonds")]
            if self.timeout_s:
                columns += [BarColumn(), TextColumn("{task.percentage:>3.0f}%")]
            columns += [TextColumn("{task.fields[text]}"), TimeElapsedColumn()]
            self.bar = Progress(*columns, transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task("ongoing", total=1.0, text="")
        return self

    def _text(self, recorder):
        sim_s = max(recorder.sim_ns.values(), default=0) / 1e9
        return "%d snapshots, %.1f simulated s" % (recorder.nr_snapshots, sim_s), sim_s

    def __call__(self, recorder):
        import sys
        import time
        text, sim_s = self._text(recorder)
        if self.bar is not None:
            done = min(sim_s / self.timeout_s, 1.0) if self.timeout_s else 0.0
            self.bar.update(self.task, completed=done, text=text)
            return
        now = time.monotonic()
        if not self.every > 0 or now < self.next_line:
            return
        self.next_line = now + self.every
        sys.stderr.write("damo: recording ongoing kdamonds: %s, %.0f s elapsed\n"
                         % (text, now - self.start))
        sys.stderr.flush()

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False
