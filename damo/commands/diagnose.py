"""``damo diagnose``: for each DAMOS scheme of the live kdamonds (or of a
recording), one line saying why it applied nothing or less than it tried,
from the engine's own state; ``--verbose`` adds damo's JSON report."""
import json

import click

from damo.errors import DamoError


def live_lines(kdamond_idxs=None):
    """Hint lines of the kdamonds (fresh from their daemons)."""
    from damo.live import client
    from damo.reports import diagnose

    out = []
    for k in client.kdamonds():
        if kdamond_idxs and k.idx not in kdamond_idxs:
            continue
        if k.liveness == "on":
            try:
                k = client.Kdamond(k.slot, k.idx, "on",
                                   client.request(k.slot, {"cmd": "state"})["state"])
            except client.DaemonUnreachable:
                pass
        out += diagnose.lines(diagnose.live_views(k))
    return out


def verbose_report(kdamond_idxs=None):
    """damo's diagnose --verbose layout: system info, the kdamonds, the
    modules' parameters."""
    from damo import kernel_features
    from damo.commands.module import access
    from damo.live import client, show

    version, commit = kernel_features.kernel_version()
    report = {"sysinfo": {"kernel_version": version, "kernel_commit": commit,
                          "avail_damon_features": kernel_features.supported_names()},
              "sysfs": {"kdamonds": [show.kdamond_kvpairs(k) for k in client.kdamonds()
                                     if not kdamond_idxs or k.idx in kdamond_idxs]},
              "debugfs": {}}
    for name, key in (("reclaim", "damon_reclaim_status"),
                      ("lru_sort", "damon_lru_sort_status")):
        values, _ = access(name, [], {}, boot_if_needed=False)
        from damo.live import modules
        report[key] = {p: values[p] for p in modules.MODULES[name].status_order
                       if p in values}
    return report


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", is_flag=True,
              help="also print damo's JSON report (system, kdamonds, modules)")
@click.option("-i", "--input", "input_file", metavar="<file>",
              help="diagnose the schemes of a recording (damo record) instead of the live "
                   "kdamonds")
@click.option("--kdamond_idx", "kdamond_idxs", type=click.IntRange(min=0), multiple=True,
              metavar="<index>", help="only this kdamond (repeatable)")
def diagnose(verbose, input_file, kdamond_idxs):
    """Say why DAMOS schemes applied nothing or less than they tried.

    One line per scheme of the live kdamonds (or of --input's recording):
    its target gone, watermarks inactive (and the metric's value), its
    apply interval never reached (e.g. re-armed by intervals auto-tuning),
    no region matching its access pattern (and the nearest regions),
    filters rejecting everything, regions over an unmapped gap (madvise()
    fails there with ENOMEM), pageout without swap, or the quota or its goal
    at its floor.
    """
    from damo.reports import diagnose as diag

    if input_file is not None:
        lines = diag.lines(diag.recording_views(input_file))
        if kdamond_idxs:
            lines = [x for x in lines if int(x.split()[1]) in kdamond_idxs]
    else:
        from damo.live import client
        if not client.kdamonds():
            raise DamoError("no kdamond is running; diagnose a recording with --input")
        lines = live_lines(kdamond_idxs)
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo("no DAMOS scheme")
    if verbose:
        if input_file is not None:
            raise DamoError("--verbose: the JSON report is of the live system, not of a "
                            "recording", exit_code=2)
        click.echo(json.dumps(verbose_report(kdamond_idxs), indent=4))
