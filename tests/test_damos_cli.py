"""DAMOS on the command line: damo's --damos_* options, kdamonds files in
damo's layout, presets; one error line (no traceback, no output) for what
the kernel would refuse; recordings with schemes that damo 3.4.3 reads."""
import json

import numpy as np
import pytest

from conftest import run_ours
from damo import records
from damo.params import schemes

MiB = 1 << 20
SHORT = ["--timeout", "1"]
# the stairs workload: ten areas of 10,000,000 bytes, every page touched in
# its first 5 s; an area spans 2442 pages, or 2443 if not page aligned, and
# the ten together at least 10^8 bytes' worth of pages
AREA = 10_000_000
WORKLOAD_PAGES_MIN = -(-10 * AREA // 4096)
WORKLOAD_PAGES_MAX = 10 * (-(-AREA // 4096) + 1)


def assert_workload_pages(nbytes, nr_applies):
    """``nbytes`` covers the workload's pages once per apply."""
    assert nbytes % 4096 == 0
    assert nr_applies * 10 * AREA <= nbytes <= nr_applies * WORKLOAD_PAGES_MAX * 4096, (
        nbytes, nr_applies)


def record(tmp_path, *args, name="out.data"):
    out = str(tmp_path / name)
    code, stdout, err = run_ours("record", "stairs", *SHORT, *args, "-o", out)
    return code, err, out


@pytest.mark.parametrize("args, message", [
    (["--damos_action", "pageout", "--damos_sz_region", "8K", "4K"],
     "--damos_sz_region: min (8.000 KiB) is larger than max (4.000 KiB)"),
    (["--damos_action", "pageout", "--damos_access_rate", "50", "10"],
     "--damos_access_rate: min (50 %) is larger than max (10 %)"),
    (["--damos_action", "pageout", "--damos_age", "10s", "1s"],
     "--damos_age: min (10 s) is larger than max (1 s)"),
    (["--damos_action", "lru_prio"],
     "--damos_action: action lru_prio is not supported by the vaddr operation set"),
    (["--ops", "paddr", "--damos_action", "willneed"],
     "action willneed is not supported by the paddr operation set"),
    (["--damos_action", "explode"], "--damos_action: unknown action 'explode'"),
    (["--ops", "paddr", "--damos_action", "collapse"],
     "action collapse is not supported by the paddr operation set"),
    (["--damos_action", "stat", "--damos_quota_goal", "node_eligible_mem_bp", "5000"],
     "node_eligible_mem_bp needs the paddr operation set"),
    (["--ops", "paddr", "--damos_action", "stat", "--damos_quota_goal",
      "node_eligible_mem_bp", "5000", "1"], "damo does not pass a node id"),
    (["--damos_action", "stat", "--damos_quota_fail_charge_ratio", "1", "4294967296"],
     "--damos_quota_fail_charge_ratio"),
    (["--damos_action", "migrate_hot"], "migrate_hot takes a target node id"),
    (["--damos_action", "migrate_hot", "3"], "migrate_hot to node 3, but the machine has"),
    (["--damos_action", "pageout", "--damos_filter", "reject", "bogus"],
     "--damos_filter: unknown filter type 'bogus'"),
    (["--damos_action", "pageout", "--damos_filter", "reject", "addr", "0x2000", "0x1000"],
     "addr filter range 8192-4096 is empty or inverted"),
    (["--damos_action", "pageout", "--damos_filter", "allow", "memcg", "/nope"],
     "memory cgroup '/nope' does not exist"),
    (["--damos_action", "pageout", "--damos_filter", "allow", "target", "3"],
     "target filter index 3, but the context has 1 target(s)"),
    (["--damos_action", "pageout", "--damos_quota_goal", "bogus", "10"],
     "--damos_quota_goal: unknown quota goal metric 'bogus'"),
    (["--damos_action", "pageout", "--damos_quota_goal", "user_input", "0", "5"],
     "quota goal user_input needs a positive target value"),
    (["--damos_action", "pageout", "--damos_quota_goal", "node_mem_used_bp", "99%"],
     "node_mem_used_bp needs a node id"),
    (["--damos_action", "pageout", "--damos_quota_goal", "node_mem_used_bp", "99%", "4"],
     "node 4 does not exist"),
    (["--damos_action", "pageout", "--damos_wmarks", "free_mem_rate", "5s", "200", "400",
      "500"], "watermarks must be high >= mid >= low, not 200, 400, 500 permil"),
    (["--damos_action", "pageout", "--damos_wmarks", "inode_rate", "5s", "5", "4", "3"],
     "unknown watermarks metric 'inode_rate'"),
    (["--damos_action", "pageout", "--damos_quotas", "10ms", "1G", "1s", "1", "2", "3", "4"],
     "--damos_quotas: takes 1 to 6 values"),
    (["--damos_action", "pageout", "--damos_sz_region", "4K"],
     "--damos_sz_region: takes two values"),
    (["--damos_action", "pageout", "--damos_quota_goal_tuner", "wild"],
     "unknown quota goal tuner 'wild'"),
    (["--damos_action", "stat", "--damos_action", "pageout", "--damos_filter", "allow", "anon"],
     "with several schemes, say which scheme each belongs to"),
    (["--damos_age", "1s", "max"], "--damos_age: needs a scheme: give --damos_action first"),
    (["--preset", "reclaim", "--preset_param", "min_age"], "is not name=value"),
    (["--preset", "reclaim", "--preset_param", "speed=3"], "reclaim has no parameter 'speed'"),
    (["--preset", "reclaim", "--damos_action", "stat"], "--preset gives the schemes"),
    (["--preset", "lru_sort", "--monitoring_intervals", "5ms", "100ms", "1s"],
     "--preset gives the monitoring parameters"),
    (["--preset_param", "min_age=1s"], "--preset_param: needs --preset"),
    (["--schemes_target_regions"], "--schemes_target_regions: there is no DAMOS scheme"),
])
def test_invalid_scheme_parameters_are_one_error_line(tmp_path, args, message):
    code, err, out = record(tmp_path, *args)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("damo: error: ") and message in lines[0], err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


KDAMONDS = {"kdamonds": [{"contexts": [{
    "ops": "vaddr", "targets": [{"pid": None, "regions": []}],
    "intervals": {"sample_us": "5 ms", "aggr_us": "100 ms", "ops_update_us": "1 s"},
    "nr_regions": {"min": "10", "max": "1,000"},
    "schemes": [{
        "action": "stat",
        "access_pattern": {"sz_bytes": {"min": "4.000 KiB", "max": "max"},
                           "nr_accesses": {"min": "10 %", "max": "100 %"},
                           "age": {"min": "0 ns", "max": "max"}},
        "apply_interval_us": "0 ns",
        "quotas": {"time_ms": "0 ns", "sz_bytes": "0 B", "reset_interval_ms": "max",
                   "goals": [], "effective_sz_bytes": "0 B",
                   "weights": {"sz_permil": "0 %", "nr_accesses_permil": "0 %",
                               "age_permil": "0 %"}},
        "watermarks": {"metric": "none", "interval_us": "0 ns", "high_permil": "0 %",
                       "mid_permil": "0 %", "low_permil": "0 %"},
        "filters": [{"filter_type": "anon", "matching": True, "allow": True,
                     "memcg_path": None, "address_range": None, "damon_target_idx": None}]}]
}]}]}


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_kdamonds_file_in_damos_layout(tmp_path, fmt):
    path = tmp_path / ("k." + fmt)
    if fmt == "json":
        path.write_text(json.dumps(KDAMONDS))
    else:
        yaml = pytest.importorskip("yaml")
        path.write_text(yaml.safe_dump(KDAMONDS))
    code, err, out = record(tmp_path, "--kdamonds", str(path))
    assert code == 0, err
    with open(out + ".sim_metrics") as f:
        scheme = json.load(f)["final"]["schemes"][0]
    assert scheme["action"] == "stat"
    st = scheme["stats"]
    # The scheme sees the regions DAMON aggregated (the recorded snapshots):
    # it tries those its pattern takes, sz >= 4 KiB and nr_accesses >= 10 % of
    # aggr / sample = 20 samples (2), once per aggregation (apply interval 0).
    r = records.load(out).records[0]
    sizes = r.sizes()
    taken = (sizes >= 4096) & (r.nr_accesses >= 2)
    assert st["nr_snapshots"] == r.nr_snapshots
    assert (st["nr_tried"], st["sz_tried"]) == (int(taken.sum()), int(sizes[taken].sum()))
    assert 9 <= r.nr_snapshots <= 10          # 1 s of 100 ms aggregations
    # the anon allow filter passes the workload's anonymous pages the tried
    # regions cover: in the first second stairs touches all ten 10,000,000-byte
    # areas (every page), so every application passes all of them
    assert_workload_pages(st["sz_ops_filter_passed"], st["nr_snapshots"])
    assert st["sz_ops_filter_passed"] <= st["sz_tried"]


def test_kdamonds_file_with_a_bad_scheme_names_the_file(tmp_path):
    bad = json.loads(json.dumps(KDAMONDS))
    bad["kdamonds"][0]["contexts"][0]["schemes"][0]["watermarks"] = {
        "metric": "free_mem_rate", "interval_us": "5 s", "high_permil": "10 %",
        "mid_permil": "50 %", "low_permil": "5 %"}
    path = tmp_path / "k.json"
    path.write_text(json.dumps(bad))
    code, err, _ = record(tmp_path, "--kdamonds", str(path), name="o.data")
    assert code == 2
    assert err.strip().splitlines() == [
        "damo: error: %s: scheme 0 watermarks: watermarks must be high >= mid >= low, "
        "not 100, 500, 50 permil" % path]


def test_scheme_params_round_trip_damos_layout():
    from click.testing import CliRunner
    import click

    captured = []

    @click.command()
    @schemes.damos_options
    def cmd(**opts):
        captured.extend(schemes.schemes_from_options(opts))

    args = ["--damos_scheme", "--damos_action", "migrate_cold", "1",
            "--damos_access_rate", "0", "0", "--damos_age", "30s", "max",
            "--damos_quotas", "10ms", "128M", "1s", "0", "3", "7",
            "--damos_quota_goal", "node_mem_free_bp", "0.5%", "0",
            "--damos_filter", "reject", "young",
            "--damos_scheme", "--damos_action", "migrate_hot", "0", "1", "1", "2",
            "--damos_access_rate", "5%", "max", "--damos_apply_interval", "1s",
            "--damos_filter", "allow", "none", "hugepage_size", "2M", "2M",
            "--damos_filter", "reject", "addr", "0x1000", "0x200000",
            "--damos_wmarks", "free_mem_rate", "5s", "500", "400", "200"]
    result = CliRunner().invoke(cmd, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    cold, hot = captured
    assert cold.target_nid == 1 and cold.quotas.goals[0].target_value == 50
    assert cold.quotas.weight_age_permil == 7 and [f.filter_type for f in cold.filters] == \
        ["young"]
    assert hot.dests == [(0, 1), (1, 2)] and hot.apply_interval_us == 1000000
    assert [f.describe() for f in hot.filters] == ["allow none hugepage_size [2.000 MiB, "
                                                   "2.000 MiB]", "reject addr 4096-2097152"]
    for s in captured:
        again = schemes.SchemeParams.from_kvpairs(json.loads(json.dumps(s.to_kvpairs())))
        assert again == s
    built = cold.build(None, None, sample_us=5000, aggr_us=100000)
    assert (built.min_age_region, built.max_nr_accesses) == (300, 0)
    assert built.quota_sz == 128 * MiB and built.weight_nr_accesses == 3


def test_damo_reads_recordings_with_schemes(tmp_path, damo):
    """damo 3.4.3 reads what damo record writes with schemes, also the
    tried-region records (scheme_idx, sz_filter_passed, damos_stats)."""
    code, err, plain = record(tmp_path, "--damos_action", "stat", "--damos_access_rate",
                              "5", "max", "--damos_filter", "allow", "anon", name="a.data")
    assert code == 0, err
    code, err, tried = record(tmp_path, "--damos_action", "stat", "--damos_access_rate",
                              "5", "max", "--damos_filter", "allow", "anon",
                              "--schemes_target_regions", name="t.data")
    assert code == 0, err
    for path in (plain, tried):
        rc, out = damo.report("access", "--input", path, "--raw_form")
        assert rc == 0 and "nr_regions" in out
    rec = records.load(tried)
    assert rec.records and all(r.scheme_idx == 0 for r in rec.records)
    r = rec.records[0]
    # every tried region is recorded: the stats count the recorded regions,
    # snapshot by snapshot (the stats are cumulative)
    sizes = r.sizes()
    upto = r.region_offsets[1:]
    assert [st["nr_snapshots"] for st in r.damos_stats] == list(range(1, r.nr_snapshots + 1))
    assert [st["nr_tried"] for st in r.damos_stats] == upto.tolist()
    assert [st["sz_tried"] for st in r.damos_stats] == np.cumsum(
        r.per_snapshot_sum(sizes)).tolist()
    assert [st["sz_ops_filter_passed"] for st in r.damos_stats] == np.cumsum(
        r.per_snapshot_sum(r.sz_filter_passed)).tolist()
    assert (r.sz_filter_passed <= sizes).all()
    # each apply passes the workload's anonymous pages: all of stairs' 100 MB
    for passed in r.per_snapshot_sum(r.sz_filter_passed):
        assert_workload_pages(int(passed), 1)
    # the regions tried in an apply interval are the hot ones (>= 5 % of 20
    # samples: 1)
    assert (r.nr_accesses >= 1).all()


def test_native_recordings_keep_the_metrics_inside(tmp_path):
    code, err, out = record(tmp_path, "--damos_action", "stat", "--output_type", "native",
                            name="n.data")
    assert code == 0, err
    rec = records.load(out)
    m = rec.metadata["sim_metrics"]
    assert m["format"] == "damo-sim-metrics" and m["final"]["schemes"][0]["action"] == "stat"
    with open(out + ".mem_footprint") as f:
        footprints = json.load(f)
    # damo's memory footprint snapshots: a process's statm pages, the system's kB
    proc, system = footprints[-1]["footprints"]
    assert system["pid"] is None
    # the machine's memory in kB; all that is used is the one process's pages
    assert system["footprint"]["total"] == sum(n["capacity"] for n in m["machine"]["nodes"]) // 1024
    used = sum(system["footprint"]["used_by_node"])
    # stairs touches all of its 100 MB in the first second: the process's
    # resident pages are those pages, plus what it had at the start
    start = footprints[0]["footprints"][0]["footprint"]["resident"]
    resident = proc["footprint"]["resident"]
    assert WORKLOAD_PAGES_MIN <= resident <= WORKLOAD_PAGES_MAX + start
    assert resident <= proc["footprint"]["size"]
    assert used == resident * 4
    assert system["footprint"]["free"] == system["footprint"]["total"] - used


def test_presets_build_the_kernel_modules_defaults():
    from damo.params import presets
    from damo_engine.machines import make_machine

    machine = make_machine("dram:1G,cxl:4G,swap:zswap")
    [reclaim] = presets.kdamonds("reclaim", [], machine)
    ctx = reclaim.contexts[0]
    s = ctx.schemes[0]
    assert ctx.ops == "paddr" and (ctx.sample_us, ctx.aggr_us) == (5000, 100000)
    assert s.build(machine, ctx).min_age_region == 1200
    assert (s.quotas.time_ms, s.quotas.sz_bytes, s.quotas.reset_interval_ms) == \
        (10, 128 * MiB, 1000)
    w = s.watermarks
    assert (w.metric, w.interval_us, w.high_permil, w.mid_permil, w.low_permil) == \
        ("free_mem_rate", 5000000, 500, 400, 200)
    [lru] = presets.kdamonds("lru_sort", ["active_mem_bp=7000"], machine)
    hot, cold = lru.contexts[0].schemes
    assert hot.build(machine, lru.contexts[0]).min_nr_accesses == 10
    assert (hot.quotas.time_ms, cold.quotas.time_ms) == (5, 5)
    assert hot.quotas.goals[0].target_value == 7000
    assert cold.quotas.goals[0].target_value == 3002
    promote, demote = presets.kdamonds("mtier", [], machine)
    p, d = promote.contexts[0], demote.contexts[0]
    assert p.targets[0].regions == [(machine.nodes[1]["phys_start"],
                                     machine.nodes[1]["phys_end"])]
    assert p.intervals_goal.as_tuple() == (400, 3, 5000, 10000000)
    assert p.schemes[0].quotas.goals[0].target_value == 9970
    assert d.schemes[0].quotas.goals[0].metric == "node_mem_free_bp"
    assert [f.allow for f in p.schemes[0].filters + d.schemes[0].filters] == [True, False]


def test_kdamonds_file_paddr_regions_must_be_in_the_machine(tmp_path):
    k = json.loads(json.dumps(KDAMONDS))
    ctx = k["kdamonds"][0]["contexts"][0]
    ctx["ops"] = "paddr"
    ctx["targets"] = [{"pid": None, "regions": [{"start": "4096", "end": "8192"}]}]
    ctx["schemes"][0]["filters"] = []
    path = tmp_path / "k.json"
    path.write_text(json.dumps(k))
    code, err, _ = record(tmp_path, "--kdamonds", str(path), name="o.data")
    assert code == 2 and "paddr region 0x1000-0x2000 is outside the simulated machine" in err
