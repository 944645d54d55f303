"""``damo report damon`` (and ``damo status``): live kdamonds' parameters,
state and DAMOS stats, in damo's ``report damon`` layout."""
import json

import click

from damo.errors import DamoError

STAT_FIELDS = ["nr_tried", "sz_tried", "nr_applied", "sz_applied", "sz_ops_filter_passed",
               "qt_exceeds"]


def _selected(kdamond_idxs):
    from damo.live import client

    kds = client.kdamonds()
    if kdamond_idxs:
        by_idx = {k.idx: k for k in kds}
        for idx in kdamond_idxs:
            if idx not in by_idx:
                raise DamoError("--kdamond_idx: no kdamond %d" % idx)
        kds = [by_idx[i] for i in kdamond_idxs]
    return kds


def _dump(data, fmt):
    if fmt == "json":
        return json.dumps(data, indent=4)
    try:
        import yaml
    except ImportError:
        raise DamoError("--format yaml needs PyYAML (pip install pyyaml)")
    return yaml.safe_dump(data, sort_keys=False).rstrip("\n")


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
    lines = []
    for indices, kv in stats:
        if len(stats) > 1:
            lines.append("kdamond %d / context %d / scheme %d" % (
                indices["kdamond"], indices["context"], indices["scheme"]))
        for name, v in kv.items():
            lines.append("%s: %s" % (name, v) if len(kv) > 1 else "%s" % v)
        if len(stats) > 1:
            lines.append("")
    return "\n".join(lines)


def _input_file_kdamonds(path):
    """Kdamonds of a damo kdamonds JSON/YAML file, as offline 'kdamonds'."""
    from damo.params import damon as params_mod
    from damo.live.client import Kdamond

    data, kdamonds = params_mod.read_kdamonds_file(path, "--input_file")
    out = []
    for idx, (kd, raw_kv) in enumerate(zip(kdamonds, data["kdamonds"])):
        state = raw_kv.get("state") or "off"
        out.append(Kdamond(None, idx, state, {
            "pid": raw_kv.get("pid"),
            "kdamonds": [{"idx": idx, "state": state, "kdamond": kd.to_kvpairs(),
                          "contexts": []}]}))
    return out


def damon_options(f):
    opts = [
        click.option("--format", "fmt", type=click.Choice(["report", "json", "yaml"]),
                     default="report", show_default=True, help="format of the output"),
        click.option("--raw", is_flag=True, help="print raw numbers"),
        click.option("--kdamond_idx", "kdamond_idxs", type=click.IntRange(min=0),
                     multiple=True, metavar="<index>",
                     help="show only this kdamond (repeatable; default: all)"),
        click.option("--kdamonds_summary", is_flag=True, help="print kdamond summary only"),
        click.option("--damos_stats", is_flag=True, help="print DAMOS scheme stats only"),
        click.option("--damos_stat_fields", type=click.Choice(STAT_FIELDS), multiple=True,
                     metavar="<stat field name>",
                     help="DAMOS stat field to print (repeatable; with --damos_stats)"),
        click.option("--damon_params", is_flag=True,
                     help="print entered DAMON parameters only"),
        click.option("--input_file", metavar="<file>",
                     help="a kdamonds JSON/YAML file to show instead of the live kdamonds"),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def show(fmt, raw, kdamond_idxs, kdamonds_summary, damos_stats, damos_stat_fields,
         damon_params, input_file):
    from damo.live import show as show_mod

    kds = _input_file_kdamonds(input_file) if input_file else _selected(kdamond_idxs)
    if damos_stats or damos_stat_fields:
        text = _stats_report(kds, fmt, raw, list(damos_stat_fields))
        if text:
            click.echo(text)
        return
    if kdamonds_summary:
        summary = [show_mod.summary_line(k, raw) for k in kds]
        if fmt in ("json", "yaml"):
            click.echo(_dump(summary, fmt))
        else:
            for k, line in zip(kds, summary):
                click.echo("%d\t%s" % (k.idx, line))
        return
    if fmt in ("json", "yaml"):
        click.echo(_dump([show_mod.kdamond_kvpairs(k, damon_params, raw) for k in kds], fmt))
        return
    if not kds:
        click.echo("no kdamond is running")
        return
    click.echo("\n".join(show_mod.kdamond_text(k, raw, damon_params) for k in kds))


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@damon_options
def damon(**kwargs):
    """Show live kdamonds: parameters, state and DAMOS stats.

    A kdamond whose daemon died is shown as dead (`damo start` cleans it
    up).  With --input_file, show a damo kdamonds file instead.
    """
    show(**kwargs)
