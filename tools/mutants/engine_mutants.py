"""Hand-written mutants of the Cython engine's key rules, and whether the
tests kill them.

    python tools/mutants/engine_mutants.py [--list] [NAME ...]

Each mutant is one textual change to an engine source (a rule of
mm/damon/core.c, ops-common.c or damos as the engine keeps it).  For each:
apply it, rebuild the engine (setup.py build_ext --inplace), run the tests
that cover that rule against this tree, and revert (the file is restored
even on ^C, and the engine rebuilt once at the end).  A mutant is killed
when the tests fail.  The score printed at the end is killed / applied.
Run it on a clean checkout that nothing else builds (a spare `git worktree`
is best: it rebuilds the engine in place); a mutant takes a few minutes on
2 cores.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORE = "engine/damo_engine/core.pyx"
CORE_PXD = "engine/damo_engine/core.pxd"
OPS = "engine/damo_engine/ops.pyx"
# the kdamond-path rules first: they are quick and kill most monitoring mutants
MONITORING = ["tests/test_kdamond_rules.py", "tests/test_kunit_core.py",
              "tests/test_engine_monitoring.py", "tests/test_kunit_vaddr.py",
              "tests/test_kernel_newest.py"]
DAMOS = ["tests/test_kdamond_rules.py", "tests/test_damos_kunit.py",
         "tests/test_damos_selftests.py", "tests/test_damos_outcomes.py",
         "tests/test_damos_actions.py", "tests/test_kernel_newest.py",
         "tests/test_kernel_features.py"]
PROBES = ["tests/test_kunit_probes.py", "tests/test_probes_cli.py"]

# name: (files, [(pattern, replacement), ...], tests, what the rule is).  The
# patterns are regular expressions; the first that matches exactly once in one
# of the files is applied (alternatives follow the engine's versions of a rule).
MUTANTS = {
    "merge-threshold": (
        [CORE], [(r"self\.merge_regions\(max_nr / 10,", "self.merge_regions(max_nr / 2,")],
        MONITORING, "kdamond_merge_regions() threshold: max_nr_accesses / 10"),
    "merge-size-limit": (
        [CORE], [(r" and \(prev\.end - prev\.start\) \+ \(r\.end - r\.start\) <= sz_limit\):",
                  "):")],
        MONITORING, "merged regions stay within the size limit (total / min_nr_regions)"),
    "sz-limit-min-regions": (
        [CORE], [(r"\n(\s+)sz /= self\.attrs\.min_nr_regions\n", r"\n\1pass\n")], MONITORING,
        "damon_region_sz_limit(): total size / min_nr_regions"),
    "age-reset-on-change": (
        [CORE], [(r"(if udiff\(r\.nr_accesses, r\.last_nr_accesses\) > thres:\n\s+r\.age = )0\b",
                  r"\1r.age + 1")],
        MONITORING, "a region whose access count changed by more than the threshold is young"),
    "age-reset-zero-flip": (
        [CORE], [(r"(elif \(r\.nr_accesses == 0\) != \(r\.last_nr_accesses == 0\):"
                  r"\n\s+r\.age = )0\b",
                  r"\1r.age + 1")],
        MONITORING, "6.18: age resets when a region turns accessed or idle"),
    "age-increment": (
        [CORE], [(r"(else:\n\s+r\.age \+= )1(\n\s+if \(prev != NULL)", r"\g<1>2\2")],
        MONITORING, "an unchanged region ages by one per merge pass"),
    "age-once-per-aggregation": (
        [CORE], [(r"(\n\s+)count_age = False\n", r"\1count_age = True\n")], MONITORING,
        "kdamond_merge_regions(): only the first merge pass ages regions"),
    "split-three": (
        [CORE], [(r"\bnr_subs = 3\n", "nr_subs = 2\n")], MONITORING,
        "kdamond_split_regions(): 3 pieces when the count did not change"),
    "split-half-max": (
        [CORE], [(r"(if|elif) (nr_regions > (?:self\.attrs\.)?max_nr_regions) / 2:", r"\1 \2:")],
        MONITORING, "the full split only up to half of max_nr_regions"),
    "split-some-above-half": (
        [CORE], [(r"(\n\s+)self\.split_some_regions\(max_nr_regions / "
                  r"\(max_nr_regions - nr_regions\)\)", r"\1pass")], MONITORING,
        "above half of max_nr_regions a rotating subset is split"),
    "min-nr-regions-after-merge": (
        [CORE], [(r"\n\s+self\.sz_limit = self\.apply_min_nr_regions\(\)\n"
                  r"(\s+self\.kdamond_call\(\))", r"\n\1")],
        MONITORING, "damon_apply_min_nr_regions() after every aggregation's merge"),
    "split-point": (
        [CORE], [(r"sim_damon_rand\(rng, 1, 10\) \* sz_region / 10",
                  "sim_damon_rand(rng, 5, 6) * sz_region / 10")], MONITORING,
        "damon_split_regions_of(): the left piece is 10-90% of the region"),
    "access-counted": (
        [CORE, CORE_PXD], [(r"if accessed:(\n\s+r\.nr_accesses \+= 1)", r"if not accessed:\1")],
        MONITORING, "damon_update_region_access_rate(): nr_accesses counts accessed samples"),
    "moving-sum": (
        [CORE], [(r"return mvsum - nomvsum / len_window \+ new_value", "return mvsum + new_value"),
                 (r"return current_nr \+ mult_frac\(last_nr, left_window_bp, 10000\)",
                  "return current_nr + last_nr")],
        MONITORING + DAMOS,
        "damon_moving_sum() / damon_mvsum(): the last window counts only for its part "
        "still inside the moving window"),
    "max-nr-accesses": (
        [CORE], [(r"(cdef uint64_t n = a\.aggr_interval / "
                  r"\(a\.sample_interval if a\.sample_interval else 1\))",
                  r"\1 + 1")],
        MONITORING + DAMOS, "damon_max_nr_accesses(): aggr / sample intervals"),
    "pattern-min-accesses": (
        [CORE], [(r"and (self|s)\.min_nr_accesses <= nr <= ", r"and \1.min_nr_accesses < nr <= ")],
        DAMOS, "__damos_valid_target(): min_nr_accesses is inclusive"),
    "pattern-max-age": (
        [CORE], [(r"<= r\.age <= ((?:self|s)\.max_age_region\))", r"<= r.age < \1")],
        DAMOS, "__damos_valid_target(): max_age is inclusive"),
    "quota-full-below-a-region": (
        [CORE], [(r"return s\.esz - s\.charged_sz < min_region_sz", "return False")], DAMOS,
        "damos_quota_is_full(): less than min_region_sz left is full"),
    "resume-at-region-end": (
        [CORE], [(r"(\n\s+s\.charge_addr_from = r\.end)\n", r"\1 + 1\n")], DAMOS,
        "the quota resume point is the end of the last charged region"),
    "max-nr-accesses-at-least-one": (
        [CORE], [(r"(if n == 0:\n\s+return )1\n", r"\g<1>0\n")],
        ["tests/test_kunit_ops_common.py"] + DAMOS,
        "damon_max_nr_accesses(): at least 1, also with a zero aggregation interval"),
    "hot-score-clamp": (
        [OPS], [(r"(if hotness > DAMOS_MAX_SCORE:\n\s+return )DAMOS_MAX_SCORE\n",
                 r"\1hotness\n")],
        ["tests/test_kunit_ops_common.py"] + DAMOS,
        "damon_hot_score(): the score is clamped to [0, DAMOS_MAX_SCORE]"),
    # DAMON probes (data attributes monitoring, 7.2; weights 7.3)
    "probe-access-checks-off": (
        [CORE], [(r"self\.snap_access_check_disabled = self\.has_probe_weights\(\)",
                  "self.snap_access_check_disabled = False")], PROBES,
        "kdamond_fn(): no access checks while any probe has a weight"),
    "probe-merge-threshold": (
        [CORE], [(r"(if get_max_wsum:\n\s+max_nr = )max_wsum\n", r"\g<1>max_nr\n")], PROBES,
        "kdamond_fn(): with weights, the merge threshold is the highest weighted hits / 10"),
    "probe-merge-score": (
        [CORE], [(r"(\n\s+)if self\.has_probe_weights\(\):(\n\s+for p in self\.probes:)",
                  r"\1if False:\2")], PROBES,
        "damon_merge_score(): with weights, regions merge and age by weighted probe hits"),
    "probe-age-zero-flip": (
        [CORE], [(r"(elif \(score == 0\) != \(last_score == 0\):\n\s+r\.age = )0\b",
                  r"\1r.age + 1")], PROBES,
        "the weighted merge's age resets when the weighted hits turn zero or non-zero"),
    "probe-hits-reset": (
        [CORE], [(r"\n\s+memset\(r\.probe_hits, 0, sizeof\(r\.probe_hits\)\)\n", "\n")],
        PROBES, "kdamond_reset_aggregated(): this window's probe hits restart at 0"),
    "probe-hits-merge-average": (
        [CORE], [(r"\(l\.probe_hits\[i\] \* sz_l \+ r\.probe_hits\[i\] \* sz_r\)",
                  "(l.probe_hits[i] * (sz_l + sz_r))")], PROBES,
        "damon_merge_two_regions(): probe hits are averaged by size"),
    "probe-filter-default": (
        [OPS], [(r"passed = not fallow\[k\]", "passed = fallow[k]")], PROBES,
        "damon_pa_filter_pass(): with no filter matching, the opposite of the last allow"),
}


def run(cmd, **kwargs):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kwargs)


def test_env():
    """The tests import this tree's damo and engine, even from another
    checkout's venv (its editable install points elsewhere)."""
    env = dict(os.environ)
    paths = [ROOT, os.path.join(ROOT, "engine")]
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def build():
    done = run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"])
    if done.returncode:
        raise SystemExit("engine build failed:\n" + done.stderr[-3000:])


def find_mutation(files, alternatives):
    """(path, mutated source text) of the first alternative that matches
    exactly once, or None."""
    for pattern, replacement in alternatives:
        hits = []
        for path in files:
            src = open(os.path.join(ROOT, path)).read()
            mutated, n = re.subn(pattern, replacement, src)
            if n:
                hits.append((path, mutated, n))
        if len(hits) == 1 and hits[0][2] == 1:
            return hits[0][:2]
    return None


def try_mutant(files, alternatives, tests):
    found = find_mutation(files, alternatives)
    if found is None:
        return "not applied (the rule's text is not there once: the engine changed)"
    path, mutated = found
    full = os.path.join(ROOT, path)
    backup = full + ".mutant-backup"
    shutil.copy2(full, backup)
    try:
        with open(full, "w") as f:
            f.write(mutated)
        build()
        done = run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly",
                    "-p", "no:cacheprovider"] + tests, env=test_env())
        failed = [l for l in done.stdout.splitlines() if l.startswith(("FAILED", "ERROR"))]
        return "killed by %s" % (failed[0].split()[1] if failed else "a failing run") \
            if done.returncode else "SURVIVED"
    finally:
        shutil.move(backup, full)
        os.utime(full)          # newer than the mutant's build: rebuilt by the next build


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to try (default: all)")
    parser.add_argument("--list", action="store_true",
                        help="list the mutants, say whether each applies, and exit")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in MUTANTS]
    if unknown:
        parser.error("no mutant called %s (see --list)" % ", ".join(unknown))
    if args.list:
        for name, (files, alternatives, _, what) in MUTANTS.items():
            found = find_mutation(files, alternatives)
            print("%-22s %-28s %s" % (name, found[0] if found else "(does not apply)", what))
        return 0
    names = args.names or list(MUTANTS)
    commit = run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip()
    killed = applied = 0
    try:
        for name in names:
            files, alternatives, tests, what = MUTANTS[name]
            t0 = time.monotonic()
            result = try_mutant(files, alternatives, tests)
            if not result.startswith("not applied"):
                applied += 1
                killed += result.startswith("killed")
            print("%-22s %-45s %5.0f s  (%s)" % (name, result, time.monotonic() - t0, what),
                  flush=True)
    finally:
        build()                 # the engine as it is in the tree again
    print("engine mutants at %s: %d of %d killed (%.0f%%)" % (
        commit, killed, applied, 100.0 * killed / applied if applied else 0))
    return 0 if applied and killed == applied else 1


if __name__ == "__main__":
    sys.exit(main())
