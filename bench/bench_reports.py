"""Time our reports against damo 3.4.3 on big "stairs" recordings.

    python bench/bench_reports.py [--snapshots 1000] [--regions 1000] [--keep DIR]
                                  [--no-damo] [--no-scaling] [--no-floor] [--damo-big]
                                  [--group reports|access|tools|offline|all]
                                  [--only TEXT]

Builds a recording of masim's "stairs" pattern (ten 10 MB areas, each hot in
turn: 1000 snapshots x 1000 regions, 5 ms / 100 ms intervals) as
json_compressed and as native, then runs each report as a separate process,
ours and damo 3.4.3's (through tests/reference_damo.py), and prints wall time,
CPU time and peak RSS side by side.  Each run is measured by a small wrapper
process whose only child it is, so getrusage(RUSAGE_CHILDREN) gives that
run's own CPU time and peak.

Ours runs as an installed package starts: a venv of its own whose
site-packages holds only a .pth naming this checkout and the dependencies'
directory (an editable install's import hook would add ~20 ms to each start),
from bytecode, through a console script as pip writes it.

Sections:
- floor: what any report of the file must do, each as a process: start the
  interpreter with numpy and click, decompress the file, and parse it (with
  the stdlib json, orjson and msgspec when installed, and with our reader);
  every report's distance to the fastest floor;
- reports on the big recording, with targets;
- start-up: `damo --help` and reports of a tiny file, against damo (its
  sandbox's own cost, measured alone, is printed too), and the memory of
  a 100 x 100 report;
- scaling: reports at 100 x 100, 1000 x 1000 and 3000 x 3000 (damo at the
  largest only with --damo-big: it takes about 13 GB and half an hour);
- with --group access (or all): report access's views (styles, --json,
  --total_sz_only, filters), heatmap --sort_temperature, and DAMOS snapshot
  records (detailed with df lines, heatmap --df_passed), each against damo
  (about half an hour more);
- with --group tools (or all): report times, trace (of the recording's
  perf.data), holistic, attrs (with a .kdamonds) and footprints (of a
  .mem_footprint made here), each against damo;
- with --group offline: the access and tools rows (the offline tools'
  reports), without the others, the start-up and the scaling rows;
- --only TEXT: only the rows whose name has TEXT (no start-up or scaling);
- --startup-only: the start-up rows alone.

Never run from the tests: damo takes minutes.
"""
import argparse
import compileall
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
import venv

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests"))
import reference_damo  # noqa: E402  (tests/reference_damo.py: installs and sandboxes damo 3.4.3)

REFERENCE = None       # ARGS -> sandboxed argv of damo 3.4.3, set in main()
OURS = None            # ARGS -> argv of our installed-like damo, set in main()
PYTHON = None          # that install's interpreter

from damo.records import RecordingWriter  # noqa: E402

AREA = 10_000_000
NR_AREAS = 10
INTERVALS = {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000}
TINY = os.path.join(REPO, "tests", "data", "damo-upstream", "damon.data")

# Runs one command, prints "<wall s> <cpu s> <peak RSS KiB> <exit code>" of it alone.
_MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, done.returncode)
"""

_CONSOLE_SCRIPT = """#!%s
import sys
from damo._entry import main
if __name__ == "__main__":
    sys.exit(main())
"""

# The floor: decompress (and parse) the file as fast as a report could.
_INFLATE = """
import sys
from %s import decompressobj
d = decompressobj()
with open(sys.argv[1], "rb") as f:
    data = f.read()
out = d.decompress(data)
"""
_FLOORS = [
    ("interpreter + numpy + click", None, "import numpy, click"),
    ("decompress (zlib)", None, _INFLATE % "zlib"),
    ("decompress (zlib-ng)", "zlib_ng", _INFLATE % "zlib_ng.zlib_ng"),
    ("  + json.loads", None, _INFLATE % "zlib" + "import json; json.loads(out)"),
    ("  + orjson.loads", "orjson", _INFLATE % "zlib" + "import orjson; orjson.loads(out)"),
    ("  + msgspec.json.decode", "msgspec",
     _INFLATE % "zlib" + "import msgspec; msgspec.json.decode(out)"),
    ("  + our reader (records.load)", None,
     "import sys, numpy, click\nfrom damo import records\nrecords.load(sys.argv[1])"),
]


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


def installed_like(workdir):
    """A venv in which our damo starts as an installed one; its argv maker."""
    root = os.path.join(workdir, "venv")
    if not os.path.exists(root):
        venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
        purelib = sysconfig.get_path("purelib", vars={"base": root, "platbase": root})
        with open(os.path.join(purelib, "damo_sim_bench.pth"), "w") as f:
            # plain paths: their own .pth files (the editable hook) are not run
            f.write("\n".join([REPO, os.path.join(REPO, "engine"),
                               sysconfig.get_path("purelib"),
                               sysconfig.get_path("platlib")]) + "\n")
    python = os.path.join(root, "bin", "python")
    script = os.path.join(root, "bin", "damo")
    with open(script, "w") as f:
        f.write(_CONSOLE_SCRIPT % python)
    os.chmod(script, 0o755)
    return python, lambda args: [script] + list(args)


def env_for(cmd):
    """damo's venv and ours must not see PYTHONPATH."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure(cmd, repeat, env=None):
    """(wall s, cpu s) of the run with the best wall time, and the median
    peak RSS (KiB) of the runs (env: more environment for the run).  The
    median: one run's peak moves by some 100 KiB from run to run (where
    the libraries land), as much as a small report's margin to damo's."""
    best = None
    peaks = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", _MEASURE] + cmd, capture_output=True,
                             text=True, check=True,
                             env=dict(env_for(cmd), **(env or {}))).stdout.split()
        wall, cpu, rss, code = float(out[0]), float(out[1]), int(out[2]), int(out[3])
        if code != 0:
            raise SystemExit("failed (exit %d): %s" % (code, " ".join(cmd)))
        peaks.append(rss)
        if best is None or wall < best[0]:
            best = (wall, cpu)
    return best + (sorted(peaks)[len(peaks) // 2],)


def ours(*args):
    return OURS(["report"] + list(args))


def damo(*args):
    return REFERENCE(["report"] + list(args)) if REFERENCE else None


def output_of(cmd, env=None):
    done = subprocess.run(cmd, capture_output=True, env=dict(env_for(cmd), **(env or {})))
    if done.returncode != 0:
        raise SystemExit("failed (exit %d): %s\n%s" % (
            done.returncode, " ".join(cmd), done.stderr.decode(errors="replace")[-2000:]))
    return done.stdout


def has_module(name):
    return subprocess.run([PYTHON, "-c", "import " + name], capture_output=True,
                          env=env_for([])).returncode == 0


def recording(workdir, nr_snapshots, nr_regions, kind="json_compressed"):
    path = os.path.join(workdir, "stairs-%dx%d.%s" % (nr_snapshots, nr_regions, kind))
    if not os.path.exists(path):
        stairs(path, nr_snapshots, nr_regions, kind)
    return path


def mb(kib):
    return "%6.0f MB" % (kib / 1024)


def kib(n):
    return "%7s KiB" % format(n, ",")


def floors(path, repeat):
    print("\nfloor (%s, %.0f MB of JSON text): best of %d" % (
        os.path.basename(path), _text_size(path) / 1e6, repeat))
    print("%-34s %9s %9s %10s" % ("", "wall (s)", "cpu (s)", "peak RSS"))
    rows = {}
    for name, needs, code in _FLOORS:
        if needs and not has_module(needs):
            print("%-34s (%s not installed)" % (name, needs))
            continue
        wall, cpu, rss = measure([PYTHON, "-c", code, path], repeat)
        rows[name] = (wall, cpu, rss)
        print("%-34s %9.3f %9.3f %s" % (name, wall, cpu, mb(rss)))
    parsed = {k: v for k, v in rows.items() if k.startswith("  +")}
    best = min(parsed.items(), key=lambda kv: kv[1][0])
    print("floor: %s, %.3f s wall, %.3f s cpu" % (best[0].strip(), best[1][0], best[1][1]))
    return best[1]


def _text_size(path):
    import zlib
    d = zlib.decompressobj()
    size = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 20)
            if not block:
                break
            size += len(d.decompress(block))
    return size


def compare(cases, repeat, with_damo, floor=None):
    """Run each (name, ours, damo, targets) case; print a row; return misses."""
    head = "%-26s %9s %9s %9s %7s %7s   %9s %9s %6s" % (
        "report", "ours (s)", "cpu (s)", "damo (s)", "wall x", "cpu x", "ours RSS",
        "damo RSS", "mem x")
    if floor:
        head += " %9s %9s" % ("vs floor", "cpu")
    print(head + "   target")
    failed = []
    for case in cases:
        # (name, ours, damo's, targets[, damo's environment])
        name, our_cmd, damo_cmd, targets = case[:4]
        damo_env = case[4] if len(case) > 4 else None
        wall, cpu, rss = measure(our_cmd, repeat)
        line = "%-26s %9.3f %9.3f" % (name, wall, cpu)
        verdicts = []
        if damo_cmd is not None and with_damo:
            if output_of(our_cmd) != output_of(damo_cmd, damo_env) and \
                    "differs" not in targets:
                failed.append(name + ": output differs from damo's")
            d_wall, d_cpu, d_rss = measure(damo_cmd, 1, damo_env)
            t_ratio, c_ratio, m_ratio = d_wall / wall, d_cpu / cpu, d_rss / rss
            line += " %9.3f %6.1fx %6.1fx   %s %s %5.1fx" % (
                d_wall, t_ratio, c_ratio, mb(rss), mb(d_rss), m_ratio)
            if "time" in targets:
                # wall time side by side, as the targets are set; CPU time as well,
                # which a loaded machine changes less
                verdicts.append("%s >= %dx faster (wall), %s by CPU" % (
                    "ok" if t_ratio >= targets["time"] else "MISSED", targets["time"],
                    "ok" if c_ratio >= targets["time"] else "missed"))
            if "rss" in targets:
                verdicts.append("%s <= 1/%d of damo's memory" % (
                    "ok" if m_ratio >= targets["rss"] else "MISSED", targets["rss"]))
        else:
            line += " %9s %7s %7s   %s %9s %6s" % ("-", "-", "-", mb(rss), "-", "-")
        if floor:
            line += " %8.1fx %8.1fx" % (wall / floor[0], cpu / floor[1])
        if "under" in targets:
            verdicts.append("%s < %.1f s" % ("ok" if wall < targets["under"] else "MISSED",
                                             targets["under"]))
        print(line + "   " + ", ".join(verdicts))
        failed += ["%s: %s" % (name, v) for v in verdicts if v.startswith("MISSED")]
    return failed


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
    trace, holistic, attrs and footprints on the big recording (its perf.data,
    memory footprints and .kdamonds made here)."""
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
    fast = {"time": 20, "rss": 5}
    # the quick ones first: on a loaded machine a run may be cut short
    return [
        ("trace (perf.data)", ours("trace", "--input", perf_data),
         damo("trace", "--input", perf_data), fast, None),
        ("attrs", ours("attrs", "--input", jc, "--color", "always"),
         damo("attrs", "--input", jc), fast, None),
        ("times --access_rate 50 100", ours("times", "--inputs", jc, "x", "--access_rate",
                                            "50", "100"),
         damo("times", "--inputs", jc, "x", "--access_rate", "50", "100"), fast, None),
        ("holistic", ours("holistic", "--access_pattern", jc, "--color", "always"),
         damo("holistic", "--access_pattern", jc),
         # damo's heatmaps there are empty (its record selection matches nothing)
         dict(fast, differs=True), no_perf),
        ("footprints", ours("footprints", "-i", jc + ".mem_footprint"),
         damo("footprints", "-i", jc + ".mem_footprint"), {}, None),
    ]


def startup(workdir, with_damo, repeat):
    """`damo --help` and tiny reports: ours against damo (less its sandbox)."""
    print("\nstart-up (best wall time of %d runs; peak RSS: their median)" % repeat)
    sandbox = measure(reference_damo.command("/bin/true", []), repeat) if with_damo \
        else None
    if sandbox:
        print("damo's sandbox alone (unshare + sh + mounts): %.3f s wall, %.3f s cpu"
              % sandbox[:2])
    small = recording(workdir, 100, 100)
    cases = [("damo --help", OURS(["--help"]), REFERENCE(["--help"]) if with_damo else None),
             ("report wss (tiny)", ours("wss", "-i", TINY), damo("wss", "-i", TINY)),
             ("report access --raw_form (tiny)", ours("access", "--raw_form", "-i", TINY),
              damo("access", "--raw_form", "-i", TINY)),
             ("report heatmap 100x100", ours("heatmap", "-i", small),
              damo("heatmap", "-i", small)),
             ("report wss 100x100", ours("wss", "-i", small), damo("wss", "-i", small)),
             ("report access --raw_form 100x100", ours("access", "--raw_form", "-i", small),
              damo("access", "--raw_form", "-i", small))]
    print("%-34s %9s %9s %9s %9s   %11s %11s   %s" % (
        "", "ours (s)", "cpu (s)", "damo (s)", "cpu (s)", "ours RSS", "damo RSS", "target"))
    failed = []
    for name, our_cmd, damo_cmd in cases:
        o = measure(our_cmd, repeat)
        if damo_cmd is None:
            print("%-34s %9.3f %9.3f %9s %9s   %s" % (name, o[0], o[1], "-", "-", kib(o[2])))
            continue
        d = measure(damo_cmd, repeat)
        # damo's own time: less what its sandbox takes alone
        d_wall, d_cpu = d[0] - sandbox[0], d[1] - sandbox[1]
        verdicts = ["%s no slower (wall)" % ("ok" if o[0] <= d_wall else "MISSED")]
        if "100x100" in name:
            verdicts.append("%s no more memory" % ("ok" if o[2] <= d[2] else "MISSED"))
        print("%-34s %9.3f %9.3f %9.3f %9.3f   %s %s   %s" % (
            name, o[0], o[1], d_wall, d_cpu, kib(o[2]), kib(d[2]), ", ".join(verdicts)))
        failed += ["%s: %s" % (name, v) for v in verdicts if v.startswith("MISSED")]
    return failed


def scaling(workdir, with_damo, damo_big):
    print("\nscaling (json_compressed; one run each)")
    print("%-12s %-22s %9s %9s %10s   %9s %10s" % (
        "recording", "report", "ours (s)", "cpu (s)", "ours RSS", "damo (s)", "damo RSS"))
    for nr in (100, 1000, 3000):
        path = recording(workdir, nr, nr)
        for name, args in (("heatmap", ("heatmap",)), ("wss", ("wss",)),
                           ("access --raw_form", ("access", "--raw_form"))):
            o = measure(ours(*args, "-i", path), 1)
            line = "%-12s %-22s %9.3f %9.3f %s" % ("%dx%d" % (nr, nr), name, o[0], o[1],
                                                   mb(o[2]))
            if with_damo and (nr < 3000 or damo_big):
                d = measure(damo(*args, "-i", path), 1)
                line += "   %9.3f %s" % (d[0], mb(d[2]))
            else:
                line += "   %9s %10s" % ("-", "-")
            print(line)
        if nr == 3000:
            os.remove(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snapshots", type=int, default=1000)
    parser.add_argument("--regions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours (best kept)")
    parser.add_argument("--keep", metavar="DIR", help="build the recordings in DIR")
    parser.add_argument("--no-damo", action="store_true", help="time only ours")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling rows")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the floor rows (decompress and parse the file)")
    parser.add_argument("--group", choices=["reports", "access", "tools", "offline", "all"],
                        default="reports",
                        help="which reports to time (access: report access's views; tools: "
                             "report times, trace, holistic, attrs and footprints; "
                             "offline: both)")
    parser.add_argument("--only", metavar="TEXT",
                        help="only the reports whose name has TEXT (and no start-up or "
                             "scaling rows)")
    parser.add_argument("--startup-only", action="store_true",
                        help="only the start-up rows (--help, tiny and 100 x 100 reports)")
    parser.add_argument("--damo-big", action="store_true",
                        help="run damo on the 3000x3000 recording too (~13 GB, ~30 min)")
    args = parser.parse_args()

    workdir = args.keep or tempfile.mkdtemp(prefix="damo-bench-")
    os.makedirs(workdir, exist_ok=True)
    # start as an installed package would, from bytecode (damo's venv has it)
    compileall.compile_dir(os.path.join(REPO, "damo"), quiet=1)
    global REFERENCE, OURS, PYTHON
    PYTHON, OURS = installed_like(workdir)
    if args.startup_only:
        print("machine: %d cpus, load average %.1f (shared: figures vary; ratios are "
              "measured side by side in this run)" % (os.cpu_count(), os.getloadavg()[0]))
        REFERENCE = None if args.no_damo else reference_damo.argv_or_none()
        failed = startup(workdir, REFERENCE is not None, max(args.repeat, 10))
        if failed:
            print("\n" + "\n".join(failed))
        if not args.keep:
            import shutil
            shutil.rmtree(workdir)
        return 1 if failed else 0
    t = time.perf_counter()
    jc = recording(workdir, args.snapshots, args.regions)
    native = recording(workdir, args.snapshots, args.regions, "native")
    print("recording: %d snapshots x %d regions; json_compressed %.1f MB, native %.1f MB "
          "(built in %.1f s)" % (args.snapshots, args.regions, os.path.getsize(jc) / 1e6,
                                  os.path.getsize(native) / 1e6, time.perf_counter() - t))
    print("machine: %d cpus, load average %.1f (shared: figures vary; ratios are "
          "measured side by side in this run)" % (os.cpu_count(), os.getloadavg()[0]))
    REFERENCE = None if args.no_damo else reference_damo.argv_or_none()
    with_damo = REFERENCE is not None

    floor = None if args.no_floor else floors(jc, args.repeat)
    print()
    cases = [
        # name, our command, damo's command (None: ours only), targets
        ("heatmap", ours("heatmap", "--input", jc, "--color", "always"),
         damo("heatmap", "--input", jc), {"time": 50, "rss": 10}),
        ("heatmap --output raw", ours("heatmap", "--input", jc, "--output", "raw"),
         damo("heatmap", "--input", jc, "--output", "raw"), {}),
        ("wss", ours("wss", "--input", jc), damo("wss", "--input", jc),
         {"time": 100, "rss": 10}),
        ("wss --work_time 1 s", ours("wss", "--input", jc, "--work_time", "1000000"),
         damo("wss", "--input", jc, "--work_time", "1000000"), {}),
        ("access --raw_form", ours("access", "--raw_form", "--input", jc),
         damo("access", "--raw_form", "--input", jc), {"time": 20, "rss": 10}),
        ("heatmap (native)", ours("heatmap", "--input", native, "--color", "always"), None,
         {"under": 0.3}),
    ]
    fast = {"time": 20, "rss": 5}
    access_cases = []
    if args.group in ("access", "offline", "all"):
        damos = os.path.join(workdir, "damos_snapshots.json_compressed")
        if not os.path.exists(damos):
            damos_snapshots(damos, args.snapshots, args.regions)
        access_cases = [
            ("access (detailed)", ours("access", "--input", jc, "--color", "always"),
             damo("access", "--input", jc), fast),
        ] + [("access %s" % " ".join(a), ours("access", "--input", jc, *a, "--color", "always"),
              damo("access", "--input", jc, *a), fast) for a in (
            ("--style", "temperature-sz-hist"), ("--style", "recency-sz-hist", "--hist_logscale"),
            ("--style", "recency-percentiles"), ("--style", "temperature-percentiles"),
            ("--style", "hot"), ("--style", "cold"), ("--style", "simple-boxes"),
            ("--style", "cold-memory-tail"), ("--style", "idle-time-percentiles"),
            ("--json",), ("--total_sz_only",),
            ("--access_rate", "5", "max", "--address", "139637976727552", "139638026727552"))
        ] + [
            ("heatmap --sort_temperature", ours("heatmap", "--input", jc, "--sort_temperature",
                                                "--color", "always"),
             damo("heatmap", "--input", jc, "--sort_temperature"), fast),
            ("access (DAMOS snapshots)", ours("access", "--input", damos, "--color", "always"),
             damo("access", "--input", damos), fast),
            ("heatmap --df_passed (DAMOS)", ours("heatmap", "--input", damos, "--df_passed",
                                                 "--color", "always"),
             damo("heatmap", "--input", damos, "--df_passed"), fast),
        ]
    if args.group == "access":
        cases = access_cases
    elif args.group == "tools":
        cases = tools_cases(jc, workdir)
    elif args.group == "offline":
        cases = access_cases + tools_cases(jc, workdir)
    elif args.group == "all":
        cases += access_cases + tools_cases(jc, workdir)
    if args.only:
        cases = [c for c in cases if args.only in c[0]]
    failed = compare(cases, args.repeat, with_damo, floor)
    if not args.only and args.group != "offline":
        failed += startup(workdir, with_damo, max(args.repeat, 10))
    if not args.no_scaling and not args.only and args.group != "offline":
        scaling(workdir, with_damo, args.damo_big)
    if failed:
        print("\n" + "\n".join(failed))
    if not args.keep:
        import shutil
        shutil.rmtree(workdir)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
