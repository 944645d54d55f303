"""report attrs' region lines joined in C (attrs._region_block: numpy sorts,
damo.reports._ctrace joins) are the Python path's lines, byte for byte, for
every sort order (stable: ties keep the recording's order), region template
and recording kind; where the C path cannot give the same text (probe hits,
--adjust_region) the Python path runs.  damo 3.4.3 is the judge of the Python
path in test_diff_tools_attrs.py."""
import pytest

from conftest import run_ours
from conftest_tools import tool_recordings  # noqa: F401 (fixture)
from damo.reports import attrs

ORDERS = [[], ["--sort_regions_by", "address"], ["--sort_regions_by", "address", "reverse"],
          ["--sort_regions_by", "size", "reverse", "age"],
          ["--sort_regions_by", "age", "reverse", "size"],
          ["--sort_regions_by", "temperature", "reverse"],
          ["--sort_regions_by", "probe_hits_wsum", "reverse", "size"],
          ["--temperature_weights", "1", "-3", "7"],
          ["--temperature_weights", "0", "0", "0", "--sort_regions_by", "temperature",
           "reverse"]]
TEMPLATES = [[], ["--format", "set", "region", "<index>:<end address>:<temperature>:"
                  "<probe hits>:<filters passed bytes>\\n%% <size> <age>"],
             ["--min_chars_for", "<start address>", "30", "--raw_number"]]


@pytest.mark.parametrize("rec", ["basic", "multi_targets_gaps", "tuned_intervals", "own",
                                 "own_schemes", "one_snapshot", "snap"])
@pytest.mark.parametrize("order", range(len(ORDERS)))
@pytest.mark.parametrize("template", range(len(TEMPLATES)))
def test_c_lines_are_the_python_lines(tool_recordings, monkeypatch, rec, order, template):
    args = ["report", "attrs", "-i", tool_recordings[rec]] + ORDERS[order] + \
        TEMPLATES[template]
    taken = []
    block = attrs._region_block

    def counted(*a):
        out = block(*a)
        taken.append(out is not None)
        return out
    monkeypatch.setattr(attrs, "_region_block", counted)
    code, in_c, err = run_ours(*args)
    assert code == 0, err
    monkeypatch.setattr(attrs, "_region_block", lambda *a: None)
    assert run_ours(*args) == (code, in_c, err)
    # the C path ran (but where probes hit: snap's regions have hits)
    assert taken and all(taken) == (rec != "snap")


def test_filtered_ages_and_adjusted_regions(tool_recordings, monkeypatch):
    """An access filter sets the ages it keeps (age_usec); --adjust_region
    makes Region objects, which the C path leaves to Python."""
    block = attrs._region_block
    for extra, in_c in ((["--age", "1s", "max"], True),
                        (["--access_rate", "5", "100", "--sort_regions_by", "age"], True),
                        (["--adjust_region", "size", "df_passed"], False)):
        args = ["report", "attrs", "-i", tool_recordings["own"]] + extra
        taken = []
        monkeypatch.setattr(attrs, "_region_block",
                            lambda *a: taken.append(block(*a)) or taken[-1])
        ours = run_ours(*args)
        assert ours[0] == 0, (extra, ours[2])
        assert taken and all(t is not None for t in taken) == in_c
        monkeypatch.setattr(attrs, "_region_block", lambda *a: None)
        assert run_ours(*args) == ours
        monkeypatch.undo()
