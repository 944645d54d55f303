"""``damo report sysinfo``: versions, DAMON features and the simulated machine."""
import click

from damo.commands._report_common import ReportCommand, echo, split_values
from damo.errors import DamoError


@click.command(cls=ReportCommand, multi_value=("--print",))
@click.option("--print", "prints", metavar="<info>...",
              help="info to print: versions, fs_info, trace_cmd_info, perf_info, "
                   "sysfs_features, debugfs_features, trace_features, stat_features, "
                   "lru_sort_features, reclaim_features, interfaces, unavailable_features, "
                   "machine or all  [default: versions interfaces machine]")
@click.option("--invalidate_cache", is_flag=True,
              help="invalidate cached sysinfo (nothing is cached here)")
@click.option("--input", "-i", "input_file", metavar="<file>",
              help="describe this recording's simulated machine  [default: a running "
                   "kdamond's (damo start), else damo record's default one]")
@click.option("--kdamond_idx", type=int, metavar="<index>",
              help="the running kdamond whose machine to describe")
@click.option("--raw_number", is_flag=True, help="use machine-friendly raw numbers")
def sysinfo(prints, invalidate_cache, input_file, kdamond_idx, raw_number):
    """Show versions, the simulated kernel's DAMON features and the machine.

    As damo's: damo's and the kernel's versions (the mainline release the
    engine follows) and the DAMON version they imply, the interfaces and
    features available, the tracing tools here; and the simulated machine
    (its memory nodes, swap and THP policy) of a recording (--input) or of a
    running kdamond.
    """
    from damo.reports import machine as machine_mod
    from damo.reports import sysinfo as sysinfo_mod

    chosen = split_values(prints) or list(sysinfo_mod.DEFAULT_PRINT)
    for name in chosen:
        if name not in sysinfo_mod.PRINT_CHOICES:
            raise DamoError("--print: no info %r (choose from %s)"
                            % (name, ", ".join(sysinfo_mod.PRINT_CHOICES)), exit_code=2)
    machine = source = None
    if "machine" in chosen or "all" in chosen:
        machine, source = machine_mod.find(input_file, kdamond_idx)
    echo(sysinfo_mod.text(chosen, machine, source, raw_number))
