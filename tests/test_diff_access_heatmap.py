"""``damo report heatmap``'s --df_passed, --sort_temperature,
--temperature_weights and --interactive_edit against damo 3.4.3 itself, on
the files of test_diff_access (DAMOS snapshot and tried-regions records by
damo's own writer, synthetic shapes, our recordings)."""
import re

import pytest
from click.testing import CliRunner

import reference_damo
from damo.cli import main
from test_diff_access import files  # noqa: F401  (the module's recordings fixture)

ANSI = re.compile("\x1b\\[[0-9;]*m")

CASES = [
    ("dsnap", "--df_passed"), ("tried", "--df_passed"), ("tried", "--df_passed", "--output", "raw"),
    ("ours_tried", "--df_passed"), ("intervals_null", "--df_passed"),
    ("dsnap_many", "--df_passed", "--draw_range", "all"),
    ("basic", "--sort_temperature"), ("basic", "--sort_temperature", "--output", "raw"),
    ("basic", "--sort_temperature", "--temperature_weights", "2", "0.5"),
    ("basic", "--sort_temperature", "--temperature_weights", "0", "1", "--resol", "20", "100"),
    ("multi_targets_gaps", "--sort_temperature", "--draw_range", "all"),
    ("multi_targets_gaps", "--tid", "10", "--sort_temperature", "--temperature_weights", "1",
     "0"),
    ("tuned_intervals", "--sort_temperature"), ("ours", "--sort_temperature"),
    ("tried", "--sort_temperature", "--df_passed"),
    ("ours_tried", "--sort_temperature", "--df_passed", "--stdout_colorset", "flame"),
]

# stdin of --interactive_edit sessions: zoom/scroll shortcuts, menus, help,
# a wrong answer, and quitting
SESSIONS = ["+\nq\n", "h\nj\nk\nl\n-\nquit\n", "help\nzoom\n1\n50\nscroll\n3\n-20\n0\n",
            "x\n2\n2\n30\nq\n", "-\n-\n+\n3\nq\n"]


def _id(case):
    return "%s:%s" % (case[0], " ".join(case[1:]))


@pytest.fixture(scope="module", autouse=True)
def prefetch(damo, files):  # noqa: F811
    damo.prefetch([("heatmap", "-i", files[c[0]]) + c[1:] for c in CASES])


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_same_as_damo(damo, files, case):  # noqa: F811
    args = ("heatmap", "-i", files[case[0]]) + case[1:]
    theirs_code, theirs = damo.report(*args)
    result = CliRunner().invoke(main, ["report"] + list(args) + ["--color", "always"],
                                catch_exceptions=False)
    assert theirs_code == 0, theirs
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == theirs


@pytest.mark.parametrize("output", ["stdout", "raw"])
@pytest.mark.parametrize("session", SESSIONS, ids=lambda s: s.replace("\n", ","))
def test_interactive_edit_same_as_damo(damo, files, session, output):  # noqa: F811
    """Each answer redraws the zoomed or scrolled map (ranges become
    fractional, as damo's)."""
    args = ["report", "heatmap", "-i", files["basic"], "--interactive_edit", "--output",
            output]
    theirs = reference_damo.run(args, damo=damo.executable, capture_output=True, text=True,
                                input=session)
    result = CliRunner().invoke(main, args, input=session, catch_exceptions=False)
    assert theirs.returncode == 0, theirs.stderr
    assert result.exit_code == 0
    assert result.stdout == ANSI.sub("", theirs.stdout)
    assert result.stdout.count("Enter (zoom, scroll, quit, help): ") >= 2


def test_interactive_edit_target_answer_damo_fails_on(damo, files):  # noqa: F811
    """damo 3.4.3 fails (UnboundLocalError) when the zoom/scroll target is
    not 1, 2 or 3 (and, ValueError, on a percentage that is no number); we
    say 'Wrong input.' and draw the map again."""
    args = ["report", "heatmap", "-i", files["basic"], "--interactive_edit"]
    theirs = reference_damo.run(args, damo=damo.executable, capture_output=True, text=True,
                                input="zoom\n7\n50\nq\n")
    result = CliRunner().invoke(main, args, input="zoom\n7\n50\nq\n", catch_exceptions=False)
    assert theirs.returncode != 0 and "UnboundLocalError" in theirs.stderr
    assert result.exit_code == 0
    maps = result.stdout.split("Enter (zoom, scroll, quit, help): ")
    assert "Wrong input." in maps[1] and maps[1].count("# resolution: 80x40") == 1


def test_sort_temperature_lays_regions_coldest_first(files):  # noqa: F811
    """The map's space axis is the regions sorted by temperature: with the
    access frequency as the only weight, the hot band (the 4 most accessed
    of 24 regions) is at the end of every row, while unsorted it climbs the
    space axis ('stairs')."""
    whole = ["--address_range", "139637976727552", "139638001893376"]
    result = CliRunner().invoke(main, ["report", "heatmap", "-i", files["basic"],
                                       "--sort_temperature", "--temperature_weights", "1", "0",
                                       "--stdout_skip_colorset_example"]
                                + whole, catch_exceptions=False)
    unsorted = CliRunner().invoke(main, ["report", "heatmap", "-i", files["basic"],
                                         "--stdout_skip_colorset_example"] + whole,
                                  catch_exceptions=False).stdout.splitlines()[:40]
    assert min(i for i, c in enumerate(unsorted[5]) if c >= "7") < 20
    rows = result.stdout.splitlines()[:40]
    assert all(len(r) == 80 for r in rows)
    # the hottest columns of each row are at its right end, not spread around
    for row in rows[5:]:
        hot = [i for i, c in enumerate(row) if c >= "7"]
        assert hot and min(hot) >= 80 * 19 // 24, row
