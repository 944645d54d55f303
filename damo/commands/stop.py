"""``damo stop``: stop live simulated kdamonds."""
import os
import signal

import click

from damo.errors import DamoError
from damo.live import client, rundir as rundir_mod
from damo.params import damon_args

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


def stop_daemon(slot, state):
    """Stop every kdamond of a slot's daemon and remove the slot."""
    try:
        client.request(slot, {"cmd": "stop"}, timeout=STOP_TIMEOUT_S)
        stopped = rundir_mod.wait_released(slot, STOP_TIMEOUT_S)
    except client.DaemonUnreachable:
        stopped = False
    if not stopped:
        pid = (state or {}).get("pid")
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if pid and slot.held() and _is_our_daemon(pid, slot):
                os.kill(pid, sig)
                if rundir_mod.wait_released(slot, STOP_TIMEOUT_S / 2):
                    break
        if slot.held():
            raise DamoError("kdamond %d does not stop (daemon pid %s); see %s" % (
                slot.idx, pid, slot.log_path))
    with rundir_mod.global_lock(slot.rundir):
        slot.remove()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--kdamond_idx", "kdamond_idxs", type=click.IntRange(min=0), multiple=True,
              metavar="<index>", help="stop only this kdamond (repeatable; default: all)")
@damon_args.debug_option
def stop(kdamond_idxs, debug_damon):
    """Stop simulated kdamonds cleanly and remove their runtime state.

    Kdamonds that already stopped (their workload ended) or whose daemon died
    are cleaned up too.  Kdamonds started together share a daemon, which
    exits once all of them are stopped.  The machine of the DAMON modules
    (damo reclaim, lru_sort, module) ends with its kdamond.
    """
    client.DEBUG = debug_damon
    all_kds = client.kdamonds()
    chosen = all_kds
    if kdamond_idxs:
        by_idx = {k.idx: k for k in all_kds}
        missing = [i for i in kdamond_idxs if i not in by_idx]
        if missing:
            raise DamoError("--kdamond_idx: no kdamond %d" % missing[0])
        chosen = [by_idx[i] for i in kdamond_idxs]
    if not chosen:
        raise DamoError("no kdamond is running")
    stopped_any = False
    slots = {}
    for k in chosen:
        slots.setdefault(k.slot.path, []).append(k)
    for path, ks in sorted(slots.items(), key=lambda item: item[1][0].idx):
        slot = ks[0].slot
        daemon_alive = slot.liveness() in ("on", "starting")
        if daemon_alive and (ks[0].state or {}).get("modules_host"):
            # a machine of the DAMON modules: stopping its kdamond ends it
            stopped_any = True
            stop_daemon(slot, ks[0].state)
            continue
        running = [k for k in all_kds if k.slot.path == path and
                   (k.running or k.liveness == "starting")]
        for k in ks:
            if not (k.running or k.liveness == "starting"):
                click.echo("damo: kdamond %d was not running (%s)%s" % (
                    k.idx, client.describe_liveness(k).split(";")[0],
                    "" if daemon_alive else "; cleaned up"), err=True)
        if not daemon_alive:
            with rundir_mod.global_lock(slot.rundir):
                if slot.liveness() in ("off", "dead"):
                    slot.remove()
            continue
        chosen_running = [k for k in ks if k in running]
        if not chosen_running:
            continue
        stopped_any = True
        if len(chosen_running) == len(running):
            stop_daemon(slot, ks[0].state)
        else:
            for k in chosen_running:
                client.request(slot, {"cmd": "stop", "kdamond_idx": k.idx},
                               timeout=STOP_TIMEOUT_S)
    if not stopped_any and not kdamond_idxs:
        raise DamoError("no kdamond was running")
