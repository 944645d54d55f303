"""``damo report wss``: distribution of the working set size."""
import click

from damo import records
from damo.cliutil import image_size
from damo.commands._report_common import ReportCommand, bar_columns, echo, percentile_range


@click.command(cls=ReportCommand)
@click.option("--input", "-i", "input_file", default="damon.data", show_default=True,
              metavar="<file>", help="recording to read")
@click.option("--range", "-r", "prange", nargs=3, type=int, default=(0, 101, 25),
              show_default=True, metavar="<start> <stop> <step>",
              help="percentiles to print")
@click.option("--exclude_samples", type=click.IntRange(min=0), default=20, show_default=True,
              metavar="<# samples>", help="number of first snapshots to skip")
@click.option("--acc_thres", "-t", type=int, default=1, show_default=True,
              metavar="<# accesses>", help="least samples of a region in the working set")
@click.option("--sz_thres", type=int, default=1, show_default=True, metavar="<size>",
              help="least size of a region in the working set")
@click.option("--work_time", type=click.IntRange(min=1), default=1, show_default=True,
              metavar="<micro-seconds>", help="time of one unit of work: snapshots are "
              "re-aggregated to windows this long")
@click.option("--sortby", "-s", type=click.Choice(["time", "size"]),
              help="order of the values: by size (percentiles, default) or in time")
@click.option("--plot", "-p", metavar="<file>", help="draw the distribution to an image")
@click.option("--size", nargs=2, type=int, callback=image_size, default=(800, 600), show_default=True,
              metavar="<width> <height>", help="image size (pixels; points for svg/pdf)")
@click.option("--nr_cols_bar", type=int, callback=bar_columns, default=59, show_default=True, metavar="<num>",
              help="columns of the bars")
@click.option("--raw_number", is_flag=True, help="use machine-friendly raw numbers")
@click.option("--all_wss", is_flag=True, help="print every value, not percentiles")
@click.option("--per_target/--collapse_targets", default=False,
              help="a distribution per target, or (damo's default) their sum")
def wss(input_file, prange, exclude_samples, acc_thres, sz_thres, work_time, sortby, plot,
        size, nr_cols_bar, raw_number, all_wss, per_target):
    """Show the distribution of working set sizes."""
    from damo.reports.wss import WssReporter

    percentiles = percentile_range(prange)
    reporter = WssReporter(records.load(input_file).records, exclude_samples, work_time,
                           acc_thres, sz_thres, sort=sortby != "time",
                           collapse_targets=not per_target)
    if plot:
        reporter.plot(plot, percentiles, size)
    else:
        echo(reporter.text(percentiles, all_wss, raw_number, nr_cols_bar))
