"""``damo record ongoing``: record the running simulated kdamonds' aggregated
snapshots, as damo records a kdamond that `damo start` started."""
import os
import signal

import click
from click.core import ParameterSource

from damo.errors import DamoError


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def record_ongoing(out, output_type, permission, timeout, opts):
    from damo.live import client
    from damo.live.snapshot import OngoingRecorder
    from damo.records import RecordingWriter

    cctx = click.get_current_context()
    for name in sorted(opts):
        if cctx.get_parameter_source(name) == ParameterSource.COMMANDLINE:
            raise DamoError("--%s: cannot be used with 'ongoing', which records the running "
                            "kdamonds as they are (change them with damo tune)" % name,
                            exit_code=2)
    kds = client.running_kdamonds()
    writer = RecordingWriter(out, output_type, permission)
    recorder = OngoingRecorder(kds, writer)
    interrupted = False
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        recorder.run(timeout)
    except KeyboardInterrupt:
        interrupted = True
    except BaseException:
        writer.abort()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    writer.metadata["simulation"] = {
        "ongoing": True,
        "kdamonds": {str(idx): info for idx, info in recorder.info.items()}}
    if recorder.nr_snapshots == 0:
        writer.abort()
        raise DamoError("nothing was recorded: no aggregation interval of the running "
                        "kdamonds ended while recording", exit_code=130 if interrupted else 1)
    writer.commit()
    if recorder.lost:
        click.echo("damo: %d snapshots were lost (the kdamond ran ahead of the recorder)"
                   % recorder.lost, err=True)
    click.echo("%s %d snapshots of %.1f simulated seconds to %s" % (
        "interrupted; wrote" if interrupted else "wrote", recorder.nr_snapshots,
        max(recorder.sim_ns.values()) / 1e9,
        os.path.relpath(out) if not os.path.isabs(out) else out), err=True)
    if interrupted:
        raise SystemExit(130)
