"""damo record --output_type perf_data: the recording as the perf.data file
of DAMON's tracepoints that damo's perf record leaves, which damo 3.4.3 reads
(through perf script) as it reads its own."""
import os
import shutil

import pytest

import tools_diff
from conftest import run_ours
from conftest_tools import reference, tool_recordings  # noqa: F401 (fixtures)
from tools_diff import Case

RUN = ["record", "stairs", "--timeout", "2", "--seed", "3"]

pytestmark = pytest.mark.skipif(shutil.which("perf") is None, reason="perf is not installed")


@pytest.fixture(scope="module")
def perf_recording(tmp_path_factory):
    root = tmp_path_factory.mktemp("record-perf-data")
    paths = {"perf_data": str(root / "r.perf_data"), "json": str(root / "r.data"),
             "converted": str(root / "converted.perf_data")}
    for path, extra in ((paths["perf_data"], ["--output_type", "perf_data"]),
                        (paths["json"], [])):
        code, out, err = run_ours(*RUN, "-o", path, *extra)
        assert code == 0, err
    code, out, err = run_ours("convert_record_format", "--record_file", paths["json"],
                              "--format", "perf_data", "--output_file", paths["converted"])
    assert code == 0, err
    return paths


def test_perf_data_is_the_recording_as_perf_data(perf_recording):
    """The same run written directly as perf_data and converted from
    json_compressed afterwards (convert_record_format's perf.data, which the
    differential suite checks against damo) are the same bytes, with the
    recording's mode and sidecars."""
    with open(perf_recording["perf_data"], "rb") as f:
        direct = f.read()
    with open(perf_recording["converted"], "rb") as f:
        converted = f.read()
    assert direct[:8] == b"PERFILE2" and direct == converted
    assert os.stat(perf_recording["perf_data"]).st_mode & 0o777 == 0o600
    for sidecar in (".mem_footprint", ".sim_metrics"):
        assert os.path.exists(perf_recording["perf_data"] + sidecar)


@pytest.mark.parametrize("argv", [["report", "record_info", "-i"],
                                  ["report", "heatmap", "--output", "raw", "-i"],
                                  ["report", "access", "--raw_form", "-i"]],
                         ids=["record_info", "heatmap-raw", "raw-form"])
def test_damo_reads_it_as_ours_does(reference, perf_recording, tmp_path, argv):
    recordings = {"rec": perf_recording["perf_data"]}
    case = Case("record-perf-data-" + argv[1], argv + ["{rec}"])
    theirs = tools_diff.run_reference(reference.executable, case, recordings, str(tmp_path))
    ours = tools_diff.run_ours(case, recordings, str(tmp_path))
    assert theirs.code == 0 and theirs.stdout.count("\n") > 3, theirs
    assert (ours.code, ours.stdout) == (0, theirs.stdout)


def test_perf_data_without_perf_is_one_error(tmp_path):
    path = str(tmp_path / "x.perf_data")
    env = {"PATH": tools_diff.path_without_perf(str(tmp_path))}
    code, out, err = run_ours(*RUN, "-o", path, "--output_type", "perf_data", env=env)
    assert (code, out) == (2, "")
    assert err.startswith("damo: error: --output_type perf_data: perf is not installed")
    assert err.count("\n") == 1 and not os.path.exists(path)
