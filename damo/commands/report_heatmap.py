"""``damo report heatmap``: when which address ranges were how frequently accessed."""
import click

from damo import records
from damo.cliutil import image_size
from damo.commands._report_common import (
    ReportCommand, color_option, echo, input_files, split_values, use_color)
from damo.reports.colors import COLORSETS


@click.command(cls=ReportCommand,
               multi_value=("--input", "-i", "--time_range", "--address_range"))
@click.option("--input", "-i", "inputs", multiple=True, metavar="<file>...",
              help="recording(s) to draw; several are concatenated  [default: damon.data]")
@click.option("--output", default="stdout", metavar="<output>", show_default=True,
              help="stdout (terminal map), raw (pixel triples), or an image file "
                   "(.png, .svg, .pdf, .jpeg)")
@click.option("--resol", nargs=2, type=int, metavar="<time rows> <address columns>",
              help="resolution  [default: 40 80 on stdout, else 500 500]")
@click.option("--time_range", metavar="<start> <end> [base]",
              help="time range (ns, or '5 s' like); base: guided, guided_end or a time")
@click.option("--address_range", multiple=True, metavar="<start> <end> [base]",
              help="address range; base: guided or an address (repeatable)")
@click.option("--draw_range", type=click.Choice(["hottest", "all"]), default="hottest",
              show_default=True, help="which contiguous address ranges to draw")
@click.option("--guide", is_flag=True, help="print the recorded ranges and exit")
@click.option("--guide_human", is_flag=True, help="--guide, in human-friendly numbers")
@click.option("--stdout_colorset", type=click.Choice(sorted(COLORSETS)), default="gray",
              show_default=True, help="colours of the terminal map")
@click.option("--stdout_skip_colorset_example", is_flag=True,
              help="do not print the access frequency legend")
@color_option()
@click.option("--abs_time", is_flag=True, help="absolute times in raw and image output")
@click.option("--abs_addr", is_flag=True, help="absolute addresses in raw and image output")
@click.option("--size", nargs=2, type=int, callback=image_size, default=(800, 600), show_default=True,
              metavar="<width> <height>", help="image size (pixels; points for svg/pdf)")
@click.option("--tid", type=int, help="target id of the record to draw")
@click.option("--kdamond_idx", type=int, help="kdamond index of the record to draw")
@click.option("--context_idx", type=int, help="context index of the record to draw")
@click.option("--scheme_idx", type=int, help="scheme index of the record to draw")
@click.option("--df_passed", is_flag=True,
              help="show heatmap for only DAMOS filter-passed parts")
@click.option("--sort_temperature", is_flag=True,
              help="sort regions by temperature on space")
@click.option("--temperature_weights", nargs=2, type=float, default=(1.0, 1.0),
              metavar="<frequency> <age>", show_default=True,
              help="temperature calculation weights (for --sort_temperature)")
@click.option("--interactive_edit", is_flag=True,
              help="interactively zoom and scroll the maps")
def heatmap(inputs, output, resol, time_range, address_range, draw_range, guide,
            guide_human, stdout_colorset, stdout_skip_colorset_example, color, abs_time,
            abs_addr, size, tid, kdamond_idx, context_idx, scheme_idx, df_passed,
            sort_temperature, temperature_weights, interactive_edit):
    """Show when which address ranges were how frequently accessed."""
    recording = records.load_all(input_files(inputs))
    # the map's modules once the recording is read: they take the memory that
    # reading freed (loaded before it, a 100 x 100 heatmap's peak was over
    # damo 3.4.3's)
    from damo.reports import guide as guide_mod
    from damo.reports.heatmap_reporter import HeatmapReporter
    if guide or guide_human:
        echo(guide_mod.format_guides(recording.records, raw=not guide_human))
        return
    reporter = HeatmapReporter(
        recording, kdamond_idx=kdamond_idx, context_idx=context_idx, scheme_idx=scheme_idx,
        tid=tid, time_range=split_values(time_range),
        address_ranges=[split_values(a) for a in address_range] or None,
        draw_range=draw_range, resol=resol, for_stdout=output == "stdout",
        df_passed=df_passed, sort_temperature=sort_temperature,
        temperature_weights=temperature_weights)
    if output not in ("stdout", "raw"):
        from damo.reports import plot
        plot.image_kind(output)
    while True:
        if output == "stdout":
            echo(reporter.text(stdout_colorset, use_color(color),
                               not stdout_skip_colorset_example))
        elif output == "raw":
            echo(reporter.raw(abs_time, abs_addr))
        else:
            reporter.draw(output, size, abs_time, abs_addr,
                          ylabel="Size (bytes)" if sort_temperature else None)
        if not interactive_edit or interactive_step(reporter, output == "stdout"):
            return


_EDIT_HELP = """Zoom or scroll using the prompt menu.

Below inputs are supported.
0,q,quit: Quit this mode.
1,zoom: Continue prompts for zooming in/out the map.
2,scroll: Continue prompts for scorrling the map.
3,help: Print this help message.
h: Scroll the map left, 10%.
j: Scroll the map down, 10%.
k: Scroll the map up, 10%.
l: Scroll the map right, 10%.
+: Zoom the map in, 10%.
-: Zomm the map out, 10%.
"""


def _ask(prompt):
    """input(): the prompt on stdout, as damo's; end of input quits."""
    try:
        return input(prompt)
    except EOFError:
        return None


def interactive_step(reporter, for_stdout):
    """damo's do_interactive_edit(): one edit; True when the user quits."""
    while True:
        answer = _ask("Enter (zoom, scroll, quit, help): ")
        if answer is None:
            return True
        if reporter.shortcut(answer, for_stdout):
            return False
        if answer in ("0", "q", "quit"):
            return True
        if answer in ("3", "help"):
            echo(_EDIT_HELP)
            continue
        if answer in ("1", "zoom"):
            action = "zoom"
        elif answer in ("2", "scroll"):
            action = "scroll"
        else:
            echo("Wrong input.")
            continue
        break
    answer = _ask("Enter (1. Time, 2. Space, 3. Time and Space): ")
    if answer is None:
        return True
    target = {"1": "time", "2": "space", "3": "both"}.get(answer)
    answer = _ask("Enter percentage: ")
    if answer is None:
        return True
    try:
        ratio = float(answer) / 100
    except ValueError:
        ratio = None
    if target is None or ratio is None:
        # damo 3.4.3 fails on these (an unset variable, float()); no edit
        echo("Wrong input.")
        return False
    reporter.edit(action, target, ratio)
    return False
