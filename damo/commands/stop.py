"""``damo stop``: stop live simulated kdamonds."""
import os
import signal

import click

from damo.errors import DamoError
from damo.live import client, rundir as rundir_mod

STOP_TIMEOUT_S = 10.0


def _is_our_daemon(pid, slot):
    """The process is this slot's daemon (and ours): never signal another."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
        st = os.stat("/proc/%d" % pid)
    except OSError:
        return False
    return st.st_uid == os.geteuid() and b"damo.live.daemon" in argv and \
        slot.path.encode() in argv


def stop_one(k):
    """Stop a running kdamond and remove its slot."""
    slot = k.slot
    try:
        client.request(slot, {"cmd": "stop"}, timeout=STOP_TIMEOUT_S)
        stopped = rundir_mod.wait_released(slot, STOP_TIMEOUT_S)
    except client.DaemonUnreachable:
        stopped = False
    if not stopped:
        pid = (k.state or {}).get("pid")
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if pid and slot.held() and _is_our_daemon(pid, slot):
                os.kill(pid, sig)
                if rundir_mod.wait_released(slot, STOP_TIMEOUT_S / 2):
                    break
        if slot.held():
            raise DamoError("kdamond %d does not stop (daemon pid %s); see %s" % (
                k.idx, pid, slot.log_path))
    with rundir_mod.global_lock(slot.rundir):
        slot.remove()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--kdamond_idx", "kdamond_idxs", type=click.IntRange(min=0), multiple=True,
              metavar="<index>", help="stop only this kdamond (repeatable; default: all)")
def stop(kdamond_idxs):
    """Stop simulated kdamonds cleanly and remove their runtime state.

    Kdamonds that already stopped (their workload ended) or whose daemon died
    are cleaned up too.
    """
    kds = client.kdamonds()
    if kdamond_idxs:
        by_idx = {k.idx: k for k in kds}
        missing = [i for i in kdamond_idxs if i not in by_idx]
        if missing:
            raise DamoError("--kdamond_idx: no kdamond %d" % missing[0])
        kds = [by_idx[i] for i in kdamond_idxs]
    if not kds:
        raise DamoError("no kdamond is running")
    stopped_any = False
    for k in kds:
        if k.liveness in ("on", "starting"):
            stop_one(k)
            stopped_any = True
        else:
            with rundir_mod.global_lock(k.slot.rundir):
                if k.slot.liveness() in ("off", "dead"):
                    k.slot.remove()
            click.echo("damo: kdamond %d was not running (%s); cleaned up" % (
                k.idx, client.describe_liveness(k).split(";")[0]), err=True)
    if not stopped_any and not kdamond_idxs:
        raise DamoError("no kdamond was running")
