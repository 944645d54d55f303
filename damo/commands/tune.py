"""``damo tune``: commit new parameters to a running simulated kdamond.

Unlike damo's tune, which replaces every parameter (anything not given goes
back to its default), by default only the options given change: the running
kdamond's parameters are read, the given options are laid over them, the
result is checked with the kernel's rules, then committed inside the kdamond
loop with the kernel's online-commit semantics (damon_commit_ctx()).
``--reset`` gives damo's behaviour (the command line is the whole new
parameter set), and a kdamonds file (damo's JSON/YAML layout) replaces the
parameters with its own.  Parameters the kernel would refuse are refused,
and the kdamond keeps running with its old ones.
"""
import os

import click
from click.core import ParameterSource

from damo.params import damon as params_mod
from damo.params import damon_args
from damo.commands import record as record_cmd
from damo.commands.start import scheme_options, speed_option
from damo.errors import DamoError

# what --quota_goals_only commits (the kernel's commit_schemes_quota_goals)
GOALS_ONLY_OPTIONS = {"damos_quota_goal", "damos_nr_quota_goals", "damos_scheme"}
MONITORING_OPTIONS = damon_args.MONITORING_OPTIONS


def _option_flag(name):
    return "--" + name


def overlay_monitoring(ctxp, opts, given, section=None):
    """Lay the given monitoring options over the context parameters.
    ``section``: the command line's context (damon_args layout) to take
    them from (default: the only one)."""
    if section is None:
        kds = damon_args.layout(opts, [n for n in damon_args.MONITORING_OPTIONS
                                       if damon_args._uses(opts, n)])
        section = kds[0].contexts[0]
    parsed = damon_args._context(section, bool(opts.get("monitoring_intervals_autotune")),
                                 None, "context")
    c = section.opts
    if "ops" in c:
        ctxp.ops = parsed.ops
    for i, t in enumerate(section.targets):
        if "regions" in t:
            while len(ctxp.targets) <= i:
                ctxp.targets.append(params_mod.TargetParams())
            ctxp.targets[i].regions = parsed.targets[i].regions
        if "target_pid" in t:
            damon_args._target(t, ctxp.ops, None)
    if "monitoring_intervals" in c:
        ctxp.sample_us, ctxp.aggr_us, ctxp.update_us = \
            parsed.sample_us, parsed.aggr_us, parsed.update_us
    if "monitoring_intervals_autotune" in given and opts["monitoring_intervals_autotune"] \
            or "monitoring_intervals_goal" in c:
        # a goal with zero aggrs (e.g. 0 0 0 0) turns the auto-tuning off
        ctxp.intervals_goal = parsed.intervals_goal
    if "monitoring_nr_regions_range" in c:
        ctxp.min_nr_regions, ctxp.max_nr_regions = \
            parsed.min_nr_regions, parsed.max_nr_regions
    if "damon_addr_unit" in c:
        ctxp.addr_unit = parsed.addr_unit
    if any(section.probes):
        # the command line's probes replace the running ones
        ctxp.probes = parsed.probes
    elif section.probe_weights:
        # weights alone: for the running probes, in order
        if len(section.probe_weights) > len(ctxp.probes):
            raise DamoError("--probe_weight: %d weights for %d running probes"
                            % (len(section.probe_weights), len(ctxp.probes)), exit_code=2)
        for p, w in zip(ctxp.probes, section.probe_weights):
            p.weight = damon_args._probe_weight(w)


def overlay_schemes(ctxp, opts, given, goals_only):
    """Lay the given --damos_* options over the context's schemes."""
    from damo.params import schemes as schemes_mod

    damos_given = [name for name in given if name.startswith("damos_")]
    if damos_given:
        ctxp.schemes = schemes_mod.overlay_options(ctxp.schemes, opts, damos_given,
                                                   goals_only=goals_only)


def pick_kdamonds(kdamond_idxs, nr):
    """The running kdamonds to tune: those of --kdamond_idx, else the only
    one running (or all, when the command line gives as many)."""
    from damo.live import client

    if kdamond_idxs:
        chosen = client.running_kdamonds(list(kdamond_idxs))
    else:
        chosen = client.running_kdamonds()
        if len(chosen) > 1 and len(chosen) != nr:
            raise DamoError("several kdamonds are running (%s): choose one with --kdamond_idx"
                            % ", ".join(str(k.idx) for k in chosen), exit_code=2)
    if len(chosen) != nr:
        raise DamoError("the parameters are for %d kdamond%s, but %d %s chosen (%s)" % (
            nr, "s" if nr > 1 else "", len(chosen), "is" if len(chosen) == 1 else "are",
            ", ".join(str(k.idx) for k in chosen)), exit_code=2)
    return chosen


def pick_kdamond(kdamond_idx):
    return pick_kdamonds([kdamond_idx] if kdamond_idx is not None else [], 1)[0]


def _running_params(k):
    from damo.live import client

    state = client.request(k.slot, {"cmd": "state"})["state"]
    [kstate] = [kd for kd in state["kdamonds"] if kd["idx"] == k.idx]
    kdamond = params_mod.kdamonds_from_kvpairs({"kdamonds": [kstate["kdamond"]]},
                                               "kdamond %d" % k.idx)[0]
    for ctxp, live in zip(kdamond.contexts, kstate["contexts"]):
        if ctxp.intervals_goal is not None:
            # auto-tuned intervals: keep the tuned values unless told otherwise
            ctxp.sample_us, ctxp.aggr_us = live["sample_us"], live["aggr_us"]
    return kdamond


def _keep_targets(new, old):
    """A replacement's targets monitor what the running ones monitor (the
    workload's processes: their pids are the simulation's)."""
    for cn, co in zip(new.contexts, old.contexts):
        for i, t in enumerate(cn.targets):
            t.pid = co.targets[i].pid if i < len(co.targets) else None


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("kdamonds_file", required=False, metavar="[KDAMONDS_FILE]")
@record_cmd.monitoring_options
@scheme_options
@click.option("--quota_goals_only", is_flag=True,
              help="commit only the DAMOS quota goals (e.g. a new user_input goal value)")
@click.option("--reset", is_flag=True,
              help="replace every parameter, as damo's tune does: what is not given goes "
                   "back to its default")
@click.option("--kdamond_idx", "kdamond_idxs", type=click.IntRange(min=0), multiple=True,
              metavar="<index>",
              help="the kdamond to tune (needed when several are running; repeat it for "
                   "a command line of several --kdamond)")
@speed_option(default=None, help_suffix=" (changes the pace of the simulation)")
@click.pass_context
def tune(cctx, kdamonds_file, quota_goals_only, reset, kdamond_idxs, speed, debug_damon,
         **opts):
    """Commit new parameters to a running kdamond, online.

    Only the options given change; everything else keeps its current value
    (e.g. `damo tune --monitoring_nr_regions_range 10 500`).  With --reset
    the command line is the whole new parameter set, as damo's tune takes
    it; KDAMONDS_FILE (damo's kdamonds JSON/YAML) replaces the parameters
    with the file's.  The commit follows the kernel's semantics: schemes,
    quota goals, filters and targets are updated in place by index,
    counters and stats are kept.  Parameters the kernel would refuse are
    refused, and the kdamond keeps running with its old ones.
    `--monitoring_intervals_goal 0 0 0 0` turns intervals auto-tuning off.
    """
    from damo.live import client
    from damo.params import schemes as schemes_mod

    client.DEBUG = debug_damon
    given = {name for name in opts
             if cctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}
    if quota_goals_only:
        others = sorted(given - GOALS_ONLY_OPTIONS)
        if others:
            raise DamoError("%s: --quota_goals_only commits only quota goals; drop it or "
                            "the other options" % _option_flag(others[0]), exit_code=2)
        if reset or kdamonds_file:
            raise DamoError("--quota_goals_only: commits the given quota goals only; it "
                            "cannot go with %s" % ("--reset" if reset else "a kdamonds file"),
                            exit_code=2)
    if kdamonds_file is not None:
        if given:
            raise DamoError("%s: the kdamonds file gives every parameter; drop the option"
                            % _option_flag(sorted(given)[0]), exit_code=2)
        if not os.path.exists(kdamonds_file):
            raise DamoError("%s: no such kdamonds file (damo tune takes damo's kdamonds "
                            "JSON/YAML)" % kdamonds_file, exit_code=2)
        new = params_mod.load_kdamonds(kdamonds_file, "kdamonds file")
    elif reset:
        new = damon_args.kdamonds_from_options(opts)
    else:
        if not given and speed is None:
            raise DamoError("nothing to tune: give the options to change (see damo tune -h)",
                            exit_code=2)
        new = None
    order = schemes_mod.option_order()
    sections = damon_args.layout(opts, order) if new is None and given else None
    nr = len(new) if new is not None else (len(sections) if sections else 1)
    chosen = pick_kdamonds(kdamond_idxs, nr)
    for i, k in enumerate(chosen):
        request = {"cmd": "tune", "kdamond_idx": k.idx, "quota_goals_only": quota_goals_only,
                   "speed": speed, "kdamond": None}
        if new is not None or given:
            old = _running_params(k)
            if new is not None:
                kdamond = new[i]
                _keep_targets(kdamond, old)
                if kdamonds_file is not None:
                    kdamond.refresh_ms = kdamond.refresh_ms or 0
            else:
                kdamond = old
                section = sections[i]
                if len(section.contexts) != len(kdamond.contexts):
                    raise DamoError("kdamond %d runs %d context(s); the command line gives %d"
                                    % (k.idx, len(kdamond.contexts), len(section.contexts)),
                                    exit_code=2)
                if "refresh_stat" in section.opts:
                    kdamond.refresh_ms = params_mod.parse_ms(section.opts["refresh_stat"],
                                                             "--refresh_stat")
                damos_given = [n for n in given if n.startswith("damos_")]
                if damos_given and len(sections) > 1:
                    raise DamoError("--%s: for several kdamonds at once, give their whole "
                                    "parameters with --reset" % damos_given[0], exit_code=2)
                for ctxp, csec in zip(kdamond.contexts, section.contexts):
                    overlay_monitoring(ctxp, opts, given, csec)
                    overlay_schemes(ctxp, opts, given, quota_goals_only)
                obsolete = _obsolete(opts)
                t0 = 0
                for ctxp in kdamond.contexts:
                    for ti, t in enumerate(ctxp.targets):
                        t.obsolete = (t0 + ti) in obsolete
                    t0 += len(ctxp.targets)
                if obsolete and max(obsolete) >= t0:
                    raise DamoError("--obsolete_targets: there is no target %d (kdamond %d "
                                    "has %d)" % (max(obsolete), k.idx, t0), exit_code=2)
            for ctxp in kdamond.contexts:
                ctxp.validate()
            request["kdamond"] = kdamond.to_kvpairs()
        client.request(k.slot, request, timeout=60.0)


def _obsolete(opts):
    out = set()
    for use in damon_args._uses(opts, "obsolete_targets"):
        out.update(damon_args._int_list(use, "obsolete_targets"))
    return out


for _param in tune.params:
    if _param.name == "ops":
        # no default: the running kdamond's operation set stays unless given
        _param.default = None
        _param.show_default = False
