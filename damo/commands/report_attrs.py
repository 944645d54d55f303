"""``damo report attrs``: data attributes (probe hits) of a recording, as damo shows them."""
import os

import click

from damo.commands._report_common import (
    checked_snapshot_damos_filters, color_option, echo, echo_paged_chunks,
    format_template_options, int_values, listed_format_keywords, live_or_default,
    repeat_schedule, report_output_options, run_repeated, snapshot_heatmap_options,
    snapshot_report_command, split_values, use_color)
from damo.errors import DamoError
from damo.params import access_filter

_MULTI = ("--input", "-i", "--percentiles_range", "--sort_regions_by", "--hist_ranges",
          "--format", "--adjust_region", "--snapshot_damos_filter")


@snapshot_report_command(_MULTI)
@click.option("--input", "-i", "inputs", multiple=True, metavar="<file>...",
              help="recording(s) to show (each with its damo record .kdamonds file)  "
                   "[default: the running kdamonds' latest snapshot, else damon.data]")
@click.option("--snapshot_damos_filter", multiple=True, metavar="<damos filter argument>...",
              help="region-internal DAMOS filters for the snapshot (as --damos_filter); "
                   "recordings are shown as recorded")
@access_filter.filter_options
@click.option("--style", type=click.Choice(["detailed", "temperature-sz-hist",
                                            "recency-sz-hist", "cold-memory-tail",
                                            "recency-percentiles", "idle-time-percentiles",
                                            "temperature-percentiles"]),
              default="detailed", show_default=True, metavar="<style>",
              help="output format selection among pre-configured ones: detailed, "
                   "temperature-sz-hist, recency-sz-hist, cold-memory-tail, "
                   "recency-percentiles, idle-time-percentiles, temperature-percentiles")
@click.option("--percentiles_range", metavar="<number>...", help="percentiles to show")
@click.option("--sort_regions_by", metavar="<keyword>...",
              help="address, probe_hits_wsum, age, size or temperature, each optionally "
                   "followed by reverse  [default: temperature]")
@click.option("--temperature_weights", nargs=3, type=int, default=(100, 100, 0),
              show_default=True, metavar="<int> <int> <int>",
              help="region temperature weights for probe hits weighted sum, age and size")
@format_template_options
@click.option("--adjust_region", multiple=True, metavar="<field>...",
              help="adjust region properties: <size|probe_hits> [probe idx] "
                   "<df_passed|probe_hits_rate> [probe idx]")
@snapshot_heatmap_options
@report_output_options(
    raw_form_help="print in raw format",
    exec_help="execute python code with the records (damo's objects: not here)",
    repeat_help="repeat <count> times with <delay> time interval")
@color_option()
def attrs(inputs, snapshot_damos_filter, style, percentiles_range, sort_regions_by,
          temperature_weights, hist_logscale, hist_ranges, hist_cumulate, formats,
          adjust_region, snapshot_heatmap_width, snapshot_heatmap_colorset,
          snapshot_heatmap_static, min_chars_for, total_sz_only, dont_merge_regions, raw_number,
          as_json, raw_form, ls_record_format_keywords, ls_snapshot_format_keywords,
          ls_region_format_keywords, exec_, repeat, debug_damon, color, **filters):
    """Show data attributes information (experimental).

    damo's report access layout around the probe hits of DAMON's data
    attribute monitoring: per snapshot a heatmap of the regions' temperatures
    (probe hits by the probes' weights, age, size), the probes, the intervals
    and each region; recordings need the .kdamonds file damo record writes.
    """
    from damo.reports import attrs as attrs_mod

    if listed_format_keywords(dict(ls_record_format_keywords=ls_record_format_keywords,
                                   ls_snapshot_format_keywords=ls_snapshot_format_keywords,
                                   ls_region_format_keywords=ls_region_format_keywords)):
        return
    if exec_:
        raise DamoError("--exec: damo's records are its own Python objects; here, read the "
                        "recording with damo.records.load()")
    files = []
    for value in inputs:
        fields = split_values(value)
        if fields[0] == "tried_regions_of":
            raise DamoError("--input tried_regions_of: a live kdamond's tried regions; run "
                            "damo report access for live snapshots")
        if len(fields) != 1:
            raise DamoError("--input: unsupported input (%s)" % fields)
        files.append(fields[0])
    if not files:
        default = live_or_default()
        files = None if default is None else [default]
    # damo parses them, and uses them only for a live snapshot
    checked_snapshot_damos_filters(snapshot_damos_filter)
    sort_keys = split_values(sort_regions_by)
    attrs_mod.check_sort_keys(sort_keys)
    schedule = repeat_schedule(repeat)
    if snapshot_heatmap_width <= 0:
        # damo divides by it
        raise DamoError("--snapshot_heatmap_width: needs a positive width, not %d"
                        % snapshot_heatmap_width)
    flt = access_filter.AccessFilter.from_options(**filters)
    options = dict(
        sort_regions_by=sort_keys, temperature_weights=list(temperature_weights),
        hist_logscale=hist_logscale, hist_cumulate=hist_cumulate,
        hist_ranges=split_values(hist_ranges),
        percentiles_range=int_values(percentiles_range, "--percentiles_range")
        if percentiles_range is not None else None,
        snapshot_heatmap_width=snapshot_heatmap_width,
        snapshot_heatmap_colorset=snapshot_heatmap_colorset,
        snapshot_heatmap_static=snapshot_heatmap_static, raw_number=raw_number)
    run_repeated(schedule, repeat is not None, lambda: _show_once(
        files, flt, schedule[1], adjust_region, style, formats, total_sz_only, as_json,
        raw_form, repeat, color, options, min_chars_for))


def _views(files, flt):
    """[[attrs Record]] per file (or of the running kdamonds' latest
    snapshot), and the kdamonds of each."""
    from damo import records as records_mod
    from damo.params import kdamonds_model as model
    from damo.reports import attrs as attrs_mod

    if files is None:
        recs, kdamonds = _live()
        source = "the running kdamonds' snapshot"
        recs = flt.apply(recs, source=source)
        return [[attrs_mod.Record(r, kdamonds, source) for r in recs]], [kdamonds]
    views, kdamonds_list = [], []
    for path in files:
        kdamonds_path = path + ".kdamonds"
        if not os.path.isfile(kdamonds_path):
            raise DamoError("%s file not found (damo record writes it beside the "
                            "recording)" % kdamonds_path)
        kdamonds = model.read_json_file(kdamonds_path, "--input")
        recs = flt.apply(records_mod.load(path).records, source=path)
        kdamonds_list.append(kdamonds)
        views.append([attrs_mod.Record(r, kdamonds, path) for r in recs])
    return views, kdamonds_list


def _live():
    """The running kdamonds' latest snapshot and their parameters (by
    kdamond index, as a recording's .kdamonds file has them)."""
    from damo.live import client, show
    from damo.live.snapshot import live_recording
    from damo.params import kdamonds_model as model

    recs = live_recording().records
    by_idx = {k.idx: k for k in client.kdamonds()}
    kvs = [show.kdamond_kvpairs(by_idx[i], params_only=True) if i in by_idx
           else {"state": "off", "pid": None, "contexts": []}
           for i in range(max(by_idx) + 1)]
    for kv in kvs:
        kv.pop("simulation", None)
    return recs, model.from_kvpairs(kvs, "the running kdamonds")


def _show_once(files, flt, count, adjust_region, style, formats, total_sz_only, as_json,
               raw_form, repeat, color, options, min_chars_for):
    from damo.reports import attrs as attrs_mod

    views, kdamonds_list = _views(files, flt)
    all_records = [r for vs in views for r in vs]
    if not all_records and count == 1 and files is not None:
        click.echo("No record in %s" % files)
    if adjust_region:
        attrs_mod.adjust_regions(all_records, [split_values(v) for v in adjust_region])
    fmt = attrs_mod.default_format(dict(options, color=use_color(color)))
    # argparse's append adds to damo's default list (whose entries come first)
    fmt["min_chars_for"] = fmt["min_chars_for"] + [list(m) for m in min_chars_for]
    attrs_mod.set_formats(fmt, all_records, style, [split_values(f) for f in formats],
                          total_sz_only)
    if as_json:
        chunks = [attrs_mod.json_text(views, kdamonds_list, options["raw_number"])]
    elif raw_form:
        chunks = [attrs_mod.raw_form(all_records, options["raw_number"])]
    else:
        # all made before any is written: an error never leaves half a report
        chunks = attrs_mod.text_chunks(attrs_mod.Report(all_records, fmt), fmt)
    if repeat is not None:
        echo("".join(chunks))
    else:
        echo_paged_chunks(chunks)
