"""What ``damo autotune`` shows and writes: the table of the best trials
against the baseline and the hand-made schemes, the Pareto plot of RSS
saving against runtime overhead, and the best scheme as a damo kdamonds
JSON file."""
import json

import numpy as np

from damo import fileutil
from damo.errors import DamoError
from damo.reports import profile

COLUMNS = ("runtime", "rss.avg", "memused.avg", "pswpin", "pswpout", "kdamond_cpu_util")
# shown as counts (the baseline's are mostly 0: no overhead to show)
COUNTS = ("pswpin", "pswpout")


def overhead_pct(result, baseline, name):
    b, v = baseline.summary[name], result.summary[name]
    return (v / b - 1.0) * 100 if b else None


def _pct(value):
    return "n/a" if value is None else "%+.2f%%" % value


def _cell(result, baseline, name):
    if name in COUNTS:
        return profile.format_metric(name, result.summary[name])
    return _pct(overhead_pct(result, baseline, name))


def _score(value):
    return "%.3f" % (value + 0.0 if value else 0.0)     # no "-0.000"


def table(trials, baseline, comparisons, space, objective, top=5, labels=None):
    """A rich table: the best trials, then the hand-made schemes, against
    the baseline."""
    from rich import box
    from rich.table import Table
    t = Table(title="Best trials (against the baseline: overheads, damon-tests' variant / "
                    "baseline - 1; pages swapped in and out)", title_justify="left",
              box=box.SIMPLE_HEAD,
              show_edge=False, pad_edge=False)
    for name, justify in [("rank", "right"), ("trial", "right"), ("score", "right")] + \
            [(c.replace("kdamond_cpu_util", "kdamond CPU"), "right") for c in COLUMNS] + \
            [("parameters", "left")]:
        t.add_column(name, justify=justify, overflow="fold")
    for rank, tr in enumerate(trials[:top], 1):
        t.add_row(str(rank), str(tr.number), _score(tr.score),
                  *[_cell(tr.result, baseline, c) for c in COLUMNS],
                  space.describe_point(tr.params))
    for name, r in comparisons.items():
        label = (labels or {}).get(name, name)
        t.add_row("", name, _score(objective(r, baseline)),
                  *[_cell(r, baseline, c) for c in COLUMNS], label)
    t.add_row("", "baseline", _score(objective(baseline, baseline)),
              *[profile.format_metric(c, baseline.summary[c]) for c in COLUMNS],
              "no scheme (monitoring only)")
    return t


def pareto_front(points):
    """Indexes of the points (runtime overhead, RSS saving) no other point
    beats on both (lower overhead, higher saving)."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best_saving = [], -np.inf
    for i in order:
        if points[i][1] > best_saving:
            front.append(i)
            best_saving = points[i][1]
    return front


def plot(path, trials, baseline, comparisons, best_trial, title, labels=None,
         size=(900, 650)):
    """RSS saving (%) against runtime overhead (%) of every trial, the
    Pareto front, the hand-made schemes and the best trial."""
    from damo.reports import plot as plot_mod
    kind = plot_mod.image_kind(path)
    fig = plot_mod._figure(size, kind)
    ax = fig.subplots()
    pts = [(overhead_pct(t.result, baseline, "runtime") or 0.0,
            -(overhead_pct(t.result, baseline, "rss.avg") or 0.0))
           for t in trials if t.result is not None]
    if pts:
        xs, ys = zip(*pts)
        ax.scatter(xs, ys, s=14, alpha=0.5, color="tab:blue", label="trials (%d)" % len(pts))
        front = pareto_front(pts)
        ax.plot([pts[i][0] for i in front], [pts[i][1] for i in front], "-o", color="tab:orange",
                markersize=4, label="Pareto front")
    markers = ["s", "^", "D", "v", "P"]
    for i, (name, r) in enumerate(comparisons.items()):
        ax.scatter([overhead_pct(r, baseline, "runtime") or 0.0],
                   [-(overhead_pct(r, baseline, "rss.avg") or 0.0)], s=60,
                   marker=markers[i % len(markers)], color="tab:green" if i == 0 else "tab:red",
                   label=(labels or {}).get(name, name), zorder=3)
    if best_trial is not None:
        ax.scatter([overhead_pct(best_trial.result, baseline, "runtime") or 0.0],
                   [-(overhead_pct(best_trial.result, baseline, "rss.avg") or 0.0)], s=160,
                   marker="*", color="gold", edgecolor="black",
                   label="best (trial %d)" % best_trial.number, zorder=4)
    ax.scatter([0], [0], s=40, marker="x", color="black", label="baseline", zorder=3)
    ax.set_xlabel("runtime overhead (%)")
    ax.set_ylabel("RSS saving (%, rss.avg)")
    ax.set_title(title, fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    plot_mod._save(fig, path, kind)


def write_kdamonds(path, kdamonds):
    """The best trial's kdamonds, as damo's kdamonds JSON (what damo start
    --kdamonds, damo record --kdamonds and damo itself read)."""
    data = json.loads(json.dumps(kdamonds))
    for kd in data["kdamonds"]:
        for ctx in kd["contexts"]:
            for s in ctx.get("schemes", []):
                s.pop("stats", None)
    try:
        with fileutil.atomic_output(path, "w", permission=0o644) as f:
            json.dump(data, f, indent=4)
            f.write("\n")
    except OSError as e:
        raise DamoError("--out: cannot write %s: %s" % (path, e.strerror or e),
                        exit_code=2) from None
