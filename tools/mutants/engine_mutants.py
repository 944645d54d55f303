"""Hand-written mutants of the Cython engine's key rules, and whether the
tests kill them.

    python tools/mutants/engine_mutants.py [--list] [NAME ...]

Each mutant is one textual change to an engine source (a rule of
mm/damon/core.c, ops-common.c or damos as the engine keeps it).  For each:
apply it, rebuild the engine (setup.py build_ext --inplace), run the tests
that cover that rule, and revert (the file is restored even on ^C, and
the engine rebuilt once at the end).  A mutant is killed when the tests fail.  The score printed at the end
is killed / applied.  Run it on a clean tree, with nothing else building
the engine; it takes a few minutes per mutant on 2 cores.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORE = "engine/damo_engine/core.pyx"
CORE_PXD = "engine/damo_engine/core.pxd"
OPS = "engine/damo_engine/ops.pyx"
MONITORING = ["tests/test_kunit_core.py", "tests/test_engine_monitoring.py",
              "tests/test_kunit_vaddr.py", "tests/test_kernel_newest.py"]
DAMOS = ["tests/test_damos_kunit.py", "tests/test_damos_selftests.py",
         "tests/test_damos_outcomes.py", "tests/test_damos_actions.py",
         "tests/test_kernel_newest.py", "tests/test_kernel_features.py"]

# name: (file, old text, new text, tests, what the rule is)
MUTANTS = {
    "merge-threshold": (
        CORE, "self.merge_regions(max_nr / 10, self.sz_limit)",
        "self.merge_regions(max_nr / 2, self.sz_limit)", MONITORING,
        "kdamond_merge_regions() threshold: max_nr_accesses / 10"),
    "merge-size-limit": (
        CORE, "and (prev.end - prev.start) + (r.end - r.start) <= sz_limit):",
        "):", MONITORING,
        "merged regions stay within the size limit (total / min_nr_regions)"),
    "sz-limit-min-regions": (
        CORE, "            sz /= self.attrs.min_nr_regions\n", "            pass\n", MONITORING,
        "damon_region_sz_limit(): total size / min_nr_regions"),
    "age-reset-on-change": (
        CORE, "                if udiff(r.nr_accesses, r.last_nr_accesses) > thres:\n                    r.age = 0",
        "                if udiff(r.nr_accesses, r.last_nr_accesses) > thres:\n                    r.age += 1",
        MONITORING, "a region whose access count changed by more than the threshold is young"),
    "age-reset-zero-flip": (
        CORE, "                elif (r.nr_accesses == 0) != (r.last_nr_accesses == 0):\n                    r.age = 0",
        "                elif (r.nr_accesses == 0) != (r.last_nr_accesses == 0):\n                    r.age += 1",
        MONITORING, "6.18: age resets when a region turns accessed or idle"),
    "age-increment": (
        CORE, "                else:\n                    r.age += 1\n            if (prev != NULL",
        "                else:\n                    r.age += 2\n            if (prev != NULL", MONITORING,
        "an unchanged region ages by one per aggregation"),
    "age-once-per-aggregation": (
        CORE, "            count_age = False\n", "            count_age = True\n", MONITORING,
        "kdamond_merge_regions(): only the first merge pass ages regions"),
    "split-three": (
        CORE, "            nr_subs = 3\n", "            nr_subs = 2\n", MONITORING,
        "kdamond_split_regions(): 3 pieces when the count did not change"),
    "split-half-max": (
        CORE, "            self.split_some_regions(max_nr_regions / (max_nr_regions - nr_regions))",
        "            pass", MONITORING,
        "above half of max_nr_regions a rotating subset is split"),
    "min-nr-regions-after-merge": (
        CORE, "            self.sz_limit = self.apply_min_nr_regions()\n        self.kdamond_call()",
        "        self.kdamond_call()", MONITORING,
        "damon_apply_min_nr_regions() after every aggregation's merge"),
    "split-point": (
        CORE, "sim_damon_rand(rng, 1, 10) * sz_region / 10",
        "sim_damon_rand(rng, 5, 6) * sz_region / 10", MONITORING,
        "damon_split_regions_of(): the left piece is 10-90% of the region"),
    "access-counted": (
        CORE_PXD, "    if accessed:\n        r.nr_accesses += 1", "    if not accessed:\n        r.nr_accesses += 1",
        MONITORING, "damon_update_region_access_rate(): nr_accesses counts accessed samples"),
    "moving-sum": (
        CORE, "    return current_nr + mult_frac(last_nr, left_window_bp, 10000)",
        "    return current_nr + last_nr", MONITORING + DAMOS,
        "damon_mvsum(): the last window counts for the part still covered"),
    "max-nr-accesses": (
        CORE, "    cdef uint64_t n = a.aggr_interval / (a.sample_interval if a.sample_interval else 1)",
        "    cdef uint64_t n = a.aggr_interval / (a.sample_interval if a.sample_interval else 1) + 1",
        MONITORING + DAMOS, "damon_max_nr_accesses(): aggr / sample intervals"),
    "pattern-min-accesses": (
        CORE, "and s.min_nr_accesses <= nr <= s.max_nr_accesses",
        "and s.min_nr_accesses < nr <= s.max_nr_accesses", DAMOS,
        "__damos_valid_target(): min_nr_accesses is inclusive"),
    "pattern-max-age": (
        CORE, "and s.min_age_region <= r.age <= s.max_age_region)",
        "and s.min_age_region <= r.age < s.max_age_region)", DAMOS,
        "__damos_valid_target(): max_age is inclusive"),
    "quota-full-below-a-region": (
        CORE, "    return s.esz - s.charged_sz < min_region_sz", "    return False",
        DAMOS,
        "damos_quota_is_full(): less than min_region_sz left is full"),
    "resume-at-region-end": (
        CORE, "                s.charge_addr_from = r.end\n",
        "                s.charge_addr_from = r.end + 1\n", DAMOS,
        "the quota resume point is the end of the last charged region"),
}


def run(cmd, **kwargs):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kwargs)


def build():
    done = run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"])
    if done.returncode:
        raise SystemExit("engine build failed:\n" + done.stderr[-3000:])


def try_mutant(name, path, old, new, tests):
    full = os.path.join(ROOT, path)
    src = open(full).read()
    if src.count(old) != 1:
        return "not applied (the text is not in %s once: the engine changed)" % path
    backup = full + ".mutant-backup"
    shutil.copy2(full, backup)
    try:
        with open(full, "w") as f:
            f.write(src.replace(old, new))
        build()
        done = run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly",
                    "-p", "no:cacheprovider"] + tests)
        failed = [l for l in done.stdout.splitlines() if l.startswith(("FAILED", "ERROR"))]
        return "killed by %s" % (failed[0].split()[1] if failed else "a failing run") \
            if done.returncode else "SURVIVED"
    finally:
        shutil.move(backup, full)
        os.utime(full)          # newer than the mutant's build: rebuilt by the next build


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to try (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args()
    if args.list:
        for name, m in MUTANTS.items():
            print("%-22s %s: %s" % (name, m[0], m[4]))
        return 0
    names = args.names or list(MUTANTS)
    commit = run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip()
    killed = applied = 0
    try:
        for name in names:
            path, old, new, tests, what = MUTANTS[name]
            t0 = time.monotonic()
            result = try_mutant(name, path, old, new, tests)
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
