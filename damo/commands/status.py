"""``damo status``: what ``damo report damon`` shows, under the short name
older damo versions had, with damo diagnose's hints on the schemes that
applied nothing or less than they tried."""
import click

from damo.commands.report_damon import damon_options, show


def hint_lines(kdamond_idxs=()):
    """'hint: ...' lines of the live kdamonds' schemes that need one."""
    from damo.live import client
    from damo.reports import diagnose

    out = []
    for k in client.kdamonds():
        if kdamond_idxs and k.idx not in kdamond_idxs:
            continue
        for v in diagnose.live_views(k):
            verdict, reason = diagnose.diagnose(v)
            # a kdamond that just started has not come to its schemes yet
            if reason and " never reached yet: " not in reason:
                out.append("hint: %s (%s): %s: %s" % (v.where, v.action, verdict, reason))
    return out


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@damon_options
def status(**kwargs):
    """Show running kdamonds: parameters, state and DAMOS stats.

    The same as `damo report damon`, followed by `damo diagnose`'s hints on
    the schemes that applied nothing or less than they tried.  A kdamond
    whose daemon died is shown as dead (`damo start` cleans it up).
    """
    show(**kwargs)
    plain = kwargs["fmt"] in (None, "report") and not kwargs.get("json_") and not (
        kwargs["input_file"] or kwargs["kdamonds_summary"] or kwargs["damos_stats"] or
        kwargs["damos_stat_fields"] or kwargs["damon_params"])
    if plain:
        for line in hint_lines(kwargs["kdamond_idxs"]):
            click.echo(line)
