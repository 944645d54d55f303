"""What schemes do to a workload, end to end through damo record and the
machine metrics: prcl-style pageout cuts the RSS of mostly-cold memory at a
small runtime cost; DAMON_RECLAIM stays off above its high watermark and
works between its watermarks; mtier moves the hot set into DRAM and the cold
set out, and the runtime drops against first-touch placement."""
import json

import pytest

from conftest import run_ours
from damo.reports import profile

MiB = 1 << 20
PRCL = ["--damos_action", "pageout", "--damos_sz_region", "4K", "max",
        "--damos_access_rate", "0", "0", "--damos_age", "5s", "max"]


def record(tmp_path, name, *args):
    out = str(tmp_path / name)
    code, _, err = run_ours("record", *args, "-o", out)
    assert code == 0, err
    with open(out + ".sim_metrics") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def hotcold(tmp_path_factory):
    """hotcold (20 MiB hot, 180 MiB touched once then idle) without and with
    a prcl scheme, on a machine with zswap."""
    tmp = tmp_path_factory.mktemp("hotcold")
    base = record(tmp, "base.data", "hotcold", "--memory", "dram:1G,swap:zswap")
    prcl = record(tmp, "prcl.data", "hotcold", "--memory", "dram:1G,swap:zswap", *PRCL)
    return base, prcl


def test_prcl_cuts_rss_by_most_of_the_cold_share(hotcold):
    base, prcl = hotcold
    b, v = profile.summary(base), profile.summary(prcl)
    cold = 180 * MiB
    # at the end, most of the cold 180 MiB is swapped out, the hot 20 MiB stays
    _, rss = profile.rss_series(prcl)
    assert rss[-1].sum() <= 200 * MiB - 0.9 * cold
    assert prcl["swapped"][-1][0] >= 0.9 * cold
    # on average over the run (the cold data is idle for 5 s first)
    assert v["rss.avg"] <= b["rss.avg"] - 0.5 * cold
    # at a small runtime cost
    assert v["runtime"] <= 1.02 * b["runtime"]
    assert v["zswpout"] >= 0.9 * cold // 4096      # zswap stores: not pswpout
    scheme = prcl["final"]["schemes"][0]
    assert scheme["action"] == "pageout" and scheme["stats"]["sz_applied"] >= 0.9 * cold


def test_overheads_are_variant_over_baseline_minus_one(hotcold):
    base, prcl = hotcold
    over = profile.overheads(profile.summary(prcl), profile.summary(base))
    b, v, ratio = over["rss.avg"]
    assert ratio == pytest.approx(v / b - 1)
    assert ratio < -0.5
    assert over["pswpout"][2] is None           # nothing swapped in the baseline


def test_damon_reclaim_does_nothing_above_its_high_watermark(tmp_path):
    """A 1 GiB machine running 200 MiB: over 50% free, so DAMON_RECLAIM
    (watermarks 500/400/200 permil) never activates: no sampling at all."""
    m = record(tmp_path, "r.data", "hotcold", "--memory", "dram:1G,swap:zswap",
               "--preset", "reclaim")
    final = m["final"]
    assert final["kdamonds"][0]["nr_access_checks"] == 0
    assert final["schemes"][0]["stats"]["nr_tried"] == 0
    assert not final["schemes"][0]["active"]
    assert final["vmstat"]["pswpout"] == final["vmstat"]["zswpout"] == 0


def test_damon_reclaim_reclaims_between_its_watermarks(tmp_path):
    """A 300 MiB machine: about 33% free once populated (between low 20% and
    mid 40%): cold memory is paged out until free memory is above the high
    watermark (50%), then the scheme turns off again."""
    m = record(tmp_path, "r.data", "hotcold", "--memory", "dram:300M,swap:zswap",
               "--preset", "reclaim", "--preset_param", "min_age=5s")
    final = m["final"]
    scheme = final["schemes"][0]
    assert scheme["stats"]["sz_applied"] >= 40 * MiB
    assert final["vmstat"]["zswpout"] >= 40 * MiB // 4096
    used = m["node_used"][-1][0]
    assert 300 * MiB - used >= 0.5 * 300 * MiB      # above the high watermark now
    assert not scheme["active"]


TIER_CFG = """cold, 100663296
hot, 33554432

populate
400
cold, 0, 4096, 1

run
20000
hot, 1, 64, 1, rw
"""


def test_mtier_promotes_the_hot_set_and_demotes_the_cold(tmp_path):
    """96 MiB touched first fills a 64 MiB DRAM node; the hot 32 MiB then
    lands on CXL.  mtier (with 100 ms quota windows and a 20% free goal for
    the fast node, so that its feedback loops converge within seconds)
    moves the hot set up and the cold set down; the runtime drops."""
    cfg = tmp_path / "tier.cfg"
    cfg.write_text(TIER_CFG)
    machine = ["--memory", "dram:64M,cxl:1G"]
    first_touch = record(tmp_path, "ft.data", str(cfg), *machine)
    mtier = record(tmp_path, "mt.data", str(cfg), *machine, "--preset", "mtier",
                   "--preset_param", "quota_reset_interval_ms=100",
                   "--preset_param", "apply_interval=100ms",
                   "--preset_param", "demote_target_bp=2000")
    ft, mt = profile.summary(first_touch), profile.summary(mtier)
    assert mt["runtime"] < 0.8 * ft["runtime"]
    vm = mtier["final"]["vmstat"]
    assert vm["pgpromote_success"] >= 0.8 * 32 * MiB // 4096
    assert vm["pgdemote"] >= 0.8 * 32 * MiB // 4096
    promote, demote = mtier["final"]["schemes"]
    # what each scheme applied is the pages that moved (the kernel's migrate
    # actions count the migrated pages), so at least the bounds above
    assert promote["action"] == "migrate_hot"
    assert promote["stats"]["sz_applied"] == vm["pgpromote_success"] * 4096
    assert demote["action"] == "migrate_cold"
    assert demote["stats"]["sz_applied"] == vm["pgdemote"] * 4096
    # most accesses now hit DRAM (a CXL miss costs about twice a DRAM one)
    rt = mtier["final"]["processes"][0]["runtime"]
    assert rt["accesses"][0] > rt["accesses"][1]
    rt_ft = first_touch["final"]["processes"][0]["runtime"]
    assert rt_ft["stall_ns"][1] > 10 * rt_ft["stall_ns"][0]


def test_mtier_needs_two_tiers(tmp_path):
    code, _, err = run_ours("record", "hotcold", "--preset", "mtier", "--memory", "dram:1G",
                            "-o", str(tmp_path / "x.data"))
    assert code == 2 and err.strip() == ("damo: error: --preset mtier needs a machine with two "
                                         "memory tiers, e.g. --memory dram:1G,cxl:4G")
