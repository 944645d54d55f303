"""damo autotune: the search space and objectives (one error line for bad
ones), a search's output (table, Pareto plot, the best scheme as a kdamonds
file that damo start/record and damo 3.4.3 read), a stored study resumed
after ^C, the same best trial on a real dask cluster as on local processes
(and no trial lost to a killed worker), and (slow) 50-trial searches that
beat the hand-made schemes."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import run_ours
from damo.autotune import objectives, space as space_mod
from damo.evaluation import Evaluation, evaluate
from damo.params import damon as params_mod

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEMORY = "dram:1G,swap:zswap"
# a quick search: hotcold's first 12 simulated seconds
QUICK = ["hotcold", "--memory", MEMORY, "--timeout", "12", "--jobs", "2"]


def _damo(*args, cwd=None, **kwargs):
    return subprocess.run([sys.executable, "-m", "damo.cli"] + list(args), cwd=cwd,
                          capture_output=True, text=True, **kwargs)


def _completed_trials(path):
    """Finished trials in an optuna sqlite storage, read-only: opening it
    with optuna while the search creates it raced with the creation of its
    tables (the search then failed to open its study, exit 2)."""
    import sqlite3
    try:
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=1)
        try:
            return con.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'"
                               ).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:           # no table yet, or locked a moment
        return 0


def _study(path, name):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage="sqlite:///" + str(path))


# ------------------------------------------------------------ errors

@pytest.mark.parametrize("space, message", [
    ("min_age=1s..abc", "--space min_age: 'abc' is not a valid time"),
    ("nosuch=1..2", "--space: unknown parameter 'nosuch'"),
    ("min_age=10s..1s", "--space min_age: the range 10s..1s is inverted"),
    ("min_age", "--space: 'min_age' is not NAME=LO..HI"),
    ("min_age=1s..2s,min_age=3s", "--space: min_age is given twice"),
    ("min_age=1s..2s,,sz_min=4K", "--space: empty item"),
    ("min_age=5s|5s", "--space min_age: a choice is given twice"),
    ("sz_min=2M,sz_max=4K", "the scheme to tune: scheme 0 access_pattern.sz_bytes: min "
                            "(2.000 MiB) is larger than max (4.000 KiB)"),
    ("wmarks_high=100,wmarks_mid=400", "watermarks must be high >= mid >= low"),
])
def test_a_bad_space_is_one_error_line(tmp_path, space, message):
    done = _damo("autotune", "hotcold", "--space", space, "--trials", "1", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("damo: error: "), done.stderr
    assert message in done.stderr
    assert not os.path.exists(tmp_path / "autotune.db")     # nothing started


def test_an_unreachable_scheduler_is_one_error_line_and_no_study(tmp_path):
    done = _damo("autotune", "hotcold", "--scheduler", "tcp://127.0.0.1:9", cwd=tmp_path,
                 timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("damo: error: --scheduler: cannot reach the dask scheduler "
                                  "at tcp://127.0.0.1:9") and done.stderr.count("\n") == 1
    assert not os.path.exists(tmp_path / "autotune.db")


@pytest.mark.parametrize("objective, message", [
    ("rss.avg +", "--objective: 'rss.avg +' is not an expression"),
    ("nosuch * 2", "--objective: unknown name 'nosuch'"),
    ("this.rss.average", "--objective: unknown name 'this.rss.average'"),
    ("__import__('os')", "the functions are min, max, abs, log, sqrt"),
    ("'text'", "only numbers are constants"),
    ("[runtime]", "List is not allowed"),
])
def test_a_bad_objective_is_one_error_line(tmp_path, objective, message):
    done = _damo("autotune", "hotcold", "--objective", objective, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("damo: error: "), done.stderr
    assert message in done.stderr


def test_space_ranges_are_log_scaled_for_wide_times_and_sizes_and_grids_keep_the_ends():
    dims = {d.name: d for d in space_mod.parse(
        "min_age=1s..60s,sz_min=4K..2M,nr_max=0%..5%,quota_ms=5..8,aggr=100ms|200ms",
        {n: k for n, (k, _) in space_mod.SCHEME_PARAMS.items()})}
    assert (dims["min_age"].low, dims["min_age"].high, dims["min_age"].log) == \
        (1000000, 60000000, True)
    assert (dims["sz_min"].low, dims["sz_min"].high, dims["sz_min"].log) == (4096, 2 << 20, True)
    assert not dims["nr_max"].log and not dims["quota_ms"].log     # under a decade
    assert dims["aggr"].choices == (100000, 200000)
    # 4 log-spaced points from 4 KiB to 2 MiB: x8 apart
    assert dims["sz_min"].grid(4) == [4096, 32768, 262144, 2 << 20]
    assert dims["quota_ms"].grid(4) == [5, 6, 7, 8]


def test_a_point_becomes_the_scheme_it_says():
    space = space_mod.Space.for_scheme(
        "pageout", None, None, "min_age=1s..60s,sz_min=4K..2M,quota_sz=16M..4G,"
        "goal_some_mem_psi_us=1ms..10ms,wmarks_high=500..1000")
    kd = params_mod.kdamonds_from_kvpairs(space.kdamonds(
        {"min_age": 7000000, "sz_min": 8192, "quota_sz": 64 << 20,
         "goal_some_mem_psi_us": 2000, "wmarks_high": 700}))
    ctx = kd[0].contexts[0]
    s = ctx.schemes[0]
    assert ctx.ops == "vaddr" and s.action == "pageout"
    assert s.access_pattern.age == (7000000, params_mod.units.ULONG_MAX)
    assert s.access_pattern.sz_bytes[0] == 8192
    assert s.access_pattern.nr_accesses == (0, 0)
    assert (s.quotas.sz_bytes, s.quotas.reset_interval_ms) == (64 << 20, 1000)
    assert (s.quotas.weight_age_permil, s.quotas.weight_nr_accesses_permil) == (1, 0)
    assert [(g.metric, g.target_value) for g in s.quotas.goals] == [("some_mem_psi_us", 2000)]
    assert (s.watermarks.metric, s.watermarks.high_permil, s.watermarks.mid_permil) == \
        ("free_mem_rate", 700, 400)
    hot = space_mod.Space.for_scheme("migrate_hot", 0, "paddr", "nr_min=5%..50%")
    s = params_mod.kdamonds_from_kvpairs(hot.kdamonds({"nr_min": 10.0}))[0].contexts[0].schemes[0]
    assert (s.action, s.target_nid, s.access_pattern.nr_accesses[0]) == ("migrate_hot", 0, 10.0)


def test_the_damoos_score_is_damoos_formula():
    base = evaluate(Evaluation("hotcold", MEMORY, timeout=12))
    prcl = evaluate(Evaluation("hotcold", MEMORY, timeout=12, preset="prcl"))
    rt = (prcl.summary["runtime"] / base.summary["runtime"] - 1) * 100
    rss = (prcl.summary["rss.avg"] / base.summary["rss.avg"] - 1) * 100
    assert rss < -10            # prcl paged hotcold's cold memory out
    assert objectives.Damoos()(prcl, base) == pytest.approx(-0.5 * rt - 0.5 * rss)
    assert objectives.Damoos(0.9)(prcl, base) == pytest.approx(-0.9 * rt - 0.1 * rss)
    # past the cap: DAMOOS's -1000
    assert objectives.Damoos(0.5, runtime_cap=rt / 200)(prcl, base) == -1000 or rt <= 0
    assert objectives.Damoos()(base, base) == 0
    expr = objectives.Expression("-rss.avg * 100 - this.runtime / baseline.runtime")
    assert expr(prcl, base) == pytest.approx(-rss - prcl.summary["runtime"] /
                                             base.summary["runtime"])
    assert objectives.Tiering()(base, base) == 1.0       # one node, nothing migrated


# ------------------------------------------------------------ a search

@pytest.fixture(scope="module")
def search(tmp_path_factory):
    """A 12-trial TPE search of hotcold (2 local workers)."""
    d = tmp_path_factory.mktemp("autotune")
    code, out, err = run_ours("autotune", *QUICK, "--trials", "12", "--seed", "1",
                              "--storage", "sqlite:///%s" % (d / "s.db"),
                              "--plot", str(d / "pareto.png"), "-o", str(d / "best.json"))
    assert code == 0, err
    return d, out, err


def test_a_search_prints_its_best_trials_and_the_hand_made_schemes(search):
    d, out, err = search
    study = _study(d / "s.db", "hotcold-pageout")
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(study.trials) == 12 and len(done) == 12
    assert "study hotcold-pageout in sqlite:///%s: 12 trials (12 scored, 0 failed)" % (
        d / "s.db") in out
    best = max(done, key=lambda t: (t.value, -t.number))
    assert "best: trial %d, score %.3f" % (best.number, best.value) in out
    rows = [line.split() for line in out.splitlines()]
    ranked = [r for r in rows if r and r[0].isdigit() and len(r) > 3]
    assert [int(r[1]) for r in ranked] == [t.number for t in sorted(
        done, key=lambda t: (-t.value, t.number))][:5]
    assert [float(r[2]) for r in ranked] == sorted((float(r[2]) for r in ranked), reverse=True)
    assert any(r[:1] == ["prcl"] for r in rows) and any(r[:1] == ["reclaim"] for r in rows)
    assert any(r[:1] == ["baseline"] for r in rows)
    # the comparisons were kept in the study, scored as the table says
    base = study.user_attrs["cache:baseline"]["summary"]
    prcl = study.user_attrs["cache:prcl"]["summary"]
    score = -0.5 * (prcl["runtime"] / base["runtime"] - 1) * 100 - \
        0.5 * (prcl["rss.avg"] / base["rss.avg"] - 1) * 100
    assert next(r for r in rows if r[:1] == ["prcl"])[1] == "%.3f" % score
    assert "autotune: 12/12 trials, best %.3f (trial %d)" % (best.value, best.number) in err


def test_the_pareto_plot_is_a_png_of_the_trials(search):
    from PIL import Image
    d, _, _ = search
    with Image.open(d / "pareto.png") as img:
        assert img.format == "PNG" and img.size == (900, 650)
        colors = img.convert("RGB").getcolors(1 << 20)
    assert len(colors) > 20


def test_the_best_scheme_file_runs_with_record_and_start_and_damo_reads_it(search, tmp_path,
                                                                           damo):
    d, _, _ = search
    best = str(d / "best.json")
    study = _study(d / "s.db", "hotcold-pageout")
    trial = study.best_trial
    data = json.load(open(best))
    ran = trial.user_attrs["result"]["kdamonds"]
    for kd in ran["kdamonds"]:
        for ctx in kd["contexts"]:
            for s in ctx["schemes"]:
                s.pop("stats", None)
    assert data == ran
    ours = params_mod.kdamonds_from_kvpairs(data)
    # damo record --kdamonds: the same run as the trial's
    out = str(tmp_path / "r.data")
    code, _, err = run_ours("record", "hotcold", "--memory", MEMORY, "--timeout", "12",
                            "--seed", "1", "--kdamonds", best, "-o", out)
    assert code == 0, err
    from damo import metrics as metrics_mod
    from damo.reports import profile
    assert profile.summary(metrics_mod.load(out)) == trial.user_attrs["result"]["summary"]
    # damo 3.4.3 reads it: args damon --kdamonds --raw shows the same values (damo keeps
    # ages and the quota reset interval in ns)
    code, text = damo.command("args", "damon", "--kdamonds", best, "--format", "json", "--raw")
    assert code == 0, damo.stderr
    a = ours[0].contexts[0]
    sa = a.schemes[0]
    theirs = json.loads(text)["kdamonds"][0]["contexts"][0]
    assert theirs["ops"] == a.ops == "vaddr"
    assert [int(theirs["intervals"][k]) for k in ("sample_us", "aggr_us", "ops_update_us")] \
        == [a.sample_us, a.aggr_us, a.update_us]
    assert [int(theirs["nr_regions"][k]) for k in ("min", "max")] == \
        [a.min_nr_regions, a.max_nr_regions]
    ts = theirs["schemes"][0]
    pattern = ts["access_pattern"]
    assert ts["action"] == sa.action == "pageout"
    assert [int(pattern["sz_bytes"][k]) for k in ("min", "max")] == \
        list(sa.access_pattern.sz_bytes)
    assert pattern["nr_accesses"] == {"min": "0 %", "max": "0 %"}
    assert [int(pattern["age"][k]) for k in ("min", "max")] == \
        [v * 1000 for v in sa.access_pattern.age]
    assert int(ts["quotas"]["sz_bytes"]) == sa.quotas.sz_bytes > 0
    assert int(ts["quotas"]["reset_interval_ms"]) == sa.quotas.reset_interval_ms * 1000000
    assert float(ts["quotas"]["weights"]["age_permil"]) == sa.quotas.weight_age_permil == 1
    # damo start --kdamonds: a live kdamond with the scheme
    env = dict(os.environ, DAMO_SIM_RUNTIME_DIR=str(tmp_path / "rt"), NO_COLOR="1")
    started = _damo("start", "hotcold", "--kdamonds", best, "--speed", "5", env=env,
                    cwd=tmp_path, timeout=60)
    try:
        assert started.returncode == 0, started.stderr
        status = _damo("status", "--format", "json", env=env, cwd=tmp_path, timeout=60)
        assert status.returncode == 0, status.stderr
        shown = json.loads(status.stdout)      # damo's layout: the list of kdamonds
        live = params_mod.kdamonds_from_kvpairs({"kdamonds": shown})
        assert live[0].contexts[0].schemes[0].access_pattern == sa.access_pattern
    finally:
        stopped = _damo("stop", env=env, cwd=tmp_path, timeout=60)
    assert stopped.returncode == 0, stopped.stderr


def test_a_resumed_study_continues_from_its_trials_and_its_cached_runs(search, tmp_path):
    d, _, _ = search
    db = tmp_path / "s.db"
    import shutil
    shutil.copy(d / "s.db", db)
    before = _study(db, "hotcold-pageout")
    params = [t.params for t in before.trials]
    cached = dict(before.user_attrs)
    code, out, err = run_ours("autotune", *QUICK, "--trials", "16", "--seed", "1",
                              "--storage", "sqlite:///%s" % db, "-o", str(tmp_path / "b.json"))
    assert code == 0, err
    after = _study(db, "hotcold-pageout")
    assert len(after.trials) == 16
    assert [t.params for t in after.trials[:12]] == params
    assert after.user_attrs == cached               # evaluated once: not again
    assert "autotune: 16/16 trials" in err
    # another search in the same study is refused
    code, _, err = run_ours("autotune", *QUICK, "--trials", "2", "--seed", "1", "--storage",
                            "sqlite:///%s" % db, "--objective", "-runtime")
    assert code == 2 and "was made for another search (objective differs)" in err


def test_a_search_stopped_by_ctrl_c_resumes_with_the_trials_it_stopped(tmp_path):
    db = tmp_path / "c.db"
    argv = [sys.executable, "-m", "damo.cli", "autotune", *QUICK, "--trials", "400",
            "--batch", "2", "--sampler", "random", "--storage", "sqlite:///%s" % db]
    p = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert time.monotonic() < deadline and p.poll() is None
            time.sleep(0.2)
            if os.path.exists(db) and _completed_trials(db) >= 4:
                break
        os.killpg(p.pid, signal.SIGINT)       # ^C: the whole foreground group
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 130, err
    assert "Traceback" not in err
    assert "damo: interrupted: the study hotcold-pageout" in err
    study = _study(db, "hotcold-pageout")
    finished = [t for t in study.trials if t.state.name == "COMPLETE"]
    given_back = [t for t in study.trials if t.user_attrs.get("interrupted")]
    waiting = [t for t in study.trials if t.state.name == "WAITING"]
    assert 4 <= len(finished) < 400 and len(given_back) <= 2
    # given back: queued with their parameters (optuna keeps them as fixed_params)
    assert [t.system_attrs["fixed_params"] for t in waiting] == \
        [t.params for t in given_back]
    assert not [t for t in study.trials if t.state.name == "RUNNING"]
    n = len(finished) + 3
    code, out, err = run_ours("autotune", *QUICK, "--trials", str(n), "--batch", "2",
                              "--sampler", "random", "--storage", "sqlite:///%s" % db,
                              "-o", str(tmp_path / "b.json"))
    assert code == 0, err
    study = _study(db, "hotcold-pageout")
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(done) == n
    # the trials ^C stopped ran first when it resumed
    assert [t.params for t in done[len(finished):len(finished) + len(waiting)]] == \
        [t.params for t in given_back]


# ------------------------------------------------------------ dask

def _trials(db, name):
    return [(t.number, t.params, t.value, t.state.name) for t in _study(db, name).trials]


def test_a_dask_search_finds_the_local_best_trial_and_a_killed_worker_loses_none(tmp_path):
    import dask_cluster
    # random_phases: evaluations long enough to be killed in
    args = ["autotune", "random_phases", "--memory", MEMORY, "--trials", "6", "--batch", "2",
            "--seed", "3", "--compare", "none"]
    code, out, err = run_ours(*args, "--jobs", "2", "--storage",
                              "sqlite:///%s" % (tmp_path / "local.db"),
                              "-o", str(tmp_path / "local.json"))
    assert code == 0, err
    local = _trials(tmp_path / "local.db", "random_phases-pageout")
    with dask_cluster.running(tmp_path) as (address, workers):
        p = subprocess.Popen([sys.executable, "-m", "damo.cli", *args, "--scheduler", address,
                              "--storage", "sqlite:///%s" % (tmp_path / "dask.db"),
                              "-o", str(tmp_path / "dask.json")], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            dask_cluster.kill_a_busy_worker(address, workers)
            dout, derr = p.communicate(timeout=300)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert p.returncode == 0, derr
    remote = _trials(tmp_path / "dask.db", "random_phases-pageout")
    assert remote == local and len(remote) == 6
    assert all(state == "COMPLETE" for *_, state in remote)
    assert json.load(open(tmp_path / "dask.json")) == json.load(open(tmp_path / "local.json"))
    best = [line for line in out.splitlines() if line.startswith("best: ")]
    assert best and best == [line for line in dout.splitlines() if line.startswith("best: ")]


# ------------------------------------------------------------ slow

STAIRS_VARIANT = """\
# stairs with a cold tail: five 10 MiB areas hot in turn over 30 s, and
# 150 MiB written once and never again
s0, 10485760
s1, 10485760
s2, 10485760
s3, 10485760
s4, 10485760
tail, 157286400

populate
2000
s0, 0, 4096, 1
s1, 0, 4096, 1
s2, 0, 4096, 1
s3, 0, 4096, 1
s4, 0, 4096, 1
tail, 0, 4096, 15

"""


@pytest.mark.slow
@pytest.mark.parametrize("workload", ["hotcold", "stairs_variant"])
def test_fifty_trials_beat_prcl_and_damon_reclaims_defaults(tmp_path, workload):
    if workload == "stairs_variant":
        cfg = tmp_path / "stairs_variant.cfg"
        text = STAIRS_VARIANT + "".join(
            "s%d hot\n6000\ns%d, 0, 4096, 1\n\n" % (i, i) for i in range(5))
        cfg.write_text(text)
        workload = str(cfg)
    code, out, err = run_ours("autotune", workload, "--memory", MEMORY, "--trials", "50",
                              "--jobs", "2", "--storage", "sqlite:///%s" % (tmp_path / "s.db"),
                              "--study_name", "s", "-o", str(tmp_path / "best.json"))
    assert code == 0, err
    study = _study(tmp_path / "s.db", "s")
    base = _result(study.user_attrs["cache:baseline"])
    obj = objectives.Damoos()
    prcl = obj(_result(study.user_attrs["cache:prcl"]), base)
    reclaim = obj(_result(study.user_attrs["cache:reclaim"]), base)
    assert len([t for t in study.trials if t.state.name == "COMPLETE"]) == 50
    print("%s: best %.3f, prcl %.3f, DAMON_RECLAIM %.3f" % (workload, study.best_value,
                                                              prcl, reclaim))
    assert study.best_value > prcl and study.best_value > reclaim


def _result(rec):
    from damo.autotune.search import record_result
    return record_result(rec)


def test_a_grid_search_tries_each_point_once_and_stops_at_the_grid(tmp_path):
    db = tmp_path / "g.db"
    code, out, err = run_ours("autotune", *QUICK, "--sampler", "grid", "--grid_points", "2",
                              "--space", "min_age=1s..60s,sz_min=4K..2M,quota_sz=16M|4G",
                              "--trials", "50", "--compare", "none",
                              "--storage", "sqlite:///%s" % db, "-o", str(tmp_path / "g.json"))
    assert code == 0, err
    points = sorted(tuple(sorted(t.params.items())) for t in _study(db, "hotcold-pageout").trials)
    assert points == sorted(tuple(sorted({"min_age": a, "sz_min": s, "quota_sz": q}.items()))
                            for a in (1000000, 60000000) for s in (4096, 2 << 20)
                            for q in (16 << 20, 4 << 30))
    assert "8 trials (8 scored, 0 failed)" in out


def test_a_preset_search_with_the_tiering_objective(tmp_path):
    db = tmp_path / "m.db"
    code, out, err = run_ours("autotune", "hotcold", "--memory", "dram:128M,cxl:1G",
                              "--timeout", "10", "--preset", "mtier", "--objective", "tiering",
                              "--trials", "3", "--jobs", "2", "--storage", "sqlite:///%s" % db,
                              "-o", str(tmp_path / "m.json"))
    assert code == 0, err
    study = _study(db, "hotcold-mtier")
    mtier = study.user_attrs["cache:mtier"]
    assert [kd["contexts"][0]["schemes"][0]["action"] for kd in mtier["kdamonds"]["kdamonds"]] \
        == ["migrate_hot", "migrate_cold"]
    for t in study.trials:
        rec = t.user_attrs["result"]
        share = rec["accesses_by_node"][0] / sum(rec["accesses_by_node"])
        migrated = rec["vmstat"]["pgmigrate_success"] * 4096
        assert t.value == pytest.approx(share / (1 + migrated / rec["summary"]["rss.avg"]))
        assert sorted(t.params) == ["demote_target_bp", "promote_target_bp", "quota_sz"]
    written = json.load(open(tmp_path / "m.json"))
    assert len(written["kdamonds"]) == 2            # mtier's two kdamonds


def test_two_searches_share_one_study_and_end_at_its_budget(tmp_path):
    """Two processes on one storage (as two hosts on a database server)."""
    args = [sys.executable, "-m", "damo.cli", "autotune", *QUICK, "--jobs", "1", "--batch", "2",
            "--trials", "16", "--storage", "sqlite:///%s" % (tmp_path / "shared.db")]
    first = subprocess.Popen(args + ["-o", str(tmp_path / "a.json"), "--sampler_seed", "7"],
                             cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not os.path.exists(tmp_path / "shared.db"):      # the first makes the study
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        second = _damo(*args[3:], "-o", str(tmp_path / "b.json"), "--sampler_seed", "8",
                       cwd=tmp_path, timeout=300)
        out, err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0 and second.returncode == 0, (err, second.stderr)
    trials = _study(tmp_path / "shared.db", "hotcold-pageout").trials
    # each stops once the study has 16 finished trials: at most a batch more each
    assert 16 <= len(trials) <= 16 + 2 * 2
    assert all(t.state.name == "COMPLETE" for t in trials)
    # their own sampler seeds: no candidate tried twice
    assert len({tuple(sorted(t.params.items())) for t in trials}) == len(trials)


def test_the_pareto_front_is_the_points_no_other_beats_on_both():
    from damo.autotune import report
    # (runtime overhead %, RSS saving %)
    points = [(0, 0), (1, 5), (2, 4), (3, 10), (0.5, 0), (3, 9), (1, 5)]
    assert sorted(report.pareto_front(points)) == [0, 1, 3]
