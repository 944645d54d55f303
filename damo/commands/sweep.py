"""``damo sweep WORKLOAD --param NAME=V1,V2,...``: DAMON's accuracy against
its monitoring overhead, over every combination of monitoring parameters.

Each combination runs WORKLOAD under simulated DAMON with the exact truth
kept (``damo record --ground_truth``), on the shared evaluation layer
(damo.evaluation: local worker processes by default, a dask.distributed
cluster with --scheduler), and is scored as ``damo report accuracy`` scores a
recording (damo.reports.accuracy.measure), against its kdamond's CPU use and
access checks.
"""
import itertools
import json

import click

from damo.errors import DamoError

# --param NAME: what it sets (on damo's default monitoring context)
PARAMS = {
    "sample": "sampling interval (e.g. 1ms)",
    "aggr": "aggregation interval (e.g. 100ms)",
    "update": "ops update interval (e.g. 1s)",
    "min_nr_regions": "minimum number of regions",
    "max_nr_regions": "maximum number of regions",
    "nr_regions": "both, as MIN-MAX (e.g. 10-1000)",
    "intervals_goal": "interval auto-tuning goal ACCESS_BP/AGGRS/MIN_SAMPLE/MAX_SAMPLE "
                      "(e.g. 4%/3/5ms/10s), or off",
    "ops": "operation set (vaddr or fvaddr: the truth is kept per page of the process)",
}
METRICS = ("page_freq_error", "region_freq_error", "wss_error", "hot_precision",
           "hot_recall", "cold_precision", "cold_recall")


def parse_param(text):
    """'NAME=V1,V2' -> (NAME, [V1, V2])."""
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise DamoError("--param: %r is not NAME=V1,V2,..." % text, exit_code=2)
    if name not in PARAMS:
        raise DamoError("--param: unknown parameter %r (one of %s)"
                        % (name, ", ".join(sorted(PARAMS))), exit_code=2)
    vals = [v.strip() for v in values.split(",")]
    if not vals or any(not v for v in vals):
        raise DamoError("--param %s: an empty value in %r" % (name, values), exit_code=2)
    return name, vals


def context_of(combo):
    """A checked damo ContextParams for one combination ({name: value})."""
    from damo.params import damon as params_mod
    ctx = params_mod.monitoring_from_options(ops=combo.get("ops", "vaddr"))
    where = "--param %s"
    for name, value in combo.items():
        if name in ("sample", "aggr", "update"):
            us = params_mod.parse_us(value, where % name)
            setattr(ctx, {"sample": "sample_us", "aggr": "aggr_us",
                          "update": "update_us"}[name], us)
        elif name in ("min_nr_regions", "max_nr_regions"):
            setattr(ctx, name, _int(value, where % name))
        elif name == "nr_regions":
            lo, sep, hi = value.partition("-")
            if not sep:
                raise DamoError("--param nr_regions: %r is not MIN-MAX" % value, exit_code=2)
            ctx.min_nr_regions = _int(lo, where % name)
            ctx.max_nr_regions = _int(hi, where % name)
        elif name == "intervals_goal":
            if value == "off":
                ctx.intervals_goal = None
                continue
            parts = value.split("/")
            if len(parts) != 4:
                raise DamoError("--param intervals_goal: %r is not ACCESS_BP/AGGRS/"
                                "MIN_SAMPLE/MAX_SAMPLE" % value, exit_code=2)
            ctx.intervals_goal = params_mod.monitoring_from_options(
                intervals_goal=parts).intervals_goal
    if ctx.ops == "paddr":
        raise DamoError("--param ops: paddr keeps no ground truth (the truth is kept per "
                        "page of the workload's process)", exit_code=2)
    try:
        ctx.validate()
    except DamoError as e:
        raise DamoError("%s: %s" % (describe(combo), e), exit_code=2) from None
    return ctx


def _int(text, what):
    try:
        value = int(text)
    except ValueError:
        raise DamoError("%s: %r is not a number" % (what, text), exit_code=2) from None
    if value < 0:
        raise DamoError("%s: %r is negative" % (what, text), exit_code=2)
    return value


def describe(combo):
    return " ".join("%s=%s" % kv for kv in combo.items())


def evaluations(workload, params, memory, seed, timeout, access_rate=None,
                random_access_rate=None):
    """One damo.evaluation.Evaluation per combination, in order."""
    from damo.evaluation import Evaluation
    from damo.params import damon as params_mod
    names = [n for n, _ in params]
    out = []
    for values in itertools.product(*[v for _, v in params]):
        combo = dict(zip(names, values))
        ctx = context_of(combo)
        kdamonds = params_mod.kdamonds_to_kvpairs([params_mod.KdamondParams([ctx])])
        out.append(Evaluation(workload, memory=memory, kdamonds=kdamonds, seed=seed,
                              timeout=timeout, access_rate=access_rate,
                              random_access_rate=random_access_rate, ground_truth=True,
                              measure="damo.reports.accuracy:measure", key=combo))
    return out


def rows_of(results):
    rows = []
    for r in results:
        row = {"params": dict(r.evaluation.key)}
        for m in METRICS:
            row[m] = r.extra.get(m)
        row["kdamond_cpu_util"] = r.extra.get("kdamond_cpu_util")
        row["nr_access_checks"] = r.extra.get("nr_access_checks")
        row["nr_snapshots"] = r.extra.get("nr_snapshots")
        row["wall_s"] = r.wall_s
        rows.append(row)
    return rows


def _f(x, fmt):
    return "-" if x is None else fmt % x


def text(rows, names):
    widths = [max(len(n), max(len(str(r["params"][n])) for r in rows)) for n in names]
    head = " ".join("%-*s" % (w, n) for n, w in zip(names, widths))
    lines = ["# error against the exact truth (damo report accuracy) and monitoring "
             "overhead", head + "  %8s %8s %8s %6s %6s %9s %12s" % (
                 "page_err", "freq_err", "wss_err", "hot_p", "hot_r", "kdamond%",
                 "checks")]
    for r in rows:
        lines.append(" ".join("%-*s" % (w, r["params"][n]) for n, w in zip(names, widths))
                     + "  %8s %8s %8s %6s %6s %9s %12s" % (
                         _f(r["page_freq_error"], "%.2f"), _f(r["region_freq_error"], "%.2f"),
                         _f(None if r["wss_error"] is None else r["wss_error"] * 100,
                            "%.1f%%"),
                         _f(None if r["hot_precision"] is None
                            else r["hot_precision"] * 100, "%.0f%%"),
                         _f(None if r["hot_recall"] is None else r["hot_recall"] * 100,
                            "%.0f%%"),
                         _f(r["kdamond_cpu_util"] * 100, "%.4f%%"),
                         _f(r["nr_access_checks"], "%d")))
    lines.append("# page_err, freq_err: size-weighted access frequency error of pages and "
                 "of regions (percentage points); kdamond%: its CPU time over the run's")
    return "\n".join(lines)


def plot(rows, names, path, size, metric):
    from damo.reports import plot as plot_mod
    kind = plot_mod.image_kind(path)
    fig = plot_mod._figure(size, kind)
    ax = fig.add_subplot()
    xs = [r["kdamond_cpu_util"] * 100 for r in rows]
    ys = [r[metric] if r[metric] is not None else float("nan") for r in rows]
    if metric in ("wss_error", "hot_precision", "hot_recall", "cold_precision",
                  "cold_recall"):
        ys = [y * 100 for y in ys]
    ax.plot(xs, ys, "o", label="a combination")
    # the trade-off curve: combinations no other beats on both error and overhead
    best, front = float("inf"), []
    for x, y in sorted((x, y) for x, y in zip(xs, ys) if y == y):
        if y < best:
            best = y
            front.append((x, y))
    if len(front) > 1:
        ax.plot([x for x, _ in front], [y for _, y in front], "-", alpha=0.5,
                label="the best error for the overhead")
    ax.legend(fontsize="small")
    for x, y, r in zip(xs, ys, rows):
        ax.annotate(" ".join("%s" % r["params"][n] for n in names), (x, y),
                    fontsize="x-small", xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("monitoring overhead: kdamond CPU (% of the run)")
    ax.set_ylabel({"page_freq_error": "page access frequency error (pp)",
                   "region_freq_error": "region access frequency error (pp)",
                   "wss_error": "WSS error (%)"}.get(metric, metric + " (%)"))
    ax.set_title("accuracy against overhead: " + ", ".join(names), fontsize="medium")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    plot_mod._save(fig, path, kind)


@click.command(context_settings={"help_option_names": ["-h", "--help"]},
               epilog="Parameters (--param NAME=...):\n\n\b\n" + "\n".join(
                   "  %-15s %s" % kv for kv in PARAMS.items()))
@click.argument("workload", metavar="WORKLOAD")
@click.option("--param", "params", multiple=True, required=True, metavar="NAME=V1,V2,...",
              help="a monitoring parameter and its values (repeatable: every combination "
                   "runs)")
@click.option("--memory", metavar="SPEC", help="simulated machine (as damo record's)")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="random seed of every run")
@click.option("--sequential_access_rate", type=click.FloatRange(min=1), metavar="<per ms>",
              help="sequential accesses per ms on the fastest memory (default 200000)")
@click.option("--random_access_rate", type=click.FloatRange(min=1), metavar="<per ms>",
              help="random accesses per ms on the fastest memory (default 66000)")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="<seconds>",
              help="simulated seconds of each run (default: the workload's end)")
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
              help="local worker processes (default: the CPUs)")
@click.option("--scheduler", metavar="ADDRESS",
              help="run on a dask.distributed cluster (e.g. tcp://host:8786)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="output format")
@click.option("--plot", "plot_path", metavar="<file>",
              help="draw error against overhead to an image (.png, .svg, .pdf, .jpeg)")
@click.option("--metric", type=click.Choice(METRICS), default="page_freq_error",
              show_default=True, help="the error the plot shows")
@click.option("--size", nargs=2, type=int, default=(800, 600), show_default=True,
              metavar="<width> <height>", help="image size (pixels; points for svg/pdf)")
def sweep(workload, params, memory, seed, sequential_access_rate, random_access_rate, timeout,
          jobs, scheduler, fmt, plot_path, metric, size):
    """Sweep monitoring parameters: DAMON's error against its overhead.

    WORKLOAD runs under every combination of the --param values, with the
    exact truth kept; each run is scored as `damo report accuracy` scores a
    recording, beside its kdamond's CPU use and access checks.

    e.g. `damo sweep stairs_30secs --param sample=1ms,5ms,20ms --param
    max_nr_regions=100,1000`.
    """
    from damo.evaluation import Evaluator
    from damo.workloads import masim as workload_mod

    parsed = [parse_param(p) for p in params]
    names = [n for n, _ in parsed]
    if len(set(names)) != len(names):
        raise DamoError("--param: a parameter is given twice", exit_code=2)
    if jobs is not None and scheduler is not None:
        raise DamoError("give --jobs or --scheduler, not both", exit_code=2)
    workload_mod.resolve(workload)      # a bad workload is one error, here
    evs = evaluations(workload, parsed, memory, seed, timeout, sequential_access_rate,
                      random_access_rate)

    def progress(done, total, result):
        import sys
        if sys.stderr.isatty():
            click.echo("\r%d/%d runs" % (done, total), err=True, nl=done == total)

    with Evaluator(jobs=jobs, scheduler=scheduler) as pool:
        results = pool.map(evs, progress=progress)
    rows = rows_of(results)
    if plot_path:
        plot(rows, names, plot_path, size, metric)
    if fmt == "json":
        click.echo(json.dumps({"workload": workload, "runs": rows}, indent=1))
    else:
        click.echo(text(rows, names))
