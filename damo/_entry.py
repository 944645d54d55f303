"""The ``damo`` command's entry point, importing nothing before it can turn
a ^C (or SIGTERM, SIGHUP) during start-up into one line instead of a
traceback: importing click, numpy and the engine takes a while."""
import signal
import sys


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    try:
        from damo.cli import main as cli
    except KeyboardInterrupt:
        sys.stderr.write("damo: interrupted\n")
        return 130
    return cli()


if __name__ == "__main__":
    sys.exit(main())
