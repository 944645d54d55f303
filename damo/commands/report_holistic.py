"""``damo report holistic``: heatmaps, working set and footprints, hot functions."""
import click

from damo.commands._report_common import (ReportCommand, color_option, echo, echo_paged,
                                          use_color)


@click.command(cls=ReportCommand)
@click.option("--access_pattern", default="damon.data", show_default=True,
              metavar="<file>", help="access pattern record file")
@click.option("--footprints", metavar="<file>",
              help="memory footprints record file  [default: <access_pattern>.mem_footprint]")
@click.option("--profile", metavar="<file>",
              help="profile record file (perf record)  [default: <access_pattern>.profile]")
@click.option("--long", "long_", is_flag=True, help="make long report")
@click.option("--perf_path", default="perf", show_default=True, help="path of perf tool")
@click.option("--heatmap_time_last_n_sec", type=float, hidden=True)
@color_option()
def holistic(access_pattern, footprints, profile, long_, perf_path, heatmap_time_last_n_sec,
             color):
    """Show a holistic access pattern report.

    Heatmaps of every target's address ranges, the distributions of the
    working set size and of the memory footprints, and (with perf and the
    recording's CPU profile) the hotspot functions.  --long makes the long
    form, which also shows the recorded ranges and both orders of the
    distributions.
    """
    from damo import records
    from damo.reports.holistic import HolisticReporter

    recording = records.load(access_pattern)
    reporter = HolisticReporter(recording, footprints or access_pattern + ".mem_footprint",
                                profile or access_pattern + ".profile", perf_path,
                                color=use_color(color),
                                time_last_n_sec=heatmap_time_last_n_sec)
    text = reporter.long() if long_ else reporter.short()
    for warning in reporter.warnings:
        click.echo("damo: warning: %s" % warning, err=True)
    if long_:
        echo_paged(text)
    else:
        echo(text)
