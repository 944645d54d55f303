"""Time our reports against damo 3.4.3 on a big "stairs" recording.

    python bench/bench_reports.py [--snapshots 1000] [--regions 1000] [--keep DIR]
                                  [--group reports|access|all]

Builds a recording of masim's "stairs" pattern (ten 10 MB areas, each hot in
turn: 1000 snapshots x 1000 regions, 5 ms / 100 ms intervals) as
json_compressed and as native, then runs each report as a separate process,
ours and damo 3.4.3's (through tests/reference_damo.py), and prints
wall time and peak RSS side by side.  Each run is measured by a small
wrapper process whose only child it is, so getrusage(RUSAGE_CHILDREN) gives
that run's own peak.  Never run from the tests: damo takes about a minute
per report (the access group: about half an hour in all).

The access group times ``report access``'s views (styles, --json,
--total_sz_only, filters) and ``report heatmap``'s --sort_temperature, and,
on a second recording of DAMOS snapshot records (a record of one snapshot per
snapshot, each region's df-passed bytes, the scheme's filters and stats, as
``damo record --snapshot`` writes them), the detailed view with its df lines
and ``heatmap --df_passed``.  Outputs are compared with damo's, byte for byte.
"""
import argparse
import compileall
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests"))
import reference_damo  # noqa: E402  (tests/reference_damo.py: installs and sandboxes damo 3.4.3)

REFERENCE = None       # ARGS -> sandboxed argv of damo 3.4.3, set in main()

from damo.records import RecordingWriter  # noqa: E402

AREA = 10_000_000
NR_AREAS = 10
INTERVALS = {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000}

# Runs one command, prints "<wall seconds> <peak RSS KiB>" of it alone.
_MEASURE = """
import resource, subprocess, sys, time
out = open(sys.argv[1], "wb") if sys.argv[1] != "-" else subprocess.DEVNULL
t = time.perf_counter()
done = subprocess.run(sys.argv[2:], stdout=out)
wall = time.perf_counter() - t
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)
"""


def stairs(path, nr_snapshots, nr_regions, output_type, seed=0):
    """masim's stairs: each of ten areas is hot for a tenth of the time."""
    rng = np.random.default_rng(seed)
    writer = RecordingWriter(path, output_type=output_type, permission=0o644)
    bounds = np.linspace(0, AREA * NR_AREAS, nr_regions + 1).astype(np.int64) // 4096 * 4096
    base = 0x7f0000000000
    starts = (base + bounds[:-1]).astype(np.uint64)
    ends = (base + bounds[1:]).astype(np.uint64)
    area_of = (bounds[:-1] * NR_AREAS) // (AREA * NR_AREAS)
    ages = np.zeros(nr_regions, dtype=np.int64)
    prev = np.zeros(nr_regions, dtype=np.int64)
    t0 = 10_000_000_000
    aggr_ns = INTERVALS["aggr_us"] * 1000
    for s in range(nr_snapshots):
        hot_area = s * NR_AREAS // nr_snapshots
        nr_accesses = np.where(area_of == hot_area, rng.integers(14, 21, nr_regions),
                               rng.integers(0, 2, nr_regions))
        ages = np.where(np.abs(nr_accesses - prev) > 3, 0, ages + 1)
        prev = nr_accesses
        start = t0 + s * aggr_ns + int(rng.integers(0, 5000))
        writer.add_snapshot(0, 0, 0, start, start + aggr_ns, starts, ends, nr_accesses,
                            ages.copy(), intervals=INTERVALS)
    writer.commit()


def env_for(cmd):
    """Ours runs from this checkout; damo's venv must not see our package."""
    env = dict(os.environ)
    if cmd[0] == sys.executable:
        env["PYTHONPATH"] = REPO
    else:
        env.pop("PYTHONPATH", None)
    return env


def measure(cmd, repeat, keep_output=None, env=None):
    """Best wall time and its peak RSS (KiB) over ``repeat`` runs; the
    output of the last one goes to the file ``keep_output`` if given;
    ``env``: variables to set for the run."""
    best = None
    for i in range(repeat):
        sink = keep_output if keep_output and i == repeat - 1 else "-"
        out = subprocess.run([sys.executable, "-c", _MEASURE, sink] + cmd, capture_output=True,
                             text=True, check=True,
                             env=dict(env_for(cmd), **(env or {}))).stdout.split()
        wall, rss, code = float(out[0]), int(out[1]), int(out[2])
        if code != 0:
            raise SystemExit("failed (exit %d): %s" % (code, " ".join(cmd)))
        if best is None or wall < best[0]:
            best = (wall, rss)
    return best


def damos_snapshots(path, nr_snapshots, nr_regions, seed=0):
    """What `damo record --snapshot` writes of a stat scheme with an anon
    filter: a record per snapshot, target id null, the filters, each
    region's df-passed bytes and the pass's stats."""
    rng = np.random.default_rng(seed)
    writer = RecordingWriter(path, output_type="json_compressed", permission=0o644)
    bounds = np.linspace(0, AREA * NR_AREAS, nr_regions + 1).astype(np.int64) // 4096 * 4096
    base = 0x7f0000000000
    starts = (base + bounds[:-1]).astype(np.uint64)
    ends = (base + bounds[1:]).astype(np.uint64)
    sizes = (ends - starts).astype(np.int64)
    area_of = (bounds[:-1] * NR_AREAS) // (AREA * NR_AREAS)
    filters = [{"filter_type": "anon", "matching": True, "allow": False, "memcg_path": None,
                "address_range": None, "damon_target_idx": None, "hugepage_size": None,
                "probe_hits_wsum_range": None}]
    t0 = 10_000_000_000
    for s in range(nr_snapshots):
        hot_area = s * NR_AREAS // nr_snapshots
        nr_accesses = np.where(area_of == hot_area, rng.integers(14, 21, nr_regions),
                               rng.integers(0, 2, nr_regions))
        ages = rng.integers(0, 50, nr_regions)
        passed = sizes * rng.integers(0, 2, nr_regions)
        end = t0 + s * 1_000_000_000 + int(rng.integers(0, 5000))
        stats = {"nr_tried": nr_regions, "sz_tried": int(sizes.sum()), "nr_applied": nr_regions,
                 "sz_applied": int(sizes.sum()), "sz_ops_filter_passed": int(passed.sum()),
                 "qt_exceeds": 0, "nr_snapshots": 1, "max_nr_snapshots": 0}
        writer.add_snapshot(0, 0, None, end - INTERVALS["aggr_us"] * 1000, end, starts, ends,
                            nr_accesses, ages, intervals=INTERVALS, damos_stats=stats,
                            scheme_idx=0, sz_filter_passed=passed, scheme_filters=filters,
                            separate=True)
    writer.commit()


def ours(*args):
    return [sys.executable, "-m", "damo.cli", "report"] + list(args)


def damo(*args):
    return REFERENCE(["report"] + list(args)) if REFERENCE else None


# ------------------------------------------------ the offline tools' reports

def mem_footprints(path, nr_snapshots, seed=0):
    """damo's .mem_footprint beside the recording: one snapshot per second of
    it (damo record takes one a second), a process and the system."""
    import json
    rng = np.random.default_rng(seed)
    snapshots = []
    for s in range(nr_snapshots):
        rss = int(AREA * NR_AREAS // 4096 * (0.5 + 0.5 * s / nr_snapshots))
        snapshots.append({"time": 10.0 + s, "footprints": [
            {"pid": 1234, "footprint": {"size": AREA * NR_AREAS // 4096, "resident": rss,
                                        "shared": 0, "trs": 0, "lrs": 0, "drs": 0, "dt": 0}},
            {"pid": None, "footprint": {"total": 16 << 20, "free": (16 << 20) - rss * 4 -
                                        int(rng.integers(0, 1000)),
                                        "available": 0, "buffers": 0, "cached": 0}}]})
    with open(path, "w") as f:
        json.dump(snapshots, f)


def path_without_perf(workdir):
    """A PATH whose tools are damo's and its sandbox's but not perf: damo's
    report holistic crashes on the missing CPU profile when perf is there."""
    import shutil
    directory = os.path.join(workdir, "bin-without-perf")
    os.makedirs(directory, exist_ok=True)
    for tool in ("sh", "bash", "unshare", "mount", "ls", "true", "file", "which", "uname",
                 "env", "cat", "less"):
        found = shutil.which(tool)
        if found and not os.path.exists(os.path.join(directory, tool)):
            os.symlink(os.path.realpath(found), os.path.join(directory, tool))
    return directory


def tools_cases(jc, workdir):
    """(name, ours, damo's, targets, damo's environment) of report times,
    trace, holistic and footprints on the big recording (its perf.data and
    memory footprints made here)."""
    perf_data = os.path.join(workdir, "stairs.perf_data")
    if not os.path.exists(perf_data):
        subprocess.run([sys.executable, "-m", "damo.cli", "convert_record_format",
                        "--record_file", jc, "--output_file", perf_data, "--format",
                        "perf_data"], check=True, env=env_for([sys.executable]))
    if not os.path.exists(jc + ".mem_footprint"):
        mem_footprints(jc + ".mem_footprint", 100)
    no_perf = {"PATH": path_without_perf(workdir)}
    if not os.path.exists(jc + ".kdamonds"):
        import json
        with open(jc + ".kdamonds", "w") as f:
            json.dump([{"state": "on", "pid": 1, "contexts": [{
                "ops": "vaddr", "targets": [{"pid": 42, "regions": []}],
                "intervals": {"sample_us": "5 ms", "aggr_us": "100 ms",
                              "ops_update_us": "1 s"}, "probes": [], "schemes": []}]}], f)
    return [
        ("times --access_rate 50 100", ours("times", "--inputs", jc, "x", "--access_rate",
                                            "50", "100"),
         damo("times", "--inputs", jc, "x", "--access_rate", "50", "100"),
         {"time": 20, "rss": 5}, {}),
        ("trace (perf.data)", ours("trace", "--input", perf_data),
         damo("trace", "--input", perf_data), {"time": 20, "rss": 5}, {}),
        ("holistic", ours("holistic", "--access_pattern", jc, "--color", "always"),
         damo("holistic", "--access_pattern", jc),
         # damo's heatmaps there are empty (its record selection matches nothing)
         {"time": 20, "rss": 5, "differs": True}, no_perf),
        ("attrs", ours("attrs", "--input", jc, "--color", "always"),
         damo("attrs", "--input", jc), {"time": 20, "rss": 5}, {}),
        ("footprints", ours("footprints", "-i", jc + ".mem_footprint"),
         damo("footprints", "-i", jc + ".mem_footprint"), {}, {}),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snapshots", type=int, default=1000)
    parser.add_argument("--regions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours (best kept)")
    parser.add_argument("--keep", metavar="DIR", help="build the recordings in DIR")
    parser.add_argument("--no-damo", action="store_true", help="time only ours")
    parser.add_argument("--group", choices=["reports", "access", "tools", "all"],
                        default="all", help="which reports to time (access: report access's "
                                            "views; tools: the other offline reports)")
    parser.add_argument("--only", metavar="TEXT", help="only the reports whose name has TEXT")
    args = parser.parse_args()

    workdir = args.keep or tempfile.mkdtemp(prefix="damo-bench-")
    os.makedirs(workdir, exist_ok=True)
    # start as an installed package would, from bytecode (damo's venv has it;
    # PYTHONDONTWRITEBYTECODE would otherwise recompile us on every run)
    compileall.compile_dir(os.path.join(REPO, "damo"), quiet=1)
    jc = os.path.join(workdir, "stairs.json_compressed")
    native = os.path.join(workdir, "stairs.native")
    damos = os.path.join(workdir, "damos_snapshots.json_compressed")
    t = time.perf_counter()
    for path, kind in ((jc, "json_compressed"), (native, "native")):
        if not os.path.exists(path):
            stairs(path, args.snapshots, args.regions, kind)
    if args.group != "reports" and not os.path.exists(damos):
        damos_snapshots(damos, args.snapshots, args.regions)
    print("recording: %d snapshots x %d regions; json_compressed %.1f MB, native %.1f MB "
          "(built in %.1f s)" % (args.snapshots, args.regions, os.path.getsize(jc) / 1e6,
                                  os.path.getsize(native) / 1e6, time.perf_counter() - t))
    global REFERENCE
    REFERENCE = None if args.no_damo else reference_damo.argv_or_none()
    with_damo = REFERENCE is not None

    cases = [
        # name, our command, damo's command (None: ours only), targets
        ("heatmap (json_compressed)", ours("heatmap", "--input", jc, "--color", "always"),
         damo("heatmap", "--input", jc), {"time": 20, "rss": 5}),
        ("heatmap --output raw", ours("heatmap", "--input", jc, "--output", "raw"),
         damo("heatmap", "--input", jc, "--output", "raw"), {}),
        ("wss", ours("wss", "--input", jc), damo("wss", "--input", jc), {"time": 50}),
        ("wss --work_time 1 s", ours("wss", "--input", jc, "--work_time", "1000000"),
         damo("wss", "--input", jc, "--work_time", "1000000"), {}),
        ("heatmap (native)", ours("heatmap", "--input", native, "--color", "always"), None,
         {"under": 0.3}),
    ]
    fast = {"time": 20, "rss": 5}
    access_cases = [
        ("access (detailed)", ours("access", "--input", jc, "--color", "always"),
         damo("access", "--input", jc), fast),
    ] + [("access %s" % " ".join(a), ours("access", "--input", jc, *a, "--color", "always"),
          damo("access", "--input", jc, *a), fast) for a in (
        ("--style", "temperature-sz-hist"), ("--style", "recency-sz-hist", "--hist_logscale"),
        ("--style", "recency-percentiles"), ("--style", "temperature-percentiles"),
        ("--style", "hot"), ("--json",), ("--total_sz_only",),
        ("--access_rate", "5", "max", "--address", "139637976727552", "139638026727552"))] + [
        ("heatmap --sort_temperature", ours("heatmap", "--input", jc, "--sort_temperature",
                                            "--color", "always"),
         damo("heatmap", "--input", jc, "--sort_temperature"), fast),
        ("access (DAMOS snapshots)", ours("access", "--input", damos, "--color", "always"),
         damo("access", "--input", damos), fast),
        ("heatmap --df_passed (DAMOS)", ours("heatmap", "--input", damos, "--df_passed",
                                             "--color", "always"),
         damo("heatmap", "--input", damos, "--df_passed"), fast),
    ]
    # (name, ours, damo's, targets, damo's environment)
    cases = [c + ({},) for c in cases]
    access_cases = [c + ({},) for c in access_cases]
    if args.group == "access":
        cases = access_cases
    elif args.group == "tools":
        cases = tools_cases(jc, workdir)
    elif args.group == "all":
        cases += access_cases + tools_cases(jc, workdir)
    if args.only:
        cases = [c for c in cases if args.only in c[0]]
    width = max(len(c[0]) for c in cases)
    print("\n%-*s %10s %10s %8s   %10s %10s %8s   %s" % (
        width, "report", "ours (s)", "damo (s)", "ratio", "ours RSS", "damo RSS", "ratio",
        "target"))
    failed = []
    ours_out, damo_out = os.path.join(workdir, "ours.out"), os.path.join(workdir, "damo.out")
    for name, our_cmd, damo_cmd, targets, damo_env in cases:
        wall, rss = measure(our_cmd, args.repeat, keep_output=ours_out)
        line = "%-*s %10.3f" % (width, name, wall)
        verdicts = []
        if damo_cmd is not None and with_damo:
            d_wall, d_rss = measure(damo_cmd, 1, keep_output=damo_out, env=damo_env)
            with open(ours_out, "rb") as a, open(damo_out, "rb") as b:
                if a.read() != b.read() and "differs" not in targets:
                    failed.append(name + ": output differs from damo's")
            t_ratio, m_ratio = d_wall / wall, d_rss / rss
            line += " %10.3f %7.1fx   %8.0f MB %8.0f MB %7.1fx" % (
                d_wall, t_ratio, rss / 1024, d_rss / 1024, m_ratio)
            if "time" in targets:
                verdicts.append("%s >= %dx faster" % (
                    "ok" if t_ratio >= targets["time"] else "MISSED", targets["time"]))
            if "rss" in targets:
                verdicts.append("%s <= 1/%d of damo's memory" % (
                    "ok" if m_ratio >= targets["rss"] else "MISSED", targets["rss"]))
        else:
            line += " %10s %8s   %8.0f MB %11s %8s" % ("-", "-", rss / 1024, "-", "-")
        if "under" in targets:
            verdicts.append("%s < %.1f s" % ("ok" if wall < targets["under"] else "MISSED",
                                             targets["under"]))
        print(line + "   " + ", ".join(verdicts))
        failed += ["%s: %s" % (name, v) for v in verdicts if v.startswith("MISSED")]
    if failed:
        print("\n" + "\n".join(failed))
    for path in (ours_out, damo_out):
        if os.path.exists(path):
            os.remove(path)
    if not args.keep:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
