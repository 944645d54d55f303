"""DAMON probes through damo's options (damo 3.4.3's --probe, --probe_filter,
--probe_weight; its kdamonds layout's "probes"), as the simulated Linux 7.3
takes them: anon and memcg filters, weights, at most 4 probes, and the
checks that damon_start() makes; what 7.3 lacks (probe preps, the pgidle and
hugepage_size filter types: mm.git only) is refused with one line."""
import json

import click
import pytest
from click.testing import CliRunner

from conftest import run_ours
from damo import records
from damo.errors import DamoError
from damo.params import damon as params_mod
from damo.params import damon_args, schemes


def record(tmp_path, *args, name="out.data", timeout="2", ops=("--ops", "paddr")):
    out = str(tmp_path / name)
    code, _, err = run_ours("record", "hotcold", *ops, "--memory", "dram:512M",
                            "--timeout", timeout, *args, "-o", out)
    assert code == 0, err
    return records.load(out), json.load(open(out + ".sim_metrics"))


def probes_of(metrics):
    ctx, = metrics["kdamonds_params"]["kdamonds"][0]["contexts"]
    return ctx.get("probes", [])


def test_probe_weight_turns_access_checks_off(tmp_path):
    """Attributes-only monitoring: the recorded access counts (the
    damon_aggregated trace point's nr_accesses) are all 0 with a weight, and
    not without."""
    with_w, metrics = record(tmp_path, "--probe_filter", "allow", "anon", "--probe_weight",
                             "100", name="w.data")
    without, _ = record(tmp_path, "--probe_filter", "allow", "anon", name="n.data")
    assert sum(len(r.start_ns) for r in with_w.records) == 20
    assert not any(r.nr_accesses.any() for r in with_w.records)
    assert any(r.nr_accesses.any() for r in without.records)
    assert probes_of(metrics) == [{"preps": [], "weight": 100, "filters": [
        {"filter_type": "anon", "matching": True, "allow": True, "path": None,
         "range_min": None, "range_max": None}]}]


@click.command()
@damon_args.damon_options
@schemes.damos_options
def _cmd(**opts):
    click.get_current_context().obj["kds"] = damon_args.kdamonds_from_options(opts)


def parse(*argv):
    """The kdamonds a command line gives, as damo record's options parse it."""
    obj = {}
    result = CliRunner().invoke(_cmd, list(argv), obj=obj, catch_exceptions=True)
    if isinstance(result.exception, DamoError):
        raise result.exception
    assert result.exit_code == 0, result.output
    return obj["kds"]


def test_probe_markers_and_weights_as_damo_assigns_them():
    """damo's probes_for(): each --probe starts a probe; weights go to the
    probes in order (missing ones are 0)."""
    kd, = parse("--ops", "paddr", "--probe", "--probe_filter", "allow", "anon",
                "--probe_filter", "reject", "non", "memcg", "/", "--probe",
                "--probe_filter", "reject", "anon", "--probe_weight", "3")
    p0, p1 = kd.contexts[0].probes
    assert (p0.weight, p1.weight) == (3, 0)
    assert [f.to_str() for f in p0.filters] == ["allow anon", "reject non memcg /"]
    assert [f.to_str() for f in p1.filters] == ["reject anon"]
    # without --probe every filter is one probe's
    kd, = parse("--ops", "paddr", "--probe_filter", "allow", "anon", "--probe_filter",
                "reject", "memcg", "/", "--probe_weight", "7")
    p, = kd.contexts[0].probes
    assert p.weight == 7 and len(p.filters) == 2
    # weights alone make no probe (damo: no filter, no probe)
    kd, = parse("--ops", "paddr", "--probe_weight", "7")
    assert kd.contexts[0].probes == []


@pytest.mark.parametrize("args, message", [
    (["--probe_filter", "allow", "hugepage_size", "2M", "2M"], "mm.git only"),
    (["--probe_filter", "allow", "pgidle_set"], "mm.git only"),
    (["--probe_prep", "set_pgidle", "--probe_filter", "allow", "anon"], "mm.git only"),
    (["--probe_filter", "allow", "memcg", "/nope"], "no memory cgroup '/nope'"),
    (["--probe_filter", "allow", "memcg"], "memcg path is not given"),
    (["--probe_filter", "maybe", "anon"], "expected allow|reject but maybe"),
    (["--probe_filter", "allow"], "expected >=2 fields"),
    (["--probe_filter", "allow", "anon", "--probe_weight", "1", "2"], "(2 > 1)"),
    (["--probe_filter", "allow", "anon", "--probe_weight", "x"], "not an integer"),
    (["--probe"] * 5 + ["--probe_filter", "allow", "anon"], "at most 4"),
    (["--kdamond", "--probe_filter", "allow", "anon"], "wrong position"),
    # damon_valid_probe_params(): 20 samples per aggregation -> UINT_MAX / 20
    (["--probe_filter", "allow", "anon", "--probe_weight", "214748365"], "overflow"),
    (["--monitoring_intervals", "5ms", "2s", "2s", "--probe_filter", "allow", "anon",
      "--probe_weight", "1"], "at most 255 samples"),
])
def test_what_the_kernel_refuses_is_one_error_line(tmp_path, args, message):
    code, out, err = run_ours("record", "hotcold", *args, "--ops", "paddr", "--timeout",
                              "0.3", "-o", str(tmp_path / "x.data"))
    assert code == 2, err
    assert err.startswith("damo: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x.data").exists()


def test_the_weight_limit_is_the_kernels():
    """214748364 * 20 samples fits an unsigned int: taken."""
    ctx = params_mod.ContextParams(ops="paddr", probes=[params_mod.ProbeParams(
        [params_mod.ProbeFilterParams("anon", True, True)], 214748364)])
    ctx.validate()
    ctx.probes[0].weight += 1
    with pytest.raises(DamoError, match="overflow"):
        ctx.validate()


def test_kdamonds_layout_round_trip_and_damos_own_file(tmp_path):
    """A context's probes in damo's kdamonds layout: what we write loads
    back; a file as damo 3.4.3 writes it (to_kvpairs: preps, filters with
    path and range_min/max, weight) loads and records."""
    ctx = params_mod.ContextParams(ops="paddr", probes=[
        params_mod.ProbeParams([params_mod.ProbeFilterParams("memcg", False, True, "/")], 2),
        params_mod.ProbeParams([], 0)])
    back = params_mod.ContextParams.from_kvpairs(json.loads(json.dumps(ctx.to_kvpairs())))
    assert back.probes == ctx.probes
    damo_file = {"kdamonds": [{"state": None, "pid": None, "contexts": [{
        "ops": "paddr", "addr_unit": "1", "targets": [{"pid": None, "regions": []}],
        "probes": [{"preps": [], "filters": [{"filter_type": "anon", "matching": True,
                                              "allow": True, "path": None,
                                              "range_min": None, "range_max": None}],
                    "weight": 0}],
        "sample_control": {}, "pause": False, "schemes": []}]}]}
    path = tmp_path / "kdamonds.json"
    path.write_text(json.dumps(damo_file))
    rec, metrics = record(tmp_path, "--kdamonds", str(path), name="k.data", timeout="1",
                          ops=())
    assert probes_of(metrics)[0]["filters"][0]["filter_type"] == "anon"
    damo_file["kdamonds"][0]["contexts"][0]["probes"][0]["preps"] = [{"prep_action": "x"}]
    path.write_text(json.dumps(damo_file))
    code, _, err = run_ours("record", "hotcold", "--kdamonds", str(path), "--timeout", "0.3",
                            "-o", str(tmp_path / "y.data"))
    assert code == 2 and "mm.git only" in err and len(err.strip().splitlines()) == 1, err


def test_features_say_probes_and_weights_are_there():
    code, out, err = run_ours("features", "json")
    table = json.loads(out)
    for name in ("sysfs/attrs_monitoring", "sysfs/probe_type_anon", "sysfs/probe_type_memcg",
                 "sysfs/probe_weights"):
        assert table[name], name
    for name in ("sysfs/probe_preps", "sysfs/probe_prep_set_pgidle",
                 "sysfs/probe_type_pgidle_unset", "sysfs/probe_type_pgidle_set",
                 "sysfs/probe_type_hugepage_size", "sysfs/damos_filter_probe_hits_wsum"):
        assert not table[name], name
    code, out, err = run_ours("features", "supported", "--infer_version")
    assert "Seems the version of DAMON is 7.3" in out


def test_live_start_and_tune_probes():
    """damo start takes probes; damo tune replaces them (filters given) or
    sets the running probes' weights (weights alone), committed online
    (damon_commit_probes()); what the kernel refuses leaves them as they
    were."""
    from test_live import Live, one_error_line

    live = Live()
    try:
        live.start(live.workload, "--ops", "paddr", "--memory", "dram:256M",
                   "--probe_filter", "allow", "anon")

        def probes():
            return live.status_json()[0]["contexts"][0]["probes"]
        assert [(p["weight"], [f["filter_type"] for f in p["filters"]]) for p in probes()] \
            == [(0, ["anon"])]
        # damo's DamonCtx.add_probes_str() line under the context's ops
        assert "ops: paddr\n        probe allow anon (weight: 0)\n" in live.ok("status")
        live.ok("tune", "--probe_weight", "100")
        assert [p["weight"] for p in probes()] == [100]
        one_error_line(live.damo("tune", "--probe_weight", "300000000"), "overflow")
        assert [p["weight"] for p in probes()] == [100]
        live.ok("tune", "--probe", "--probe_filter", "reject", "anon", "--probe",
                "--probe_filter", "allow", "memcg", "/", "--probe_weight", "1", "2")
        assert [(p["weight"], [(f["filter_type"], f["allow"]) for f in p["filters"]])
                for p in probes()] == [(1, [("anon", False)]), (2, [("memcg", True)])]
    finally:
        live.cleanup()


def test_vaddr_probes_are_taken_with_a_warning(tmp_path):
    """7.3's vaddr has no apply_probes(): the kernel takes the probes, the
    hits stay 0, and a weight still turns the access checks off, so nothing
    is monitored; damo (and so we) take the command line, with a warning."""
    out = str(tmp_path / "v.data")
    code, _, err = run_ours("record", "stairs", "--probe_filter", "allow", "anon",
                            "--probe_weight", "1", "--timeout", "1", "-o", out)
    assert code == 0, err
    assert err.count("damo: warning: --probe_filter: the vaddr operations set applies no "
                     "probes") == 1, err
    rec = records.load(out)
    assert sum(len(r.start_ns) for r in rec.records) == 10
    assert not any(r.nr_accesses.any() for r in rec.records)
