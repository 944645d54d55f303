"""The evaluation layer (damo.evaluation): one evaluation gives the metrics
`damo report profile --baseline` computes for the same `damo record`, the
same in this process, in local worker processes and on a real dask cluster
(scheduler and two workers on loopback); a worker killed mid-run loses
nothing; results come back in submission order."""
import dataclasses
import os
import signal
import time

import pytest

from conftest import run_ours
from damo import metrics as metrics_mod
from damo.evaluation import Evaluation, EvaluationError, Evaluator, evaluate, overheads
from damo.reports import profile

MEMORY = "dram:1G,swap:zswap"


def _pageout_kdamonds(min_age="3s", quota=None):
    """One vaddr context paging out regions idle for min_age (damo's layout)."""
    scheme = {"action": "pageout",
              "access_pattern": {"sz_bytes": {"min": "4096", "max": "max"},
                                 "nr_accesses": {"min": "0 %", "max": "0 %"},
                                 "age": {"min": min_age, "max": "max"}}}
    if quota:
        scheme["quotas"] = {"time_ms": "0", "sz_bytes": quota, "reset_interval_ms": "1s"}
    return {"kdamonds": [{"contexts": [{"ops": "vaddr", "targets": [{"pid": None}],
                                        "schemes": [scheme]}]}]}


def _evaluations(timeout=6):
    return [Evaluation("hotcold", MEMORY, timeout=timeout, key="base"),
            Evaluation("hotcold", MEMORY, preset="prcl", preset_params=("min_age=2s",),
                       timeout=timeout, key="prcl"),
            Evaluation("hotcold", MEMORY, kdamonds=_pageout_kdamonds("1s", "16M"),
                       timeout=timeout, key="quota"),
            Evaluation("hotcold", MEMORY, kdamonds=_pageout_kdamonds("1s"), seed=3,
                       timeout=timeout, key="seed3")]


@pytest.fixture(scope="module")
def serial():
    """The evaluations run one after the other in this process."""
    return [evaluate(e) for e in _evaluations()]


def test_an_evaluation_has_the_metrics_of_the_same_record_and_profile(tmp_path, serial):
    # what `damo record` + `damo report profile --baseline` compute from files
    base_out, prcl_out = str(tmp_path / "base.data"), str(tmp_path / "prcl.data")
    for out, extra in ((base_out, []), (prcl_out, ["--preset", "prcl",
                                                  "--preset_param", "min_age=2s"])):
        code, _, err = run_ours("record", "hotcold", "--memory", MEMORY, "--timeout", "6",
                                "-o", out, *extra)
        assert code == 0, err
    base = profile.summary(metrics_mod.load(base_out))
    prcl = profile.summary(metrics_mod.load(prcl_out))
    assert serial[0].summary == base
    assert serial[1].summary == prcl
    # the scheme did something: memory paged out, less resident memory
    assert serial[1].vmstat["zswpout"] > 0 and prcl["rss.avg"] < base["rss.avg"]
    over = overheads(serial[1], serial[0])
    assert over == {k: v for k, (_, _, v) in profile.overheads(prcl, base).items()}
    assert over["rss.avg"] < 0
    assert serial[1].schemes[0]["action"] == "pageout"
    assert serial[1].schemes[0]["stats"]["sz_applied"] > 0


def test_the_same_evaluation_gives_the_same_result_and_seeds_differ(serial):
    again = evaluate(_evaluations()[3])
    assert again.same_as(serial[3]) and again.summary == serial[3].summary
    # the split points follow the seed: another seed, another run
    other = evaluate(Evaluation("hotcold", MEMORY, kdamonds=_pageout_kdamonds("1s"), seed=4,
                                timeout=6))
    assert not other.same_as(serial[3])


def test_local_workers_give_the_serial_results_in_submission_order(serial):
    seen = []
    with Evaluator(jobs=2) as pool:
        assert pool.nr_workers == 2
        results = pool.map(_evaluations(), progress=lambda d, t, r: seen.append((d, t, r)))
    assert [r.evaluation.key for r in results] == ["base", "prcl", "quota", "seed3"]
    for got, want in zip(results, serial):
        assert got.same_as(want), got.evaluation.key
    assert [(d, t) for d, t, _ in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert sorted(r.evaluation.key for _, _, r in seen) == sorted(["base", "prcl", "quota",
                                                                    "seed3"])


def test_a_bad_evaluation_is_an_error_not_a_retry_and_the_pool_goes_on():
    bad = Evaluation("hotcold", MEMORY, kdamonds=_pageout_kdamonds("nonsense"), timeout=1)
    with Evaluator(jobs=1) as pool:
        fut = pool.submit(bad)
        with pytest.raises(EvaluationError) as info:
            fut.result(60)
        assert "age" in str(info.value) and "nonsense" in str(info.value)
        assert "\n" not in str(info.value)
        ok = pool.submit(Evaluation("hotcold", MEMORY, timeout=1)).result(60)
    assert ok.simulated_ns >= 1e9
    with pytest.raises(EvaluationError, match="no such workload"):
        evaluate(Evaluation("no-such-workload", timeout=1))


def test_a_killed_local_worker_loses_no_evaluation(serial):
    evaluations = _slow_evaluations()
    with Evaluator(jobs=2) as pool:
        futures = [pool.submit(e) for e in evaluations]
        deadline = time.monotonic() + 60
        while not pool.worker_pids(busy=True):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        victim = pool.worker_pids(busy=True)[0]
        os.kill(victim, signal.SIGKILL)
        results = [f.result(120) for f in futures]
        assert victim not in pool.worker_pids()
        assert len(pool.worker_pids()) == 2          # replaced
        assert pool.nr_retried == 1
    for got, want in zip(results, serial):
        assert got.same_as(want), got.evaluation.key


_CANCEL_A_BUSY_WORKER = """
import sys, time
sys.path.insert(0, "tests")
from damo import cli
from damo.evaluation import Evaluation, Evaluator
cli.handle_termination()            # the handlers a damo command runs under
pool = Evaluator(jobs=1)
pool.submit(Evaluation("hotcold", "dram:1G,swap:zswap", timeout=1,
                       measure="test_evaluation:_stall"))
deadline = time.monotonic() + 60
while not pool.worker_pids(busy=True):
    assert time.monotonic() < deadline
    time.sleep(0.01)
time.sleep(1.5)                     # past the simulation, in the measure
pool.close(cancel=True)             # terminate(): SIGTERM to the busy worker
print("closed")
"""


def test_a_cancelled_busy_worker_ends_without_a_traceback():
    # a forked worker kept the command's SIGTERM handler, which raised
    # KeyboardInterrupt in it: autotune's ^C printed two workers' tracebacks
    import subprocess
    import sys
    from conftest import REPO
    p = subprocess.run([sys.executable, "-c", _CANCEL_A_BUSY_WORKER], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "closed\n"
    assert p.stderr == ""


def test_a_measure_function_sees_the_run_and_its_recording():
    ev = Evaluation("hotcold", MEMORY, timeout=2, measure="test_evaluation:_measure",
                    keep_recording=True)
    r = evaluate(ev)
    nr = sum(len(rec.start_ns) for rec in r.recording.records)
    # 100 ms aggregations over 2 simulated seconds
    assert r.extra == {"snapshots": nr, "time_ns": r.simulated_ns}
    assert 18 <= nr <= 20


def _pause(run):
    """A measure that makes an evaluation last long enough to be killed in."""
    time.sleep(0.5)
    return {}


def _slow_evaluations():
    return [dataclasses.replace(e, measure="test_evaluation:_pause") for e in _evaluations()]


def _stall(run):
    """A measure that keeps its worker busy until it is cancelled."""
    time.sleep(60)
    return {}


def _measure(run):
    return {"snapshots": sum(len(rec.start_ns) for rec in run.recording.records),
            "time_ns": run.metrics["final"]["time_ns"]}


# ----------------------------------------------------------------- dask

@pytest.fixture
def dask_cluster(tmp_path):
    import dask_cluster as cluster
    with cluster.running(tmp_path) as running:
        yield running


def test_a_dask_cluster_gives_the_local_results_and_loses_nothing_to_a_killed_worker(
        dask_cluster, serial):
    import distributed

    address, workers = dask_cluster
    with Evaluator(scheduler=address) as pool:
        assert pool.nr_workers == 2
        seen = []
        results = pool.map(_evaluations(), progress=lambda d, t, r: seen.append(d))
        assert seen == [1, 2, 3, 4]
        for got, want in zip(results, serial):
            assert got.same_as(want), got.evaluation.key
        # again, killing a worker while it runs an evaluation
        futures = [pool.submit(e) for e in _slow_evaluations()]
        import dask_cluster as cluster
        cluster.kill_a_busy_worker(address, workers)
        results = [f.result(180) for f in futures]
        with distributed.Client(address, timeout=30) as c:
            assert len(c.scheduler_info()["workers"]) == 1
    for got, want in zip(results, serial):
        assert got.same_as(want), got.evaluation.key


def test_an_unreachable_scheduler_is_one_error_line():
    from damo.errors import DamoError
    with pytest.raises(DamoError) as info:
        Evaluator(scheduler="tcp://127.0.0.1:9", connect_timeout=1)
    assert "cannot reach the dask scheduler" in str(info.value)


def test_a_recording_and_a_trace_evaluate_as_damo_replay_and_record_trace_run_them(tmp_path):
    from conftest import REPO
    rec = str(tmp_path / "rec.data")
    code, _, err = run_ours("record", "stairs", "--timeout", "4", "-o", rec)
    assert code == 0, err
    out = str(tmp_path / "replayed.data")
    code, _, err = run_ours("replay", rec, "--memory", MEMORY, "-o", out)
    assert code == 0, err
    r = evaluate(Evaluation(rec, MEMORY))
    assert r.summary == profile.summary(metrics_mod.load(out))
    trace = os.path.join(REPO, "tests", "data", "traces", "lackey_touch_1MiB.data_only.txt.gz")
    out = str(tmp_path / "traced.data")
    # the trace lasts half a simulated ms: short intervals
    code, _, err = run_ours("record", "--trace", trace, "--memory", MEMORY, "-o", out,
                            "--monitoring_intervals", "10us", "100us", "1ms")
    assert code == 0, err
    kdamonds = {"kdamonds": [{"contexts": [{"ops": "vaddr", "targets": [{"pid": None}],
                                            "intervals": {"sample_us": "10us", "aggr_us": "100us",
                                                          "ops_update_us": "1ms"}}]}]}
    # explicit intervals are simulated times there: time scale 1
    r = evaluate(Evaluation(trace, MEMORY, kdamonds=kdamonds, time_scale=1))
    assert r.summary == profile.summary(metrics_mod.load(out))
    assert r.summary["rss.max"] >= 1 << 20         # it touched its 1 MiB


# the trace lasts 0.44 simulated ms: a scale of 1000 makes damo's 100 ms
# aggregation interval 0.1 ms (and a preset's, whose watermarks are opened)
WMARKS_OPEN = ("wmarks_high=1000", "wmarks_mid=999", "wmarks_low=0")


@pytest.mark.parametrize("extra, fields", [
    (["--time_scale", "1000"], {"time_scale": 1000}),
    (["--preset", "prcl", "--time_scale", "1000"], {"preset": "prcl", "time_scale": 1000}),
    (["--preset", "reclaim", "--time_scale", "1000"] +
     [w for p in WMARKS_OPEN for w in ("--preset_param", p)],
     {"preset": "reclaim", "preset_params": WMARKS_OPEN, "time_scale": 1000}),
])
def test_a_trace_evaluates_at_record_traces_time_scale(tmp_path, extra, fields):
    """A trace's DAMON times are divided as `damo record --trace` divides
    them (100 by default: damo's default intervals and a preset's alike), so
    an evaluation of it is the run that command makes: a preset on a trace
    used to keep its 5 s intervals and monitor nothing in the trace's ms."""
    from conftest import REPO
    trace = os.path.join(REPO, "tests", "data", "traces", "lackey_touch_1MiB.data_only.txt.gz")
    out = str(tmp_path / "traced.data")
    code, _, err = run_ours("record", "--trace", trace, "--memory", MEMORY, "-o", out, *extra)
    assert code == 0, err
    r = evaluate(Evaluation(trace, MEMORY, **fields))
    assert r.summary == profile.summary(metrics_mod.load(out))
    # damo's default and the presets' sampling interval (5 ms) over the scale
    ctx = r.kdamonds["kdamonds"][0]["contexts"][0]
    assert ctx["intervals"]["sample_us"] == "5 us", ctx["intervals"]
    # the schemes ran as there (unscaled, prcl's 5 s min_age and intervals
    # outlast the trace: no snapshot)
    metrics = metrics_mod.load(out)
    assert [s["stats"] for s in r.schemes] == [s["stats"] for s in metrics["final"]["schemes"]]
    if "preset" in fields:
        assert r.schemes[0]["stats"]["nr_snapshots"] >= 3


def test_time_scale_is_for_traces_only():
    from damo.errors import DamoError
    with pytest.raises(DamoError, match="time_scale: only a trace"):
        evaluate(Evaluation("stairs", MEMORY, time_scale=10, timeout=0.1))
    with pytest.raises(DamoError, match="time_scale: 0 is not an integer"):
        evaluate(Evaluation("stairs", MEMORY, time_scale=0, timeout=0.1))
