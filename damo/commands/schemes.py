"""``damo schemes``: apply DAMOS schemes in the foreground, as damo's does:
start the kdamonds, wait until they turn off by themselves (their workload
ends) or ^C, then stop them."""
import signal
import time

import click

from damo.commands import record as record_cmd
from damo.commands import start as start_cmd
from damo.errors import DamoError

POLL_S = 0.1


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


@click.command(context_settings={"help_option_names": ["-h", "--help"]},
               epilog=start_cmd.start.epilog)
@click.argument("workload", required=False, metavar="[WORKLOAD]")
@record_cmd.monitoring_options
@start_cmd.scheme_options
@record_cmd.simulation_options
@start_cmd.preset_options
@start_cmd.speed_option()
@click.pass_context
def schemes(cctx, workload, **kwargs):
    """Apply operation schemes to WORKLOAD until it ends or ^C.

    The same parameters as `damo start` (DAMON's and DAMOS' options, a
    preset, a kdamonds file), but in the foreground: the kdamonds are
    stopped when this ends.
    """
    from damo.commands.stop import stop_daemon
    from damo.live import client

    before = {k.slot.path for k in client.kdamonds()}
    params = {p.name: kwargs.get(p.name, p.get_default(cctx))
              for p in start_cmd.start.params if p.name not in ("workload",)}
    params.update({k: v for k, v in kwargs.items() if k in params})
    params["include_child_tasks"] = False
    cctx.invoke(start_cmd.start, workload=workload, **params)
    started = [k for k in client.kdamonds() if k.slot.path not in before]
    if not started:
        raise DamoError("no kdamond started")
    idxs = {k.idx for k in started}
    click.echo("Press Ctrl+C to stop")
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    interrupted = False
    try:
        while True:
            now = [k for k in client.kdamonds() if k.idx in idxs]
            if not any(k.running or k.liveness == "starting" for k in now):
                reasons = sorted({k.reason for k in now if k.reason})
                click.echo("damo: the kdamonds turned off%s" % (
                    " (%s)" % "; ".join(reasons) if reasons else ""), err=True)
                break
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGTERM, previous)
        from damo.live import rundir as rundir_mod
        for slot in {k.slot.path: k.slot for k in started}.values():
            if slot.liveness() in ("on", "starting"):
                stop_daemon(slot, slot.state())
            else:
                with rundir_mod.global_lock(slot.rundir):
                    if slot.liveness() in ("off", "dead"):
                        slot.remove()
    if interrupted:
        click.echo("damo: interrupted; stopped kdamond %s" % ", ".join(
            str(i) for i in sorted(idxs)), err=True)
        raise SystemExit(130)
