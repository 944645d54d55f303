"""The local workers damo sweep runs on start warm: forked from the process
that asks for them once it has imported what evaluations need (when no
other thread runs there), or from a forkserver otherwise; either gives the
serial results, and a killed forked worker is replaced."""
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, os, signal, sys, threading, time
    from damo.evaluation import Evaluation, Evaluator, evaluate
    if sys.argv[1] == "thread":
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
    # (a measure that makes an evaluation last long enough to be killed in)
    evs = [Evaluation("stairs", timeout=0.5, seed=s, measure="pausing:pause")
           for s in range(3)]
    serial = [evaluate(e) for e in evs]
    out = {"pid": os.getpid()}
    with Evaluator(jobs=2) as pool:
        pids = pool.worker_pids()
        out["ppids"] = [int(open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()[1])
                        for p in pids]
        futures = [pool.submit(e) for e in evs]
        if sys.argv[2] == "kill":
            while not pool.worker_pids(busy=True):
                time.sleep(0.01)
            os.kill(pool.worker_pids(busy=True)[0], signal.SIGKILL)
        results = [f.result(120) for f in futures]
        out["nr_workers"] = len(pool.worker_pids())
        out["retried"] = pool.nr_retried
    out["same"] = [a.same_as(b) for a, b in zip(results, serial)]
    print(json.dumps(out))
""")


PAUSING = """import time
def pause(run):
    time.sleep(0.3)
    return {"pid": 0}
"""


def run(tmp_path, *args):
    (tmp_path / "pausing.py").write_text(PAUSING)
    p = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True,
                       text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert p.returncode == 0, p.stderr
    import json
    return json.loads(p.stdout)


def test_workers_fork_from_this_process_when_no_other_thread_runs(tmp_path):
    out = run(tmp_path, "alone", "-")
    assert out["ppids"] == [out["pid"]] * 2
    assert out["same"] == [True] * 3


def test_workers_fork_from_a_forkserver_when_another_thread_runs(tmp_path):
    out = run(tmp_path, "thread", "-")
    assert len(out["ppids"]) == 2 and out["pid"] not in out["ppids"]
    assert len(set(out["ppids"])) == 1          # the one forkserver
    assert out["same"] == [True] * 3


def test_a_killed_forked_worker_loses_nothing_and_is_replaced(tmp_path):
    out = run(tmp_path, "alone", "kill")
    assert out["ppids"] == [out["pid"]] * 2
    assert out["retried"] == 1 and out["nr_workers"] == 2
    assert out["same"] == [True] * 3
