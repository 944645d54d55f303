"""``damo monitor``: record a live kdamond for --delay seconds and report
what it saw, again and again (damo's repeated `record ongoing` and
`report`).  On a terminal the report is redrawn in place (rich's live
display); otherwise each one is printed after the other.  ^C (or the
kdamonds turning off, or --count updates) ends it; kdamonds it started for
<target> are stopped again."""
import contextlib
import io
import os
import shutil
import signal
import sys
import tempfile
import time

import click

from damo.errors import DamoError

REPORT_TYPES = ("heats", "wss", "holistic")
POLL_S = 0.1


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _start(target, speed, memory, seed):
    """Start kdamonds for the target; returns their kdamonds (client view)."""
    from damo.commands import start as start_cmd
    from damo.live import client

    before = {k.slot.path for k in client.kdamonds()}
    args = [] if target == "vaddr" else [target]
    args += ["--speed", "%r" % speed, "--seed", "%d" % seed]
    if memory:
        args += ["--memory", memory]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        start_cmd.start.main(args, prog_name="damo start", standalone_mode=False)
    started = [k for k in client.kdamonds() if k.slot.path not in before]
    for line in out.getvalue().splitlines():
        click.echo("damo: %s" % line, err=True)
    return started


def _stop(kds):
    from damo.commands.stop import stop_daemon
    done = set()
    for k in kds:
        if k.slot.path in done:
            continue
        done.add(k.slot.path)
        if k.slot.liveness() in ("on", "starting"):
            try:
                stop_daemon(k.slot, k.state)
            except DamoError as e:
                click.echo("damo: %s" % e, err=True)
        else:
            from damo.live import rundir as rundir_mod
            with rundir_mod.global_lock(k.slot.rundir):
                if k.slot.liveness() in ("off", "dead"):
                    k.slot.remove()


def _window(kds, delay, path):
    """Record the kdamonds' aggregated snapshots of the next `delay` wall
    seconds into `path`: (number of snapshots, still on)."""
    from damo.live.snapshot import OngoingRecorder
    from damo.records import RecordingWriter

    writer = RecordingWriter(path, "json_compressed", 0o600)
    recorder = OngoingRecorder(kds, writer)
    try:
        live = [s for s in recorder.slots.values() if recorder.poll(s)]
        deadline = time.monotonic() + delay
        while live and time.monotonic() < deadline:
            time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
            live = [s for s in live if recorder.poll(s)]
    except BaseException:
        writer.abort()
        raise
    if recorder.nr_snapshots:
        writer.commit()
    else:
        writer.abort()
    return recorder.nr_snapshots, bool(live)


def _render(path, report_type, color):
    """The report of one window, as text (ANSI colours if ``color``)."""
    from damo.cli import main

    if report_type == "heats":
        args = ["report", "heatmap", "--resol", "10", "80", "--input", path]
    elif report_type == "holistic":
        args = ["report", "holistic", "--access_pattern", path]
    else:
        args = ["report", report_type, "--input", path]
    if color and report_type in ("heats", "heatmap"):
        args += ["--color", "always"]
    buf, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
            main.main(args, prog_name="damo", standalone_mode=False)
    except DamoError as e:
        return "damo: error: %s\n" % e
    except SystemExit:
        pass
    text = buf.getvalue()
    if report_type == "heats":
        text = "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))
    return text or err.getvalue()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("target", metavar="<target>")
@click.option("--report_type", default="heats", show_default=True,
              type=click.Choice(REPORT_TYPES + ("access", "heatmap", "nr_regions",
                                                "record_info")),
              help="report type: heats (a heatmap), wss, holistic, or a `damo report` type")
@click.option("--delay", type=click.FloatRange(min=0, min_open=True), default=3.0,
              show_default=True, metavar="<seconds>",
              help="delay between updates in seconds (each shows what the kdamond saw "
                   "meanwhile)")
@click.option("--count", type=click.IntRange(min=0), default=0, metavar="<count>",
              help="number of updates (0: until ^C or the kdamonds turn off)")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True, max=1e6), default=1.0,
              show_default=True, metavar="<factor>",
              help="simulated seconds per real second of the kdamonds started for <target>")
@click.option("--memory", metavar="SPEC", help="the machine of the kdamonds started for "
              "<target> (e.g. dram:8G,swap:zswap)")
@click.option("--seed", type=click.IntRange(min=0), default=0, metavar="<seed>",
              help="random seed of the kdamonds started for <target>")
def monitor(target, report_type, delay, count, speed, memory, seed):
    """Repeat the recording and the reporting of data accesses.

    <target> is `ongoing` (the running kdamonds), a workload (a masim config
    file or a built-in one) or `paddr` (all of a machine's memory), which
    are started for this and stopped at the end.  Every --delay seconds the
    kdamonds' aggregated snapshots of those seconds are reported: a heatmap
    (default), working set sizes, or another report type.
    """
    from damo.live import client
    from damo.params import damon_args

    if target != "ongoing":
        if target.isdigit():
            raise DamoError("%s: %s" % (target, damon_args.TARGET_PID_HINT), exit_code=2)
        if report_type == "holistic":
            from damo.commands.report import REPORTS
            if "holistic" not in REPORTS:
                raise DamoError("--report_type holistic: damo report holistic is not "
                                "here yet", exit_code=2)
    tty = sys.stdout.isatty()
    color = tty and not os.environ.get("NO_COLOR")
    started = []
    tmpdir = tempfile.mkdtemp(prefix="damo-monitor-")
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    live_display = None
    try:
        if target == "ongoing":
            kds = client.running_kdamonds()
        else:
            started = kds = _start(target, speed, memory, seed)
            if not kds:
                raise DamoError("%s: no kdamond started" % target)
        if tty:
            from rich.console import Console
            from rich.live import Live
            from rich.text import Text
            live_display = Live(Text("waiting for the first %g s of monitoring..." % delay),
                                console=Console(), auto_refresh=False,
                                vertical_overflow="visible")
            live_display.__enter__()
        nr = 0
        while not count or nr < count:
            path = os.path.join(tmpdir, "window.data")
            nr_snapshots, on = _window(kds, delay, path)
            if nr_snapshots:
                text = _render(path, report_type, color)
                nr += 1
                if live_display is not None:
                    from rich.text import Text
                    head = "damo monitor %s: kdamond %s, update %d, every %g s (^C ends)\n" % (
                        target, ", ".join(str(k.idx) for k in kds), nr, delay)
                    live_display.update(Text(head, style="bold") + Text.from_ansi(text),
                                        refresh=True)
                else:
                    click.echo(text, nl=report_type != "heats")
            if not on:
                reasons = {k.reason for k in client.kdamonds()
                           if k.idx in {x.idx for x in kds}} - {None}
                if live_display is not None:
                    live_display.__exit__(None, None, None)
                    live_display = None
                click.echo("damo: the kdamonds turned off%s" % (
                    " (%s)" % "; ".join(sorted(reasons)) if reasons else ""), err=True)
                break
    except KeyboardInterrupt:
        if live_display is not None:
            live_display.__exit__(None, None, None)
            live_display = None
        click.echo("", err=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if live_display is not None:
            live_display.__exit__(None, None, None)
        if started:
            _stop(started)
            click.echo("damo: stopped kdamond %s" % ", ".join(str(k.idx) for k in started),
                       err=True)
        shutil.rmtree(tmpdir, ignore_errors=True)
