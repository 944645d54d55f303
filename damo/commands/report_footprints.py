"""``damo report footprints``: distribution of memory footprints over time."""
import click

from damo.cliutil import image_size
from damo.commands._report_common import ReportCommand, bar_columns, echo, percentile_range


@click.command(cls=ReportCommand)
@click.argument("metric", type=click.Choice(["vsz", "rss", "sys_used", "all"]),
                default="all", required=False, metavar="[<metric>]")
@click.option("--input", "-i", "input_file", default="damon.data.mem_footprint",
              show_default=True, metavar="<file>", help="input file name")
@click.option("--range", "-r", "prange", nargs=3, type=int, default=(0, 101, 25),
              show_default=True, metavar="<start> <stop> <step>",
              help="range of percentiles to print")
@click.option("--sortby", "-s", type=click.Choice(["time", "size"]), default="size",
              show_default=True, help="the metric to sort the footprints for")
@click.option("--plot", "-p", metavar="<file>",
              help="plot the distribution to an image file (png, svg, pdf, jpeg)")
@click.option("--size", nargs=2, type=int, callback=image_size, default=(800, 600), show_default=True,
              metavar="<width> <height>", help="image size (pixels; points for svg/pdf)")
@click.option("--nr_cols_bar", type=int, callback=bar_columns, default=59, show_default=True, metavar="<num>",
              help="max columns of output")
@click.option("--raw_number", is_flag=True, help="use machine-friendly raw numbers")
@click.option("--all_footprint", is_flag=True,
              help="print not percentiles but all footprint values")
def footprints(metric, input_file, prange, sortby, plot, size, nr_cols_bar, raw_number,
               all_footprint):
    """Show the distribution of memory footprints (vsz, rss, system memory in use).

    Reads the memory footprints that damo record keeps beside a recording
    (RECORD.mem_footprint; here, the simulated machine's, in simulated time).
    """
    from damo.reports.footprints import METRICS, FootprintsReporter

    percentiles = percentile_range(prange)
    reporter = FootprintsReporter(input_file, sort=sortby == "size")
    metrics = METRICS if metric == "all" else (metric,)
    if plot:
        reporter.plot(plot, metrics, percentiles, size)
        return
    echo("\n".join(reporter.text(m, percentiles, all_footprint, raw_number, nr_cols_bar)
                   for m in metrics))
