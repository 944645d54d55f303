"""``damo status``: what ``damo report damon`` shows, under the short name
older damo versions had."""
import click

from damo.commands.report_damon import damon_options, show


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@damon_options
def status(**kwargs):
    """Show running kdamonds: parameters, state and DAMOS stats.

    The same as `damo report damon`.  A kdamond whose daemon died is shown
    as dead (`damo start` cleans it up).
    """
    show(**kwargs)
