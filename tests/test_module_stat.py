"""damo module stat read's views of DAMON_STAT's idle time percentiles, from
percentiles given on the command line (no live module needed): the values
computed by hand with damo's rules (damo_module_stat.py: linear between the
given percentiles and beyond them by the nearest slope; memory per idle time
slice read as a piecewise linear distribution)."""
import pytest

from conftest import run_ours
from damo import units
from damo.errors import DamoError
from damo.reports import module_stat


def read(*args):
    code, out, err = run_ours("module", "stat", "read", *args)
    assert (code, err) == (0, ""), err
    return out.splitlines()


def test_percentiles_filled_in_between_and_beyond():
    # p10 = 1 s, p20 = 3 s: 0.2 s per percentile, also before and after
    full = module_stat.full_percentiles(["10", "1", "20", "3"])
    assert len(full) == 101
    for p in range(101):
        assert full[p] == pytest.approx(0.2 * p - 1), p
    assert module_stat.full_percentiles(["0", "0", "100", "100"]) == \
        pytest.approx(list(range(101)))
    # a single point: flat (with nothing to take a slope from)
    assert module_stat.full_percentiles(["50", "7"]) == [7.0] * 101
    assert module_stat.full_percentiles(["0", "5"]) == [5.0] * 101
    assert module_stat.full_percentiles(["100", "5"]) == [5.0] * 101


def test_percentiles_from_a_file(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("0 0\n100 100\n")
    assert module_stat.full_percentiles([str(path)]) == pytest.approx(list(range(101)))


@pytest.mark.parametrize("words, message", [
    (["5"], "wrong --input_idle_time_percentiles (input length invalid)"),
    (["5", "1", "6"], "wrong --input_idle_time_percentiles (input length invalid)"),
    (["x", "1"], "wrong --input_idle_time_percentiles (casting fail (invalid literal for "
                 "int() with base 10: 'x'))"),
    (["5", "y"], "wrong --input_idle_time_percentiles (casting fail (could not convert "
                 "string to float: 'y'))"),
    (["5", "1", "5", "2"], "wrong --input_idle_time_percentiles (percentiles must rise "
                           "within 0..100: 5)"),
    (["101", "1"], "wrong --input_idle_time_percentiles (percentiles must rise within "
                   "0..100: 101)"),
    (["-1", "1"], "wrong --input_idle_time_percentiles (percentiles must rise within "
                  "0..100: -1)"),
])
def test_bad_percentiles_are_one_error(words, message):
    with pytest.raises(DamoError) as e:
        module_stat.full_percentiles(words)
    assert str(e.value) == message and e.value.exit_code == 2


def test_idle_time_percentiles_view():
    given = ("--input_idle_time_percentiles", "0", "0", "100", "100")
    assert read("idle_time_percentiles", *given, "--raw_number") == [
        "%3d %d" % (p, p) for p in range(0, 101, 10)]
    assert read("idle_time_percentiles", *given, "--raw_number",
                "--idle_time_percentiles_range", "5", "30", "12") == ["  5 5", " 17 17",
                                                                      " 29 29"]
    assert read("idle_time_percentiles", *given) == [
        "%3d %s" % (p, units.format_time_ns(p * 1e9, False)) for p in range(0, 101, 10)]


def test_idle_time_mem_sz_view():
    """damo's slices: [min - 1, min + step), then moved by step while the
    slice's start is below the max: for 0..100 s linearly, 10% of memory in
    the first, 11% in the overlapping next ones, the last 1% beyond 100 s."""
    given = ("--input_idle_time_percentiles", "0", "0", "100", "100")
    rows = [(10, 10)] + [(t, 11) for t in range(20, 101, 10)] + [(110, 1)]
    assert read("idle_time_mem_sz", *given, "--raw_number") == [
        "%d%s%f" % (t, " " * (3 + 4 - len(str(t))), pct) for t, pct in rows]
    # 4 lines of 25 s
    rows = [(25, 25), (50, 26), (75, 26), (100, 26), (125, 1)]
    out = read("idle_time_mem_sz", *given, "--raw_number", "--idle_time_mem_sz_lines", "4")
    assert [(int(l.split()[0]), round(float(l.split()[1]), 6)) for l in out] == rows
    # one idle time for all memory: slices of 1 s
    assert read("idle_time_mem_sz", "--raw_number", "--input_idle_time_percentiles", "50",
                "7") == ["8    100.000000"]
    # for people: times and percents formatted, in two columns
    out = read("idle_time_mem_sz", *given)
    rows = [(10, 10)] + [(t, 11) for t in range(20, 101, 10)] + [(110, 1)]
    width = max(len(units.format_time_ns(t * 1e9, False)) for t, _ in rows) + 4
    assert out == ["%-*s%s" % (width, units.format_time_ns(t * 1e9, False),
                               units.format_percent(pct, False)) for t, pct in rows]


def test_both_views_at_once():
    out = read("idle_time_percentiles", "idle_time_mem_sz", "--raw_number",
               "--idle_time_percentiles_range", "0", "101", "50",
               "--input_idle_time_percentiles", "0", "0", "100", "100")
    assert out[:3] == ["  0 0", " 50 50", "100 100"] and out[3].startswith("10 ")
