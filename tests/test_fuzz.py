"""Fuzzing in the default suite, briefly: every reader of hostile input
(tests/fuzz_targets.py) gets a couple of seconds of mutated inputs, and
hypothesis builds structured ones; each input must be accepted, or refused
with one error line naming where, never a traceback or a hang.  The long
runs (a million inputs a target) are `python bench/fuzz.py` and
`pytest -m slow tests/test_fuzz.py`."""
import json
import math
import os
import random
import signal
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_targets
from damo.errors import DamoError

SECONDS_PER_TARGET = float(os.environ.get("DAMO_SIM_FUZZ_SECONDS", "1.5"))
HANG_S = 10.0


class Hang(BaseException):
    pass


def _alarm(signum, frame):
    raise Hang()


@pytest.fixture(scope="module")
def workdir():
    d = fuzz_targets.make_workdir()
    yield d
    import shutil
    shutil.rmtree(d, ignore_errors=True)


def fuzz(target, seconds=None, inputs=None, seed=0):
    """Feed ``target`` mutated inputs; returns (counts, failures)."""
    import time
    rng = random.Random(seed)
    mutate = target.mutator(rng)
    counts = {"ok": 0, "refused": 0}
    failures = []
    previous = signal.signal(signal.SIGALRM, _alarm)
    deadline = time.monotonic() + (seconds if seconds is not None else 1e9)
    try:
        pending = list(target.seeds())
        n = 0
        while time.monotonic() < deadline and (inputs is None or n < inputs):
            data = pending.pop() if pending else mutate()
            n += 1
            signal.setitimer(signal.ITIMER_REAL, HANG_S)
            try:
                counts[target.run(data)] += 1
            except Hang:
                failures.append(("hang", data, ""))
            except Exception as e:
                import traceback
                failures.append(("traceback", data, traceback.format_exc()))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if len(failures) >= 3:
                break
    finally:
        signal.signal(signal.SIGALRM, previous)
        target.close()
    return counts, failures


def _report(failures):
    kind, data, tb = failures[0]
    return "%d failing inputs; first (%s): %r\n%s" % (len(failures), kind, data[:300], tb[-2000:])


@pytest.mark.parametrize("name", [t.name for t in fuzz_targets.TARGETS])
def test_short_fuzz_run(workdir, name):
    target = fuzz_targets.BY_NAME[name](workdir)
    counts, failures = fuzz(target, seconds=SECONDS_PER_TARGET)
    assert not failures, _report(failures)
    # the run reached both sides: inputs accepted and inputs refused
    assert counts["ok"] > 0 and counts["refused"] > 0, counts


@pytest.mark.slow
@pytest.mark.parametrize("name", [t.name for t in fuzz_targets.TARGETS])
def test_long_fuzz_run(workdir, name):
    target = fuzz_targets.BY_NAME[name](workdir)
    counts, failures = fuzz(target, inputs=int(os.environ.get("DAMO_SIM_FUZZ_INPUTS", "100000")),
                            seed=7)
    assert not failures, _report(failures)


# ------------------------------------------------------------ hypothesis

HOSTILE_JSON_NUMBERS = st.one_of(
    st.integers(min_value=-2 ** 70, max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "18446744073709551616", "-1",
                     "1,000", "5 ms", "4 KiB", "max", "", "x", "0x10", "1e19", "007"]),
    st.none(), st.booleans(), st.just([]), st.just({}))


def region_strategy():
    number = HOSTILE_JSON_NUMBERS
    return st.fixed_dictionaries(
        {"start": number, "end": number,
         "nr_accesses": st.one_of(st.fixed_dictionaries({"samples": number,
                                                         "percent": number}), number),
         "age": st.one_of(st.fixed_dictionaries({"usec": number, "aggr_intervals": number}),
                          number)},
        optional={"sz_filter_passed": number})


RECORDS = st.lists(st.fixed_dictionaries(
    {"target_id": st.one_of(st.integers(), st.text(max_size=3), st.none(), st.just([1]),
                            st.just({"a": 1}), st.floats(), st.booleans()),
     "snapshots": st.lists(st.fixed_dictionaries(
         {"start_time": HOSTILE_JSON_NUMBERS, "end_time": HOSTILE_JSON_NUMBERS,
          "regions": st.lists(region_strategy(), max_size=4)},
         optional={"total_bytes": HOSTILE_JSON_NUMBERS,
                   "sample_interval_us": HOSTILE_JSON_NUMBERS,
                   "damos_stats": st.one_of(st.none(), st.just({}), st.just([]))}),
         max_size=3)},
    optional={"intervals": st.one_of(st.none(), st.fixed_dictionaries(
        {"sample_us": HOSTILE_JSON_NUMBERS, "aggr_us": HOSTILE_JSON_NUMBERS,
         "ops_update_us": HOSTILE_JSON_NUMBERS})),
        "kdamond_idx": HOSTILE_JSON_NUMBERS, "context_idx": HOSTILE_JSON_NUMBERS,
        "scheme_idx": HOSTILE_JSON_NUMBERS, "scheme_filters": st.one_of(st.just([]), st.just(1)),
        "data_source": st.one_of(st.just("unknown"), st.just(3))}), max_size=3)


def _dumps(tree):
    # NaN and Infinity as Python writes them (not JSON); big ints as they are
    return json.dumps(tree, indent=4).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(tree=RECORDS, compress=st.booleans())
def test_hypothesis_records(workdir, tree, compress):
    target = fuzz_targets.JsonRecordTarget(workdir)
    data = _dumps(tree)
    assert target.run(zlib.compress(data) if compress else data) in ("ok", "refused")


REGION_VALUE = st.one_of(st.integers(min_value=0, max_value=2 ** 64 - 1).map(str),
                         st.integers(min_value=0, max_value=2 ** 40).map(
                             lambda v: '"%s"' % "{:,}".format(v)),
                         st.integers(min_value=0, max_value=2 ** 40).map(lambda v: '"%d"' % v))
SEPARATORS = st.sampled_from([", ", ",", ",\n    ", " ,", ",,", "", " ", ",\n"])
NUMBER_NOISE = st.sampled_from(["", "0", "00", "-", " ", ",", "1 2", "+1", "1.0", "1e2", '"'])


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(values=st.lists(st.tuples(REGION_VALUE, REGION_VALUE, st.integers(0, 30)), min_size=1,
                       max_size=6),
       sep=SEPARATORS, noise=NUMBER_NOISE, where=st.integers(0, 10 ** 6))
def test_hypothesis_fast_json_path_refuses_what_json_loads_refuses(values, sep, noise, where):
    """The fast path takes a regions array only where json.loads would, and
    reads it as json.loads reads it."""
    from damo.records import json_format
    regions = ['{"start": %s, "end": %s, "nr_accesses": {"samples": %d, "percent": null}, '
               '"age": {"usec": null, "aggr_intervals": 1}}' % v for v in values]
    text = "[" + sep.join(regions) + "]"
    if noise:
        # put the noise right after a colon or inside a value
        colons = [i for i, c in enumerate(text) if c == ":"]
        i = colons[where % len(colons)] + 2
        text = text[:i] + noise + text[i:]
    doc = ('[{"target_id": 1, "snapshots": [{"start_time": 0, "end_time": 100, "regions": %s, '
           '"total_bytes": null}]}]' % text).encode()
    try:
        expected = json_format._records(json.loads(doc), None)
        expected_error = None
    except ValueError as e:
        expected, expected_error = None, e
    try:
        got = json_format.read(lambda: iter([doc]))
    except json_format.FormatError as e:
        assert expected is None, "the fast path refused what json.loads takes: %s" % e
        return
    assert expected_error is None, "took a document json.loads refuses: %r" % doc[:200]
    for a, b in zip(got, expected):
        for col in ("starts", "ends", "nr_accesses", "ages", "region_offsets"):
            assert (getattr(a, col) == getattr(b, col)).all()


PERF_FIELD = st.one_of(st.integers(-2 ** 70, 2 ** 70).map(str),
                       st.sampled_from(["nan", "inf", "-1", "", "x", "1e400", "0x10", "1.5"]))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(st.tuples(PERF_FIELD, PERF_FIELD, PERF_FIELD, PERF_FIELD, PERF_FIELD,
                                PERF_FIELD, st.booleans()), min_size=1, max_size=8))
def test_hypothesis_perf_script(workdir, lines):
    target = fuzz_targets.PerfScriptRecordTarget(workdir)
    text = "".join(
        "kdamond.0 123 [000] %s: damon:damon_aggregated: target_id=%s nr_regions=%s "
        "%s-%s: %s%s\n" % (ts, tid, nr, s, e, n, " 3" if age else "")
        for ts, tid, nr, s, e, n, age in lines)
    assert target.run(text.encode()) in ("ok", "refused")


MASIM_WORD = st.one_of(st.integers(-2 ** 64, 2 ** 66).map(str),
                       st.sampled_from(["1t", "16t", "17t", "1024t", "4k", "x", "", "-1", "0"]))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(size=MASIM_WORD, duration=MASIM_WORD, stride=MASIM_WORD, weight=MASIM_WORD,
       rand=st.sampled_from(["0", "1", "2", "x"]))
def test_hypothesis_masim(workdir, size, duration, stride, weight, rand):
    target = fuzz_targets.MasimTarget(workdir)
    text = "a, %s\nb, 1m\n\nphase\n%s\na, %s, %s, %s\nb, 0, 4096, 1\n" % (
        size, duration, rand, stride, weight)
    assert target.run(text.encode()) in ("ok", "refused")


def _kv_tree():
    leaf = st.one_of(HOSTILE_JSON_NUMBERS, st.sampled_from(
        ["5 ms", "100 ms", "1 s", "max", "min", "4.000 KiB", "0 %", "50 %", "pageout", "stat",
         "migrate_hot", "vaddr", "paddr", "addr", "anon", "user_input", "free_mem_rate"]))
    return st.recursive(leaf, lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(
            ["kdamonds", "contexts", "ops", "targets", "intervals", "sample_us", "aggr_us",
             "ops_update_us", "nr_regions", "min", "max", "schemes", "action",
             "access_pattern", "sz_bytes", "nr_accesses", "age", "quotas", "goals", "metric",
             "target_value", "current_value", "watermarks", "filters", "filter_type",
             "dests", "id", "weight", "target_nid", "intervals_goal", "regions", "start",
             "end", "pid"]), children, max_size=4)), max_leaves=30)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(tree=_kv_tree())
def test_hypothesis_kdamonds(workdir, tree):
    target = fuzz_targets.KdamondsTarget(workdir)
    assert target.run(json.dumps(tree).encode()) in ("ok", "refused")


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(tree=_kv_tree(), cmd=st.sampled_from(["state", "tune", "snapshots", "stop", "x"]),
       since=HOSTILE_JSON_NUMBERS, speed=HOSTILE_JSON_NUMBERS, idx=HOSTILE_JSON_NUMBERS)
def test_hypothesis_daemon_requests(workdir, tree, cmd, since, speed, idx):
    target = fuzz_targets.DaemonTarget(workdir)
    try:
        req = {"cmd": cmd, "since": since, "speed": speed, "kdamond_idx": idx,
               "kdamond": {"contexts": [tree]} if cmd == "tune" else tree}
        target.run(json.dumps(req).encode())
    finally:
        target.close()


OPTION_TEXT = st.one_of(st.text(max_size=12), st.sampled_from(
    ["nan", "inf", "-inf", "1e400", "18446744073709551616", "-1", "0", "5ms", "1.5s", "max",
     "4K", "1e308", "9" * 400, "50%", "nan%", "inf ms", "1e19"]))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=OPTION_TEXT)
def test_hypothesis_option_value_parsers(text):
    """Every value parser of the parameter layer: a value the kernel's field
    holds, or one DamoError line naming the option."""
    from damo.params import damon as params_mod
    from damo.params import schemes as schemes_mod
    for parse, hi in ((lambda t: params_mod.parse_us(t, "--x"), 2 ** 64 - 1),
                      (lambda t: params_mod.parse_bytes(t, "--x"), 2 ** 64 - 1),
                      (lambda t: schemes_mod.to_us(t, "--x"), 2 ** 64 - 1),
                      (lambda t: schemes_mod.to_ms(t, "--x"), 2 ** 64 - 1),
                      (lambda t: schemes_mod.to_bytes(t, "--x"), 2 ** 64 - 1),
                      (lambda t: schemes_mod.to_permil(t, "--x"), 2 ** 64),
                      (lambda t: schemes_mod.to_bp(t, "--x"), 2 ** 64),
                      (lambda t: schemes_mod.to_nr(t, "--x"), 2 ** 64 - 1),
                      (lambda t: schemes_mod.to_percent(t, "--x"), 2 ** 64)):
        try:
            value = parse(text)
        except DamoError as e:
            assert "--x" in str(e) and "\n" not in str(e)
            continue
        assert isinstance(value, (int, float)) and not isinstance(value, bool)
        assert math.isfinite(value) and 0 <= value <= hi, (text, value)


def test_the_fuzz_runner_says_its_progress_without_a_terminal(tmp_path):
    """bench/fuzz.py off a terminal: a progress line every --progress seconds
    (inputs so far, never fewer than before), then the figures table."""
    import subprocess
    import sys
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    r = subprocess.run([sys.executable, os.path.join(repo, "bench", "fuzz.py"), "--time", "4",
                        "--progress", "1", "--findings", str(tmp_path / "f"), "masim_configs"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.startswith("masim_configs")]
    assert len(lines) >= 2, r.stderr
    counts = [int(l.split()[1]) for l in lines]
    assert counts == sorted(counts) and counts[-1] > 0
    assert all("traceback 0 crash 0 hang 0" in l for l in lines)
    row = r.stdout.splitlines()[1].split()
    assert row[0] == "masim_configs" and int(row[1]) >= counts[-1]
