"""``damo calibrate``: measure this host's memory and CPU for the cost model."""
import json
import os

import click

from damo.errors import DamoError


def _size(ctx, param, value):
    if value is None:
        return None
    from damo_engine.machines import MachineSpecError, parse_size
    try:
        return parse_size(value, param.opts[0])
    except MachineSpecError as e:
        raise DamoError(str(e), exit_code=2) from None


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-o", "--out", metavar="<file>",
              help="where to write the machine spec (default: ~/.cache/damo-sim/host.machine, "
                   "or $DAMO_SIM_HOST_MACHINE), which host:SIZE in --memory reads")
@click.option("--size", metavar="<bytes>", callback=_size,
              help="memory of the spec's DRAM node (default: this host's RAM)")
@click.option("--buffer", "buffer_size", metavar="<bytes>", default="256M", show_default=True,
              callback=_size,
              help="buffer the misses are measured on (at least 8x the last-level cache)")
@click.option("--reps", type=click.IntRange(1, 100), default=5, show_default=True,
              help="repetitions of each timing (the fastest counts)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="print the measurements as text or JSON")
def calibrate(out, size, buffer_size, reps, fmt):
    """Measure this host's memory for the cost model and write its machine spec.

    Times, in compiled code and on this thread's CPU clock (other processes
    do not count, their memory traffic does): the dependent-load latency of
    memory, the last-level cache, page-stride, random and streaming reads
    and writes in and out of the cache (their compute time, memory-level
    parallelism and bandwidth), and the cost of a minor fault and of a THP
    fault.  The spec (a dram node with these figures, the cpu part, the
    fault costs) goes to --out; use it as `--memory FILE`, or `host:SIZE`
    in any spec (e.g. --memory host:8G,cxl:32G).  Takes about 10 seconds
    and a few hundred MiB of memory.
    """
    from damo import fileutil
    from damo_engine import calibration, machines

    path = out or machines.host_machine_path()
    if buffer_size is not None and buffer_size < 16 << 20:
        raise DamoError("--buffer: at least 16 MiB", exit_code=2)

    def progress(what):
        if fmt == "text":
            click.echo("measuring %s..." % what, err=True)
    try:
        result = calibration.measure(big=buffer_size or 256 << 20, reps=reps,
                                     progress=progress)
    except MemoryError as e:
        raise DamoError("cannot measure: %s (try a smaller --buffer)" % e) from None
    text = calibration.spec(result, size)
    try:
        machines.parse_spec(",".join(l for l in text.splitlines()
                                     if l.strip() and not l.startswith("#")))
    except machines.MachineSpecError as e:
        raise DamoError("the measured spec does not parse (%s); the measurements were "
                        "probably disturbed: run it again" % e) from None
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        with fileutil.atomic_output(path, "w", permission=0o644) as f:
            f.write(text)
    except OSError as e:
        raise DamoError("%s: cannot write (%s)" % (path, e.strerror or e)) from None
    if fmt == "json":
        click.echo(json.dumps(dict(result, spec_file=path), indent=1, sort_keys=True))
        return
    c, m = result["compute_ns"], result["mlp"]
    click.echo("memory: dependent-load latency %.1f ns; read %.1f GB/s, write %.1f GB/s "
               "(one core)" % (result["latency_ns"], result["read_bandwidth_gbps"],
                               result["write_bandwidth_gbps"]))
    click.echo("cache: %d KiB seen (%d KiB reported, %.1f ns), %d KiB for page strides" % (
        result["llc_bytes"] // 1024, result["llc_reported"] // 1024,
        result["llc_latency_ns"], result["llc_page_bytes"] // 1024))
    click.echo("%-9s %11s %9s %9s" % ("access", "compute ns", "miss ns", "in flight"))
    for kind in ("page_r", "page_w", "random_r", "random_w", "stream_r", "stream_w"):
        click.echo("%-9s %11.2f %9.2f %9s" % (kind, c[kind], result["miss_ns"][kind],
                                              "%.1f" % m[kind] if kind in m else "-"))
    click.echo("faults: minor %.2f us, THP %s" % (
        result["minor_fault_ns"] / 1000,
        "%.1f us" % (result["thp_fault_ns"] / 1000) if result.get("thp_fault_ns")
        else "not measured (THP %s)" % (result["thp"] or "unavailable")))
    click.echo("wrote %s: use --memory %s, or host:SIZE in a spec" % (path, path))
