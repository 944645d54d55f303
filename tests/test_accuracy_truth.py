"""damo record --ground_truth: the exact truth beside DAMON's estimate.

The expected values come from a masim config whose truth is known by
construction: one 4 MiB region ("hot") walked sequentially all the time,
whose pages are then touched in every 5 ms sampling interval (its bursts run
a pass over it every 0.02 ms), and one 60 MiB region ("cold") never touched.
"""
import os

import numpy as np
import pytest

from conftest import run_ours
from damo import records
from damo.records import truth as truth_mod

PAGE = 4096
HOT = 4 << 20
COLD = 60 << 20
HOT_CFG = """#regions
hot, %d
cold, %d

#phases
only hot
%d
hot, 0, 4096, 100
"""
# masim's loop also touches its own code page and stack page every burst, and
# a malloc'ed region straddles one page more than its size
LOOP_PAGES = 3


def hot_cfg(tmp_path, ms=2000):
    path = tmp_path / "hot.cfg"
    path.write_text(HOT_CFG % (HOT, COLD, ms))
    return str(path)


@pytest.fixture(scope="module")
def hot_recording(tmp_path_factory):
    d = tmp_path_factory.mktemp("hot")
    out = str(d / "hot.data")
    code, _, err = run_ours("record", hot_cfg(d), "--ground_truth", "-o", out)
    assert code == 0, err
    rec = records.load(out)
    return out, rec, truth_mod.load(out, rec)


def snapshot_cells(t, rec, i):
    sl = rec.records[0].snapshot_slice(i)
    c = slice(t.cell_offsets[sl.start], t.cell_offsets[sl.stop])
    return t.cell_nr[c], t.cell_age[c], t.cell_pages[c]


def test_truth_of_one_hot_region_from_its_config(hot_recording):
    out, rec, truths = hot_recording
    r, t = rec.records[0], truths[0]
    assert os.path.exists(out + ".truth")
    assert r.nr_snapshots == t.nr_snapshots == 20          # 2 s of 100 ms aggregations
    # 5 ms sampling, 100 ms aggregation: 20 sampling intervals each
    assert t.nr_samples.tolist() == [20] * 20
    # the first interval also has the program's start (the loader, libc)
    assert HOT < t.wss[0] < HOT + (64 << 10)
    # (the last interval, in which the program exits: see below)
    for i in range(1, r.nr_snapshots - 1):
        assert HOT <= t.wss[i] <= HOT + LOOP_PAGES * PAGE
        nr, age, pages = snapshot_cells(t, rec, i)
        # every hot page in all 20 sampling intervals; nothing else accessed
        hot = pages[nr == 20].sum()
        assert HOT // PAGE <= hot <= HOT // PAGE + LOOP_PAGES
        assert pages[(nr > 0) & (nr < 20)].sum() == 0
        assert hot * PAGE == t.wss[i]
        # the cold region is never touched: i intervals idle (age counts
        # from the first), as old as the hot pages are hot
        assert pages[(nr == 0) & (age == i)].sum() >= COLD // PAGE
        assert set(age[nr == 20].tolist()) <= {i, i - 1}
        assert pages[(nr == 20) & (age == i)].sum() >= HOT // PAGE
        # the regions' pages are all counted, once
        sl = r.snapshot_slice(i)
        assert pages.sum() == ((r.ends[sl] - r.starts[sl]) // PAGE).sum()


def test_truth_of_the_interval_in_which_the_program_exits(hot_recording):
    """The program runs 2000 ms after its start-up; the 20th aggregation
    closes a few ms after 2 s (each of its sampling intervals is 5 ms of
    sleep plus the kdamond's work), in the sampling interval the program
    exits in.  kdamond_fn() checks kdamond_need_stop() only at its loop's
    top, so it completes that interval, whose access check finds no mm
    (__damon_va_check_access(): not accessed), and reports the aggregation.
    Its truth is what the program did in it before exiting."""
    _, rec, truths = hot_recording
    r, t = rec.records[0], truths[0]
    last = r.nr_snapshots - 1
    assert t.nr_samples[last] == 20
    assert HOT <= t.wss[last] <= HOT + LOOP_PAGES * PAGE
    nr, age, pages = snapshot_cells(t, rec, last)
    # the hot pages were accessed in every sampling interval, the last
    # (the one it exited in) included
    hot = pages[nr == 20].sum()
    assert HOT // PAGE <= hot <= HOT // PAGE + LOOP_PAGES
    assert hot * PAGE == t.wss[last]
    assert pages[(nr > 0) & (nr < 20)].sum() == 0
    sl = r.snapshot_slice(last)
    assert pages.sum() == ((r.ends[sl] - r.starts[sl]) // PAGE).sum()
    # DAMON's last check came after the exit: one sampling interval fewer
    assert r.nr_accesses[r.snapshot_slice(last - 1)].max() == 20
    assert r.nr_accesses[sl].max() == 19


def test_an_aggregation_the_program_exits_in_the_middle_of_is_not_recorded(tmp_path):
    """1950 ms: 19 aggregations of 100 ms (and the kdamond's work, a few ms
    in all) close before the exit, 50 ms (ten sampling intervals) into the
    20th; at its loop's top after the exit the kdamond finds its target gone
    (damon_va_target_valid()) and stops without reporting the open one.
    The truth has the same snapshots, none of them empty."""
    out = str(tmp_path / "early.data")
    code, _, err = run_ours("record", hot_cfg(tmp_path, ms=1950), "--ground_truth",
                            "-o", out)
    assert code == 0, err
    assert "wrote 19 snapshots" in err
    rec = records.load(out)
    r, t = rec.records[0], truth_mod.load(out, rec)[0]
    assert r.nr_snapshots == t.nr_snapshots == 19
    assert t.nr_samples.tolist() == [20] * 19
    assert r.end_ns[-1] < 1.95e9
    for i in range(1, 19):
        assert HOT <= t.wss[i] <= HOT + LOOP_PAGES * PAGE


def test_region_truth_agrees_with_its_cells(hot_recording):
    _, rec, truths = hot_recording
    r, t = rec.records[0], truths[0]
    owner = np.repeat(np.arange(r.nr_regions), t.nr_cells)
    sizes = (r.ends - r.starts).astype(np.int64) // PAGE
    assert np.array_equal(np.bincount(owner, weights=t.cell_pages, minlength=r.nr_regions),
                          sizes)
    mean = np.bincount(owner, weights=t.cell_pages * t.cell_nr.astype(np.int64),
                       minlength=r.nr_regions) / sizes
    assert np.allclose(mean, t.mean_nr)
    accessed = np.bincount(owner, weights=t.cell_pages * (t.cell_nr > 0),
                           minlength=r.nr_regions) * PAGE
    assert np.array_equal(accessed, t.accessed)
    assert np.all(t.accessed <= sizes * PAGE)


def test_truth_matches_the_engines_pages_one_by_one():
    """The collector's columns, against a page-by-page count over the
    engine's own per-VMA arrays (TargetSnapshot.ground_truth*), on stairs."""
    from damo_engine import Context, MasimWorkload, Simulation, Target, make_ops, masim
    from damo_engine.machines import make_machine
    from damo.workloads import masim as wl

    cfg = masim.load(os.path.join(wl.CONFIGS_DIR, "stairs_30secs.cfg"))
    runs = []
    for collect in (False, True):
        sim = Simulation(make_machine(None, fits=cfg.total_size), seed=3)
        w = MasimWorkload(cfg)
        pid = sim.add_workload(w, track_ground_truth=True)
        ctx = Context(make_ops("vaddr"), sample_us=5000, aggr_us=100000, update_us=1000000,
                      min_nr_regions=10, max_nr_regions=1000)
        ctx.add_target(Target(pid))
        sim.add_kdamond([ctx])
        got = []
        collector = truth_mod.TruthCollector(sim) if collect else None
        sim.on_snapshot = (lambda s: got.append((s, collector.snapshot(s, s.targets[0])))) \
            if collect else got.append
        sim.run(8e9)
        runs.append(got)
    plain, collected = runs
    assert len(plain) == len(collected) == 80
    ages = {}
    for i, (s, (s2, t)) in enumerate(zip(plain, collected)):
        tp = s.targets[0]
        assert np.array_equal(tp.starts, s2.targets[0].starts)
        assert tp.ground_truth_samples is not None and s2.targets[0].ground_truth is None
        page_nr, page_acc = {}, {}
        for (vs, c), (_, n) in zip(tp.ground_truth, tp.ground_truth_samples):
            assert np.all(n <= 20) and np.array_equal(c > 0, n > 0)
            for j in np.flatnonzero(c).tolist():
                page_nr[vs // PAGE + j] = int(n[j])
            for j in range(len(c)):
                p = vs // PAGE + j
                a = bool(c[j])
                prev = ages.get(p)
                ages[p] = (a, 0 if prev is None or prev[0] != a else prev[1] + 1)
                page_acc[p] = a
        assert t.wss == PAGE * sum(page_acc.values())
        assert t.nr_samples == 20
        k = 0
        for ri, (start, end) in enumerate(zip(tp.starts.tolist(), tp.ends.tolist())):
            pages = range(start // PAGE, end // PAGE)
            nrs = [page_nr.get(p, 0) for p in pages]
            assert t.accessed[ri] == PAGE * sum(1 for x in nrs if x)
            assert t.mean_nr[ri] == pytest.approx(sum(nrs) / len(nrs))
            cells = {}
            for p, x in zip(pages, nrs):
                age = ages[p][1] if p in ages else truth_mod.NEVER
                cells[(x, age)] = cells.get((x, age), 0) + 1
            got_cells = {(int(a), int(b)): int(c) for a, b, c in zip(
                t.cell_nr[k:k + t.nr_cells[ri]], t.cell_age[k:k + t.nr_cells[ri]],
                t.cell_pages[k:k + t.nr_cells[ri]])}
            assert got_cells == cells, (i, ri)
            k += t.nr_cells[ri]


@pytest.mark.parametrize("output_type", ["json_compressed", "native"])
def test_recording_itself_is_unchanged(tmp_path, output_type):
    """The recording damo reads is the one a plain record writes, byte for
    byte; the truth goes in a sidecar (or the native file's metadata)."""
    cfg = hot_cfg(tmp_path, 500)
    plain, gt = str(tmp_path / "plain"), str(tmp_path / "gt")
    assert run_ours("record", cfg, "-o", plain, "--output_type", output_type)[0] == 0
    assert run_ours("record", cfg, "-o", gt, "--output_type", output_type,
                    "--ground_truth")[0] == 0
    if output_type == "native":
        assert not os.path.exists(gt + ".truth")
        rec = records.load(gt)
        assert truth_mod.METADATA_KEY in rec.metadata
        assert truth_mod.load(gt, rec)[0].nr_snapshots == 5
        assert records.load(plain).records[0].nr_regions == rec.records[0].nr_regions
    else:
        assert open(plain, "rb").read() == open(gt, "rb").read()
        assert truth_mod.load(gt, records.load(gt))[0].nr_snapshots == 5
    # recording again without the truth: the old sidecar is not left to
    # describe the new recording
    assert run_ours("record", cfg, "-o", gt)[0] == 0
    assert not os.path.exists(gt + ".truth")
    assert truth_mod.load(gt, records.load(gt)) is None


def test_damo_reads_a_recording_with_truth(damo, hot_recording, tmp_path):
    out, _, _ = hot_recording
    code, theirs = damo.report("access", "--raw_form", "--input", out)
    assert code == 0
    assert theirs == run_ours("report", "access", "--raw_form", "--input", out)[1]


def test_replay_and_trace_keep_the_truth(hot_recording, tmp_path):
    out, _, _ = hot_recording
    replayed = str(tmp_path / "r.data")
    code, _, err = run_ours("replay", out, "-o", replayed, "--ground_truth")
    assert code == 0, err
    t = truth_mod.load(replayed, records.load(replayed))[0]
    assert t.nr_snapshots > 0 and np.all(t.nr_samples == 20)
    # the replay touches the hot region's pages in every slice of a snapshot
    # whose recorded samples are 20
    assert np.median(t.wss) >= HOT


def test_record_trace_keeps_the_truth(tmp_path):
    from damo.workloads import tracing
    trace = tmp_path / "t.lackey"
    lines = ["==1== lackey"]
    for rep in range(300):
        for page in range(64):
            lines.append("I  %x,4" % (0x400000 + 4 * page))
            lines.append(" L %x,8" % (0x10000000 + page * PAGE))
    trace.write_text("\n".join(lines) + "\n")
    out = str(tmp_path / "t.data")
    code, _, err = run_ours("record", "--trace", str(trace), "-o", out, "--ground_truth",
                            "--time_per_instruction", "100", "--monitoring_intervals",
                            "50us", "1ms", "10ms")
    assert code == 0, err
    t = truth_mod.load(out, records.load(out))[0]
    assert t.nr_snapshots > 0
    # the 64 traced pages (and the code's page), no more
    assert np.all(t.wss <= 65 * PAGE) and t.wss.max() >= 64 * PAGE
    assert tracing is not None


@pytest.mark.parametrize("args, message", [
    (["--ops", "paddr"], "--ground_truth: needs a virtual address space"),
    (["--damos_action", "stat", "--schemes_target_regions"],
     "--ground_truth: describes aggregated snapshots"),
    (["--do_record", "mem_footprint"], "--ground_truth: describes aggregated snapshots"),
])
def test_ground_truth_refusals(tmp_path, args, message):
    code, _, err = run_ours("record", hot_cfg(tmp_path, 300), "--ground_truth",
                            "-o", str(tmp_path / "x"), *args)
    assert code != 0 and err.strip().splitlines() == ["damo: error: " + message
                                                      + err.split(message)[1].splitlines()[0]]
    assert not os.path.exists(tmp_path / "x")


def test_engine_counts_each_page_once_per_sampling_interval():
    """Pages touched on their own and with their whole VMA in one interval
    count once for it; accesses all count (by hand, on a 16-page VMA)."""
    from damo_engine.machines import make_machine
    machine = make_machine("dram:64M")
    mm = machine.new_address_space(True)
    vma = mm.map(0x10000000, 16 * PAGE)
    mm.access(0x10000000, 4 * PAGE)             # interval 1: pages 0-3 on their own,
    mm.access(0x10000000, 16 * PAGE)            # then the whole VMA
    mm.next_gt_epoch()
    mm.access(0x10000000 + 4 * PAGE, 2 * PAGE, count=3)    # interval 2: pages 4-5
    mm.next_gt_epoch()
    mm.access(0x10000000, 16 * PAGE)            # interval 3: the whole VMA twice,
    mm.access(0x10000000, 16 * PAGE)
    mm.access(0x10000000 + 15 * PAGE, PAGE)     # and its last page on its own
    mm.next_gt_epoch()                          # interval 4: nothing
    expected_samples = [2] * 4 + [3] * 2 + [2] * 10
    expected_counts = [4] * 4 + [6] * 2 + [3] * 9 + [4]
    assert vma.ground_truth_samples().tolist() == expected_samples
    assert vma.ground_truth().tolist() == expected_counts
    starts, lens, counts, samples = mm.ground_truth_pages()
    assert starts.tolist() == [0x10000000] and lens.tolist() == [16]
    assert counts.tolist() == expected_counts and samples.tolist() == expected_samples
