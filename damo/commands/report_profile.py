"""``damo report profile``: where a simulated run's time and memory went."""
import click

from damo import records
from damo.cliutil import image_size
from damo.commands._report_common import ReportCommand, color_option, echo, split_values, \
    use_color
from damo.errors import DamoError
from damo.reports import code_attribution


def _load(path, what):
    from damo import metrics as metrics_mod

    recording = None
    try:
        recording = records.load(path)
    except DamoError:
        import os
        if not os.path.exists(path + metrics_mod.SIDECAR):
            raise
    metrics = metrics_mod.load(path, recording)
    if metrics is None:
        raise DamoError("%s: no machine metrics (%s has none, and there is no %s%s): "
                        "record it with this damo record" % (path, what, path,
                                                             metrics_mod.SIDECAR))
    return recording, metrics


@click.command(cls=ReportCommand, multi_value=("--inputs",))
@click.option("--input", "-i", "input_file", default="damon.data", show_default=True,
              metavar="<file>", help="recording to read")
@click.option("--inputs", "inputs", metavar="<record> [<profile>]",
              help="damo's form of --input (a perf profile, if given, is not used)")
@click.option("--baseline", metavar="<file>",
              help="a recording of the same workload without the schemes (or on another "
                   "machine): show the overheads as damon-tests computes them "
                   "(variant / baseline - 1)")
@click.option("--sections", metavar="<name>[,<name>...]",
              help="only these sections (machine, runtime, memory, events, schemes, "
                   "monitor, baseline, ...)")
@click.option("--nr_rows", type=click.IntRange(min=1), default=10, show_default=True,
              metavar="<n>", help="rows of the memory-over-time table")
@click.option("--plot", "-p", metavar="<file>",
              help="draw memory per tier over time, scheme effects and the runtime split "
                   "to an image (png, svg, pdf, jpeg)")
@click.option("--size", nargs=2, type=int, callback=image_size, default=(1000, 800), show_default=True,
              metavar="<width> <height>", help="image size (pixels; points for svg/pdf)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="print the profile as text, or its values as JSON")
@code_attribution.profile_options
@color_option()
def profile(input_file, inputs, baseline, sections, nr_rows, plot, size, color, fmt,
            **code_opts):
    """Show where a simulated run's time and memory went.

    The runtime split into compute, stalls on each memory tier, page faults,
    swap-ins, reclaim and migrations; resident memory and memory in use per
    tier over time; memory events; DAMOS scheme statistics; the kdamonds'
    own work.  With --baseline, the overheads and savings against another
    recording, per damon-tests metric (variant / baseline - 1).  For traced
    programs (damo record -- CMD), the functions that accessed the memory
    matching damo's access filters or --hottest, from OUT.code.
    """
    from damo.reports import profile as profile_mod

    if inputs:
        input_file = split_values(inputs)[0]
    pattern = code_attribution.pattern_from_options(code_opts)
    recording, metrics = _load(input_file, "the recording")
    spans = None
    if pattern.damo_filter is not None:
        # damo's report profile: the times of the snapshots that keep regions
        # after its access filters; none is damo's message and exit code
        from damo.reports.times import time_spans
        spans = time_spans(pattern.damo_filter.apply(
            recording.records if recording else [], source=input_file))
        if not spans:
            echo("No snapshot of the condition found")
            raise SystemExit(1)
    data = profile_mod.ProfileData(input_file, metrics, recording,
                                   options=dict(code_opts, nr_rows=nr_rows))
    if baseline:
        data.baseline_path = baseline
        _, data.baseline = _load(baseline, "the baseline")
        a, b = profile_mod.time_scale(metrics), profile_mod.time_scale(data.baseline)
        if a != b:
            raise DamoError("--baseline: %s ran DAMON at time scale %d and %s at %d: their "
                            "kdamonds' work is not comparable; record both with the same "
                            "--time_scale" % (input_file, a, baseline, b), exit_code=2)
    only = None
    if sections:
        only = [s.strip() for s in sections.split(",") if s.strip()]
        unknown = [s for s in only if s not in profile_mod.sections()]
        if unknown:
            raise DamoError("--sections: no section %r (sections: %s)"
                            % (unknown[0], ", ".join(profile_mod.sections())), exit_code=2)
    if plot:
        profile_mod.plot(data, plot, size)
        return
    if fmt == "json":
        import json
        from damo.reports import diagnose
        hints = diagnose.hint_lines_of_recording(input_file)
        out = profile_mod.to_json(data, hints)
        if spans is not None:
            # the time spans damo's report profile gives perf report (--time)
            out["snapshot_spans_ns"] = spans
        echo(json.dumps(out, indent=1, sort_keys=True, default=float))
        return
    text = profile_mod.render(data, only, color=use_color(color))
    if only is None:
        # damo diagnose's hints on the schemes that applied nothing or less
        from damo.reports import diagnose
        hints = diagnose.hint_lines_of_recording(input_file)
        if hints:
            import shutil
            import textwrap
            width = shutil.get_terminal_size((80, 24)).columns
            ending = "\n" if text.endswith("\n") else ""
            text = text.rstrip("\n") + "\n\nhints\n" + "\n".join(
                textwrap.fill(h, width=max(width, 40), initial_indent="  ",
                              subsequent_indent="    ", break_long_words=False,
                              break_on_hyphens=False) for h in hints) + ending
    echo(text)
