"""``damo report pa_layout``: the simulated machine's physical address layout."""
import click

from damo.commands._report_common import ReportCommand, echo


@click.command(cls=ReportCommand)
@click.option("--numa_node", type=int, metavar="<node id>",
              help="print ranges of this numa node only")
@click.option("--numa_addr", type=int, metavar="<node id>",
              help="show only address ranges of the numa node")
@click.option("--raw_number", is_flag=True, help="use machine-friendly raw numbers")
@click.option("--input", "-i", "input_file", metavar="<file>",
              help="describe this recording's simulated machine  [default: a running "
                   "kdamond's (damo start), else damo record's default one]")
@click.option("--kdamond_idx", type=int, metavar="<index>",
              help="the running kdamond whose machine to describe")
def pa_layout(numa_node, numa_addr, raw_number, input_file, kdamond_idx):
    """Show the physical address layout of the simulated machine.

    Its memory nodes (each one System RAM range, online) and the range
    DAMON's paddr operations monitor by default.
    """
    from damo.reports import machine as machine_mod
    from damo.reports import pa_layout as pa_layout_mod

    machine, _ = machine_mod.find(input_file, kdamond_idx)
    out = pa_layout_mod.text(machine, numa_node, numa_addr, raw_number)
    if out:
        echo(out)
