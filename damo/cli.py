"""The ``damo`` command: a click group whose subcommands live one per module.

Subcommands are imported lazily (``LazyGroup``) so that ``damo --help`` and
quick reports do not pay for importing the engine or matplotlib.
"""
import importlib
import sys

import click

from damo import __version__
from damo.errors import DamoError

# name -> "module:attribute" of a click command or group.
COMMANDS = {
    "record": "damo.commands.record:record",
    "replay": "damo.commands.replay:replay",
    "report": "damo.commands.report:report",
    "start": "damo.commands.start:start",
    "status": "damo.commands.status:status",
    "stop": "damo.commands.stop:stop",
    "tune": "damo.commands.tune:tune",
}


class LazyGroup(click.Group):
    """A click group that imports each subcommand's module on first use."""

    def __init__(self, *args, lazy_subcommands=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands or {})

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_subcommands))

    def get_command(self, ctx, cmd_name):
        if cmd_name in self.lazy_subcommands:
            module_name, attr = self.lazy_subcommands[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)


class DamoGroup(LazyGroup):
    """Top-level group: turns DamoError into one line on stderr and an exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DamoError as e:
            click.echo("damo: error: %s" % e, err=True)
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("damo: interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            # e.g. `damo report access | head`; keep quiet like other CLI tools
            sys.stderr.close()
            ctx.exit(141)


@click.group(cls=DamoGroup, lazy_subcommands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="damo")
def main():
    """Record, visualise and act on data access patterns, like damo, on a
    simulated memory hierarchy: no DAMON kernel and no root needed."""


if __name__ == "__main__":
    main()
