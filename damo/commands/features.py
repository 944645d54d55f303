"""``damo features``: the DAMON features of the simulated kernel, in damo's
layout (``name: Supported`` lines sorted by name, or the supported, the
unsupported, or a JSON map)."""
import json
import sys

import click

DEPRECATION = """
WARNING: damo features will be deprecated by 2026-12-25.
    Use "damo report sys_info" instead.
    If you depend on those, please report your usecase to GitHub Issues [1],
    sj@kernel.org, damon@lists.linux.dev and/or linux-mm@kvack.org.

    [1] https://github.com/damonitor/damo/issues

"""


def debug_option(f):
    return click.option("--debug_damon", is_flag=True,
                        help="print what damo asks the simulated kernel, on stderr")(f)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("type", required=False, default="all",
                type=click.Choice(["supported", "unsupported", "all", "json"]))
@click.option("--infer_version", is_flag=True,
              help="infer the DAMON version from the features, as damo does, and name "
                   "the kernel the simulation emulates")
@click.option("--invalidate_cache", is_flag=True,
              help="check features again, from the scratch (always done here: nothing "
                   "is cached)")
@debug_option
def features(type, infer_version, invalidate_cache, debug_damon):
    """List the DAMON features of the simulated kernel.

    TYPE is all (default: every feature damo knows, Supported or
    Unsupported), supported, unsupported or json.  Features are answered
    from what the engine accepts (actions, goal metrics, filter types,
    modules), not from a kernel.
    """
    from damo import kernel_features

    sys.stderr.write(DEPRECATION)
    support = kernel_features.supported()
    if debug_damon:
        click.echo("damo-sim: features of the simulated kernel: %d of %d supported"
                   % (sum(support.values()), len(support)), err=True)
    names = sorted(support)
    if type == "all":
        for name in names:
            click.echo("%s: %s" % (name, "Supported" if support[name] else "Unsupported"))
    elif type == "supported":
        for name in names:
            if support[name]:
                click.echo(name)
    elif type == "unsupported":
        for name in names:
            if not support[name]:
                click.echo(name)
    else:
        click.echo(json.dumps({n: support[n] for n in names}, indent=4, sort_keys=True))
    if infer_version:
        version = kernel_features.infer_damon_version(
            [n for n in names if support[n]])
        if version is None:
            click.echo("Version inference fail (only non-upstreamed features)")
        click.echo("Seems the version of DAMON is %s" % version)
        kversion, commit = kernel_features.kernel_version()
        click.echo("The simulated kernel emulates Linux %s%s" % (
            kversion or "mainline (version not recorded by the engine)",
            " (%s)" % commit if commit else ""))
