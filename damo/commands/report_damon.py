"""``damo report damon`` (and ``damo status``): live kdamonds' parameters,
state and DAMOS stats, in damo's ``report damon`` layout."""
import click

from damo.commands._report_common import ReportCommand
from damo.errors import DamoError

STAT_FIELDS = ["nr_tried", "sz_tried", "nr_applied", "sz_applied", "sz_ops_filter_passed",
               "qt_exceeds"]


def _selected(kdamond_idxs):
    from damo.live import client
    from damo.reports.damon_file import select

    return [k for _, k in select(client.kdamonds(), kdamond_idxs, lambda _, k: k.idx,
                                 "--kdamond_idx: no kdamond %d")]


def _dump(data, fmt):
    from damo.reports.damon_file import dump
    text = dump(data, fmt)
    return text.rstrip("\n") if fmt == "yaml" else text


def _stats_report(kds, fmt, raw, fields):
    from damo import units

    stats = []
    for k in kds:
        for ci, c in enumerate((k.kstate or {}).get("contexts", [])):
            for si, s in enumerate(c["schemes"]):
                kv = {}
                for name in fields or STAT_FIELDS:
                    v = s["stats"][name]
                    kv[name] = units.format_sz(v, raw) if name.startswith("sz_") \
                        else units.format_nr(v, raw)
                stats.append([{"kdamond": k.idx, "context": ci, "scheme": si}, kv])
    if fmt in ("json", "yaml"):
        return _dump(stats, fmt)
    from damo.reports.damon_file import stats_text
    return stats_text(stats)


def damon_options(f):
    opts = [
        click.option("--format", "fmt", type=click.Choice(["report", "json", "yaml"]),
                     help="format of the output  [default: report]"),
        click.option("--raw", is_flag=True, help="print raw numbers"),
        click.option("--kdamond_idx", "kdamond_idxs", type=click.IntRange(min=0),
                     multiple=True, metavar="<index>",
                     help="show only this kdamond (repeatable; default: all)"),
        click.option("--kdamonds_summary", is_flag=True, help="print kdamond summary only"),
        click.option("--damos_stats", is_flag=True, help="print DAMOS scheme stats only"),
        click.option("--damos_stat_fields", multiple=True, metavar="<stat field name>...",
                     help="DAMOS stat fields to print (%s)" % ", ".join(STAT_FIELDS)),
        click.option("--damon_params", is_flag=True,
                     help="print entered DAMON parameters only"),
        click.option("--input_file", metavar="<file>",
                     help="a kdamonds JSON file (damo's {\"kdamonds\": [...]}) to show "
                          "instead of the live kdamonds"),
        click.option("--show_cpu_usage", is_flag=True, help="show cpu usage for kdamond"),
        click.option("--omit_damos_tried_regions", is_flag=True,
                     help="omit DAMOS tried regions"),
        click.option("--damon_params_omit_defaults", is_flag=True,
                     help="print entered DAMON parameters only, omitting defaults"),
        click.option("--json", "json_", is_flag=True, hidden=True,
                     help="print output in json format (use --format json)"),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def show(fmt, raw, kdamond_idxs, kdamonds_summary, damos_stats, damos_stat_fields,
         damon_params, input_file, show_cpu_usage=False, omit_damos_tried_regions=False,
         damon_params_omit_defaults=False, json_=False):
    from damo.live import show as show_mod

    from damo.cliutil import split_values
    if fmt is None:
        fmt = "json" if json_ else "report"
    damos_stat_fields = [f for value in damos_stat_fields for f in split_values(value)]
    for field in damos_stat_fields:
        if field not in STAT_FIELDS:
            raise DamoError("--damos_stat_fields: no stat field %r (choose from %s)"
                            % (field, ", ".join(STAT_FIELDS)), exit_code=2)
    if input_file:
        from damo.reports import damon_file
        text = damon_file.report(
            input_file, fmt, raw, kdamond_idxs, kdamonds_summary, damos_stats,
            damos_stat_fields, damon_params or damon_params_omit_defaults,
            damon_params_omit_defaults, show_cpu_usage, omit_damos_tried_regions)
        if text:
            click.echo(text)
        return
    kds = _selected(kdamond_idxs)
    if damos_stats or damos_stat_fields:
        text = _stats_report(kds, fmt, raw, list(damos_stat_fields))
        if text:
            click.echo(text)
        return
    def summary(k):
        line = show_mod.summary_line(k, raw)
        if show_cpu_usage:
            line += ", cpu usage: %s" % _cpu_usage(k)
        return line

    if kdamonds_summary:
        summary = [summary(k) for k in kds]
        if fmt in ("json", "yaml"):
            click.echo(_dump(summary, fmt))
        elif kds:
            from damo.reports.damon_file import summary_text
            click.echo(summary_text([(k.idx, k) for k in kds], summary))
        return
    if fmt in ("json", "yaml"):
        click.echo(_dump([show_mod.kdamond_kvpairs(k, damon_params, raw) for k in kds], fmt))
        return
    if not kds:
        click.echo("no kdamond is running")
        return
    texts = []
    for k in kds:
        text = show_mod.kdamond_text(k, raw, damon_params)
        if show_cpu_usage and not damon_params:
            head, _, rest = text.partition("\n")
            first, _, rest = rest.partition("\n")
            text = "\n".join([head, first + ", cpu usage: %s" % _cpu_usage(k)] +
                              ([rest] if rest else []))
        texts.append(text)
    click.echo("\n".join(texts))


def _cpu_usage(k):
    """damo's kdamond cpu usage: ps's %cpu of its process (here, the daemon
    that runs it), 0.0 when it is not on."""
    from damo.params.kdamonds_model import Kdamond
    state = (k.kstate or {}).get("state", "off")
    kd = Kdamond({"state": state if k.liveness != "dead" else "off",
                  "pid": (k.state or {}).get("pid"), "contexts": []})
    return kd.cpu_usage()


@click.command(cls=ReportCommand, multi_value=("--damos_stat_fields",),
               context_settings={"help_option_names": ["-h", "--help"]})
@damon_options
@click.option("--debug_damon", is_flag=True,
              help="print the requests damo sends to the simulated kernel's daemons, and "
                   "their answers, on stderr")
def damon(debug_damon, **kwargs):
    """Show live kdamonds: parameters, state and DAMOS stats.

    A kdamond whose daemon died is shown as dead (`damo start` cleans it
    up).  With --input_file, show a damo kdamonds file instead.
    """
    from damo.live import client
    client.DEBUG = debug_damon
    show(**kwargs)
