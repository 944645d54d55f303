"""``damo report record_info``: time span and address ranges of each target."""
import click

from damo import records
from damo.commands._report_common import ReportCommand, echo, input_files


@click.command(cls=ReportCommand, multi_value=("--input", "-i"))
@click.option("--input", "-i", "inputs", multiple=True, metavar="<file>...",
              help="recording(s) to describe  [default: damon.data]")
@click.option("--raw_numbers", is_flag=True, help="print numbers in raw format")
def record_info(inputs, raw_numbers):
    """Print the recorded time span and contiguous address ranges per target."""
    from damo.reports.guide import format_guides

    echo(format_guides(records.load_all(input_files(inputs)).records, raw=raw_numbers))
