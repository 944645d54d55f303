"""``damo report accuracy``: DAMON's picture against the exact truth of a
recording made with ``damo record --ground_truth``."""
import json

import click

from damo.commands._report_common import (
    ReportCommand, color_option, echo, split_values, use_color)


@click.command(cls=ReportCommand, multi_value=("--time_range", "--address_range"))
@click.option("--input", "-i", "input_file", default="damon.data", show_default=True,
              metavar="<file>", help="recording made with damo record --ground_truth")
@click.option("--access_rate", nargs=2, metavar="<min> <max>",
              help="access rate (percent) of hot memory, as damo's filters take it "
                   "[default: 1% max: accessed at all]")
@click.option("--age", nargs=2, metavar="<min> <max>",
              help="age of hot memory (damo's filters: microseconds, or '5s' like)")
@click.option("--sz_region", nargs=2, metavar="<min> <max>",
              help="size of DAMON's hot regions (the truth has no regions)")
@click.option("--acc_thres", type=int, default=1, show_default=True, metavar="<# samples>",
              help="least samples of a region in DAMON's working set (as damo report wss)")
@click.option("--sz_thres", type=int, default=1, show_default=True, metavar="<size>",
              help="least size of a region in DAMON's working set (as damo report wss)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="output format")
@click.option("--overall_only", is_flag=True, help="print the overall figures only")
@click.option("--raw_number", is_flag=True, help="use machine-friendly raw numbers")
@click.option("--heatmap", is_flag=True,
              help="also print DAMON's heatmap and the truth's, side by side, on one scale")
@click.option("--output", metavar="<file>",
              help="draw both heatmaps side by side to an image (.png, .svg, .pdf, .jpeg)")
@click.option("--resol", nargs=2, type=int, metavar="<time rows> <address columns>",
              help="heatmap resolution  [default: 30 50 on stdout, else 300 300]")
@click.option("--time_range", metavar="<start> <end> [base]",
              help="heatmap time range, as damo report heatmap takes it")
@click.option("--address_range", metavar="<start> <end> [base]",
              help="heatmap address range, as damo report heatmap takes it")
@click.option("--tid", type=int, help="target id of the heatmaps' record")
@click.option("--size", nargs=2, type=int, default=(1200, 500), show_default=True,
              metavar="<width> <height>", help="image size (pixels; points for svg/pdf)")
@color_option()
def accuracy(input_file, access_rate, age, sz_region, acc_thres, sz_thres, fmt, overall_only,
             raw_number, heatmap, output, resol, time_range, address_range, tid, size, color):
    """Show how accurate DAMON was: its working set size, access
    frequencies and hot/cold classification against the exact truth, per
    snapshot and overall, and its heatmap beside the truth's.

    The recording must come from `damo record --ground_truth` (or replay).
    """
    from damo.reports import accuracy as acc

    recording, truths = acc.load(input_file)
    flt = acc.default_filter(access_rate, age, sz_region)
    report = acc.evaluate(recording, truths, flt, acc_thres, sz_thres)
    pair = None
    if heatmap or output:
        pair = acc.heatmap_pair(
            recording, truths, resol or ((30, 50) if not output else (300, 300)),
            time_range=split_values(time_range) if time_range else None,
            address_range=split_values(address_range) if address_range else None,
            target=tid)
    if output:
        import os
        acc.draw_heatmaps(pair[0], pair[1], output, size,
                          "%s: DAMON and the exact truth" % os.path.basename(input_file))
    if fmt == "json":
        if overall_only:
            for r in report["records"]:
                del r["snapshots"]
        echo(json.dumps(report, indent=1))
        return
    out = acc.text(report, raw_number, per_snapshot=not overall_only)
    if heatmap:
        out += "\n" + acc.heatmap_text(pair[0], pair[1], color=use_color(color))
    echo(out)
