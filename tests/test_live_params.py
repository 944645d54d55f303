"""What damo tune relies on without a daemon: parameters survive the trip
through damo's kdamonds layout exactly, and the given options are laid over
the running ones and nothing else."""
import click
import pytest

from damo.params import damon as params
from damo.commands import tune as tune_cmd
from damo.errors import DamoError


def roundtrip(ctx):
    return params.ContextParams.from_kvpairs(ctx.to_kvpairs())


def test_intervals_and_goal_survive_the_kvpairs_layout():
    ctx = params.monitoring_from_options(intervals=("1234567", "2345678", "61s"),
                                         intervals_goal=("12.34%", "3", "5123us", "9s"))
    back = roundtrip(ctx)
    assert (back.sample_us, back.aggr_us, back.update_us) == (1234567, 2345678, 61000000)
    assert back.intervals_goal == ctx.intervals_goal
    assert back.intervals_goal.access_bp == 1234


def test_scheme_apply_interval_survives_the_kvpairs_layout():
    schemes = pytest.importorskip("damo.params.schemes")
    s = schemes.SchemeParams("stat", apply_interval_us=1234567)
    assert schemes.SchemeParams.from_kvpairs(s.to_kvpairs()).apply_interval_us == 1234567


OPTS = {name: None for name in tune_cmd.MONITORING_OPTIONS}
OPTS["monitoring_intervals_autotune"] = False


def overlaid(ctx, **given):
    opts = dict(OPTS, **given)
    tune_cmd.overlay_monitoring(ctx, opts, set(given))
    return ctx


def test_only_the_given_monitoring_options_change():
    ctx = params.monitoring_from_options(ops="paddr", intervals=("10ms", "200ms", "2s"),
                                         nr_regions=("20", "400"), regions="4096-8192")
    ctx = overlaid(ctx, monitoring_nr_regions_range=("5", "50"))
    assert (ctx.min_nr_regions, ctx.max_nr_regions) == (5, 50)
    assert (ctx.ops, ctx.sample_us, ctx.aggr_us, ctx.update_us) == \
        ("paddr", 10000, 200000, 2000000)
    assert ctx.targets[0].regions == [(4096, 8192)]
    ctx = overlaid(ctx, monitoring_intervals=("5ms", "100ms", "1s"))
    assert (ctx.sample_us, ctx.aggr_us, ctx.update_us, ctx.min_nr_regions) == \
        (5000, 100000, 1000000, 5)
    ctx = overlaid(ctx, regions="1M-2M")
    assert ctx.targets[0].regions == [(1 << 20, 2 << 20)]


def test_autotune_goes_on_and_off():
    ctx = params.monitoring_from_options()
    ctx = overlaid(ctx, monitoring_intervals_autotune=True)
    assert ctx.intervals_goal.as_tuple() == params.AUTOTUNE_GOAL
    ctx = overlaid(ctx, monitoring_intervals_goal=("0", "0", "0", "0"))
    assert ctx.intervals_goal is None


def test_overlay_errors_name_the_option():
    ctx = params.monitoring_from_options()
    with pytest.raises(DamoError, match="--monitoring_intervals"):
        overlaid(ctx, monitoring_intervals=("5ms", "soon", "1s"))
    with pytest.raises(DamoError, match="--regions"):
        overlaid(ctx, regions="8192-4096")


def test_tune_help_has_no_default_ops():
    ops = [p for p in tune_cmd.tune.params if p.name == "ops"][0]
    assert ops.default is None
    assert "default" not in (ops.get_help_record(click.Context(tune_cmd.tune))[1])
