"""report profile on a run that the timeout cut short and whose only scheme
its watermarks kept inactive: the states the other profile tests never
reach (mutation testing found their rows untested)."""
import json

import pytest

from conftest import run_ours


@pytest.fixture(scope="module")
def cut_short(tmp_path_factory):
    """hotcold (30 s of phases) cut at 2 simulated seconds; a stat scheme whose
    watermarks (high 50%, mid 40%, low 10% free) keep it off: hotcold uses
    200 MiB of 512 MiB, so free memory stays near 60%, above the high mark."""
    path = str(tmp_path_factory.mktemp("profile-states") / "cut.data")
    code, _, err = run_ours("record", "hotcold", "--memory", "dram:512M,swap:zswap",
                            "--damos_action", "stat", "--damos_wmarks", "free_mem_rate", "1s",
                            "500", "400", "100", "--timeout", "2", "-o", path)
    assert code == 0, err
    with open(path + ".sim_metrics") as f:
        return path, json.load(f)


def _rows(text, title):
    """The cells of a rich table's rows (after the title, header and rule)."""
    lines = text.splitlines()
    i = next(n for n, line in enumerate(lines) if line.strip() == title)
    rows = []
    for line in lines[i + 3:]:
        if "│" not in line:
            break
        rows.append([cell.strip() for cell in line.split("│")])
    return rows


def test_an_unfinished_process_and_an_inactive_scheme(cut_short):
    path, metrics = cut_short
    code, out, err = run_ours("report", "profile", "--inputs", path,
                              env={"NO_COLOR": "1", "COLUMNS": "160"})
    assert code == 0, err
    proc, = metrics["final"]["processes"]
    assert not proc["finished"]
    runtime = _rows(out, "Runtime")
    assert runtime[-1][1] == "total (unfinished)"
    number, unit = runtime[-1][2].split()
    assert (float(number), unit) == (2.0, "s")                   # the timeout, by hand
    scheme, = _rows(out, "DAMOS schemes")
    # inactive all along: it tried nothing, and the kdamond waited (no snapshot)
    assert scheme[:4] == ["0/0/0", "stat", "0 (0 B)", "0 (0 B)"]
    described = [line for line in out.splitlines() if line.startswith("0/0/0: stat")]
    assert len(described) == 1 and described[0].endswith("(off: watermarks inactive)")
    assert metrics["final"]["schemes"][0]["active"] is False
