"""damo 3.4.3 reads what we write: json_compressed and perf_script files go
through its ``report access --raw_form`` and come out as we read them."""
import pytest

import synth
from conftest import run_ours

WRITTEN = ["basic", "multi_targets_gaps", "intervals_null", "one_snapshot", "address_zero",
           "no_ages", "one_snapshot.perf_script", "multi_targets_gaps.perf_script"]


@pytest.mark.parametrize("name", WRITTEN)
def test_damo_reads_our_recordings(damo, recordings, name):
    code, theirs = damo.report("access", "--raw_form", "--input", recordings[name])
    assert code == 0 and theirs.startswith("base_time_absolute: ")
    _, ours, _ = run_ours("report", "access", "--raw_form", "--input", recordings[name])
    assert ours == theirs


def test_damo_reads_our_native_converted_back(damo, tmp_path):
    """native -> json_compressed keeps everything damo needs."""
    from damo.records import load, save
    synth.stairs(str(tmp_path / "n"), nr_snapshots=25, output_type="native")
    save(load(tmp_path / "n"), tmp_path / "j")
    code, theirs = damo.report("access", "--raw_form", "--input", str(tmp_path / "j"))
    _, ours, _ = run_ours("report", "access", "--raw_form", "--input", str(tmp_path / "n"))
    assert code == 0 and ours == theirs


def test_damo_cannot_read_plain_json(damo, tmp_path):
    """damo 3.4.3 bug: it detects formats with file(1), which (5.44) calls
    JSON "JSON text data", not "JSON data"; so damo hands plain JSON to perf
    and fails.  We read it."""
    synth.stairs(str(tmp_path / "p.json"), nr_snapshots=25, output_type="json")
    code, out = damo.report("access", "--raw_form", "--input", str(tmp_path / "p.json"))
    if code == 0:
        pytest.skip("this machine's file(1) recognises the JSON")
    code, ours, _ = run_ours("report", "access", "--raw_form", "--input",
                             str(tmp_path / "p.json"))
    assert code == 0 and ours.startswith("base_time_absolute: ")


def test_we_read_what_damo_writes(damo, recordings, tmp_path):
    """damo 3.4.3's own json_compressed (thousands separators, human sizes,
    probe_hits) goes through our fast path and reports as damo reports it.

    It also shows a damo bug: its writer stores sample_interval_us in
    nanoseconds (format_time_us_exact), its reader takes them as
    microseconds, so each round trip through damo multiplies them by 1000.
    """
    from damo.records import files, json_format, load
    converted = str(tmp_path / "by_damo.data")
    code, _ = damo.command("convert_record_format", "--record_file",
                           recordings["tuned_intervals"], "--format", "json_compressed",
                           "--output_file", converted)
    assert code == 0
    _, regions = json_format._cut_regions(files._zlib_chunks(converted))
    assert regions and "sz_filter_passed" in regions[0].columns
    ours_before = load(recordings["tuned_intervals"]).records[0]
    after = load(converted).records[0]
    assert (after.sample_interval_us == ours_before.sample_interval_us * 1000).all()
    for command in (("heatmap", "--output", "raw"), ("wss",), ("access", "--raw_form")):
        code, theirs = damo.report(*command, "--input", converted)
        _, ours, _ = run_ours("report", *command, "--input", converted)
        assert code == 0 and ours == theirs
