"""damo adjust, convert_record_format and validate against damo 3.4.3: the same
stdout, exit code and written files (bytes and mode), over the real DAMON
recording, synthetic shapes and our own recordings."""
import pytest

import tools_diff
from conftest_tools import reference, tool_recordings  # noqa: F401 (fixtures)
from tools_diff import Case

# damo 3.4.3 reads plain JSON records only if `file -b` says "JSON data"; the
# file(1) here says "JSON text data", so damo tries perf script on them and
# fails.  Ours reads them: the same results as damo's on the compressed twin.
JSON_TWINS = {"snap_json": "snap", "basic_json": "basic"}
DAMO_NO_JSON = "failed perf-script"
ALL = ["upstream", "basic", "multi_targets_gaps", "intervals_null", "one_snapshot",
       "address_zero", "no_ages", "tuned_intervals", "odd_regions", "small",
       "one_snapshot.perf_script", "multi_targets_gaps.perf_script", "basic.perf_script",
       "snap", "snap_json", "basic_json", "own", "own_schemes", "own_paddr"]
BASE = 0x7f0000000000
FILTERS = [
    ("sz", ["--sz_region", "1M", "max"]),
    ("sz_bytes", ["--sz_region", "0", "1040000"]),
    ("rate", ["--access_rate", "10", "100"]),
    ("rate_pct", ["--access_rate", "50%", "100%"]),
    ("rate_zero", ["--access_rate", "0", "0"]),
    ("age", ["--age", "1s", "max"]),
    ("age_us", ["--age", "0", "500000"]),
    ("addr", ["--address", str(BASE), str(BASE + 13000000)]),
    ("addr2", ["--address", str(BASE), str(BASE + 3300000), "--address",
               str(BASE + 8200000), str(BASE + 13000000)]),
    ("sz_snapshot", ["--sz_snapshot", "0", "24000000"]),
    ("snapshot_time", ["--snapshot_time", "5000000000", "7000000000"]),
    ("snapshot_time_units", ["--snapshot_time", "5 s", "9s"]),
    ("snapshot_idx", ["--snapshot_idx", "3", "10", "--snapshot_idx", "20", "30"]),
    ("temp_hot", ["--temperature", "0", "1000"]),
    ("temp_cold", ["--temperature", "-100000000", "0"]),
    ("mixed", ["--access_rate", "5", "100", "--sz_snapshot", "1M", "max",
               "--snapshot_idx", "0", "40"]),
]


def _case(id, argv, outputs=(), **kwargs):
    """A Case; on a JSON twin, expected to equal damo's on its compressed twin."""
    for twin, compressed in JSON_TWINS.items():
        if "{%s}" % twin in argv:
            other = _case(id.replace(twin, compressed), [
                a.replace("{%s}" % twin, "{%s}" % compressed) for a in argv], outputs,
                **kwargs)
            return Case(id, argv, outputs, expect=tools_diff.SameAsCase(other, DAMO_NO_JSON))
    return Case(id, argv, outputs, **kwargs)


def _cases():
    cases = []
    for rec in ALL:
        expect = {}
        if rec == "tuned_intervals":
            expect = {"expect": tools_diff.same_after(tools_diff.ns_sample_intervals_fixed)}
        cases.append(_case("adjust-%s" % rec, ["adjust", "-i", "{%s}" % rec, "-o", "out",
                                               "--aggregate_interval", "500000", "--skip",
                                               "2"], outputs=["out"]))
        cases.append(_case("adjust-noagg-%s" % rec, ["adjust", "-i", "{%s}" % rec, "-o",
                                                     "out"], outputs=["out"], **expect))
        for fmt in ("json_compressed", "json", "perf_script"):
            expect = {}
            if fmt == "perf_script" and rec in ("no_ages", "upstream"):
                expect = {"expect": tools_diff.same_after(tools_diff.none_ages_fixed)}
            if fmt != "perf_script" and rec == "tuned_intervals":
                expect = {"expect": tools_diff.same_after(tools_diff.ns_sample_intervals_fixed)}
            cases.append(_case("convert-%s-%s" % (rec, fmt), [
                "convert_record_format", "--record_file", "{%s}" % rec, "--output_file", "out",
                "--format", fmt], outputs=["out"], **expect))
        cases.append(_case("validate-%s" % rec, ["validate", "-i", "{%s}" % rec]))
    for name, flt in FILTERS:
        for rec in ("basic", "multi_targets_gaps"):
            cases.append(Case("adjust-%s-%s" % (name, rec),
                              ["adjust", "-i", "{%s}" % rec, "-o", "out"] + flt,
                              outputs=["out"]))
    for name, flt in FILTERS[:8]:
        cases.append(Case("adjust-agg-%s" % name, [
            "adjust", "-i", "{basic}", "-o", "out", "--aggregate_interval", "300000",
            "--skip", "0"] + flt, outputs=["out"]))
    cases += [
        Case("adjust-upstream-addr", ["adjust", "-i", "{upstream}", "-o", "out",
                                      "--address", "94827419009024", "94827430000000",
                                      "--aggregate_interval", "1000000"], outputs=["out"]),
        Case("adjust-upstream-skip-neg", ["adjust", "-i", "{upstream}", "-o", "out",
                                          "--aggregate_interval", "300000", "--skip", "-50"],
             outputs=["out"]),
        Case("adjust-upstream-huge-interval", ["adjust", "-i", "{upstream}", "-o", "out",
                                               "--aggregate_interval", "10000000000"],
             outputs=["out"]),
        Case("adjust-skip-all", ["adjust", "-i", "{basic}", "-o", "out", "--skip", "1000",
                                 "--aggregate_interval", "100"], outputs=["out"]),
        Case("adjust-json", ["adjust", "-i", "{multi_targets_gaps}", "-o", "out",
                             "--output_type", "json", "--aggregate_interval", "250000"],
             outputs=["out"]),
        Case("adjust-perf_script", ["adjust", "-i", "{multi_targets_gaps}", "-o", "out",
                                    "--output_type", "perf_script", "--aggregate_interval",
                                    "250000", "--address", str(BASE),
                                    str(BASE + 3300000)], outputs=["out"]),
        Case("adjust-permission", ["adjust", "-i", "{basic}", "-o", "out",
                                   "--output_permission", "644"], outputs=["out"]),
        Case("adjust-permission-0", ["adjust", "-i", "{basic}", "-o", "out",
                                     "--output_permission", "0"], outputs=["out"]),
        Case("adjust-snap-agg", ["adjust", "-i", "{snap}", "-o", "out", "--output_type",
                                 "json", "--aggregate_interval", "200000", "--skip", "0"],
             outputs=["out"]),
        Case("adjust-snap-addr", ["adjust", "-i", "{snap}", "-o", "out", "--output_type",
                                  "json", "--address", "4294967296", "4300000000"],
             outputs=["out"]),
        Case("adjust-own-schemes-agg", ["adjust", "-i", "{own_schemes}", "-o", "out",
                                        "--output_type", "json", "--aggregate_interval",
                                        "400000", "--skip", "1"], outputs=["out"]),
        Case("adjust-odd-agg", ["adjust", "-i", "{odd_regions}", "-o", "out", "--output_type",
                                "json", "--aggregate_interval", "300000", "--skip", "0"],
             outputs=["out"]),
        Case("adjust-default-output", ["adjust", "-i", "{basic}"],
             outputs=["damon.adjusted.data"]),
        Case("convert-in-place", ["convert_record_format", "--record_file", "rec",
                                  "--format", "json"], outputs=["rec"],
             setup=lambda d, r: _copy(r["basic"], d, "rec")),
        Case("convert-default", ["convert_record_format", "--format", "perf_script"],
             outputs=["damon.data"], setup=lambda d, r: _copy(r["multi_targets_gaps"], d,
                                                              "damon.data")),
        # perf.data written by our convert_record_format, read by perf script
        # (damo's way) on both sides
        *[Case("perf_data-%s-%s" % (rec, "-".join(view)),
               ["report"] + list(view) + ["-i", "{%s.perf_data}" % rec])
          for rec in ("basic", "multi_targets_gaps", "tuned_intervals", "upstream",
                      "own_schemes")
          for view in (("access", "--raw_form"), ("record_info",))],
        Case("perf_data-one-snapshot", ["report", "record_info", "-i",
                                        "{one_snapshot.perf_data}"],
             expect=_one_snapshot_perf_data),
        Case("perf_data-wss", ["report", "wss", "-i", "{multi_targets_gaps.perf_data}"]),
        Case("perf_data-heatmap", ["report", "heatmap", "-i", "{basic.perf_data}"]),
        Case("perf_data-convert-json", ["convert_record_format", "--record_file",
                                        "{tuned_intervals.perf_data}", "--output_file", "out",
                                        "--format", "json"], outputs=["out"],
             expect=tools_diff.tuned_intervals_dropped),
        Case("perf_data-adjust", ["adjust", "-i", "{multi_targets_gaps.perf_data}", "-o",
                                  "out", "--aggregate_interval", "300000", "--skip", "3"],
             outputs=["out"]),
        Case("validate-aggr", ["validate", "-i", "{basic}", "--aggr", "100000", "100000"]),
        Case("validate-aggr-fail", ["validate", "-i", "{upstream}", "--aggr", "0", "100000"]),
        Case("validate-nr-regions", ["validate", "-i", "{upstream}", "--nr_regions", "3", "10"]),
        Case("validate-nr-accesses", ["validate", "-i", "{basic}", "--nr_accesses", "0", "5"]),
        Case("validate-boundary", ["validate", "-i", "{basic}", "--regions_boundary",
                                   "%d-%d" % (BASE, BASE + 13000000)]),
        Case("validate-boundaries", ["validate", "-i", "{multi_targets_gaps}",
                                     "--regions_boundary", "%d-%d" % (BASE, BASE + 10**9),
                                     "%d-%d" % (BASE + 10**9, BASE + 10**10)]),
        Case("validate-odd", ["validate", "-i", "{odd_regions}", "--aggr", "0", "10000000"]),
        Case("validate-own-paddr", ["validate", "-i", "{own_paddr}", "--nr_accesses",
                                    "0", "20"]),
        # wrong values: one `damo: error:` line naming the option or file
        Case("adjust-missing-input", ["adjust", "-i", "nonexistent", "-o", "out"],
             expect="error", names=["nonexistent"], outputs=["out"]),
        Case("adjust-bad-permission", ["adjust", "-i", "{basic}", "-o", "out",
                                       "--output_permission", "9x"], expect="error",
             names=["--output_permission"], outputs=["out"]),
        Case("adjust-permission-range", ["adjust", "-i", "{basic}", "-o", "out",
                                         "--output_permission", "1777"], expect="error",
             names=["--output_permission"], outputs=["out"]),
        Case("adjust-bad-address", ["adjust", "-i", "{basic}", "-o", "out", "--address",
                                    "10", "abc"], expect="error", names=["--address"],
             outputs=["out"]),
        Case("adjust-inverted-address", ["adjust", "-i", "{basic}", "-o", "out", "--address",
                                         "100", "10"], expect="error", names=["--address"],
             outputs=["out"]),
        Case("adjust-overlapping-sz-snapshot", ["adjust", "-i", "{basic}", "-o", "out",
                                                "--sz_snapshot", "0", "100",
                                                "--sz_snapshot", "50", "200"],
             expect="error", names=["--sz_snapshot"], outputs=["out"]),
        Case("adjust-bad-type", ["adjust", "-i", "{basic}", "-o", "out", "--output_type",
                                 "xml"], expect="error", names=["--output_type"],
             outputs=["out"]),
        Case("adjust-bad-interval", ["adjust", "-i", "{basic}", "-o", "out",
                                     "--aggregate_interval", "1s"], expect="error",
             names=["--aggregate_interval"], outputs=["out"]),
        Case("adjust-bad-temperature", ["adjust", "-i", "{basic}", "-o", "out",
                                        "--temperature", "hot", "1"], expect="error",
             names=["--temperature"], outputs=["out"]),
        Case("adjust-one-value", ["adjust", "-i", "{basic}", "-o", "out", "--sz_region",
                                  "1"], expect="error", names=["--sz_region"],
             outputs=["out"]),
        Case("convert-missing", ["convert_record_format", "--record_file", "nonexistent",
                                 "--output_file", "out"], expect="error",
             names=["nonexistent"], outputs=["out"]),
        Case("convert-bad-format", ["convert_record_format", "--record_file", "{basic}",
                                    "--format", "yaml", "--output_file", "out"],
             expect="error", names=["--format"], outputs=["out"]),
        Case("validate-missing", ["validate", "-i", "nonexistent"], expect="error",
             names=["nonexistent"]),
        Case("validate-bad-aggr", ["validate", "-i", "{basic}", "--aggr", "1", "x"],
             expect="error", names=["--aggr"]),
    ]
    return cases


def _one_snapshot_perf_data(ours, theirs, reference):
    """A perf.data trace of one snapshot has no start time (a trace keeps end
    times only): damo leaves it None and crashes (TypeError); ours takes the
    snapshot as instantaneous."""
    assert theirs.code != 0 and "TypeError" in theirs.stderr
    assert ours.code == 0
    assert "time: [5.100 s, 5.100 s) (0 ns)" in ours.stdout


def _copy(src, directory, name):
    import shutil
    shutil.copy(src, "%s/%s" % (directory, name))


CASES = _cases()


@pytest.fixture(scope="module", autouse=True)
def prefetch(reference):
    reference.prefetch(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_as_damo(reference, tool_recordings, tmp_path, case):
    theirs = reference.get(case)
    ours = tools_diff.run_ours(case, tool_recordings, str(tmp_path))
    tools_diff.check(case, ours, theirs, reference)
