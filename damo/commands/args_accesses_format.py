"""``damo args accesses_format``: the full JSON/YAML of report access's format
options (damo's ReportFormat.to_kvpairs), to give back as ``--format``.

damo 3.4.3 cannot print it: its main() takes set_formats()'s (format, error)
pair for the format and dies on .to_kvpairs(); this prints what that code
means to print.
"""
import json

import click

from damo.commands._report_common import ReportCommand
from damo.commands import report_access

# report access's format options (damo's add_fmt_args), in damo's order
FORMAT_PARAMS = (
    "style", "percentiles_range", "sort_regions_by", "sort_regions_dsc",
    "temperature_weights", "hist_logscale", "hist_ranges", "hist_cumulate", "formats",
    "format_record_head", "format_record_tail", "format_snapshot_head",
    "format_snapshot_tail", "format_region", "snapshot_heatmap_width",
    "snapshot_heatmap_colorset", "snapshot_heatmap_static", "region_box",
    "region_box_values", "region_box_min_max_length", "region_box_min_max_height",
    "region_box_colorset", "region_box_scales", "region_box_align", "min_chars_for",
    "total_sz_only", "dont_merge_regions", "raw_number", "as_json", "raw_form",
    "ls_record_format_keywords", "ls_snapshot_format_keywords", "ls_region_format_keywords")

# damo's ReportFormat.to_kvpairs() keys, in its order
KV_KEYS = (
    "sort_regions_by", "sort_regions_dsc", "temperature_weights", "dont_merge_regions",
    "hist_logscale", "hist_cumulate", "hist_ranges", "percentiles_range",
    "format_record_head", "format_record_tail", "format_snapshot_head",
    "format_snapshot_tail", "format_region", "snapshot_heatmap_width",
    "snapshot_heatmap_static", "snapshot_heatmap_colorset", "region_box_values",
    "region_box_min_max_height", "region_box_min_max_length", "region_box_colorset",
    "region_box_scales", "region_box_align", "min_chars_for", "raw_number", "json")


def _params():
    by_name = {p.name: p for p in report_access.access.params}
    return [by_name[name] for name in FORMAT_PARAMS] + [
        click.Option(["--output_format"], type=click.Choice(["json", "yaml"]),
                     default="json", show_default=True, help="format of the output"),
        click.Option(["--raw"], is_flag=True,
                     help="print numbers in machine friendly raw form")]


def _main(output_format, raw, **opts):
    from damo.reports.access_format import MIN_CHARS, set_formats

    for kind in ("record", "snapshot", "region"):
        if opts["ls_%s_format_keywords" % kind]:
            click.echo("use 'damo help access_format_options %s_format_keywords' instead"
                       % kind)
            return
    fmt_opts = report_access._format_options(opts)
    fmt = set_formats(fmt_opts, [])
    kvpairs = {key: getattr(fmt, key) for key in KV_KEYS}
    if fmt.min_chars_for is fmt_opts["min_chars_for"]:
        # (not a --format JSON's own list) damo keeps --min_chars_for's
        # numbers as typed, argparse having no type for them: its defaults
        # are numbers, the appended ones strings
        kvpairs["min_chars_for"] = [list(x) for x in MIN_CHARS] + [
            [keyword, nr] for keyword, nr in opts["min_chars_for"]]
    if output_format == "json":
        click.echo(json.dumps(kvpairs, indent=4))
    else:
        from damo.params.kdamonds_model import dump_yaml
        click.echo(dump_yaml(kvpairs))


accesses_format = ReportCommand(
    "accesses_format", callback=_main, params=_params(),
    multi_value=report_access.access.multi_value,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="DAMON monitoring results visualization format.\n\n"
         "The format that report access's format options make (damo's "
         "ReportFormat), in JSON or YAML; give it back to report access as "
         "--format '<json>'.")
