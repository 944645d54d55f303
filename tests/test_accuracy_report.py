"""damo report accuracy: DAMON's estimate against the exact truth.

The formulas are checked on a hand-made snapshot whose every figure is
computed by hand below; a recording of a masim config with one hot region
checks the whole path and the heatmaps.
"""
import json
import os

import numpy as np
import pytest

from conftest import run_ours
from damo.records import RecordingWriter
from damo.records.truth import SnapshotTruth, NEVER

PAGE = 4096


def hand_made(path, output_type="json_compressed"):
    """One snapshot, 5 ms sampling / 100 ms aggregation (20 samples):

    region A [0, 8 pages): DAMON 20 samples (100%), age 3; truly 4 pages in
        all 20 intervals (age 5), 4 pages never (age 5): mean 10 (50%);
    region B [8, 16 pages): DAMON 4 samples (20%), age 3; truly 2 pages in 10
        intervals (50%, age 0), 6 pages in 2 (10%, age 7): mean 4 (20%).
    """
    w = RecordingWriter(path, output_type)
    cells = [(20, 5, 4), (0, 5, 4), (10, 0, 2), (2, 7, 6)]
    t = SnapshotTruth(
        wss=12 * PAGE, nr_samples=20, nr_bin=1, age_rounded=False,
        accessed=np.array([4 * PAGE, 8 * PAGE]), mean_nr=np.array([10.0, 4.0]),
        nr_cells=np.array([2, 2]), cell_nr=np.array([c[0] for c in cells], np.uint32),
        cell_age=np.array([c[1] for c in cells], np.uint32),
        cell_pages=np.array([c[2] for c in cells]), nr_pieces=np.array([1, 1]),
        piece_nr=np.array([10.0, 4.0], np.float32))
    w.add_snapshot(0, 0, 0, 0, 100_000_000, np.array([0, 8 * PAGE], np.uint64),
                   np.array([8 * PAGE, 16 * PAGE], np.uint64), np.array([20, 4]),
                   np.array([3, 3]), intervals={"sample_us": 5000, "aggr_us": 100000,
                                                "ops_update_us": 1000000}, truth=t)
    w.commit()
    return path


def report_json(path, *args):
    code, out, err = run_ours("report", "accuracy", "-i", path, "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("output_type", ["json_compressed", "native"])
def test_figures_by_hand(tmp_path, output_type):
    path = hand_made(str(tmp_path / "h.data"), output_type)
    r = report_json(path)
    s = r["records"][0]["snapshots"][0]
    assert s["wss_true"] == 12 * PAGE and s["wss_damon"] == 16 * PAGE
    assert s["wss_error"] == pytest.approx(4 / 12)
    # |100 - 50| on A's 8 pages, |20 - 20| on B's, in percentage points
    assert s["region_freq_error"] == pytest.approx(50 * 8 / 16)
    # A: 4 pages |100-100|, 4 |100-0|; B: 2 |20-50|, 6 |20-10|
    assert s["page_freq_error"] == pytest.approx((400 + 60 + 60) / 16)
    # hot by default: accessed at all; DAMON calls all 16 pages hot, 12 are
    assert (s["hot_precision"], s["hot_recall"]) == (pytest.approx(0.75), 1.0)
    assert s["cold_precision"] is None and s["cold_recall"] == 0.0
    assert r["overall"]["wss_error"] == pytest.approx(4 / 12)


def test_classification_at_damos_thresholds(tmp_path):
    path = hand_made(str(tmp_path / "h.data"))
    s = report_json(path, "--access_rate", "30%", "max")["records"][0]["snapshots"][0]
    # DAMON: A hot, B cold; truly hot: A's 4 full pages and B's 2 at 50%
    assert s["hot_precision"] == pytest.approx(4 / 8)
    assert s["hot_recall"] == pytest.approx(4 / 6)
    assert s["cold_precision"] == pytest.approx(6 / 8)
    assert s["cold_recall"] == pytest.approx(6 / 10)
    # age in damo's filter units: DAMON's regions are 300 ms old, A's hot
    # pages 500 ms
    s = report_json(path, "--access_rate", "30%", "max", "--age", "400ms",
                    "max")["records"][0]["snapshots"][0]
    assert s["hot_precision"] is None and s["hot_recall"] == 0.0
    s = report_json(path, "--access_rate", "0", "0", "--age", "0", "max")[
        "records"][0]["snapshots"][0]
    # cold memory ("0 0"): none by DAMON; truly A's 4 idle pages
    assert s["hot_precision"] is None and s["hot_recall"] == 0.0
    # --sz_region narrows DAMON's regions only
    s = report_json(path, "--sz_region", "64K", "max")["records"][0]["snapshots"][0]
    assert s["hot_precision"] is None and s["hot_recall"] == 0.0
    code, _, err = run_ours("report", "accuracy", "-i", path, "--access_rate", "x", "max")
    assert code != 0 and err.startswith("damo: error: --access_rate") and \
        len(err.splitlines()) == 1


def test_text_report(tmp_path):
    path = hand_made(str(tmp_path / "h.data"))
    code, out, err = run_ours("report", "accuracy", "-i", path)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "# hot: --access_rate 1% max --age 0ns max --sz_region 0B max " \
                       "(cold: the rest)"
    row = [line for line in lines if line.split()[:1] == ["0"]]
    assert len(row) == 1
    assert row[0].split() == ["0", "100", "ms", "48.000", "KiB", "64.000", "KiB", "33.3%",
                              "25.00", "32.50", "75%", "100%", "-", "0%"]
    assert "wss error (mean |estimate - truth| / truth): 33.3%" in lines
    assert "page access frequency error (size-weighted): 32.50 percentage points" in lines
    assert "hot: precision 75.0%, recall 100.0%" in lines


def test_no_truth_is_one_clear_error(tmp_path):
    w = RecordingWriter(str(tmp_path / "plain.data"))
    w.add_snapshot(0, 0, 0, 0, 100, np.array([0], np.uint64), np.array([PAGE], np.uint64),
                   np.array([1]), np.array([0]))
    w.commit()
    code, out, err = run_ours("report", "accuracy", "-i", str(tmp_path / "plain.data"))
    assert code != 0 and out == ""
    assert err.splitlines() == [
        "damo: error: %s: no ground truth (record it with `damo record --ground_truth`, "
        "which keeps the exact accesses in a native recording or in %s.truth)"
        % (tmp_path / "plain.data", tmp_path / "plain.data")]


@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04garbage", b"not an archive"])
def test_corrupt_truth_is_one_error(tmp_path, damage):
    path = hand_made(str(tmp_path / "h.data"))
    with open(path + ".truth", "wb") as f:
        f.write(damage)
    code, _, err = run_ours("report", "accuracy", "-i", path)
    assert code != 0 and len(err.splitlines()) == 1
    assert err.startswith("damo: error: %s.truth: not damo-sim ground truth" % path)


def test_truth_of_another_recording_is_refused(tmp_path):
    a = hand_made(str(tmp_path / "a.data"))
    w = RecordingWriter(str(tmp_path / "b.data"))
    for i in range(2):
        w.add_snapshot(0, 0, 0, i * 100, (i + 1) * 100, np.array([0], np.uint64),
                       np.array([PAGE], np.uint64), np.array([1]), np.array([0]))
    w.commit()
    os.replace(a + ".truth", str(tmp_path / "b.data.truth"))
    code, _, err = run_ours("report", "accuracy", "-i", str(tmp_path / "b.data"))
    assert code != 0 and len(err.splitlines()) == 1
    assert err.startswith("damo: error: %s.truth belongs to another recording than %s"
                          % (tmp_path / "b.data", tmp_path / "b.data"))


HOT_CFG = """#regions
hot, 4194304
cold, 62914560

#phases
only hot
2000
hot, 0, 4096, 100
"""


@pytest.fixture(scope="module")
def hot(tmp_path_factory):
    d = tmp_path_factory.mktemp("hotrep")
    (d / "hot.cfg").write_text(HOT_CFG)
    out = str(d / "hot.data")
    assert run_ours("record", str(d / "hot.cfg"), "--ground_truth", "-o", out)[0] == 0
    return out


def test_recorded_hot_region(hot):
    from damo import records
    rec = records.load(hot).records[0]
    r = report_json(hot)
    snaps = r["records"][0]["snapshots"]
    assert len(snaps) == rec.nr_snapshots == 20
    for i, s in enumerate(snaps):
        sl = rec.snapshot_slice(i)
        sizes = (rec.ends[sl] - rec.starts[sl]).astype(np.int64)
        assert s["wss_damon"] == int(sizes[rec.nr_accesses[sl] >= 1].sum())
        if i:
            assert 4 << 20 <= s["wss_true"] <= (4 << 20) + 3 * PAGE
    # DAMON's regions converge on the one hot region: the last second exact
    # to a few pages
    for s in snaps[10:]:
        assert abs(s["wss_error"]) < 0.01
        assert s["hot_recall"] == 1.0 and s["hot_precision"] > 0.99
    for s in snaps[10:-1]:
        assert s["page_freq_error"] < 0.1
    # but the last one closes in the sampling interval the program exits in,
    # after which DAMON's check finds no mm: its hot pages (1/16 of the
    # pages) are one sampling interval (5 percentage points) short of the
    # truth
    assert abs(snaps[-1]["page_freq_error"] - 5 / 16) < 0.01


def test_heatmaps_side_by_side(hot, tmp_path):
    code, out, err = run_ours("report", "accuracy", "-i", hot, "--heatmap", "--overall_only",
                              "--resol", "20", "40")
    assert code == 0, err
    lines = out.splitlines()
    first = lines.index("%-40s  truth" % "DAMON")
    rows = lines[first + 1:first + 21]
    assert all(len(r) == 82 for r in rows)
    damon, truth = [r[:40] for r in rows], [r[42:] for r in rows]
    # one hot band in both, where DAMON has converged: the same pixels
    assert damon[-5:] == truth[-5:]
    assert any(c in "89" for c in truth[-1])
    assert lines[first + 21].startswith("# access_frequency: 0123456789 (") and \
        lines[first + 21].endswith("hz, both maps)")
    png = str(tmp_path / "h.png")
    code, _, err = run_ours("report", "accuracy", "-i", hot, "--output", png, "--size", "900",
                            "400", "--overall_only")
    assert code == 0, err
    from PIL import Image
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size == (900, 400)
