"""``damo version``: the version number, as damo prints its own."""
import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
def version():
    """Print the version number.

    The number alone, as damo's `damo version` prints it (`damo report
    sysinfo` names the kernel the simulation follows, too).
    """
    from damo import __version__
    click.echo(__version__)
