"""``damo report access``: the regions of each recorded snapshot."""
import click

from damo import records
from damo.commands._report_common import (
    ReportCommand, color_option, echo_paged, input_files, use_color)
from damo.errors import DamoError


@click.command(cls=ReportCommand, multi_value=("--input", "-i"))
@click.option("--input", "-i", "inputs", multiple=True, metavar="<file>...",
              help="recording(s) to show  [default: the latest snapshot of the running "
                   "kdamonds]")
@click.option("--raw_form", is_flag=True, help="print every region in damo's raw form")
@click.option("--raw_number", is_flag=True, help="use machine-friendly raw numbers")
@color_option()
def access(inputs, raw_form, raw_number, color):
    """Show the regions of each recorded snapshot, or, without --input, of
    the running kdamonds' latest snapshot."""
    from damo.reports.access import DetailedReporter, RawFormReporter

    if inputs:
        recording = records.load_all(input_files(inputs))
    else:
        from damo.live.snapshot import live_recording
        recording = live_recording()
    if raw_form:
        echo_paged(RawFormReporter(recording.records).text(raw_number))
        return
    if any(r.intervals is None for r in recording.records):
        raise DamoError("some records lack the intervals information; use --raw_form")
    echo_paged(DetailedReporter(recording.records, use_color(color)).text(raw_number))
