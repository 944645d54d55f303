"""The simulated machine a report describes (``report sysinfo``, ``report
pa_layout``): a recording's (its machine metrics, kept in the recording or
its .sim_metrics sidecar), a running daemon's (``damo start``), or, without
either, the one ``damo record`` simulates by default."""
from damo.errors import DamoError


def _describe(spec):
    from damo import metrics as metrics_mod
    from damo_engine.machines import make_machine
    return metrics_mod.describe_machine(make_machine(spec), spec)


def of_recording(path):
    """The machine description of a recording, or DamoError naming it."""
    import os

    from damo import metrics as metrics_mod
    from damo import records
    recording = None
    try:
        recording = records.load(path)
    except DamoError:
        if not os.path.exists(os.fspath(path) + metrics_mod.SIDECAR):
            raise
    metrics = metrics_mod.load(path, recording)
    if metrics is None or not isinstance(metrics.get("machine"), dict):
        raise DamoError("%s: no simulated machine (no machine metrics in it or in %s%s); "
                        "only recordings of damo record here have one"
                        % (path, path, metrics_mod.SIDECAR))
    return metrics["machine"]


def of_daemon(kdamond_idx=None):
    """(description, kdamond index) of a running daemon's machine, or None."""
    from damo.live import client
    try:
        kdamonds = client.kdamonds()
    except DamoError:
        return None
    running = [k for k in kdamonds if k.running and k.state]
    if kdamond_idx is not None:
        running = [k for k in running if k.idx == kdamond_idx]
        if not running:
            raise DamoError("--kdamond_idx: no running kdamond %d" % kdamond_idx)
    if not running:
        return None
    k = running[0]
    desc = k.state.get("machine_description")
    if not isinstance(desc, dict):
        desc = _describe(k.state.get("memory"))
    return desc, k.idx


def find(input_file=None, kdamond_idx=None):
    """(machine description, where it comes from)."""
    if input_file is not None:
        return of_recording(input_file), "recording %s" % input_file
    daemon = of_daemon(kdamond_idx)
    if daemon is not None:
        desc, idx = daemon
        return desc, "kdamond %d (damo start)" % idx
    return _describe(None), "damo record's default machine"
