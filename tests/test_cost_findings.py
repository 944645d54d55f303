"""Issue 13's findings, each checked through the CLI: one-line refusals
instead of tracebacks or runaway memory, and the mtier preset doing what
the kernel would (nothing, with the reason named) and what the README says
makes it move."""
import json
import os
import subprocess
import sys

import pytest

from conftest import run_ours

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def damo(*args, cwd):
    p = subprocess.run([sys.executable, "-m", "damo.cli"] + list(args), cwd=cwd,
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def one_error_line(code, err, *words):
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("damo: error:"), err
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.fixture(scope="module")
def stairs(tmp_path_factory):
    d = tmp_path_factory.mktemp("stairs")
    code, _, err = damo("record", "stairs", "--timeout", "2", "-o", "s.data", cwd=d)
    assert code == 0, err
    return d


def test_zero_intervals_are_refused_for_a_run_of_known_length(tmp_path):
    """0 0 0 aggregates every simulated microsecond: a --timeout of 35 s
    makes tens of millions of snapshots, refused up front with the reason
    (without one, the recording stops at its cap: the writer's test)."""
    code, _, err = damo("record", "zigzag", "--monitoring_intervals", "0", "0", "0",
                        "--timeout", "35", "-o", "z.data", cwd=tmp_path)
    one_error_line(code, err, "--timeout", "monitoring_intervals", "snapshots")
    assert not os.path.exists(tmp_path / "z.data")


def test_huge_masim_regions_are_one_line(tmp_path):
    for size in (10 ** 14, 10 ** 15):
        (tmp_path / "big.cfg").write_text("# regions\na, %d\nb, %d\n\np\n1000\na, 0, 4096, 1\n"
                                          % (size, size))
        code, _, err = damo("record", "big.cfg", "-o", "b.data", cwd=tmp_path)
        one_error_line(code, err, "big.cfg")


def test_heatmap_image_too_large_is_refused(stairs):
    code, _, err = damo("report", "heatmap", "-i", "s.data", "--output", "h.png",
                        "--size", "100000", "100000", cwd=stairs)
    one_error_line(code, err, "too large")
    assert not os.path.exists(stairs / "h.png")


def test_small_heatmap_has_no_layout_warning(stairs):
    code, _, err = damo("report", "heatmap", "-i", "s.data", "--output", "small.png",
                        "--size", "100", "50", cwd=stairs)
    assert code == 0 and err == ""
    with open(stairs / "small.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def scheme_stats(path):
    with open(str(path) + ".sim_metrics") as f:
        m = json.load(f)
    return {s["action"]: s["stats"] for s in m["final"]["schemes"]}


def test_mtier_as_the_kernel_has_it_migrates_nothing_and_says_why(tmp_path):
    """samples/damon/mtier.c's 1 s apply interval under intervals
    auto-tuning (a damon_set_attrs() every 3 aggregations of 100 ms, which
    re-arms it): never applied, and diagnose names that cause."""
    out = tmp_path / "m.data"
    code, _, err = run_ours("record", "zigzag", "--memory", "dram:128M,cxl:1G", "--preset",
                            "mtier", "--timeout", "10", "-o", str(out))
    assert code == 0, err
    st = scheme_stats(out)
    assert st["migrate_hot"]["nr_snapshots"] == st["migrate_cold"]["nr_snapshots"] == 0
    assert st["migrate_hot"]["sz_applied"] == st["migrate_cold"]["sz_applied"] == 0
    code, text, _ = run_ours("diagnose", "-i", str(out))
    assert text.count("apply interval 1 s never reached: intervals auto-tuning re-armed") == 2


def test_mtier_without_interval_tuning_demotes(tmp_path):
    """What the README says makes it move: with intervals_autotune=false the
    demotion applies, its quota goal growing from one byte."""
    out = tmp_path / "m.data"
    code, _, err = run_ours("record", "zigzag", "--memory", "dram:128M,cxl:1G", "--preset",
                            "mtier", "--preset_param", "intervals_autotune=false",
                            "--timeout", "60", "-o", str(out))
    assert code == 0, err
    st = scheme_stats(out)
    assert st["migrate_cold"]["nr_snapshots"] > 0
    assert st["migrate_cold"]["sz_applied"] > 0


def metrics_of(path):
    with open(str(path) + ".sim_metrics") as f:
        return json.load(f)


@pytest.mark.parametrize("ops", ["paddr", "vaddr"])
def test_pageout_stats_agree_with_the_machine_counters(tmp_path, ops):
    """With zswap and no memory pressure (no kswapd), every page swapped out
    is DAMOS's: paddr's sz_applied is exactly the pages stored (reclaim_pages'
    count); vaddr's is madvise()'s length, at least what it swapped out. The
    pool holds them compressed: a third of them in frames."""
    out = tmp_path / "p.data"
    code, _, err = run_ours("record", "hotcold", "--memory", "dram:2G,swap:zswap",
                            "--ops", ops, "--damos_action", "pageout",
                            "--damos_access_rate", "0", "0", "--damos_age", "1s", "max",
                            "--timeout", "10", "-o", str(out))
    assert code == 0, err
    m = metrics_of(out)
    vm, st = m["final"]["vmstat"], m["final"]["schemes"][0]["stats"]
    assert vm.get("pgscan_kswapd", 0) == 0 and vm.get("pgscan_direct", 0) == 0
    stored = vm["zswpout"] + vm["pswpout"]
    assert stored > 0
    if ops == "paddr":
        assert st["sz_applied"] == stored * 4096
    else:
        assert st["sz_applied"] >= stored * 4096
    # swapped-out pages come back as swap-ins: what is still out is the difference
    assert vm["swap_used"] == (stored - vm["zswpin"] - vm["pswpin"]) * 4096
    # and the kdamond never used more than the run's time
    k, = m["final"]["kdamonds"]
    assert 0 < k["cpu_ns"] <= m["final"]["time_ns"]


def test_pageout_without_swap_applies_nothing_to_anonymous_memory(tmp_path):
    """paddr counts what reclaim_pages() reclaimed: nothing, without swap."""
    out = tmp_path / "p.data"
    code, _, err = run_ours("record", "hotcold", "--memory", "dram:1G", "--ops",
                            "paddr", "--damos_action", "pageout", "--damos_access_rate", "0",
                            "0", "--damos_age", "1s", "max", "--timeout", "5", "-o", str(out))
    assert code == 0, err
    st = metrics_of(out)["final"]["schemes"][0]["stats"]
    assert st["sz_tried"] > 0 and st["sz_applied"] == 0
