"""Bad inputs end with one 'damo: error:' line naming the file, a non-zero
exit, no traceback, and no output file."""
import json
import os
import subprocess
import sys
import zlib

import pytest

import synth
from conftest import run_ours


def good_bytes(tmp_path):
    synth.stairs(str(tmp_path / "good"), nr_snapshots=30)
    return (tmp_path / "good").read_bytes()


def make_bad(tmp_path, kind):
    path = tmp_path / ("bad_" + kind)
    if kind == "truncated_zlib":
        data = good_bytes(tmp_path)
        path.write_bytes(data[:len(data) // 2])
    elif kind == "corrupt_zlib":
        data = bytearray(good_bytes(tmp_path))
        data[len(data) // 2:len(data) // 2 + 64] = b"\xff" * 64
        path.write_bytes(bytes(data))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(os.urandom(4096).replace(b"\x78", b"\x00") + b"\x00")
    elif kind == "missing_keys":
        path.write_bytes(zlib.compress(json.dumps([{"target_id": 1}]).encode()))
    elif kind == "missing_region_keys":
        path.write_bytes(zlib.compress(json.dumps([{"target_id": 1, "snapshots": [
            {"start_time": 0, "end_time": 1, "regions": [{"start": 0}]}]}]).encode()))
    elif kind == "bad_json":
        path.write_text('[{"target_id": 1, "snapshots": [')
    elif kind == "perf_script_garbage":
        path.write_text("kdamond.0 1 [000] 5.0: damon:damon_aggregated: target_id=1 "
                        "nr_regions=1 0-4096: 1 0\nthis line is not a trace line at all\n")
    elif kind == "perf_script_bad_numbers":
        path.write_text("kdamond.0 1 [000] 5.0: damon:damon_aggregated: target_id=x "
                        "nr_regions=1 0-4096: 1 0\n")
    elif kind == "native_truncated":
        synth.stairs(str(path), nr_snapshots=30, output_type="native")
        path.write_bytes(path.read_bytes()[:300])
    elif kind == "missing":
        pass
    return str(path)


BAD = ["truncated_zlib", "corrupt_zlib", "empty", "garbage", "missing_keys",
       "missing_region_keys", "bad_json", "perf_script_garbage", "perf_script_bad_numbers",
       "native_truncated", "missing"]
REPORTS = [("heatmap",), ("wss",), ("nr_regions",), ("access", "--raw_form"),
           ("record_info",)]


@pytest.mark.parametrize("kind", BAD)
@pytest.mark.parametrize("report", REPORTS, ids=" ".join)
def test_bad_input_one_line_error(tmp_path, kind, report):
    path = make_bad(tmp_path, kind)
    code, out, err = run_ours("report", *report, "--input", path)
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("damo: error: ")
    assert path in err


@pytest.mark.parametrize("kind", ["truncated_zlib", "perf_script_garbage", "garbage"])
def test_no_traceback_from_the_real_command(tmp_path, kind):
    path = make_bad(tmp_path, kind)
    done = subprocess.run([sys.executable, "-m", "damo.cli", "report", "heatmap", "--input",
                           path], capture_output=True, text=True)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.parametrize("output", ["map.png", "map.svg"])
def test_no_output_file_on_bad_input(tmp_path, output):
    path = make_bad(tmp_path, "truncated_zlib")
    code, _, _ = run_ours("report", "heatmap", "--input", path, "--output",
                          str(tmp_path / output))
    assert code != 0
    assert sorted(os.listdir(tmp_path)) == sorted(["bad_truncated_zlib", "good"])


@pytest.mark.parametrize("args", [
    ("heatmap", "--resol", "0", "80"),
    ("heatmap", "--resol", "x", "80"),
    ("heatmap", "--time_range", "1"),
    ("heatmap", "--address_range", "abc", "def"),
    ("heatmap", "--stdout_colorset", "pink"),
    ("heatmap", "--output", "map.bmp"),
    ("heatmap", "--tid", "12345"),
    ("wss", "-r", "0", "100", "0"),
    ("wss", "--work_time", "0"),
    ("nr_regions", "--sortby", "random"),
])
def test_bad_option_one_line_error(tmp_path, args):
    synth.stairs(str(tmp_path / "r"), nr_snapshots=30)
    code, out, err = run_ours("report", *args, "--input", str(tmp_path / "r"))
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("damo: error: "), err
    assert not (tmp_path / "map.bmp").exists()
