"""Mutation testing of damo/records and damo/reports with mutmut, and the
score per area.

    python tools/mutants/mutmut_score.py [--sample N [--seed S] | --sample-file FILE]
                                         [--unkilled-only]
                                         [--max-children N] [--report-only]
                                         [--survivors FILE]

Runs `mutmut run` in this tree (its [tool.mutmut] section in pyproject.toml
names what is mutated and which tests run), then reads the results mutmut
keeps in mutants/ and prints, per area and per file, how many mutants the
tests killed.  mutmut keeps its results: run again to resume an interrupted
run; remove mutants/ to start over after the code or the tests changed.

mutmut stops at a mutant's first failing test: the tests run quick ones
first (DAMO_SIM_MUTATION_RUN=1, tests/conftest.py).  Every mutant starts
the test session over, so damo 3.4.3's outputs (the
differential tests' reference) are kept on disk for the run, in
.mutmut-reference-cache/ (DAMO_SIM_REFERENCE_CACHE): keyed by damo's
version, the arguments and the bytes of every file they name, so a mutant
that changes a recording runs damo again.

Score: killed (a test failed, or the mutant made the tests time out) over
all mutants; mutants no test reaches count as survivors.

All of them (about 10,000) take many hours on 2 cores.  --sample N tests N
mutants of each area, drawn at random (--seed), and prints the score of the
sample with its 95% confidence interval (Wilson).
"""
import math
import random
import argparse
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AREAS = ("damo/records", "damo/reports")
KILLED = {1, 3, 36, 24, -24, 152, 255}     # mutmut's exit codes for killed and timeout
TIMEOUT = {36, 24, -24, 152, 255}
SURVIVED, NO_TESTS, SKIPPED = 0, {5, 33}, 34


def results():
    """{source path: {mutant name: exit code}} from mutmut's meta files."""
    out = {}
    for meta in glob.glob(os.path.join(ROOT, "mutants", "damo", "**", "*.py.meta"),
                          recursive=True):
        source = os.path.relpath(meta, os.path.join(ROOT, "mutants"))[:-len(".meta")]
        with open(meta) as f:
            out[source] = json.load(f)["exit_code_by_key"]
    return out


def tally(codes):
    codes = list(codes)
    return {"total": len(codes),
            "killed": sum(c in KILLED for c in codes),
            "timeout": sum(c in TIMEOUT for c in codes),
            "survived": sum(c == SURVIVED for c in codes),
            "no_tests": sum(c in NO_TESTS for c in codes),
            "skipped": sum(c == SKIPPED for c in codes),
            "not_checked": sum(c is None for c in codes)}


def line(name, t):
    score = 100.0 * t["killed"] / t["total"] if t["total"] else 0.0
    return "%-40s %5d mutants %5d killed (%d by timeout) %5d survived %4d untested%s  %5.1f%%" % (
        name, t["total"], t["killed"], t["timeout"], t["survived"], t["no_tests"],
        "  %d NOT CHECKED" % t["not_checked"] if t["not_checked"] else "", score)


def generate():
    """Let mutmut write the mutants and their meta files, running no test."""
    code = ("import os\n"
            "from mutmut.__main__ import copy_src_dir, copy_also_copy_files, "
            "setup_source_paths, create_mutants\n"
            "os.makedirs('mutants', exist_ok=True)\n"
            "copy_src_dir(); copy_also_copy_files(); setup_source_paths(); create_mutants(2)\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def draw(n, seed):
    """n mutant names of each area, at random."""
    by_file = results()
    rng = random.Random(seed)
    names = []
    for area in AREAS:
        pool = sorted(name for f, codes in by_file.items() if f.startswith(area + "/")
                      for name in codes)
        names += rng.sample(pool, min(n, len(pool)))
    return names


def quick_check(names, test_files):
    """Run each named mutant that mutmut has not checked against only
    ``test_files``, as mutmut's workers run a mutant (in mutants/, the
    mutant switched on by MUTANT_UNDER_TEST, stopping at the first failure).

    For mutants of functions that every test reaches (the readers' checks):
    mutmut gives them the whole selection, about 1,500 tests over 30 files
    and their session fixtures, minutes each on a loaded machine.  A failure
    is a kill (recorded as mutmut's exit code 1); a pass leaves the mutant
    unchecked, for mutmut's full run to decide: fewer tests can only miss
    kills, never invent one."""
    by_meta = {}
    for meta in glob.glob(os.path.join(ROOT, "mutants", "damo", "**", "*.py.meta"),
                          recursive=True):
        with open(meta) as f:
            data = json.load(f)
        for name, code in data["exit_code_by_key"].items():
            if name in names and code is None:
                by_meta.setdefault(meta, []).append(name)
    env = dict(os.environ, DAMO_SIM_MUTATION_RUN="1")
    env.setdefault("DAMO_SIM_REFERENCE_CACHE", os.path.join(ROOT, ".mutmut-reference-cache"))
    for meta, todo in sorted(by_meta.items()):
        for name in todo:
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly",
                 "-p", "no:cacheprovider"] + list(test_files),
                cwd=os.path.join(ROOT, "mutants"), env=dict(env, MUTANT_UNDER_TEST=name),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print("%-70s %s" % (name, "killed" if done.returncode == 1 else
                                "not killed by these tests (exit %d): left unchecked"
                                % done.returncode), flush=True)
            if done.returncode == 1:
                with open(meta) as f:
                    data = json.load(f)
                data["exit_code_by_key"][name] = 1
                with open(meta, "w") as f:
                    json.dump(data, f, indent=4)


def wilson(k, n, z=1.96):
    if not n:
        return 0.0, 0.0
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * (mid - half), 100 * (mid + half)


def equivalents(path):
    """{mutant name: reason} of the survivors judged equivalent (no test can
    tell them from the code), from ``path``: "NAME  # reason" lines."""
    out = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for text in f:
                name, _, reason = text.partition("#")
                if name.strip():
                    out[name.strip()] = reason.strip()
    return out


def report(survivors_path, only=None, equivalent=None):
    equivalent = equivalent or {}
    by_file = results()
    if only is not None:
        only = set(only)
        by_file = {f: {n: c for n, c in codes.items() if n in only}
                   for f, codes in by_file.items()}
    if not by_file:
        print("no mutmut results in %s" % os.path.join(ROOT, "mutants"))
        return 1
    ok = True
    scores = []
    for area in AREAS:
        files = sorted(f for f in by_file if f.startswith(area + "/"))
        for f in files:
            if by_file[f]:
                print(line(f, tally(by_file[f].values())))
        t = tally(c for f in files for c in by_file[f].values())
        print(line(area, t))
        if only is not None:
            lo, hi = wilson(t["killed"], t["total"])
            print("%-40s 95%% confidence interval of the area's score: %.1f%% - %.1f%%"
                  % ("", lo, hi))
        print()
        ok = ok and t["total"] and t["killed"] >= 0.85 * t["total"]
        judged = sum(1 for f in files for n, c in by_file[f].items()
                     if n in equivalent and c not in KILLED)
        scores.append((area, t, judged))
    survivors = sorted(name for codes in by_file.values() for name, c in codes.items()
                       if c == SURVIVED or c in NO_TESTS)
    with open(survivors_path, "w") as f:
        f.write("".join(name + "\n" for name in survivors))
    print("%d survivors listed in %s (`mutmut show NAME` shows one)" % (
        len(survivors), os.path.relpath(survivors_path)))
    print()
    # the figure: killed over all mutants (unchecked and untested ones count
    # as survivors), then without the survivors judged equivalent
    for area, t, judged in scores:
        total = t["total"]
        print("MUTATION SCORE %-13s %5.1f%%  (%d of %d killed%s; target 85%%: %s)" % (
            area, 100.0 * t["killed"] / total if total else 0.0, t["killed"], total,
            ", %d not checked" % t["not_checked"] if t["not_checked"] else "",
            "met" if total and t["killed"] >= 0.85 * total else "NOT met"))
        if judged:
            print("%-28s %5.1f%%  without the %d survivors judged equivalent (%d of %d)"
                  % ("", 100.0 * t["killed"] / (total - judged), judged, t["killed"],
                     total - judged))
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-children", type=int, help="mutants tested at once")
    parser.add_argument("--sample", type=int, metavar="N",
                        help="test N mutants of each area, drawn at random")
    parser.add_argument("--seed", type=int, default=1, help="the sample's seed")
    parser.add_argument("--sample-file", metavar="FILE",
                        help="test the mutants named in FILE (one a line, as sample.txt "
                             "lists them) instead of drawing a sample: the same sample "
                             "again after the code changed; names the current code no "
                             "longer has are listed and left out")
    parser.add_argument("--report-only", action="store_true",
                        help="print the scores of the last run without running mutmut")
    parser.add_argument("--unkilled-only", action="store_true",
                        help="with --sample: run again only the sample's mutants not killed "
                             "yet (survivors, untested, not checked); tests only added since "
                             "cannot revive a killed mutant, and mutants of changed "
                             "functions are not checked again until they run")
    parser.add_argument("--quick", nargs="+", metavar="TEST_FILE",
                        help="instead of mutmut: run the sample's mutants that mutmut has not "
                             "checked against only these test files (paths under tests/); "
                             "a failure is recorded as a kill, a pass leaves it unchecked")
    parser.add_argument("--equivalent", metavar="FILE",
                        default=os.path.join(ROOT, "tools", "mutants", "equivalent.txt"),
                        help="survivors judged equivalent, 'NAME  # reason' a line: the "
                             "score is also printed without them")
    parser.add_argument("--survivors", default=os.path.join(ROOT, "mutants", "survivors.txt"),
                        help="where to list the surviving mutants")
    args = parser.parse_args()
    sample = None
    if args.sample_file and not (args.report_only or args.quick):
        generate()      # the current code's mutants, keeping the results of unchanged functions
    if (args.sample or args.sample_file) and not results():
        generate()
    if args.sample_file:
        with open(args.sample_file) as f:
            wanted = [n.strip() for n in f if n.strip()]
        have = {n for codes in results().values() for n in codes}
        gone = [n for n in wanted if n not in have]
        for n in gone:
            print("not in the current mutants: %s" % n)
        sample = [n for n in wanted if n in have]
        print("sample of %d mutants from %s (%d no longer exist)" % (
            len(sample), args.sample_file, len(gone)))
    elif args.sample:
        sample = draw(args.sample, args.seed)
        with open(os.path.join(ROOT, "mutants", "sample.txt"), "w") as f:
            f.write("".join(name + "\n" for name in sample))
    names = sample
    if sample is not None and args.unkilled_only:
        codes = {n: c for f in results().values() for n, c in f.items()}
        names = [n for n in sample if codes.get(n) not in KILLED]
        print("%d of the sample's %d mutants not killed yet: running those" % (
            len(names), len(sample)))
    if args.quick:
        quick_check(set(names or ()), args.quick)
    elif not args.report_only and (names or not sample):
        env = dict(os.environ, DAMO_SIM_MUTATION_RUN="1")     # quick tests first
        env.setdefault("DAMO_SIM_REFERENCE_CACHE", os.path.join(ROOT, ".mutmut-reference-cache"))
        mutmut = os.path.join(os.path.dirname(sys.executable), "mutmut")
        cmd = [mutmut, "run"] + (["--max-children", str(args.max_children)]
                                 if args.max_children else []) + (names or [])
        done = subprocess.run(cmd, cwd=ROOT, env=env)
        if done.returncode:
            print("mutmut run exited %d" % done.returncode, file=sys.stderr)
    return report(args.survivors, sample, equivalents(args.equivalent))


if __name__ == "__main__":
    sys.exit(main())
