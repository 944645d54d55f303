"""The ``damo`` command's entry point (bin/damo), importing nothing before
it can turn a ^C (or SIGTERM, SIGHUP) into one line instead of a
traceback: importing click, numpy and the engine takes a while.

Outside a command's own run (while options are parsed, or after the
command returned) a signal ends the process at once with "damo:
interrupted" and exit code 130: there is nothing to save then, and click
would otherwise print "Aborted!" for a KeyboardInterrupt it sees.  While a
command runs (damo.cli.DamoGroup.invoke) the signals raise
KeyboardInterrupt, which commands catch to save what they did."""
import _signal


def _interrupted(signum, frame):
    import sys
    try:
        sys.stderr.write("damo: interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    raise SystemExit(130)


def main():
    for signum in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP):
        if _signal.getsignal(signum) is not _signal.SIG_IGN:
            _signal.signal(signum, _interrupted)
    try:
        from damo.cli import main as cli
    except KeyboardInterrupt:
        # only from a SIGINT that came before the handler above was set
        _interrupted(None, None)
    return cli()


if __name__ == "__main__":
    raise SystemExit(main())
