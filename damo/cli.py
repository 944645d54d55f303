"""The ``damo`` command: a click group whose subcommands live one per module.

Subcommands are imported lazily (``LazyGroup``) so that ``damo --help`` and
quick reports do not pay for importing the engine or matplotlib.
"""
import gc
import importlib
import sys

import click

from damo import __version__
from damo.errors import DamoError

# name -> ("module:attribute" of a click command or group, its one-line help).
# The help is repeated here so that `damo --help` lists the commands without
# importing them (and the engine, numpy, ...); tests/test_cli_lazy.py checks
# that it is each command's own first docstring line.
COMMANDS = {
    "autotune": ("damo.commands.autotune:autotune",
                 "Search the parameters of a DAMOS scheme for WORKLOAD on the simulator."),
    "adjust": ("damo.commands.adjust:adjust",
               "Adjust a recording: re-aggregate it, filter it, write it anew."),
    "args": ("damo.commands.args:args", "Generate complex arguments for other commands."),
    "calibrate": ("damo.commands.calibrate:calibrate",
                  "Measure this host's memory for the cost model and write its machine spec."),
    "convert_record_format": ("damo.commands.convert_record_format:convert_record_format",
                              "Convert a recording's format (json_compressed, json, "
                              "perf_script, perf_data, native)."),
    "diagnose": ("damo.commands.diagnose:diagnose",
                 "Say why DAMOS schemes applied nothing or less than they tried."),
    "features": ("damo.commands.features:features",
                 "List the DAMON features of the simulated kernel."),
    "schemes": ("damo.commands.schemes:schemes",
                "Apply operation schemes to WORKLOAD until it ends or ^C."),
    "setup_cli_completion": ("damo.commands.setup_cli_completion:setup_cli_completion",
                             "Setup command line auto-completion for your shell."),
    "lru_sort": ("damo.commands.module:lru_sort",
                 "Control DAMON_LRU_SORT of the simulated kernel."),
    "module": ("damo.commands.module:module",
               "Control DAMON kernel modules of the simulated kernel."),
    "reclaim": ("damo.commands.module:reclaim",
                "Control DAMON_RECLAIM of the simulated kernel."),
    "monitor": ("damo.commands.monitor:monitor",
                "Repeat the recording and the reporting of data accesses."),
    "help": ("damo.commands.help:help", "Provide help for given topics."),
    "record": ("damo.commands.record:record",
               "Record the data access pattern of WORKLOAD under simulated DAMON."),
    "replay": ("damo.commands.replay:replay",
               "Replay the access pattern of a recording (default: damon.data)."),
    "report": ("damo.commands.report:report",
               "Show recorded (or live) data access patterns in various views."),
    "start": ("damo.commands.start:start",
              "Start simulated kdamonds in the background and return at once."),
    "status": ("damo.commands.status:status",
               "Show running kdamonds: parameters, state and DAMOS stats."),
    "sweep": ("damo.commands.sweep:sweep",
              "Sweep monitoring parameters: DAMON's error against its overhead."),
    "stop": ("damo.commands.stop:stop",
             "Stop simulated kdamonds cleanly and remove their runtime state."),
    "tune": ("damo.commands.tune:tune", "Commit new parameters to a running kdamond, online."),
    "version": ("damo.commands.version:version", "Print the version number."),
    "validate": ("damo.commands.validate:validate",
                 "Validate a recording: aggregation intervals, numbers of regions, regions."),
}


# Set by the damo process's entry point (damo._entry), not where the CLI runs
# inside another program (the tests): gc.freeze keeps for good whatever is
# tracked when it runs.
freeze_imports = False


def import_command(module_name):
    """importlib.import_module, and in the damo process a collection and
    gc.freeze after it: what importing a command's modules (numpy's, click's,
    ours) leaves is long-lived, and every collection of the report after
    went through it again (a 100 x 100 heatmap's start-up: 0.280 -> 0.244 s,
    its peak memory 96 KiB lower; with the collector off during the import
    instead, 0.230 s but 176 KiB more: its cyclic garbage kept)."""
    module = importlib.import_module(module_name)
    if freeze_imports:
        gc.collect()
        gc.freeze()
    return module


class LazyGroup(click.Group):
    """A click group that imports each subcommand's module on first use.

    `lazy_subcommands` maps a name to ("module:attribute", one-line help); the
    help lists the commands from those lines without importing them."""

    def __init__(self, *args, lazy_subcommands=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands or {})

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_subcommands))

    def get_command(self, ctx, cmd_name):
        if cmd_name in self.lazy_subcommands:
            module_name, attr = self.lazy_subcommands[cmd_name][0].split(":")
            return getattr(import_command(module_name), attr)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx, formatter):
        from click.utils import make_default_short_help
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)  # as click does
        rows = []
        for name in names:
            if name in self.lazy_subcommands:
                rows.append((name, make_default_short_help(self.lazy_subcommands[name][1],
                                                           limit)))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _caused_by_interrupt(e):
    """Whether ``e`` wraps a KeyboardInterrupt (raise ... from, as Python
    does): not one that merely came while handling it, which is its own error."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__
    return False


def handle_termination(previous=None):
    """SIGTERM and SIGHUP end a command as ^C does, from its start to its
    end: a recording stops and is saved, outputs are never half-written.
    Returns the previous handlers (filled into ``previous`` as each is
    replaced, so that a caller inside its ``try`` can put back those set
    before a ^C landed).  Those the entry point (damo._entry) set for the
    start-up, which end the process at once, give way to KeyboardInterrupt,
    which the command catches to save its work."""
    import signal
    from damo import _entry
    previous = {} if previous is None else previous
    # SIGINT last: the KeyboardInterrupt it may raise comes once the others are set
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        previous[signum] = handler = signal.getsignal(signum)
        if handler is _entry._interrupted:
            signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT
                          else _interrupt)
        elif signum != signal.SIGINT and handler in (signal.SIG_DFL, None):
            signal.signal(signum, _interrupt)
    return previous


class DamoGroup(LazyGroup):
    """Top-level group: turns DamoError into one line on stderr and an exit code."""

    def invoke(self, ctx):
        import signal
        previous = {}
        try:
            # inside the try: a ^C that lands while the handlers are set is
            # "damo: interrupted", not click's "Aborted!"
            handle_termination(previous)
            return super().invoke(ctx)
        except DamoError as e:
            from damo.commands._report_common import one_line
            click.echo("damo: error: %s" % one_line(str(e)), err=True)
            ctx.exit(e.exit_code)
        except click.UsageError as e:
            # an option's value refused by its type: one line naming it, as
            # for every other refusal (click would print its usage block)
            from damo.cliutil import VALUE_SEP
            from damo.commands._report_common import one_line
            click.echo("damo: error: %s"
                       % one_line(e.format_message().replace(VALUE_SEP, " ")), err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("damo: interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            # e.g. `damo report access | head`; keep quiet like other CLI tools
            sys.stderr.close()
            ctx.exit(141)
        except Exception as e:
            # a ^C that Python itself wrapped: Python 3.11 turns one landing in a
            # __set_name__ (a dataclass made by a lazy import) into RuntimeError
            if not _caused_by_interrupt(e):
                raise
            click.echo("damo: interrupted", err=True)
            ctx.exit(130)
        finally:
            for signum, handler in previous.items():
                if handler is not None:
                    signal.signal(signum, handler)


@click.group(cls=DamoGroup, lazy_subcommands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="damo")
def main():
    """Record, visualise and act on data access patterns, like damo, on a
    simulated memory hierarchy: no DAMON kernel and no root needed."""


if __name__ == "__main__":
    # `python -m damo.cli` as bin/damo: the entry point's handlers for the
    # start-up and its hook that re-delivers a ^C raised where it would be
    # lost (a weakref callback; once it was, the recording went on)
    from damo._entry import main as _main
    try:
        raise SystemExit(_main())
    finally:
        # CPython marks a KeyboardInterrupt that passed through an exec() of a
        # string (a dataclass made in a lazy import) as unhandled, even when it
        # was caught, and under -m then ends by SIGINT instead of exiting 130
        # after "damo: interrupted"; an exec of its own clears the mark
        exec("")
