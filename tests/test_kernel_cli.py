"""The newest mainline DAMON features through damo's own options: --damos_action
collapse, --damos_quota_fail_charge_ratio, --damos_quota_goal
node_eligible_mem_bp, --damon_addr_unit; and the engine's version in
damo features."""
import json
import re

import pytest

from conftest import run_ours

MiB = 1 << 20


def record(tmp_path, *args, workload="stairs", timeout="3", name="out.data"):
    out = str(tmp_path / name)
    code, _, err = run_ours("record", workload, "--timeout", timeout, *args, "-o", out)
    assert code == 0, err
    return out, json.load(open(out + ".sim_metrics"))


def final_vmstat(metrics, key):
    return metrics["vmstat"][key][-1]


def scheme_stat(metrics, key):
    return metrics["schemes"][0]["stats"][key][-1]


def test_collapse_action_makes_thps_without_khugepaged(tmp_path):
    _, with_it = record(tmp_path, "--memory", "dram:1G,thp:never", "--damos_action", "collapse",
                        "--damos_sz_region", "2M", "max", name="c.data")
    _, without = record(tmp_path, "--memory", "dram:1G,thp:never", name="n.data")
    assert final_vmstat(with_it, "thp_collapse_alloc") > 0
    assert scheme_stat(with_it, "sz_applied") > 0
    assert final_vmstat(without, "thp_collapse_alloc") == 0


def test_fail_charge_ratio_tries_more_of_what_fails(tmp_path):
    """paddr pageout without swap reclaims nothing; a 1/4 failed-bytes
    charge lets each 1 MiB window try about 4 MiB."""
    common = ["--ops", "paddr", "--memory", "dram:512M", "--damos_action", "pageout",
              "--damos_quotas", "0", "1M", "100ms"]
    _, plain = record(tmp_path, *common, name="p.data")
    _, ratio = record(tmp_path, *common, "--damos_quota_fail_charge_ratio", "1", "4",
                      name="r.data")
    assert scheme_stat(plain, "sz_applied") == scheme_stat(ratio, "sz_applied") == 0
    tried_plain, tried_ratio = scheme_stat(plain, "sz_tried"), scheme_stat(ratio, "sz_tried")
    assert tried_plain > 0
    assert 3.5 <= tried_ratio / tried_plain <= 4.0


def test_node_eligible_goal_on_paddr_records(tmp_path):
    """node_eligible_mem_bp measures node 0 (damo passes no node id): all of
    stairs' memory is there.  Below a 200% target the consist tuner grows the
    quota and cold memory moves to node 1; above a 50% one (score 2x) the
    quota stays at its 1-byte minimum, so nothing is tried."""
    common = ["--ops", "paddr", "--memory", "dram:256M,cxl:256M", "--damos_action",
              "migrate_cold", "1", "--damos_quotas", "0", "0", "100ms"]
    _, grow = record(tmp_path, *common, "--damos_quota_goal", "node_eligible_mem_bp",
                     "20000", timeout="4", name="g.data")
    _, stay = record(tmp_path, *common, "--damos_quota_goal", "node_eligible_mem_bp",
                     "5000", timeout="4", name="s.data")
    assert grow["schemes"][0]["esz"][-1] > 4096
    assert scheme_stat(grow, "nr_tried") > 0 and scheme_stat(grow, "sz_applied") > 0
    assert grow["node_used"][-1][1] > 0                 # bytes in use on node 1 at the end
    assert stay["node_used"][-1][1] == 0
    assert stay["schemes"][0]["esz"][-1] == 1
    assert scheme_stat(stay, "nr_tried") == 0


def test_addr_unit_records_regions_in_address_units(tmp_path):
    """With --damon_addr_unit 4 the regions are in units of 4 bytes: the
    machine's RAM, at physical [4 GiB, 5 GiB), is [1 GiB, 1.25 GiB)."""
    out, _ = record(tmp_path, "--ops", "paddr", "--memory", "dram:1G",
                    "--damon_addr_unit", "4", timeout="1")
    code, text, err = run_ours("report", "access", "-i", out, "--raw_form")
    assert code == 0, err
    ranges = [[int(x, 16) for x in m.groups()] for m in
              (re.match(r"([0-9a-f]{12})-([0-9a-f]{12}) ", line) for line in text.splitlines())
              if m]
    assert ranges
    assert min(r[0] for r in ranges) == (4 << 30) // 4
    assert max(r[1] for r in ranges) == (5 << 30) // 4


@pytest.mark.parametrize("args, message", [
    (["--ops", "paddr", "--damon_addr_unit", "3"], "not a power of two"),
    (["--damon_addr_unit", "4"], "only paddr takes an address unit"),
])
def test_addr_unit_refused_as_the_kernel_would(tmp_path, args, message):
    code, out, err = run_ours("record", "stairs", "--timeout", "1", *args,
                              "-o", str(tmp_path / "x.data"))
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "x.data").exists()


def test_features_name_the_followed_kernel():
    import damo_engine
    code, out, err = run_ours("features", "supported", "--infer_version")
    assert code == 0
    lines = out.splitlines()
    for feature in ("sysfs/damos_action_collapse", "sysfs/damos_quota_fail_charge_ratio",
                    "sysfs/damos_quota_goal_node_eligible_mem_bp", "sysfs/ctx_pause",
                    "sysfs/addr_unit", "sysfs/attrs_monitoring", "sysfs/probe_weights"):
        assert feature in lines
    # probe weights are the newest (7.3) feature the engine has
    assert lines[-2] == "Seems the version of DAMON is 7.3"
    assert damo_engine.KERNEL_VERSION in lines[-1] and damo_engine.KERNEL_COMMIT in lines[-1]


def test_record_of_a_paused_context_says_it_was_paused(tmp_path):
    """ctx->pause from the start: the kdamond never samples, so nothing is
    aggregated; the error (no scheme) or the warning (a scheme: the machine
    metrics are still written) names the paused context, not the workload."""
    out = str(tmp_path / "p.data")
    code, _, err = run_ours("record", "stairs", "--pause_ctx", "0", "--timeout", "1", "-o", out)
    assert code == 1
    assert err == "damo: error: nothing was recorded: context 0 was paused (--pause_ctx) " \
                  "for the whole run\n"
    assert not (tmp_path / "p.data").exists()
    code, _, err = run_ours("record", "stairs", "--pause_ctx", "0", "--damos_action", "stat",
                            "--timeout", "1", "-o", out)
    assert code == 0, err
    assert "no access snapshot: context 0 was paused (--pause_ctx) for the whole run" in err
    # an unpaused context of the same command line records as always: the
    # aggregations closed within the second.  Ten 100 ms aggregations take
    # a little more than 1 s (a sampling interval is 5 ms of sleep plus the
    # kdamond's work), so the 10th is still open when --timeout stops the
    # kdamond, which reports no open aggregation (kdamond_fn() leaves its
    # loop without kdamond_reset_aggregated()): nine
    code, _, err = run_ours("record", "stairs", "--timeout", "1", "-o", out)
    assert code == 0 and "wrote 9 snapshots of 1.0 simulated seconds" in err, err
    from damo import records
    rec = records.load(out).records[0]
    assert rec.end_ns[-1] <= 1e9 < rec.end_ns[-1] + 100e6
