"""``damo module``, ``damo reclaim``, ``damo lru_sort``: the simulated
kernel's DAMON_RECLAIM, DAMON_LRU_SORT and DAMON_STAT module parameters, read
and written as damo does through /sys/module/damon_<name>/parameters.

The modules belong to a machine's kernel: a machine that `damo module ...`
boots the first time a parameter is written (``--memory``, ``--workload``,
``--speed`` and ``--seed`` describe it; `damo stop` ends it).  Turning a
module on starts its kdamond on that machine, turning it off stops it.
Without such a machine, reading shows a fresh kernel's parameters.
"""
import time

import click

from damo.cliutil import VALUE_SEP
from damo.errors import DamoError
from damo.live import modules as modules_mod
from damo.params.damon_args import DamonOption

WAIT_S = 20.0


# ------------------------------------------------------------ the machine

def _hosts():
    from damo.live import client
    out = []
    seen = set()
    for k in client.kdamonds():
        if k.slot.path in seen or not (k.state or {}).get("modules_host"):
            continue
        seen.add(k.slot.path)
        liveness = k.slot.liveness()
        if liveness == "on":
            out.append(k)
        elif liveness == "dead":
            click.echo("damo: note: the module machine of kdamond %d is dead (its daemon "
                       "exited abnormally); `damo stop` cleans it up" % k.idx, err=True)
    return out


def find_host(kdamond_idx):
    """The module machine to talk to (its kdamond), or None if none runs."""
    hosts = _hosts()
    if kdamond_idx is not None:
        for k in hosts:
            if k.idx == kdamond_idx:
                return k
        raise DamoError("--kdamond_idx: no module machine has kdamond %d (they have: %s)" % (
            kdamond_idx, ", ".join(str(k.idx) for k in hosts) or "none"), exit_code=2)
    if len(hosts) > 1:
        raise DamoError("several module machines run (kdamonds %s): choose one with "
                        "--kdamond_idx" % ", ".join(str(k.idx) for k in hosts), exit_code=2)
    return hosts[0] if hosts else None


def boot(sim):
    """Start a machine for the modules; returns its kdamond."""
    from damo.commands import start as start_cmd
    from damo.live import client
    from damo.live import rundir as rundir_mod
    from damo.workloads import masim as workload_mod

    w = workload_mod.resolve(sim.get("workload"))
    spec = {"kdamonds": [], "modules_host": True, "workload": sim.get("workload"),
            "memory": sim.get("memory"), "seed": sim.get("seed") or 0,
            "speed": sim.get("speed") or 1.0}
    from damo.params import presets
    presets.probe_machine(spec["memory"], [w])        # a bad --memory ends here
    rundir = rundir_mod.runtime_dir(create=True)
    with rundir_mod.global_lock(rundir):
        removed = rundir_mod.cleanup_exited(rundir)
        slot, lock_fd = rundir_mod.new_slot(rundir, 1)
    start_cmd.describe_cleanup(removed)
    pid = start_cmd.spawn(slot, lock_fd, spec)
    click.echo("damo: booted a simulated machine for the DAMON modules (daemon pid %d, "
               "kdamond %d): workload %s" % (pid, slot.idx, w.name), err=True)
    for k in client.kdamonds():
        if k.slot.path == slot.path:
            return k
    raise DamoError("the module machine (kdamond %d) did not come up" % slot.idx)


def request(host, module, writes=()):
    from damo.live import client
    return client.request(host.slot, {"cmd": "module", "module": module,
                                      "write": [list(w) for w in writes]},
                          timeout=60.0)["values"]


def fresh_values(module):
    """A fresh kernel's parameters (no machine runs)."""
    cls = modules_mod.MODULES[module]
    m = cls()

    class _NoDaemon:
        pass
    values = {}
    for name in sorted(cls.params):
        try:
            values[name] = m.read(name, _NoDaemon())
        except DamoError:
            pass
    return values


def access(module, writes, sim, boot_if_needed=True):
    """Write the parameters (in order) and read them all back: {name: text}.
    A machine booted for this and left with nothing done is stopped again."""
    host = find_host(sim.get("kdamond_idx"))
    if host is None:
        if not writes or not boot_if_needed:
            return fresh_values(module), None
        host = boot(sim)
        try:
            return request(host, module, writes), host
        except BaseException:
            from damo.commands.stop import stop_daemon
            stop_daemon(host.slot, host.state)
            raise
    return request(host, module, writes), host


def sim_options(f):
    """The module machine: which one, or how to boot one."""
    opts = [
        click.option("--kdamond_idx", type=click.IntRange(min=0), metavar="<index>",
                     help="the module machine (by its kdamond) when several run"),
        click.option("--memory", metavar="SPEC",
                     help="if no module machine runs, boot one with this memory (e.g. "
                          "dram:1G,swap:zswap)"),
        click.option("--workload", metavar="WORKLOAD",
                     help="if no module machine runs, boot one running this workload "
                          "(default: stairs)"),
        click.option("--speed", type=click.FloatRange(min=0, min_open=True, max=1e6),
                     metavar="<factor>",
                     help="simulated seconds per real second of a booted machine (1)"),
        click.option("--seed", type=click.IntRange(min=0), metavar="<seed>",
                     help="random seed of a booted machine (0)"),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def wait_running(module, want, sim):
    """damo's darc_enable(): poll kdamond_pid until the module is (not) on."""
    deadline = time.monotonic() + WAIT_S
    while True:
        values, _ = access(module, [], sim, boot_if_needed=False)
        if (values.get("enabled") == "Y") == want:
            return values
        if time.monotonic() > deadline:
            raise DamoError("damon_%s did not turn %s within %g s" % (
                module, "on" if want else "off", WAIT_S))
        time.sleep(0.05)


# --------------------------------------------------- damo reclaim, lru_sort

def _control(module, action, writes, sim):
    title = modules_mod.MODULES[module].title
    if action == "status":
        values, _ = access(module, [], sim, boot_if_needed=False)
        for name in modules_mod.MODULES[module].status_order:
            if name in values:
                click.echo("%s: %s" % (name, values[name]))
        return
    if action == "commit":
        host = find_host(sim.get("kdamond_idx"))
        values, _ = access(module, [], sim, boot_if_needed=False)
        if host is None or values.get("enabled") != "Y":
            raise DamoError("%s is not running (damo %s commit changes a running one)"
                            % (title, module))
        access(module, writes + [("commit_inputs", "Y")], sim)
        return
    # damo turns it off, then on again with the new parameters
    host = find_host(sim.get("kdamond_idx"))
    if host is not None:
        access(module, [("enabled", "N")], sim)
        wait_running(module, False, sim)
    if action == "disable":
        if writes and host is not None:
            access(module, writes, sim)
        return
    access(module, writes + [("enabled", "Y")], sim)
    wait_running(module, True, sim)


def _pairs(**values):
    return [(name, "%s" % v) for name, v in values.items() if v is not None]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("action", required=False, default="status",
                type=click.Choice(["status", "enable", "disable", "commit"]))
@click.option("--min_age", type=int, metavar="<microseconds>",
              help="time threshold for cold memory regions identification (us)")
@click.option("--quota", type=int, nargs=3, metavar="<ms> <bytes> <ms>",
              help="quotas for time and size, and reset interval")
@click.option("--wmarks", type=int, nargs=4,
              metavar="<us> <per-thousand> <per-thousand> <per-thousand>",
              help="watermarks check interval and three watermarks")
@click.option("--monitor_intervals", type=int, nargs=2,
              metavar="<microseconds> <microseconds>",
              help="intervals for sampling and aggregation of DAMON")
@click.option("--nr_regions", type=int, nargs=2, metavar="<number> <number>",
              help="minimum and maximum number of DAMON memory regions")
@click.option("--monitor_region", type=int, nargs=2, metavar="<phy addr> <phy addr>",
              help="start and end addresses of the target memory region")
@click.option("--skip_anon", is_flag=True, help="skip reclaiming anonymous pages")
@sim_options
def reclaim(action, min_age, quota, wmarks, monitor_intervals, nr_regions, monitor_region,
            skip_anon, **sim):
    """Control DAMON_RECLAIM of the simulated kernel.

    ACTION: status (default: print its parameters), enable (turn it on with
    the given parameters; off first if on), disable, or commit (apply the
    given parameters to the running module, online, through commit_inputs).
    As damo does, skip_anon is written every time (N unless --skip_anon).
    """
    quota, wmarks = quota or (None,) * 3, wmarks or (None,) * 4
    monitor_intervals = monitor_intervals or (None,) * 2
    nr_regions, monitor_region = nr_regions or (None,) * 2, monitor_region or (None,) * 2
    writes = _pairs(min_age=min_age, quota_ms=quota[0], quota_sz=quota[1],
                    quota_reset_interval_ms=quota[2], wmarks_interval=wmarks[0],
                    wmarks_high=wmarks[1], wmarks_mid=wmarks[2], wmarks_low=wmarks[3],
                    sample_interval=monitor_intervals[0], aggr_interval=monitor_intervals[1],
                    min_nr_regions=nr_regions[0], max_nr_regions=nr_regions[1],
                    monitor_region_start=monitor_region[0],
                    monitor_region_end=monitor_region[1],
                    skip_anon="Y" if skip_anon else "N")
    _control("reclaim", action, writes, sim)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("action", required=False, default="status",
                type=click.Choice(["status", "enable", "disable"]))
@click.option("--hot_thres_access_freq", type=int, metavar="<permil>",
              help="hot memory region access frequency threshold (permil)")
@click.option("--cold_min_age", type=int, metavar="<microseconds>",
              help="time threshold for cold memory regions identification (us)")
@click.option("--quota", type=int, nargs=2, metavar="<ms> <ms>",
              help="time quota and quota reset interval in ms")
@click.option("--wmarks", type=int, nargs=4,
              metavar="<us> <per-thousand> <per-thousand> <per-thousand>",
              help="watermarks check interval and three watermarks")
@click.option("--monitor_intervals", type=int, nargs=2,
              metavar="<microseconds> <microseconds>",
              help="intervals for sampling and aggregation of DAMON")
@click.option("--nr_regions", type=int, nargs=2, metavar="<number> <number>",
              help="minimum and maximum number of DAMON memory regions")
@click.option("--monitor_region", type=int, nargs=2, metavar="<phy addr> <phy addr>",
              help="start and end addresses of the target memory region")
@sim_options
def lru_sort(action, hot_thres_access_freq, cold_min_age, quota, wmarks, monitor_intervals,
             nr_regions, monitor_region, **sim):
    """Control DAMON_LRU_SORT of the simulated kernel.

    ACTION: status (default: print its parameters), enable (turn it on with
    the given parameters; off first if on), or disable.
    """
    quota, wmarks = quota or (None,) * 2, wmarks or (None,) * 4
    monitor_intervals = monitor_intervals or (None,) * 2
    nr_regions, monitor_region = nr_regions or (None,) * 2, monitor_region or (None,) * 2
    writes = _pairs(hot_thres_access_freq=hot_thres_access_freq, cold_min_age=cold_min_age,
                    quota_ms=quota[0], quota_reset_interval_ms=quota[1],
                    wmarks_interval=wmarks[0], wmarks_high=wmarks[1], wmarks_mid=wmarks[2],
                    wmarks_low=wmarks[3], sample_interval=monitor_intervals[0],
                    aggr_interval=monitor_intervals[1], min_nr_regions=nr_regions[0],
                    max_nr_regions=nr_regions[1], monitor_region_start=monitor_region[0],
                    monitor_region_end=monitor_region[1])
    _control("lru_sort", action, writes, sim)


# ------------------------------------------------------- damo module stat

def _read_write_group(module):
    title = modules_mod.MODULES[module].title

    @click.group(name=module, context_settings={"help_option_names": ["-h", "--help"]},
                 help="Control %s: read or write its parameters." % title)
    def group():
        pass
    return group


def _write_values(module, parameter_value, sim):
    if len(parameter_value) % 2:
        raise DamoError("wrong paramter_value: give <parameter name> <value> pairs",
                        exit_code=2)
    pairs = [(parameter_value[i], parameter_value[i + 1])
             for i in range(0, len(parameter_value), 2)]
    access(module, pairs, sim)


stat = _read_write_group("stat")


@stat.command("read", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("to_read", nargs=-1, metavar="[<parameter name or display keywords>]...")
@click.option("--idle_time_mem_sz_lines", type=int, default=10, metavar="<int>",
              help="number of lines for idle time to memory size output")
@click.option("--idle_time_percentiles_range", type=int, nargs=3, default=(0, 101, 10),
              metavar="<int>", help="idle time percentiles print range (start, end, interval)")
@click.option("--input_idle_time_percentiles", cls=DamonOption, many=True, multiple=True,
              metavar="<percentile> <value>...",
              help="idle time percentiles to visualize (pairs, or a file of them)")
@click.option("--raw_number", is_flag=True, help="print number in raw form")
@sim_options
def stat_read(to_read, idle_time_mem_sz_lines, idle_time_percentiles_range,
              input_idle_time_percentiles, raw_number, **sim):
    """Read DAMON_STAT's parameters, or show its idle time percentiles
    (idle_time_percentiles) and memory by idle time (idle_time_mem_sz)."""
    from damo.reports import module_stat

    given = None
    if input_idle_time_percentiles:
        words = []
        for use in input_idle_time_percentiles:
            words += use.split(VALUE_SEP)
        given = module_stat.full_percentiles(words)
    values = None
    if given is None or any(n not in module_stat.KEYWORDS for n in to_read) or not to_read:
        values, _ = access("stat", [], sim, boot_if_needed=False)
    for name in to_read or [None]:
        if name is None:
            for pname in sorted(values):
                click.echo("%s: %s" % (pname, values[pname]))
            continue
        if name in module_stat.KEYWORDS:
            pct = given if given is not None else [
                int(x) / 1000 for x in values["memory_idle_ms_percentiles"].split(",")]
            if name == "idle_time_mem_sz":
                text = module_stat.idle_time_mem_sz(pct, idle_time_mem_sz_lines, raw_number)
            else:
                text = module_stat.idle_time_percentiles(pct, idle_time_percentiles_range,
                                                         raw_number)
            if text:
                click.echo(text)
            continue
        if name not in values:
            lines = ["Wrong parameter (%s).  Please use one among below:" % name]
            lines += ["- %s" % p for p in sorted(values)]
            lines += ["- idle_time_mem_sz", "- idle_time_percentiles"]
            raise DamoError("\n".join(lines), exit_code=1)
        click.echo(values[name])


@stat.command("write", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("parameter_value", nargs=-1, required=True,
                metavar="<parameter name> <value>...")
@sim_options
def stat_write(parameter_value, **sim):
    """Write DAMON_STAT's parameters (e.g. enabled Y)."""
    _write_values("stat", parameter_value, sim)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def module():
    """Control DAMON kernel modules of the simulated kernel.

    reclaim and lru_sort are `damo reclaim` and `damo lru_sort`; stat reads
    and writes DAMON_STAT's parameters.
    """


module.add_command(reclaim, "reclaim")
module.add_command(lru_sort, "lru_sort")
module.add_command(stat, "stat")
