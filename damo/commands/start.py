"""``damo start``: start a simulated kdamond in the background."""
import json
import os
import select
import subprocess
import sys
import time

import click
from click.core import ParameterSource

from damo import _entry
from damo.params import damon as params_mod
from damo.workloads import masim as workload_mod
from damo.commands import record as record_cmd
from damo.errors import DamoError
from damo.live import rundir as rundir_mod

READY_TIMEOUT_S = 60.0


class SpeedType(click.ParamType):
    """A pace factor: finite, above 0, at most the daemon's MAX_SPEED (click's
    FloatRange lets inf and nan through)."""
    name = "float"

    def convert(self, value, param, ctx):
        from damo.live.daemon import check_speed
        if isinstance(value, float):
            return value
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail("%r is not a number" % (value,), param, ctx)
        try:
            return check_speed(number, "value")
        except DamoError as e:
            self.fail(str(e).split(": ", 1)[1], param, ctx)


def speed_option(default=1.0, help_suffix=""):
    return click.option(
        "--speed", type=SpeedType(), default=default,
        show_default=default is not None, metavar="<factor>",
        help="simulated seconds per real second, at most 1,000,000" + help_suffix)


from damo.params.damon_args import MONITORING_OPTIONS  # noqa: E402


def scheme_options(f):
    """damo's --damos_* options."""
    from damo.params import schemes as schemes_mod
    return schemes_mod.damos_options(f)


def schemes_from_options(opts):
    """SchemeParams of the --damos_* options given (damo replay uses it)."""
    from damo.params import schemes as schemes_mod
    return schemes_mod.schemes_from_options(opts)


def preset_options(f):
    """--preset, --preset_param and --kdamonds."""
    from damo.params import presets as presets_mod
    return presets_mod.preset_options(f)


def describe_cleanup(removed):
    for idxs, liveness, last_line in removed:
        click.echo("damo: cleaned up kdamond%s %s (%s%s)" % (
            "s" if len(idxs) > 1 else "", ", ".join(str(i) for i in idxs),
            "its daemon had died" if liveness == "dead" else "it had stopped",
            ": %s" % last_line if liveness == "dead" and last_line else ""), err=True)


def spawn(slot, lock_fd, spec):
    """Start the daemon of ``slot``; returns its pid once it is running."""
    rundir_mod.write_json(slot.file("spec.json"), spec)
    read_end, write_end = os.pipe()
    log = rundir_mod.open_private(slot.log_path)
    _entry.blas_threads_restore()       # the daemon and its workloads get the user's environment
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "damo.live.daemon", slot.path, str(lock_fd), str(write_end)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(lock_fd, write_end),
            start_new_session=True, cwd=slot.path)
    finally:
        log.close()
        os.close(write_end)
        os.close(lock_fd)             # the daemon holds the slot's lock from now on
    answer = b""
    deadline = time.monotonic() + READY_TIMEOUT_S
    try:
        while not answer.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_end], [], [], left)[0]:
                proc.kill()
                raise DamoError("kdamond %d did not start within %d s (see %s)" % (
                    slot.idx, READY_TIMEOUT_S, slot.log_path))
            chunk = os.read(read_end, 4096)
            if not chunk:
                break
            answer += chunk
    finally:
        os.close(read_end)
    text = answer.decode(errors="replace").strip()
    if text != "ok":
        proc.wait(timeout=10)
        rundir_mod.wait_released(slot, 5)
        slot.remove()
        if text.startswith("error: "):
            raise DamoError(text[len("error: "):])
        raise DamoError("kdamond %d failed to start (its daemon exited with %s)" % (
            slot.idx, proc.returncode))
    return proc.pid


@click.command(context_settings={"help_option_names": ["-h", "--help"]},
               epilog="Built-in workloads:\n\n" + "\b\n" + workload_mod.describe_builtins())
@click.argument("workload", required=False, metavar="[WORKLOAD]")
@record_cmd.monitoring_options
@scheme_options
@record_cmd.simulation_options
@record_cmd.exact_accesses_option
@preset_options
@speed_option()
@click.option("--include_child_tasks", is_flag=True,
              help="add the workload's child tasks as monitoring targets (simulated "
                   "workloads run one process: there are none)")
@click.pass_context
def start(cctx, workload, speed, include_child_tasks, debug_damon, **opts):
    """Start simulated kdamonds in the background and return at once.

    The kdamond monitors WORKLOAD (a masim config file or a built-in
    workload; default: stairs) on its own simulated machine, advancing at
    real-time pace times --speed.  A preset or a kdamonds file may give
    several kdamonds: they share the machine.  See them with `damo status`,
    change them with `damo tune`, stop them with `damo stop`.
    """
    from damo.live import client
    from damo.params import damon_args
    from damo.params import presets as presets_mod

    client.DEBUG = debug_damon
    explicit = [name for name in MONITORING_OPTIONS
                if cctx.get_parameter_source(name) == ParameterSource.COMMANDLINE]
    workload = damon_args.deduce_target(workload, opts)
    ctx = record_cmd.context_from_options(opts)
    w = workload_mod.resolve(workload, access_rate=opts["sequential_access_rate"],
                             random_access_rate=opts["random_access_rate"],
                             exact_accesses=opts["exact_accesses"])
    kdamonds = presets_mod.kdamonds_from_options(opts, ctx, [w], explicit=explicit)
    machine = presets_mod.probe_machine(opts["memory"], [w])
    for kd in kdamonds:
        for c in kd.contexts:
            for s in c.schemes:
                for warning in s.warnings(c.ops):
                    click.echo("damo: warning: %s" % warning, err=True)
    if machine.swap_kind is None and any(
            s.action == "pageout" for kd in kdamonds for c in kd.contexts for s in c.schemes):
        click.echo("damo: warning: pageout cannot reclaim anonymous memory without swap: "
                   "give the machine some (e.g. --memory dram:8G,swap:zswap)", err=True)
    if workload is not None and os.path.exists(workload):
        workload = os.path.abspath(workload)
    spec = {"kdamonds": [kd.to_kvpairs() for kd in kdamonds],
            "workload": workload, "memory": opts["memory"], "seed": opts["seed"],
            "access_rate": opts["sequential_access_rate"],
            "random_access_rate": opts["random_access_rate"],
            "exact_accesses": opts["exact_accesses"], "speed": speed}
    rundir = rundir_mod.runtime_dir(create=True)
    with rundir_mod.global_lock(rundir):
        removed = rundir_mod.cleanup_exited(rundir)
        slot, lock_fd = rundir_mod.new_slot(rundir, len(kdamonds))
    describe_cleanup(removed)
    if debug_damon:
        click.echo("damo-sim: starting the daemon of kdamond %d with %s" % (
            slot.idx, json.dumps(spec, separators=(",", ":"))), err=True)
    pid = spawn(slot, lock_fd, spec)
    if include_child_tasks:
        click.echo("damo: note: --include_child_tasks: %s runs one process; it has no "
                   "child tasks to add" % w.name, err=True)
    for idx in slot.kdamond_idxs():
        click.echo("kdamond %d started (daemon pid %d): workload %s, speed %gx" % (
            idx, pid, w.name, speed))
