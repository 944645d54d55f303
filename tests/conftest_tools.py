"""Recordings and the reference for the tools' differential suites
(tests/test_diff_tools*.py): conftest's shapes plus snapshot records with
DAMOS filters and stats, and our own recordings (with their sidecars)."""
import os

import pytest
from click.testing import CliRunner

import synth
import tools_diff
from damo.cli import main

# our own recordings: name -> damo record arguments
OWN = {
    "own": ["stairs", "--timeout", "4"],
    "own_schemes": ["hotcold", "--memory", "dram:1G,swap:zswap", "--timeout", "4",
                    "--damos_action", "stat", "--schemes_target_regions"],
    "own_paddr": ["zigzag", "--ops", "paddr", "--memory", "dram:2G,cxl:2G", "--timeout", "3"],
}


# recordings also converted to perf.data by our convert_record_format
PERF_DATA = ("basic", "multi_targets_gaps", "tuned_intervals", "one_snapshot", "upstream")


@pytest.fixture(scope="session")
def tool_recordings(recordings, tmp_path_factory):
    root = tmp_path_factory.mktemp("tool-recordings")
    paths = dict(recordings)
    paths["snap"] = str(root / "snap.data")
    synth.snapshot_records(paths["snap"])
    paths["snap_json"] = str(root / "snap.json")
    synth.snapshot_records(paths["snap_json"], compressed=False)
    paths["basic_json"] = str(root / "basic.json")
    synth.stairs(paths["basic_json"], output_type="json")
    paths["basic.perf_script"] = str(root / "basic.perf_script")
    synth.stairs(paths["basic.perf_script"], output_type="perf_script")
    # our perf.data files (perf script reads them for damo and for us)
    for name in PERF_DATA:
        paths[name + ".perf_data"] = str(root / (name + ".perf_data"))
        result = CliRunner().invoke(main, ["convert_record_format", "--record_file",
                                           paths[name], "--output_file",
                                           paths[name + ".perf_data"], "--format",
                                           "perf_data"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    for name, argv in OWN.items():
        paths[name] = str(root / (name + ".data"))
        result = CliRunner().invoke(main, ["record"] + argv + ["-o", paths[name]],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert os.path.exists(paths[name] + ".mem_footprint")
    # damo record's .kdamonds beside recordings (report attrs reads it); snap's
    # context has a probe
    for name in ("basic", "multi_targets_gaps", "tuned_intervals", "one_snapshot", "snap",
                 "own", "own_schemes", "own_paddr", "odd_regions", "intervals_null"):
        probes = [{"filters": [{"filter_type": "anon", "matching": True, "allow": True,
                                "path": None}], "weight": 3}] if name == "snap" else []
        kdamonds_file(paths[name] + ".kdamonds", probes)
    paths["own_schemes.perf_data"] = str(root / "own_schemes.perf_data")
    result = CliRunner().invoke(main, ["convert_record_format", "--record_file",
                                       paths["own_schemes"], "--output_file",
                                       paths["own_schemes.perf_data"], "--format",
                                       "perf_data"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return paths


def kdamonds_file(path, probes=()):
    """A .kdamonds file as damo record writes it: a JSON list of kdamonds."""
    import json
    kdamonds = [{"state": "on", "pid": 1, "contexts": [{
        "ops": "vaddr", "targets": [{"pid": 42, "regions": []}],
        "intervals": {"sample_us": "5 ms", "aggr_us": "100 ms", "ops_update_us": "1 s"},
        "nr_regions": {"min": "10", "max": "1,000"}, "probes": list(probes), "schemes": []}]}]
    with open(path, "w") as f:
        json.dump(kdamonds, f)


@pytest.fixture(scope="session")
def reference(damo, tool_recordings, tmp_path_factory):
    return tools_diff.Reference(damo, tool_recordings, str(tmp_path_factory.mktemp("runs")))
