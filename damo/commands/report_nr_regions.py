"""``damo report nr_regions``: distribution of the number of regions."""
import click

from damo import records
from damo.cliutil import image_size
from damo.commands._report_common import ReportCommand, echo, percentile_range


@click.command(cls=ReportCommand)
@click.option("--input", "-i", "input_file", default="damon.data", show_default=True,
              metavar="<file>", help="recording to read")
@click.option("--range", "-r", "prange", nargs=3, type=int,
              metavar="<start> <stop> <step>",
              help="percentiles to print  [default: 0 25 50 75 100]")
@click.option("--sortby", "-s", type=click.Choice(["time", "size"]),
              help="order of the values: by size (percentiles) or in time")
@click.option("--plot", "-p", metavar="<file>", help="draw the distribution to an image")
@click.option("--size", nargs=2, type=int, callback=image_size, default=(800, 600), show_default=True,
              metavar="<width> <height>", help="image size (pixels; points for svg/pdf)")
def nr_regions(input_file, prange, sortby, plot, size):
    """Show the distribution of the number of regions per snapshot."""
    from damo.reports.nr_regions import NrRegionsReporter

    percentiles = percentile_range(prange) if prange else [0, 25, 50, 75, 100]
    reporter = NrRegionsReporter(records.load(input_file).records, sort=sortby != "time")
    if plot:
        reporter.plot(plot, percentiles, size)
    else:
        echo(reporter.text(percentiles))
