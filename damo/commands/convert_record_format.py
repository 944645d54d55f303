"""``damo convert_record_format``: a recording rewritten in another format."""
import os

import click

from damo.commands._report_common import ReportCommand
from damo.commands.adjust import OUTPUT_TYPES, write_records
from damo.errors import DamoError


@click.command(cls=ReportCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--record_file", default="damon.data", show_default=True, metavar="<file>",
              help="the record file")
@click.option("--format", "output_type", type=click.Choice(OUTPUT_TYPES),
              default="json_compressed", show_default=True, help="new file format")
@click.option("--output_file", metavar="<file>",
              help="the path to converted file  [default: the record file itself]")
def convert_record_format(record_file, output_type, output_file):
    """Convert a recording's format (json_compressed, json, perf_script, perf_data, native).

    The record file is read whatever its format and written in damo's layout
    of the new one (perf_data needs perf to be read back), in place unless
    --output_file is given, through a temporary file.
    """
    from damo import records

    if not os.path.isfile(record_file):
        raise DamoError("%s: no such record file" % record_file)
    recs = records.load(record_file).records
    write_records(recs, output_file or record_file, output_type)
