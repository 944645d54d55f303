"""``damo tune``: commit new parameters to a running simulated kdamond.

Unlike damo's tune, which replaces every parameter (anything not given goes
back to its default), only the options given change: the running kdamond's
parameters are read, the given options are laid over them, the result is
checked with the kernel's rules, then committed inside the kdamond loop with
the kernel's online-commit semantics (damon_commit_ctx()).  Parameters the
kernel would refuse are refused, and the kdamond keeps running with its old
ones.
"""
import click
from click.core import ParameterSource

from damo.params import damon as params_mod
from damo.commands import record as record_cmd
from damo.commands.start import scheme_options, speed_option
from damo.errors import DamoError

# what --quota_goals_only commits (the kernel's commit_schemes_quota_goals)
GOALS_ONLY_OPTIONS = {"damos_quota_goal", "damos_nr_quota_goals", "damos_scheme"}
MONITORING_OPTIONS = ("ops", "regions", "monitoring_intervals", "monitoring_intervals_goal",
                      "monitoring_intervals_autotune", "monitoring_nr_regions_range")


def _option_flag(name):
    return "--" + name


def overlay_monitoring(ctxp, opts, given):
    """Lay the given monitoring options over the context parameters."""
    parsed = params_mod.monitoring_from_options(
        ops=opts["ops"] or ctxp.ops, regions=opts["regions"],
        intervals=opts["monitoring_intervals"], intervals_goal=opts["monitoring_intervals_goal"],
        autotune=opts["monitoring_intervals_autotune"],
        nr_regions=opts["monitoring_nr_regions_range"])
    if "ops" in given:
        ctxp.ops = parsed.ops
    if "regions" in given:
        if not ctxp.targets:
            ctxp.targets = [params_mod.TargetParams()]
        ctxp.targets[0].regions = parsed.targets[0].regions
    if "monitoring_intervals" in given:
        ctxp.sample_us, ctxp.aggr_us, ctxp.update_us = \
            parsed.sample_us, parsed.aggr_us, parsed.update_us
    if "monitoring_intervals_autotune" in given and opts["monitoring_intervals_autotune"] \
            or "monitoring_intervals_goal" in given:
        goal = parsed.intervals_goal
        # a goal with zero aggrs (e.g. 0 0 0 0) turns the auto-tuning off
        ctxp.intervals_goal = goal if goal is not None and goal.aggrs else None
    if "monitoring_nr_regions_range" in given:
        ctxp.min_nr_regions, ctxp.max_nr_regions = \
            parsed.min_nr_regions, parsed.max_nr_regions


def overlay_schemes(ctxp, opts, given, goals_only):
    """Lay the given --damos_* options over the context's schemes."""
    from damo.params import schemes as schemes_mod

    damos_given = [name for name in given if name.startswith("damos_")]
    if damos_given:
        ctxp.schemes = schemes_mod.overlay_options(ctxp.schemes, opts, damos_given,
                                                   goals_only=goals_only)


def pick_kdamond(kdamond_idx):
    from damo.live import client

    if kdamond_idx is not None:
        return client.running_kdamonds([kdamond_idx])[0]
    running = client.running_kdamonds()
    if len(running) > 1:
        raise DamoError("several kdamonds are running (%s): choose one with --kdamond_idx"
                        % ", ".join(str(k.idx) for k in running), exit_code=2)
    return running[0]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@record_cmd.monitoring_options
@scheme_options
@click.option("--quota_goals_only", is_flag=True,
              help="commit only the DAMOS quota goals (e.g. a new user_input goal value)")
@click.option("--kdamond_idx", type=click.IntRange(min=0), metavar="<index>",
              help="the kdamond to tune (needed when several are running)")
@speed_option(default=None, help_suffix=" (changes the pace of the simulation)")
@click.pass_context
def tune(cctx, quota_goals_only, kdamond_idx, speed, **opts):
    """Commit new parameters to a running kdamond, online.

    Only the options given change; everything else keeps its current value
    (e.g. `damo tune --monitoring_nr_regions_range 10 500`).  The commit
    follows the kernel's semantics: schemes, quota goals, filters and targets
    are updated in place by index, counters and stats are kept.  Parameters
    the kernel would refuse are refused, and the kdamond keeps running with
    its old ones.  `--monitoring_intervals_goal 0 0 0 0` turns intervals
    auto-tuning off.
    """
    from damo.live import client

    given = {name for name in opts
             if cctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}
    if quota_goals_only:
        others = sorted(given - GOALS_ONLY_OPTIONS)
        if others:
            raise DamoError("%s: --quota_goals_only commits only quota goals; drop it or "
                            "the other options" % _option_flag(others[0]), exit_code=2)
    if not given and speed is None:
        raise DamoError("nothing to tune: give the options to change (see damo tune -h)",
                        exit_code=2)
    k = pick_kdamond(kdamond_idx)
    request = {"cmd": "tune", "kdamond_idx": k.idx, "quota_goals_only": quota_goals_only,
               "speed": speed, "kdamond": None}
    if given:
        state = client.request(k.slot, {"cmd": "state"})["state"]
        [kstate] = [kd for kd in state["kdamonds"] if kd["idx"] == k.idx]
        kdamond = params_mod.kdamonds_from_kvpairs({"kdamonds": [kstate["kdamond"]]},
                                                   "kdamond %d" % k.idx)[0]
        ctxp = kdamond.contexts[0]
        live = kstate["contexts"][0]
        if ctxp.intervals_goal is not None:
            # auto-tuned intervals: keep the tuned values unless told otherwise
            ctxp.sample_us, ctxp.aggr_us = live["sample_us"], live["aggr_us"]
        overlay_monitoring(ctxp, opts, given)
        overlay_schemes(ctxp, opts, given, quota_goals_only)
        ctxp.validate()
        request["kdamond"] = kdamond.to_kvpairs()
    client.request(k.slot, request, timeout=60.0)


for _param in tune.params:
    if _param.name == "ops":
        # no default: the running kdamond's operation set stays unless given
        _param.default = None
        _param.show_default = False
