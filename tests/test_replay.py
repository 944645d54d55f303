"""``damo replay``: a recording's access pattern run again, in the simulator
(the real DAMON recording comes back with the same heatmap; memory tiers and
profile) and as real memory accesses (paced; --test_perf), and the recordings
it cannot replay."""
import json
import os
import re
import time
import zlib

import numpy as np
import pytest

import synth
from conftest import UPSTREAM_RECORD, run_ours
from damo import records
from damo.reports import guide as guide_mod
from damo.reports.heatmap import HeatMap

FAST = {"sample_us": 1000, "aggr_us": 20000, "ops_update_us": 100000}


@pytest.fixture(scope="module")
def upstream_replay(tmp_path_factory):
    d = tmp_path_factory.mktemp("replay")
    out = str(d / "replayed.data")
    code, stdout, err = run_ours("replay", UPSTREAM_RECORD, "-o", out)
    assert code == 0, err
    return out, stdout, err


def heat_matrix(record, time_range, addr_range, resol=(40, 80)):
    hm = HeatMap.build([record], time_range, addr_range, resol)
    return np.nan_to_num(hm.heats.reshape(resol))


def test_replaying_the_real_damon_recording_gives_back_its_heatmap(upstream_replay):
    out, _, err = upstream_replay
    assert "no monitoring intervals; replaying with sampling 4.952 ms and aggregation " \
           "103.994 ms inferred" in err
    orig, = records.load(UPSTREAM_RECORD).records
    replayed, = records.load(out).records
    assert replayed.target_id == orig.target_id
    assert replayed.intervals.sample_us == 4952 and replayed.intervals.aggr_us == 103994
    assert abs(replayed.nr_snapshots - orig.nr_snapshots) <= 5
    guide = guide_mod.guides_of([orig])[0]
    area = guide.hottest_region()
    time_range = (int(orig.start_ns[0]), int(orig.end_ns[-1]))
    a = heat_matrix(orig, time_range, (area.start, area.end))
    # the replay's heat is in hz: bring it back to samples per aggregation
    b = heat_matrix(replayed, time_range, (area.start, area.end)) * 0.103994
    corr = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    assert corr > 0.9, corr
    # and the same levels, pixel by pixel, for most pixels
    assert np.mean(np.abs(a - b)) < 0.15 * a.max()
    rows = [np.corrcoef(x, y)[0, 1] for x, y in zip(a, b) if x.std() and y.std()]
    assert np.median(rows) > 0.9


def test_replay_writes_its_profile(upstream_replay):
    out, stdout, _ = upstream_replay
    assert stdout.startswith("target 18446623438842320000: 56.797 s of recording replayed in ")
    metrics = json.load(open(out + ".sim_metrics"))
    proc, = metrics["final"]["processes"]
    assert proc["finished"] and proc["runtime_ns"] >= 56.797e9
    assert sum(proc["runtime"]["accesses"]) > 0
    assert max(sum(map(sum, sample)) for sample in metrics["rss_by_node"]) > 0
    code, text, err = run_ours("report", "profile", "-i", out, "--sections", "runtime,memory")
    assert code == 0, err
    assert "Runtime" in text and "replay of target" in text


def replay_profile(name, *args):
    code, out, err = run_ours("replay", "src.data", "-o", name + ".data", "--sequential_access_rate",
                              "2000", *args)
    assert code == 0, err
    late = float(re.search(r"\(([0-9.]+) (ms|us|ns|s) late\)", out).group(1))
    proc = json.load(open(name + ".data.sim_metrics"))["final"]["processes"][0]
    return proc, out, late


def test_replay_on_a_cxl_machine_stalls_more(tmp_path, monkeypatch):
    """64 MiB areas (a hot band of 4 beside lukewarm ones) do not fit the
    cache: the same touches take longer on CXL; the busy time shows it
    (the paced time is the recording's while the work fits its slices)."""
    monkeypatch.chdir(tmp_path)
    synth.stairs("src.data", nr_snapshots=20, nr_regions=16, intervals=FAST,
                 region_size=64 << 20)
    dram, _, _ = replay_profile("dram", "--memory", "dram:2G")
    cxl, _, _ = replay_profile("cxl", "--memory", "dram:8M,cxl:2G")
    assert dram["runtime"]["accesses"] == [sum(cxl["runtime"]["accesses"])]
    # replay's rule: slice i of a snapshot (20 slices of 1 ms) is worked on
    # when some region's nr_accesses exceeds i, at 2000 page touches a slice;
    # the run may end inside the last slice
    src, = records.load("src.data").records
    active = sum(int(src.nr_accesses[src.snapshot_slice(i)].max())
                 for i in range(src.nr_snapshots))
    assert 2000 * (active - 1) <= dram["runtime"]["accesses"][0] <= 2000 * active
    # the touches are spread evenly over the active pages, at least two
    # regions of 64 MiB (less up to 7 pages) at a time, while 8 MiB of DRAM
    # holds at most 2048 pages: at most that share of the touches is on DRAM
    total = sum(cxl["runtime"]["accesses"])
    assert cxl["runtime"]["accesses"][0] <= total * 2048 / (2 * ((64 << 20) // 4096 - 7))
    assert sum(cxl["runtime"]["stall_ns"]) > sum(dram["runtime"]["stall_ns"]) > 0
    assert cxl["busy_ns"] > dram["busy_ns"]
    assert cxl["runtime_ns"] >= cxl["busy_ns"]
    replayed, = records.load("cxl.data").records
    assert replayed.intervals.aggr_us == 20000


def test_replay_under_a_scheme_shows_what_it_did(tmp_path, monkeypatch):
    """Page out what stays cold for 100 ms: the stairs' cold areas go to
    swap and come back as major faults when their turn comes."""
    monkeypatch.chdir(tmp_path)
    synth.stairs("src.data", nr_snapshots=40, nr_regions=16, intervals=FAST,
                 region_size=4 << 20)
    plain, _, _ = replay_profile("plain", "--memory", "dram:1G,swap:zswap:1G")
    paged, _, _ = replay_profile("paged", "--memory", "dram:1G,swap:zswap:1G",
                                 "--damos_action", "pageout", "--damos_access_rate", "0", "0",
                                 "--damos_age", "100ms", "max")
    assert plain["runtime"]["major_faults"] == 0
    metrics = json.load(open("paged.data.sim_metrics"))
    vm = metrics["final"]["vmstat"]
    major = paged["runtime"]["major_faults"]
    # every major fault brings back a page the scheme paged out to zswap, at
    # zswap's cost in the cost model (6 us a page)
    assert 0 < major == vm["zswpin"] == vm["pgmajfault"] <= vm["zswpout"]
    assert vm["pswpout"] == vm["pswpin"] == 0
    assert paged["runtime"]["swapin_ns"] == pytest.approx(major * 6000.0)
    scheme, = metrics["final"]["schemes"]
    st = scheme["stats"]
    assert scheme["action"] == "pageout"
    assert 0 < st["sz_applied"] <= st["sz_tried"] and st["sz_applied"] % 4096 == 0
    code, text, err = run_ours("report", "profile", "-i", "paged.data", "--sections",
                               "schemes")
    assert code == 0 and "pageout" in text, err


def test_replay_samples_become_work_per_slice():
    """Two snapshots of 10 slices of 0.1 ms; region 1 (32 pages) accessed in
    3 then 10 slices, region 2 (32 pages) in 0 then 7.  At 640 accesses per
    ms, a slice does 64: two touches per page when region 1 is alone, one
    when both are active."""
    from damo_engine.machines import make_machine
    from damo_engine.replay import ReplayWorkload
    from damo_engine.sim import Simulation
    w = ReplayWorkload([(0x100000, 0x140000)], [0, 1e6], [1e6, 2e6], [0, 2, 4],
                       [0x100000, 0x120000, 0x100000, 0x120000],
                       [0x120000, 0x140000, 0x120000, 0x140000], [3, 0, 10, 7], [10, 10],
                       access_rate=640)
    sim = Simulation(make_machine("dram:1G"), seed=0)
    sim.add_workload(w, track_ground_truth=True)
    sim.run(2e6 - 1)
    gt = w.mm.vmas[0].ground_truth()
    # region 1: 3 slices alone, then 7 shared, then 3 alone
    assert set(gt[:32].tolist()) == {2 * 3 + 7 + 2 * 3}
    assert set(gt[32:].tolist()) == {7}
    assert w.pages_touched == 64 * (3 + 10)
    # busy only while touching: the slices' work is a few microseconds
    assert 0 < w.busy_ns < 0.1 * 2e6
    sim.run(10)
    assert w.finished and w.clock_ns == pytest.approx(2e6)


def test_replay_intensity_follows_the_nominal_speed():
    """Without an access rate, a slice is worked through at the nominal
    speed: its length over the per-access time on the reference memory."""
    from damo_engine.machines import make_machine
    from damo_engine.replay import ReplayWorkload
    from damo_engine.sim import Simulation
    from damo_engine import costs
    w = ReplayWorkload([(0x100000, 0x140000)], [0], [1e6], [0, 1], [0x100000], [0x140000],
                       [10], [10])
    sim = Simulation(make_machine("dram:1G"), seed=0)
    sim.add_workload(w)
    sim.run(2e6)
    # 64 pages of lines fit the cache: each touch costs the compute time
    per = costs.CPU["compute_ns"]["page_r"]
    assert w.pages_touched == pytest.approx(1e6 / per, rel=1e-3)
    # ... and the 64 pages' first touches fault them in
    assert w.busy_ns == pytest.approx(1e6 + 64 * costs.FAULTS["minor_fault_ns"][0], rel=1e-3)


@pytest.mark.parametrize("make, message", [
    ("zero_duration", "cannot replay: snapshot 0 of record 0 has no duration (replay "
                      "needs each snapshot's start_time before its end_time)"),
    ("no_snapshots", "cannot replay: it has no snapshots (replay needs snapshots with "
                     "start_time, end_time and regions with nr_accesses)"),
])
def test_recordings_without_what_replay_needs_are_one_error(tmp_path, monkeypatch, make,
                                                            message):
    monkeypatch.chdir(tmp_path)
    snapshots = [] if make == "no_snapshots" else [
        {"start_time": "1000", "end_time": "1000",
         "regions": [{"start": "4096", "end": "8192",
                      "nr_accesses": {"samples": 3, "percent": None},
                      "age": {"usec": None, "aggr_intervals": 1}}]}]
    data = [{"target_id": 0, "intervals": None, "snapshots": snapshots}]
    with open("bad.data", "wb") as f:
        f.write(zlib.compress(json.dumps(data).encode()))
    for args in (["replay", "bad.data"], ["replay", "--real", "bad.data"]):
        code, out, err = run_ours(*args)
        assert code == 1
        assert err.strip().splitlines()[-1] == "damo: error: bad.data: " + message
    assert not os.path.exists("replay.data")


def test_real_replay_is_paced_to_the_recording(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    synth.stairs("src.data", nr_snapshots=10, nr_regions=8, intervals=FAST)
    start = time.monotonic()
    code, out, err = run_ours("replay", "--real", "src.data")
    took = time.monotonic() - start
    assert code == 0, err
    assert "all snapshots are replayed" in out
    assert took >= 0.2                  # 10 snapshots of 20 ms
    assert "of pages touched" in out


def test_real_buffer_touches_pages_and_counts_them():
    from damo_engine.replay import RealBuffer
    buf = RealBuffer(64 << 12)
    assert buf.touch([0, 16 << 12], [4, 8]) == 12
    assert buf.resident_pages == 12
    assert buf.touch([0], [4], samples=[2], slice=2) == 0
    assert buf.touch([0], [4], samples=[3], slice=2) == 4
    with pytest.raises(ValueError):
        buf.touch([60 << 12], [8])


@pytest.mark.parametrize("with_recording", [False, True])
def test_test_perf_prints_damos_lines(tmp_path, monkeypatch, with_recording):
    monkeypatch.chdir(tmp_path)
    args = ["replay", "--test_perf", "--test_perf_runtime", "1.2"]
    if with_recording:
        synth.stairs("src.data", nr_snapshots=5, nr_regions=8, intervals=FAST)
        args.append("src.data")
    else:
        args += ["--test_perf_sz_mem", "16 MiB"]
    code, out, err = run_ours(*args)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("replayer can access ") and lines[0].endswith(
        " memory per second")
    assert lines[-1].startswith("# average: ")
