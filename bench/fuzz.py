"""Fuzz every reader of hostile input for a given time (or number of inputs)
and print, per target, the inputs tried and their outcomes.

    python bench/fuzz.py                          # every target, 60 s each
    python bench/fuzz.py --time 600 records_json masim_configs
    python bench/fuzz.py --inputs 1000000 --jobs 2 records_perf_script
    python bench/fuzz.py --engine atheris --time 3600 records_native   # coverage-guided

Each target runs in a worker process that feeds it inputs in-process (no
process per input): the targets are in tests/fuzz_targets.py.  Outcomes:
"ok" (accepted), "refused" (one error line naming the file and where),
"traceback" (a bare exception, or a refusal that is not one line naming
where), "crash" (the worker died: a segfault, an abort), "hang" (one input
took longer than --hang seconds; the worker is killed and restarted).
Failing inputs are saved to --findings (default fuzz-findings/) with their
traceback.  The built-in engine mutates seeds (bytes, tokens, JSON trees);
--engine atheris (pip install -e '.[fuzz]') is libFuzzer's coverage-guided
search over the same targets.
"""
import argparse
import hashlib
import json
import multiprocessing
import os
import random
import signal
import sys
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
sys.path.insert(0, REPO)

OUTCOMES = ("ok", "refused", "traceback", "crash", "hang")
STARTUP_S = 300         # a worker's imports and seeds, before its first input


class _Hang(BaseException):
    pass


def _on_alarm(signum, frame):
    raise _Hang()


def _save(findings, target, kind, data, text):
    os.makedirs(findings, exist_ok=True)
    digest = hashlib.sha1(data).hexdigest()[:12]
    base = os.path.join(findings, "%s-%s-%s" % (target, kind, digest))
    with open(base + ".bin", "wb") as f:
        f.write(data)
    with open(base + ".txt", "w") as f:
        f.write(text)
    return base


def worker(name, seed, budget_s, max_inputs, hang_s, findings, conn, current_path, engine):
    """Feed one target for budget_s seconds or max_inputs inputs; report
    counts on conn every half second and at the end."""
    if engine == "atheris":
        # a fresh (spawned) process: import every damo module under atheris's
        # instrumentation, so that libFuzzer sees their coverage
        import importlib
        import pkgutil

        import atheris
        with atheris.instrument_imports(include=["damo"]):
            import damo
            for mod in pkgutil.walk_packages(damo.__path__, "damo."):
                if mod.name not in ("damo.gen_docs",):
                    try:
                        importlib.import_module(mod.name)
                    except Exception:
                        pass
    import fuzz_targets

    workdir = fuzz_targets.make_workdir()
    target = fuzz_targets.BY_NAME[name](workdir)
    counts = dict.fromkeys(OUTCOMES, 0)
    signatures = {}
    current = os.open(current_path, os.O_WRONLY | os.O_CREAT, 0o600)
    signal.signal(signal.SIGALRM, _on_alarm)
    deadline = time.monotonic() + budget_s
    last_report = [0.0]

    def one(data):
        os.pwrite(current, len(data).to_bytes(8, "little") + data, 0)
        signal.setitimer(signal.ITIMER_REAL, hang_s)
        try:
            outcome = target.run(data)
        except _Hang:
            outcome = "hang"
            _save(findings, name, "hang", data, "took more than %g s\n" % hang_s)
        except Exception:
            outcome = "traceback"
            tb = traceback.format_exc()
            key = tb.strip().splitlines()[-1][:200]
            signatures[key] = signatures.get(key, 0) + 1
            if signatures[key] <= 3:
                _save(findings, name, "traceback", data, tb)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        counts[outcome if outcome in counts else "ok"] += 1
        now = time.monotonic()
        if now - last_report[0] > 0.5:
            last_report[0] = now
            conn.send(("progress", dict(counts), signatures))
        return now < deadline and sum(counts.values()) < max_inputs

    try:
        if engine == "atheris":
            import atheris

            def test_one_input(data):
                if not one(bytes(data)):
                    conn.send(("done", dict(counts), signatures))
                    os._exit(0)
            seeds_dir = os.path.join(workdir, "seeds")
            os.makedirs(seeds_dir)
            for i, s in enumerate(target.seeds()):
                with open(os.path.join(seeds_dir, "%d" % i), "wb") as f:
                    f.write(s)
            conn.send(("ready", dict(counts), signatures))
            atheris.Setup([sys.argv[0], "-max_len=1048576", "-rss_limit_mb=4096",
                           "-seed=%d" % (seed & 0x7fffffff), seeds_dir], test_one_input)
            atheris.Fuzz()
        else:
            rng = random.Random(seed)
            mutate = target.mutator(rng)
            seeds = list(target.seeds())
            conn.send(("ready", dict(counts), signatures))
            for data in seeds:
                if not one(data):
                    break
            while one(mutate()):
                pass
    finally:
        target.close()
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    conn.send(("done", dict(counts), signatures))


def fuzz_target(name, budget_s, max_inputs, hang_s, jobs, findings, engine, seed, quiet,
                progress_s=10):
    """Run one target in ``jobs`` worker processes under a watchdog; returns
    (counts, signatures, elapsed seconds)."""
    # atheris needs a fresh process (its instrumentation applies at import)
    ctx = multiprocessing.get_context("spawn" if engine == "atheris" else "fork")
    totals = dict.fromkeys(OUTCOMES, 0)
    signatures = {}
    t0 = time.monotonic()
    per_job = max_inputs // jobs if max_inputs else 1 << 62
    slots = []
    tty = sys.stderr.isatty()
    last_line = t0

    def spawn(j, restart):
        parent, child = ctx.Pipe(duplex=False)
        current = os.path.join(findings, ".current-%s-%d-%d" % (name, os.getpid(), j))
        os.makedirs(findings, exist_ok=True)
        left = max(0.0, budget_s - (time.monotonic() - t0))
        done_inputs = sum(slots[j]["base"].values()) if restart else 0
        p = ctx.Process(target=worker, args=(
            name, seed * 1000 + j * 100 + (slots[j]["restarts"] if restart else 0), left,
            per_job - done_inputs, hang_s, findings, child, current, engine), daemon=True)
        p.start()
        child.close()
        return p, parent, current

    for j in range(jobs):
        slots.append({"base": dict.fromkeys(OUTCOMES, 0), "last": dict.fromkeys(OUTCOMES, 0),
                      "restarts": 0, "beat": time.monotonic(), "done": False})
        slots[j]["proc"], slots[j]["conn"], slots[j]["current"] = spawn(j, False)
    while not all(s["done"] for s in slots):
        for j, s in enumerate(slots):
            if s["done"]:
                continue
            died = False
            while s["conn"].poll(0.05):
                try:
                    kind, counts, sigs = s["conn"].recv()
                except EOFError:
                    died = True
                    break
                s["last"] = counts
                s["beat"] = time.monotonic()
                if kind == "ready":
                    s["ready"] = True
                for k, v in sigs.items():
                    signatures[k] = max(signatures.get(k, 0), v)
                if kind == "done":
                    s["done"] = True
                    break
            if s["done"]:
                s["proc"].join()
                continue
            # a worker setting up (imports, seeds) has STARTUP_S: on a loaded
            # machine that took more than hang_s, and counted as a hang
            stalled = time.monotonic() - s["beat"] > (
                hang_s + 5 if s.get("ready") else max(STARTUP_S, hang_s + 5))
            if died or not s["proc"].is_alive() or stalled:
                # the input in flight crashed or hung the worker
                if stalled:
                    s["proc"].kill()
                s["proc"].join()
                kind = "hang" if stalled else "crash"
                try:
                    with open(s["current"], "rb") as f:
                        raw = f.read()
                    data = raw[8:8 + int.from_bytes(raw[:8], "little")]
                except OSError:
                    data = b""
                _save(findings, name, kind, data, "worker %s (exit code %s)\n" % (
                    kind, s["proc"].exitcode))
                for k in OUTCOMES:
                    s["base"][k] += s["last"][k]
                s["base"][kind] += 1
                s["last"] = dict.fromkeys(OUTCOMES, 0)
                s["restarts"] += 1
                if time.monotonic() - t0 >= budget_s or \
                        sum(s["base"].values()) >= per_job or s["restarts"] > 1000:
                    s["done"] = True
                    continue
                s["proc"], s["conn"], s["current"] = spawn(j, True)
                s["beat"] = time.monotonic()
                s["ready"] = False
        if not quiet:
            now = time.monotonic()
            if tty or now - last_line >= progress_s:
                last_line = now
                seen = {k: sum(s["base"][k] + s["last"][k] for s in slots) for k in OUTCOMES}
                n = sum(seen.values())
                text = "%-26s %10d inputs %7.0f s %7.0f/s  %s" % (
                    name, n, now - t0, n / max(now - t0, 1e-9),
                    " ".join("%s %d" % (k, seen[k]) for k in OUTCOMES[2:]))
                # a terminal gets one line redrawn; a log a line every progress_s
                sys.stderr.write(("\r" + text) if tty else (text + "\n"))
                sys.stderr.flush()
    for s in slots:
        for k in OUTCOMES:
            totals[k] += s["base"][k] + s["last"][k]
        try:
            os.unlink(s["current"])
        except OSError:
            pass
    if not quiet and tty:
        sys.stderr.write("\r" + " " * 100 + "\r")
    return totals, signatures, time.monotonic() - t0


def main():
    import fuzz_targets

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="targets: " + ", ".join(
                                         t.name for t in fuzz_targets.TARGETS))
    parser.add_argument("targets", nargs="*", help="targets to run (default: all)")
    parser.add_argument("--time", type=float, default=60, help="seconds per target")
    parser.add_argument("--inputs", type=int, default=0,
                        help="stop a target after this many inputs (default: only --time)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes per target")
    parser.add_argument("--hang", type=float, default=10, help="seconds that make a hang")
    parser.add_argument("--engine", choices=("builtin", "atheris"), default="builtin")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--findings", default="fuzz-findings")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--progress", type=float, default=10, metavar="SECONDS",
                        help="without a terminal, a progress line this often (default 10)")
    args = parser.parse_args()
    names = args.targets or [t.name for t in fuzz_targets.TARGETS]
    unknown = [n for n in names if n not in fuzz_targets.BY_NAME]
    if unknown:
        parser.error("unknown target %s (known: %s)" % (
            unknown[0], ", ".join(fuzz_targets.BY_NAME)))
    rows = []
    print("%-26s %10s %9s %9s %9s %6s %6s %8s %8s" % (
        "target", "inputs", "ok", "refused", "traceback", "crash", "hang", "time_s", "per_s"))
    failed = False
    for name in names:
        counts, sigs, elapsed = fuzz_target(name, args.time, args.inputs, args.hang, args.jobs,
                                            args.findings, args.engine, args.seed, args.quiet,
                                            args.progress)
        n = sum(counts.values())
        print("%-26s %10d %9d %9d %9d %6d %6d %8.0f %8.0f" % (
            name, n, counts["ok"], counts["refused"], counts["traceback"], counts["crash"],
            counts["hang"], elapsed, n / elapsed if elapsed else 0))
        for sig, k in sorted(sigs.items(), key=lambda kv: -kv[1])[:5]:
            print("    %6d x %s" % (k, sig))
        sys.stdout.flush()
        failed |= bool(counts["traceback"] or counts["crash"] or counts["hang"])
        rows.append(dict(target=name, inputs=n, seconds=round(elapsed, 1), **counts))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"engine": args.engine, "jobs": args.jobs, "targets": rows}, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
