"""``damo report <type>``: render recordings (or live state) in one of several views."""
import click

from damo.cli import LazyGroup

# report type -> ("module:attribute", one-line help); each module holds one click
# command (see damo.cli.LazyGroup).
REPORTS = {
    "accuracy": ("damo.commands.report_accuracy:accuracy",
                 "Show how accurate DAMON was: its working set size, access frequencies and "
                 "hot/cold classification against the exact truth, per snapshot and "
                 "overall, and its heatmap beside the truth's."),
    "access": ("damo.commands.report_access:access",
               "Show the regions of each recorded snapshot, or, without --input, of the "
               "running kdamonds' latest snapshot."),
    "attrs": ("damo.commands.report_attrs:attrs",
              "Show data attributes information (experimental)."),
    "damon": ("damo.commands.report_damon:damon",
              "Show live kdamonds: parameters, state and DAMOS stats."),
    "footprints": ("damo.commands.report_footprints:footprints",
                   "Show the distribution of memory footprints (vsz, rss, system memory in "
                   "use)."),
    "heatmap": ("damo.commands.report_heatmap:heatmap",
                "Show when which address ranges were how frequently accessed."),
    "holistic": ("damo.commands.report_holistic:holistic",
                 "Show a holistic access pattern report."),
    "nr_regions": ("damo.commands.report_nr_regions:nr_regions",
                   "Show the distribution of the number of regions per snapshot."),
    "pa_layout": ("damo.commands.report_pa_layout:pa_layout",
                  "Show the physical address layout of the simulated machine."),
    "profile": ("damo.commands.report_profile:profile",
                "Show where a simulated run's time and memory went."),
    "record_info": ("damo.commands.report_record_info:record_info",
                    "Print the recorded time span and contiguous address ranges per target."),
    "sysinfo": ("damo.commands.report_sysinfo:sysinfo",
                "Show versions, the simulated kernel's DAMON features and the machine."),
    "times": ("damo.commands.report_times:times",
              "Show the times of the recording that have regions of an access pattern."),
    "trace": ("damo.commands.report_trace:trace",
              "Show DAMON's tracepoint events of a recorded trace."),
    "wss": ("damo.commands.report_wss:wss", "Show the distribution of working set sizes."),
}


@click.group(cls=LazyGroup, lazy_subcommands=REPORTS)
def report():
    """Show recorded (or live) data access patterns in various views."""
