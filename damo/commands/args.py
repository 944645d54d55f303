"""``damo args <type>``: the full JSON/YAML of damo's partial options."""
import json

import click
from click.core import ParameterSource

from damo.cli import LazyGroup
from damo.commands._report_common import ReportCommand
from damo.errors import DamoError
from damo.params import access_filter

TYPES = {
    "damon": ("damo.commands.args:damon", "DAMON parameters."),
    "accesses_filter": ("damo.commands.args:accesses_filter",
                        "DAMON monitoring results filter."),
    "accesses_format": ("damo.commands.args_accesses_format:accesses_format",
                        "DAMON monitoring results visualization format."),
}


@click.group(cls=LazyGroup, lazy_subcommands=TYPES,
             context_settings={"help_option_names": ["-h", "--help"]})
def args():
    """Generate complex arguments for other commands."""


def _dump(kvpairs, fmt):
    if fmt == "json":
        return json.dumps(kvpairs, indent=4)
    from damo.params.kdamonds_model import dump_yaml
    return dump_yaml(kvpairs)


@click.command(cls=ReportCommand)
@access_filter.filter_options
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json",
              show_default=True, help="format of the output")
@click.option("--raw", is_flag=True, help="print numbers in machine friendly raw form")
def accesses_filter(fmt, raw, **filters):
    """DAMON monitoring results filter.

    The filter damo's access filter options make, as damo's report access,
    times and adjust use it, in JSON or YAML.
    """
    flt = access_filter.AccessFilter.from_options(**filters)
    click.echo(_dump(flt.to_kvpairs(raw), fmt))


def _file_kdamonds(path, option):
    from damo.params import kdamonds_model as model
    return model.read_json_file(path, option)


def _damon_decorators(f):
    from damo.commands import record as record_cmd
    from damo.commands.start import preset_options, scheme_options
    for deco in (preset_options, record_cmd.simulation_options, scheme_options,
                 record_cmd.monitoring_options):
        f = deco(f)
    return f


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("workload", required=False, metavar="[WORKLOAD]")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml", "report"]),
              default="json", show_default=True, help="format of the output")
@click.option("--raw", is_flag=True, help="print numbers in machine friendly raw form")
@click.option("--add", "add_file", metavar="<file>",
              help="add DAMON parameters to those of a given file")
@click.option("--remove", nargs=2, metavar="<file> <kdamond index>",
              help="remove a kdamond of given index from those of the given file")
@click.option("--replace", nargs=2, metavar="<file> <kdamond index>",
              help="replace a kdamond of given index in the given file")
@click.option("--out", metavar="<file>", help="save the output to the given file")
@click.option("--omit_defaults", is_flag=True, help="omit default parameters")
@_damon_decorators
@click.pass_context
def damon(cctx, workload, fmt, raw, add_file, remove, replace, out, omit_defaults,
          debug_damon=False, **opts):
    """DAMON parameters.

    The kdamonds that damo start, tune and record would run for the same
    options (WORKLOAD, the monitoring and --damos_* options, --preset or
    --kdamonds), in damo's kdamonds layout: JSON (default), YAML or damo's
    report text.  --add, --remove and --replace edit a kdamonds file's.
    """
    from damo.commands import record as record_cmd
    from damo.params import damon_args
    from damo.params import kdamonds_model as model
    from damo.params import presets as presets_mod
    from damo.params.damon_args import MONITORING_OPTIONS
    from damo.workloads import masim as workload_mod

    explicit = [name for name in MONITORING_OPTIONS
                if cctx.get_parameter_source(name) == ParameterSource.COMMANDLINE]
    workload = damon_args.deduce_target(workload, opts)
    ctx = record_cmd.context_from_options(opts)
    w = workload_mod.resolve(workload, access_rate=opts.get("access_rate"),
                             random_access_rate=opts.get("random_access_rate"))
    params = presets_mod.kdamonds_from_options(opts, ctx, [w], explicit=explicit)
    kdamonds = model.from_kvpairs([kd.to_kvpairs() for kd in params], "the options")
    machine = presets_mod.probe_machine(opts.get("memory"), [w])
    for k in kdamonds:
        for c in k.contexts:
            for t in c.targets:
                if c.ops == "paddr" and not t.regions:
                    # damo's default paddr region: all of the machine's System RAM
                    start, end = machine.phys_range
                    t.regions = [model.Region(start // c.addr_unit, end // c.addr_unit)]
    for k in kdamonds:
        # damo's args damon: parameters only; targets of our workloads have no pid yet
        k.state = k.pid = None
        for c in k.contexts:
            for s in c.schemes:
                s.stats = None
                s.tried_regions = None
    if add_file is not None:
        kdamonds = _file_kdamonds(add_file, "--add") + kdamonds
    if remove is not None:
        old = _file_kdamonds(remove[0], "--remove")
        del old[_index(remove[1], old, "--remove")]
        kdamonds = old
    if replace is not None:
        old = _file_kdamonds(replace[0], "--replace")
        old[_index(replace[1], old, "--replace")] = kdamonds[0]
        kdamonds = old
    if fmt == "report":
        if out is not None:
            raise DamoError("--out and report format cannot be used together", exit_code=2)
        lines = []
        for idx, k in enumerate(kdamonds):
            lines.append("kdamond %d" % idx)
            lines.append(model.indent(k.to_str(raw)))
        click.echo("\n".join(lines))
        return
    text = _dump({"kdamonds": [k.to_kvpairs(raw, omit_defaults, params_only=True)
                               for k in kdamonds]}, fmt)
    if out is None:
        click.echo(text)
        return
    from damo import fileutil
    try:
        with fileutil.atomic_output(out, "w", permission=0o644) as f:
            f.write(text)
    except OSError as e:
        raise DamoError("--out: %s: cannot write (%s)" % (out, e.strerror or e)) from None


def _index(text, kdamonds, option):
    try:
        idx = int(text)
    except ValueError:
        raise DamoError("%s: kdamond index %r is not a number" % (option, text),
                        exit_code=2) from None
    if not -len(kdamonds) <= idx < len(kdamonds):
        raise DamoError("%s: the file has no kdamond %d" % (option, idx))
    return idx
