"""``damo report <type>``: render recordings (or live state) in one of several views."""
import click

from damo.cli import LazyGroup

# report type -> "module:attribute"; each module holds one click command.
REPORTS = {
    "access": "damo.commands.report_access:access",
    "damon": "damo.commands.report_damon:damon",
    "heatmap": "damo.commands.report_heatmap:heatmap",
    "nr_regions": "damo.commands.report_nr_regions:nr_regions",
    "profile": "damo.commands.report_profile:profile",
    "record_info": "damo.commands.report_record_info:record_info",
    "wss": "damo.commands.report_wss:wss",
}


@click.group(cls=LazyGroup, lazy_subcommands=REPORTS)
def report():
    """Show recorded (or live) data access patterns in various views."""
