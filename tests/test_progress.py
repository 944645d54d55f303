"""Runs say what they did: progress is the share of the workload's work done
(its phases' accesses at nominal speed), not of its nominal length, and
without a terminal it is a line on stderr every 10 s of wall time."""
import re

from conftest import run_ours


def progress_lines(err):
    out = []
    for m in re.finditer(r"damo: (\w+): (\d+)% done, ([0-9.]+) simulated s, \d+ s elapsed", err):
        out.append((m.group(1), int(m.group(2)), float(m.group(3))))
    return out


def test_progress_is_work_done_on_slow_memory(tmp_path, monkeypatch):
    """A 1 s phase of streaming reads on memory 300 times slower than the
    reference DRAM: at 1 simulated second only a sliver of it is done."""
    monkeypatch.setenv("DAMO_SIM_PROGRESS_S", "1e-9")
    (tmp_path / "s.cfg").write_text("# regions\na, 64000000, init\n\np\n1000\na, 0, 64, 1, ro\n")
    code, _, err = run_ours("record", str(tmp_path / "s.cfg"), "--memory",
                            "dram:1G:bandwidth=0.1", "-o", str(tmp_path / "s.data"))
    assert code == 0, err
    lines = progress_lines(err)
    assert len(lines) > 10 and all(label == "recording" for label, _, _ in lines)
    pcts = [p for _, p, _ in lines]
    assert pcts == sorted(pcts) and pcts[-1] <= 100
    # its nominal length passed, it is far from done (the phase takes ~350 s here)
    at_nominal = [p for _, p, s in lines if 1.0 <= s <= 2.0]
    assert at_nominal and max(at_nominal) <= 1
    # about linear in the work: at a third of the run, about a third done
    total = lines[-1][2]
    third = min(lines, key=lambda x: abs(x[2] - total / 3))
    assert 20 <= third[1] <= 45


def test_no_progress_lines_in_a_short_run(tmp_path, monkeypatch):
    monkeypatch.setenv("DAMO_SIM_PROGRESS_S", "10")
    code, _, err = run_ours("record", "stairs", "--timeout", "1", "-o",
                            str(tmp_path / "x.data"))
    assert code == 0 and progress_lines(err) == []
