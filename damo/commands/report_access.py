"""``damo report access``: the regions of each recorded snapshot, filtered and
formatted with damo 3.4.3's options (styles, format templates, filters, json,
raw form), or of the running kdamonds' latest snapshot."""
import os
import sys

import click

from damo import records
from damo.commands._report_common import (
    checked_snapshot_damos_filters, color_option, echo_paged_chunks, format_template_options,
    int_values, listed_format_keywords, live_or_default, repeat_schedule,
    report_output_options, run_repeated, snapshot_damos_filters, snapshot_heatmap_options,
    snapshot_report_command, split_values, use_color)
from damo.errors import DamoError
from damo.params.access_filter import AccessFilter, filter_options

_SORT_FIELDS = ("address", "access_rate", "age", "size", "temperature")
_MULTI = ("--input", "-i", "--input_file", "--snapshot_damos_filter", "--percentiles_range",
          "--sort_regions_by", "--sort_regions_dsc", "--hist_ranges", "--format")


def access_filter(opts, temperature_weights=(0, 100, 100)):
    """damo's args_to_filter() of the filter options' values."""
    return AccessFilter.from_options(**dict(opts, temperature_weights=temperature_weights))


def _choices(value, option, choices):
    values = split_values(value)
    for v in values:
        if v not in choices:
            raise DamoError("%s: invalid choice: %r (choose from %s)" % (
                option, v, ", ".join(choices)), exit_code=2)
    return values


def _sources(inputs, input_file, tried_regions_of):
    """damo's handle_args_input(): files to read, or None for the live state."""
    files = []
    for value in inputs:
        words = split_values(value)
        if words[0] == "tried_regions_of":
            if len(words) != 4:
                raise DamoError("--input handling failed (wrong number of args for "
                                "tried_regions_of)")
            raise DamoError("--input tried_regions_of: the tried regions of running schemes "
                            "are not kept here (record them with damo record "
                            "--schemes_target_regions, then report that file)")
        files.extend(words)
    if tried_regions_of and not files and not input_file:
        raise DamoError("--tried_regions_of: the tried regions of running schemes are not "
                        "kept here (record them with damo record --schemes_target_regions)")
    if not files and input_file:
        files = split_values(input_file)
    return files or None


@snapshot_report_command(_MULTI)
@click.option("--input", "-i", "inputs", multiple=True, metavar="<file>...",
              help="recording(s) to show (one file per --input as damo, or several)  "
                   "[default: the running kdamonds' latest snapshot, else damon.data]")
@click.option("--input_file", hidden=True)
@click.option("--tried_regions_of", nargs=3, type=int, multiple=True, hidden=True)
@click.option("--snapshot_damos_filter", multiple=True,
              metavar="<damos filter argument>...",
              help="region-internal DAMOS filters for the snapshot (as --damos_filter); "
                   "only a live snapshot is taken through them")
@filter_options
@click.option("--style", type=click.Choice(
    ["detailed", "simple-boxes", "temperature-sz-hist", "recency-sz-hist", "cold-memory-tail",
     "recency-percentiles", "idle-time-percentiles", "temperature-percentiles", "cold",
     "hot"]), default="detailed", show_default=True, metavar="<style>",
    help="output format selection among pre-configured ones: detailed, simple-boxes, "
         "temperature-sz-hist, recency-sz-hist, cold-memory-tail, recency-percentiles, "
         "idle-time-percentiles, temperature-percentiles, cold, hot")
@click.option("--percentiles_range", metavar="<number>...",
              help="percentiles to show: <=3 numbers as Python's range(), or the percentiles")
@click.option("--sort_regions_by", metavar="<field>...",
              help="fields to sort regions by: address, access_rate, age, size, temperature")
@click.option("--sort_regions_dsc", metavar="<field>...",
              help="sort regions in descending order for these fields (or all)")
@click.option("--temperature_weights", nargs=3, type=int, default=(0, 100, 100),
              metavar="<int> <int> <int>", show_default=True,
              help="temperature weights for size, access frequency, and age of each region")
@format_template_options
@click.option("--format_record_head", metavar="<template>", hidden=True)
@click.option("--format_record_tail", metavar="<template>", hidden=True)
@click.option("--format_snapshot_head", metavar="<template>", hidden=True)
@click.option("--format_snapshot_tail", metavar="<template>", hidden=True)
@click.option("--format_region", metavar="<template>", hidden=True)
@snapshot_heatmap_options
@click.option("--region_box", is_flag=True, help="show region access pattern as a box")
@click.option("--region_box_values", nargs=3,
              type=click.Choice(["size", "access_rate", "age", "none"]),
              default=("age", "access_rate", "size"), show_default=True,
              help="values to show via the <box>'s length, color, and height")
@click.option("--region_box_min_max_length", nargs=2, type=int, default=(1, 30),
              metavar="<min> <max>", show_default=True,
              help="minimum and maximum number of the region box' length")
@click.option("--region_box_min_max_height", nargs=2, type=int, default=(1, 5),
              metavar="<min> <max>", show_default=True,
              help="minimum and maximum number of region box' height")
@click.option("--region_box_colorset", type=click.Choice(["gray", "flame", "emotion"]),
              default="gray", show_default=True, help="colorset to use for region box")
@click.option("--region_box_scales", nargs=3, type=click.Choice(["linear", "log"]),
              default=("log", "linear", "log"), show_default=True,
              help="scale of region box' length, color, and height")
@click.option("--region_box_align", type=click.Choice(["left", "right"]), default="left",
              show_default=True, help="where to align the region box")
@report_output_options(
    raw_form_help="print every region in damo's raw form",
    exec_help="execute python code with the records (a script's main(records, argv), here "
              "with damo-sim's record views)",
    repeat_help="repeat <count> times with <delay> time interval (no values: every second "
                "until ^C)")
@click.option("--on_cache", nargs=3, hidden=True)
@click.option("--damon_interface_DEPRECATED", "damon_interface",
              type=click.Choice(["sysfs", "debugfs", "auto"]), default="auto", hidden=True)
@color_option()
def access(inputs, input_file, tried_regions_of, snapshot_damos_filter, color, **opts):
    """Show the regions of each recorded snapshot, or, without --input, of
    the running kdamonds' latest snapshot."""
    if listed_format_keywords(opts):
        return
    files = _sources(inputs, input_file, tried_regions_of)
    default_file = None
    if files is None:
        default_file = live_or_default()
        if default_file is not None:
            files = [default_file]
    record_filter = access_filter(opts, opts["temperature_weights"])
    checked_snapshot_damos_filters(snapshot_damos_filter)
    fmt_opts = _format_options(opts)
    repeat = opts["repeat"]
    schedule = repeat_schedule(repeat)
    if opts["on_cache"]:
        raise DamoError("--on_cache: the experimental cache-space view is not supported here")
    run_repeated(schedule, repeat is not None, lambda: _show_once(
        files, default_file, record_filter, fmt_opts, opts, color, repeat is not None,
        schedule[1] == 1))


def _format_options(opts):
    sort_by = opts["sort_regions_by"]
    fmt = {
        "style": opts["style"], "format": [split_values(f) for f in opts["formats"]],
        "total_sz_only": opts["total_sz_only"], "region_box": opts["region_box"],
        "sort_regions_by": (_choices(sort_by, "--sort_regions_by", _SORT_FIELDS)
                            if sort_by is not None else ["address"]),
        "sort_regions_dsc": (_choices(opts["sort_regions_dsc"], "--sort_regions_dsc",
                                      _SORT_FIELDS + ("all",))
                             if opts["sort_regions_dsc"] is not None else None),
        "temperature_weights": list(opts["temperature_weights"]),
        "dont_merge_regions": opts["dont_merge_regions"],
        "hist_logscale": opts["hist_logscale"], "hist_cumulate": opts["hist_cumulate"],
        "hist_ranges": split_values(opts["hist_ranges"]) if opts["hist_ranges"] else None,
        "percentiles_range": (int_values(opts["percentiles_range"], "--percentiles_range")
                              if opts["percentiles_range"] is not None else None),
        "snapshot_heatmap_width": opts["snapshot_heatmap_width"],
        "snapshot_heatmap_colorset": opts["snapshot_heatmap_colorset"],
        "snapshot_heatmap_static": opts["snapshot_heatmap_static"],
        "region_box_values": [v if v != "none" else None for v in opts["region_box_values"]],
        "region_box_min_max_height": list(opts["region_box_min_max_height"]),
        "region_box_min_max_length": list(opts["region_box_min_max_length"]),
        "region_box_colorset": opts["region_box_colorset"],
        "region_box_scales": list(opts["region_box_scales"]),
        "region_box_align": opts["region_box_align"],
        "raw_number": opts["raw_number"], "json": opts["as_json"], "raw": opts["raw_form"],
    }
    for area in ("record_head", "record_tail", "snapshot_head", "snapshot_tail", "region"):
        fmt["format_" + area] = opts["format_" + area]
    from damo.reports.access_format import MIN_CHARS
    min_chars = [list(x) for x in MIN_CHARS]
    for keyword, nr in opts["min_chars_for"]:
        try:
            nr = int(nr)
        except ValueError:
            raise DamoError("--min_chars_for: %r is not a number (for %s)" % (nr, keyword),
                            exit_code=1) from None
        # appended after damo's defaults, as argparse appends to them: a
        # keyword that has a default keeps it (the first entry wins)
        min_chars.append([keyword, nr])
    fmt["min_chars_for"] = min_chars
    if fmt["snapshot_heatmap_width"] <= 0:
        raise DamoError("--snapshot_heatmap_width: needs a positive width, not %d"
                        % fmt["snapshot_heatmap_width"])
    return fmt


def _load(files, record_filter):
    """Records of the files (or the live state), filtered, as RecordViews."""
    from damo.reports.access_records import views_of
    if files is None:
        from damo.live.snapshot import live_recording
        recs = live_recording().records
        source = "the running kdamonds' snapshot"
    else:
        recs = []
        for path in files:
            recs.extend(records.load(path).records)
        source = ", ".join(files)
    return views_of(record_filter.apply(recs, source))


def _keeps_everything(record_filter):
    """Whether the filter options are all their defaults (nothing dropped)."""
    from damo import units
    full = (0, units.ULONG_MAX)
    return (tuple(record_filter.sz_bytes) == full and tuple(record_filter.access_rate) == full
            and tuple(record_filter.age_us) == full
            and all(getattr(record_filter, name) is None for name in (
                "address_ranges", "snapshot_sz_ranges", "snapshot_time_ranges",
                "snapshot_index_ranges", "temperature_ranges")))


def _show_once(files, default_file, record_filter, fmt_opts, opts, color, repeating,
               once):
    from damo.reports import access as access_mod
    from damo.reports.access_format import AccessReport, set_formats
    from damo.reports.access_json import iter_json

    if opts["raw_form"] and files is not None and not opts["exec_"] \
            and not opts["as_json"] and _keeps_everything(record_filter):
        # printed as it is read: every file is checked first, then read again
        from damo.reports.access import RawFormReporter
        from damo.reports.access_format import set_formats
        set_formats(fmt_opts, [])       # the format options' errors, as the views path
        streams = records.stream_all(files)
        if not streams and once:
            sys.stdout.write("No record in %s\n" % (default_file if default_file is not None
                                                    else str(list(files))))
        echo_paged_chunks(RawFormReporter(streams).iter_text(opts["raw_number"]))
        return
    views = _load(files, record_filter)
    out = sys.stdout
    if not views and files is not None and once:
        out.write("No record in %s\n" % (default_file if default_file is not None
                                         else str(list(files))))
    if opts["exec_"]:
        _exec(opts["exec_"], views)
        return
    if any(v.intervals is None for v in views) and not opts["as_json"] \
            and not opts["raw_form"]:
        raise DamoError("some records lack the intervals information; use --json or "
                        "--raw_form")
    fmt = set_formats(fmt_opts, views)
    if fmt.json:
        echo_paged_chunks(iter_json(views, fmt.raw_number))
        return
    if fmt.raw:
        text = access_mod.raw_form_text(views, fmt.raw_number)
        echo_paged_chunks([text])
        return
    report = AccessReport(fmt, views, use_color(color))
    report.validate()
    if repeating:
        for chunk in report.iter_chunks():
            out.write(chunk)
        out.write("\n")
        out.flush()
    else:
        echo_paged_chunks(report.iter_chunks())


def _exec(command, views):
    if command == "interpreter":
        import code
        code.interact(local={"records": views},
                      banner="DAMON records are available as 'records'",
                      exitmsg="Exit the session.")
        return
    import importlib.util
    fields = command.split()
    if not os.path.isfile(fields[0]):
        raise DamoError("format_script handling fail (first token is not file)")
    spec = importlib.util.spec_from_file_location("damo_report_access_script", fields[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(views, fields)
