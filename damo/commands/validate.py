"""``damo validate``: check a recording's intervals, region counts and regions."""
import click

from damo.commands._report_common import ReportCommand, split_values


@click.command(cls=ReportCommand, multi_value=("--regions_boundary",),
               context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--input", "-i", "input_file", default="damon.data", show_default=True,
              metavar="<file>", help="input file name")
@click.option("--aggr", nargs=2, type=int, default=(75000, 125000), show_default=True,
              metavar="<microseconds>", help="min/max valid aggregation intervals (us)")
@click.option("--nr_regions", nargs=2, type=int, default=(3, 1200), show_default=True,
              metavar="<number of regions>", help="min/max number of regions")
@click.option("--nr_accesses", nargs=2, type=int, default=(0, 24), show_default=True,
              metavar="<number of accesses>",
              help="min/max number of measured accesses per aggregate interval")
@click.option("--allow_error", type=float, default=2, show_default=True, metavar="<percent>",
              help="allowed percent of error samples")
@click.option("--regions_boundary", metavar="<start>-<end>...",
              help="regions boundary")
def validate(input_file, aggr, nr_regions, nr_accesses, allow_error, regions_boundary):
    """Validate a recording: aggregation intervals, numbers of regions, regions.

    Prints the first violation and exits 1, as damo does; prints nothing when
    the recording is valid.  Up to --allow_error percent of each record's
    snapshots may have an aggregation interval or a number of regions out of
    range.
    """
    from damo import records
    from damo.reports import validate as validate_mod

    boundaries = validate_mod.parse_boundaries(split_values(regions_boundary))
    recording = records.load(input_file)
    problem = validate_mod.first_problem(recording.records, aggr, nr_regions, nr_accesses,
                                         allow_error, boundaries)
    if problem is not None:
        click.echo(problem)
        raise SystemExit(1)
