"""``damo report <type>``: render recordings (or live state) in one of several views."""
import click

from damo.cli import LazyGroup

# report type -> "module:attribute"; each module holds one click command.
REPORTS = {
    "heatmap": "damo.commands.report_heatmap:heatmap",
}


@click.group(cls=LazyGroup, lazy_subcommands=REPORTS)
def report():
    """Show recorded (or live) data access patterns in various views."""
