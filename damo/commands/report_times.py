"""``damo report times``: when the recording had regions of an access pattern."""
import click

from damo.commands._report_common import ReportCommand, echo
from damo.params import access_filter


@click.command(cls=ReportCommand)
@click.option("--inputs", nargs=2, default=("damon.data", "damon.data.profile"),
              show_default=True, metavar="<file> <file>",
              help="access pattern and profile record files (the profile is not read)")
@access_filter.filter_options
def times(inputs, **filters):
    """Show the times of the recording that have regions of an access pattern.

    After damo's access filters, the snapshots that still have regions are
    joined where one ends as the next starts; each time span is printed in
    seconds, as damo prints it (each followed by a '# (seconds)' line).
    """
    from damo import records
    from damo.reports.times import time_spans

    flt = access_filter.AccessFilter.from_options(**filters)
    recs = flt.apply(records.load(inputs[0]).records, source=inputs[0])
    lines = []
    for start, end in time_spans(recs):
        lines.append("%f-%f" % (start / 1000000000, end / 1000000000))
        lines.append("# (seconds)")
    if lines:
        echo("\n".join(lines))
