"""``damo report trace``: DAMON's tracepoint events of a recorded trace."""
import click

from damo.commands._report_common import ReportCommand, echo_bytes, split_values
from damo.errors import DamoError
from damo.reports.trace import EVENTS


@click.command(cls=ReportCommand, multi_value=("--event", "--no_event"))
@click.option("--event", metavar="<event>...",
              help="events to trace: %s or all  [default: all]" % ", ".join(EVENTS))
@click.option("--no_event", metavar="<event>...", help="events to skip tracing")
@click.option("--tracer", type=click.Choice(["perf", "trace-cmd"]),
              help="tracer command to use (live tracing only)")
@click.option("--input", "-i", "input_file", metavar="<file>",
              help="trace record file: perf.data, perf script text, or a 'damo report "
                   "trace --output' file")
@click.option("--output", "-o", metavar="<file>", help="save output to a file (live only)")
@click.option("--raw", is_flag=True, help="show raw trace output")
@click.option("--max_cols", type=int, default=100, show_default=True,
              help="max columns per line")
def trace(event, no_event, tracer, input_file, output, raw, max_cols):
    """Show DAMON's tracepoint events of a recorded trace.

    Each event is one line (wrapped at --max_cols): time, thread, event and
    its fields, regions in human-readable addresses and sizes.  With --raw,
    each event's raw line comes first.  Tracing the kernel live is for a
    DAMON kernel: here, give --input.
    """
    from damo.reports import trace as trace_mod

    events = split_values(event) or ["all"]
    skipped = split_values(no_event) or []
    for name in events:
        if name not in EVENTS + ("all",):
            raise DamoError("--event: no event %r (choose from %s, all)"
                            % (name, ", ".join(EVENTS)), exit_code=2)
    for name in skipped:
        if name not in EVENTS:
            raise DamoError("--no_event: no event %r (choose from %s)"
                            % (name, ", ".join(EVENTS)), exit_code=2)
    if input_file is None:
        raise DamoError("tracing DAMON live needs a DAMON kernel's tracepoints; give "
                        "--input <trace file> (e.g. damo record --output_type perf_data)")
    for data in trace_mod.report_batches(input_file, trace_mod.events_to_show(events, skipped),
                                         raw, max_cols):
        if data:
            echo_bytes(data)
