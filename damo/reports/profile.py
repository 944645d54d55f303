"""``damo report profile``: where a simulated run's time and memory went.

A profile is made of sections, each a function of a ``ProfileData`` that
returns rich renderables (or nothing, when it has nothing to say).  Sections
run in order; other reports (e.g. functions touching the hot memory, from
traced programs) add theirs with ``register_section``.

The numbers come from the recording's machine metrics (``damo.metrics``):
the run's time split into compute, per-tier memory stalls, faults, swap-ins,
reclaim and migrations; per-tier memory in use and resident memory over
time; the vmstat counters; the DAMOS scheme statistics; the kdamonds' own
work.  Given a baseline recording of the same workload (e.g. without
schemes), the comparison is damon-tests': per metric, variant / baseline - 1.
"""
import dataclasses
from typing import Optional

import numpy as np

from damo import units

# damon-tests' metric names (perf suite), in their order
COMPARED_METRICS = ("runtime", "rss.avg", "memused.avg", "pgmajfaults", "pswpin", "pswpout",
                    "zswpin", "zswpout", "psi_mem_some_us", "kdamond_cpu_util")
SIZE_METRICS = ("rss.avg", "rss.max", "memused.avg")
TIME_METRICS = ("runtime",)
NR_TIME_ROWS = 10


@dataclasses.dataclass
class ProfileData:
    """What sections see: the metrics of a recording (and its baseline's)."""
    path: str
    metrics: dict
    recording: object = None
    baseline_path: Optional[str] = None
    baseline: Optional[dict] = None
    options: dict = dataclasses.field(default_factory=dict)


_SECTIONS = []


def register_section(name, fn, order=None):
    """Add a section: fn(ProfileData) -> list of rich renderables (or None).
    order: position among the sections (default: last)."""
    entry = (name, fn)
    _SECTIONS[:] = [s for s in _SECTIONS if s[0] != name]
    if order is None:
        _SECTIONS.append(entry)
    else:
        _SECTIONS.insert(order, entry)


def sections():
    return [name for name, _ in _SECTIONS]


# ------------------------------------------------------------ summaries

def _sz(v):
    return units.format_sz(int(v), False)


def _sz_short(v):
    """A size in at most 9 columns (tables that must fit 80 of them)."""
    v = float(v)
    for unit, div in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if v >= div:
            return ("%.0f %s" if v / div >= 99.95 else "%.1f %s") % (v / div, unit)
    return "%d B" % v


def _time_ns(v):
    return units.format_time_ns(int(v), False) if v else "0 ns"


def _pct(part, whole):
    return "%.1f%%" % (100.0 * part / whole) if whole else "-"


def node_names(metrics):
    return [n["name"] for n in metrics["machine"]["nodes"]]


def rss_series(metrics):
    """Resident bytes over time: (time_ns, array[samples, nodes]) summed over
    processes."""
    t = np.asarray(metrics["time_ns"], dtype=np.int64)
    rss = np.asarray(metrics["rss_by_node"], dtype=np.float64)
    if rss.ndim == 3:
        rss = rss.sum(axis=1)
    else:
        rss = np.zeros((len(t), len(node_names(metrics))))
    return t, rss


def summary(metrics):
    """damon-tests-style metrics of one run (one value each)."""
    final = metrics["final"]
    procs = final["processes"]
    # runtime: the time the processes worked (a replay's pacing idles)
    runtime = sum(p.get("busy_ns", p["runtime_ns"]) for p in procs) if procs \
        else final["time_ns"]
    t, rss = rss_series(metrics)
    total_rss = rss.sum(axis=1) if len(rss) else np.zeros(1)
    used = np.asarray(metrics["node_used"], dtype=np.float64)
    memused = used.sum(axis=1) if used.size else np.zeros(1)
    vm = final["vmstat"]
    elapsed = final["time_ns"]
    cpu_ns = sum(k["cpu_ns"] for k in final["kdamonds"])
    return {
        "runtime": runtime,
        "rss.avg": float(total_rss.mean()) if len(total_rss) else 0.0,
        "rss.max": float(total_rss.max()) if len(total_rss) else 0.0,
        "memused.avg": float(memused.mean()) if len(memused) else 0.0,
        "pgmajfaults": vm.get("pgmajfault", 0),
        "pswpin": vm.get("pswpin", 0),
        "pswpout": vm.get("pswpout", 0),
        # zswap's loads and stores are not device I/O: the kernel counts them apart
        "zswpin": vm.get("zswpin", 0),
        "zswpout": vm.get("zswpout", 0),
        "psi_mem_some_us": final.get("psi_some_us", 0),
        "kdamond_cpu_util": cpu_ns / elapsed if elapsed else 0.0,
    }


def overheads(variant, baseline):
    """{metric: (baseline, variant, variant / baseline - 1 or None)}."""
    out = {}
    for name in COMPARED_METRICS:
        b, v = baseline[name], variant[name]
        out[name] = (b, v, (v / b - 1.0) if b else None)
    return out


def format_metric(name, value):
    if name in SIZE_METRICS:
        return _sz(value)
    if name in TIME_METRICS:
        return _time_ns(value)
    if name == "kdamond_cpu_util":
        return "%.2f%%" % (value * 100)
    return units.format_nr(int(value), False)


# ------------------------------------------------------------ sections

def _table(title, columns, rows, caption=None):
    from rich.table import Table
    table = Table(title=title, title_justify="left", caption=caption,
                  caption_justify="left", show_edge=False, pad_edge=False)
    for name, justify in columns:
        table.add_column(name, justify=justify)
    for row in rows:
        table.add_row(*[str(c) for c in row])
    return table


def section_machine(d):
    from rich.text import Text
    m = d.metrics["machine"]
    lines = ["recording: %s" % d.path]
    procs = ", ".join("%s (pid %d)" % (p["name"], p["pid"]) for p in d.metrics["processes"])
    if procs:
        lines.append("workload: %s" % procs)
    lines.append("machine%s:" % (" (%s)" % m["spec"] if m.get("spec") else ""))
    for n in m["nodes"]:
        lines.append("  node %d %-6s %-5s %10s  %4.0f ns  %5.1f GB/s" % (
            n["id"], n["name"], n["kind"], _sz(n["capacity"]), n["latency_ns"],
            n["bandwidth_gbps"]))
    if m.get("swap"):
        s = m["swap"]
        lines.append("  swap   %-12s %10s  %.1f us in, %.1f us out" % (
            s["kind"], _sz(s["capacity"]), s["fault_ns"] / 1000, s["out_ns"] / 1000))
    else:
        lines.append("  no swap")
    lines.append("  THP %s; minor fault %.1f us, page migration %.1f us" % (
        m.get("thp"), m["costs"]["minor_fault_ns"] / 1000,
        m["costs"]["migrate_page_ns"] / 1000))
    return [Text("\n".join(lines))]


def runtime_parts(metrics, proc):
    """[(label, ns)] of where a process's time went, and its total."""
    names = node_names(metrics)
    rt = proc["runtime"]
    total = proc["runtime_ns"]
    parts = [("compute", rt["compute_ns"])]
    parts += [("stall on %s" % n, rt["stall_ns"][i]) for i, n in enumerate(names)]
    parts += [("page faults", rt["fault_ns"]), ("swap-ins", rt["swapin_ns"]),
              ("direct reclaim", rt.get("reclaim_ns", 0.0)), ("migrations", rt["migrate_ns"])]
    other = total - sum(v for _, v in parts)
    if other < 0 and not proc.get("finished", True):
        # stopped (--timeout) in a batch of work that the engine accounts
        # whole: the process's own parts ran past the stop by that batch
        # (tens of us); its runtime is what they add up to, not a negative rest
        total = total - other
        other = 0.0
    if abs(other) > max(total, 1) * 1e-6:
        # a replay is paced to its recording: the rest of its time it idles
        busy = proc.get("busy_ns", total)
        parts.append(("idle (paced)" if busy < total else "other", other))
    return parts, total


def section_runtime(d):
    rows = []
    for p in d.metrics["final"]["processes"]:
        parts, total = runtime_parts(d.metrics, p)
        for i, (label, v) in enumerate(parts):
            rows.append((p["name"] if i == 0 else "", label, _time_ns(v), _pct(v, total)))
        busy = p.get("busy_ns", p["runtime_ns"])
        if busy >= p["runtime_ns"]:
            busy = total            # not paced: busy all along (see runtime_parts)
        if busy < total * (1 - 1e-6):
            # a replay: its busy time (what --baseline compares) above its idling
            rows.insert(len(rows) - 1, ("", "busy (compute and memory)", _time_ns(busy),
                                        _pct(busy, total)))
        rows.append(("", "total%s" % ("" if p["finished"] else " (unfinished)"),
                     _time_ns(total), "100%"))
    return [_table("Runtime", [("process", "left"), ("where", "left"), ("time", "right"),
                               ("share", "right")], rows)]


def _time_rows(metrics, nr_rows):
    t = np.asarray(metrics["time_ns"], dtype=np.int64)
    if len(t) <= nr_rows:
        return list(range(len(t)))
    return sorted(set(np.linspace(0, len(t) - 1, nr_rows).round().astype(int).tolist()))


def section_memory(d):
    m = d.metrics
    names = node_names(m)
    t, rss = rss_series(m)
    used = np.asarray(m["node_used"], dtype=np.float64)
    swapped = np.asarray(m["swapped"], dtype=np.float64)
    swapped = swapped.sum(axis=1) if swapped.ndim == 2 else np.zeros(len(t))
    rows = []
    sz = _sz_short
    short = len(t) and t[-1] < 10e9
    for i in _time_rows(m, d.options.get("nr_rows", NR_TIME_ROWS)):
        # a short run's rows a few ms apart: ms resolution
        row = ["%.0f ms" % (t[i] / 1e6) if short else "%.1f s" % (t[i] / 1e9)]
        row += [sz(rss[i, n]) for n in range(len(names))]
        row += [sz(swapped[i])]
        row += [sz(used[i, n]) for n in range(len(names))]
        row += [units.format_nr(int(m["psi_some_us"][i]), False)]
        rows.append(row)
    caps = [n["capacity"] for n in m["machine"]["nodes"]]
    cols = [("time", "right")] + [("rss %s" % n, "right") for n in names] + \
        [("swapped", "right")] + [("used %s" % n, "right") for n in names] + \
        [("psi us", "right")]
    s = summary(m)
    caption = "rss avg %s, max %s; memory used avg %s of %s" % (
        sz(s["rss.avg"]), sz(s["rss.max"]), sz(s["memused.avg"]), sz(sum(caps)))
    return [_table("Memory over time, per tier", cols, rows, caption)]


_EVENTS = (("pgfault", "page faults"), ("pgmajfault", "major faults (swap-ins)"),
           ("pswpin", "pages swapped in"), ("pswpout", "pages swapped out"),
           ("zswpin", "pages loaded from zswap"), ("zswpout", "pages stored in zswap"),
           ("zswap_pool_limit_hit", "zswap pool full: to the device"),
           ("pgmigrate_success", "pages migrated"), ("pgpromote_success", "  to a faster tier"),
           ("pgdemote", "  to a slower tier"), ("pgscan_kswapd", "pages scanned by kswapd"),
           ("pgsteal_kswapd", "pages reclaimed by kswapd"),
           ("pgscan_direct", "pages scanned in direct reclaim"),
           ("pgsteal_direct", "pages reclaimed in direct reclaim"),
           ("pgactivate", "pages activated"), ("pgdeactivate", "pages deactivated"),
           ("thp_fault_alloc", "THPs faulted in"), ("thp_collapse_alloc", "THPs collapsed"))


def section_events(d):
    vm = d.metrics["final"]["vmstat"]
    rows = [(label, units.format_nr(vm.get(key, 0), False), key) for key, label in _EVENTS
            if vm.get(key, 0) or key in ("pgfault", "pgmajfault", "pswpin", "pswpout")]
    return [_table("Memory events", [("event", "left"), ("count", "right"),
                                     ("vmstat", "left")], rows)]


def section_schemes(d):
    schemes = d.metrics["final"]["schemes"]
    if not schemes:
        return None
    from rich.text import Text
    rows = []
    lines = []
    for s in schemes:
        st = s["stats"]
        idx = "%d/%d/%d" % (s["kdamond_idx"], s["context_idx"], s["scheme_idx"])
        lines.append("%s: %s%s" % (idx, s.get("description") or s["action"],
                                   "" if s["active"] else " (off: watermarks inactive)"))
        rows.append((idx, s["action"],
                     "%s (%s)" % (units.format_nr(st["nr_tried"], False),
                                  _sz_short(st["sz_tried"])),
                     "%s (%s)" % (units.format_nr(st["nr_applied"], False),
                                  _sz_short(st["sz_applied"])),
                     _sz_short(st["sz_ops_filter_passed"]),
                     units.format_nr(st["qt_exceeds"], False),
                     units.format_nr(st.get("nr_snapshots", 0), False)))
    # short headers: the table fits 80 columns
    return [_table("DAMOS schemes", [("kd/ctx/s", "left"), ("action", "left"),
                                     ("tried", "right"), ("applied", "right"),
                                     ("filtered", "right"), ("qt full", "right"),
                                     ("snaps", "right")], rows,
                   "filtered: passed the ops filters; qt full: quota exceeded; snaps: "
                   "apply intervals done"),
            Text("\n".join(lines))]


def section_monitor(d):
    final = d.metrics["final"]
    elapsed = final["time_ns"]
    rows = []
    for k in final["kdamonds"]:
        rows.append(("%d/%d" % (k["kdamond_idx"], k["context_idx"]),
                     units.format_nr(k["nr_access_checks"], False),
                     "%.0f" % (k["nr_access_checks"] / (elapsed / 1e9)) if elapsed else "-",
                     _time_ns(k["apply_ns"]), "%.2f%%" % (k["cpu_util"] * 100)))
    if not rows:
        return None
    caption = "CPU: %.0f ns per access check plus the time DAMOS actions took; kswapd " \
              "and khugepaged: %s" % (d.metrics["machine"]["costs"]["access_check_ns"],
                                       _time_ns(final.get("kswapd_ns", 0)))
    return [_table("Monitoring work", [("kdamond/ctx", "left"), ("access checks", "right"),
                                       ("per second", "right"), ("DAMOS actions", "right"),
                                       ("CPU", "right")], rows, caption)]


def time_scale(metrics):
    """The time scale DAMON's times were divided by (traced programs)."""
    return metrics.get("time_scale", 1) if isinstance(metrics, dict) else 1


def section_baseline(d):
    if d.baseline is None:
        return None
    rows = []
    for name, (b, v, over) in overheads(summary(d.metrics), summary(d.baseline)).items():
        rows.append((name, format_metric(name, b), format_metric(name, v),
                     "n/a" if over is None else "%+.2f%%" % (over * 100)))
    caption = "overhead = variant / baseline - 1 (damon-tests); baseline: %s" % d.baseline_path
    return [_table("Against the baseline", [("metric", "left"), ("baseline", "right"),
                                            ("this run", "right"), ("overhead", "right")],
                   rows, caption)]


register_section("machine", section_machine)
register_section("runtime", section_runtime)
register_section("memory", section_memory)
register_section("events", section_events)
register_section("schemes", section_schemes)
register_section("monitor", section_monitor)
register_section("baseline", section_baseline)


def _register_functions():
    """The functions touching memory that matches an access pattern, for
    traced programs (damo.reports.code_attribution), after the events."""
    from damo.reports import code_attribution
    register_section("functions", code_attribution.profile_section,
                     order=sections().index("events") + 1)


_register_functions()


def to_json(data, hints=()):
    """The profile as plain values: the machine, damon-tests' metrics, each
    process's runtime split (busy and paced), the events, the schemes, the
    kdamonds' work, the overheads against the baseline, and the hints."""
    m = data.metrics
    final = m["final"]
    out = {"recording": data.path, "machine": m["machine"], "summary": summary(m),
           "time_ns": final["time_ns"], "processes": [], "vmstat": final["vmstat"],
           "schemes": [], "kdamonds": final["kdamonds"], "hints": list(hints)}
    for p in final["processes"]:
        parts, total = runtime_parts(m, p)
        out["processes"].append({"pid": p["pid"], "name": p["name"],
                                 "finished": p["finished"], "runtime_ns": total,
                                 "busy_ns": total if p.get("busy_ns", total) >=
                                 p["runtime_ns"] else p["busy_ns"],
                                 "parts_ns": {label: v for label, v in parts}})
    for s in final["schemes"]:
        out["schemes"].append({k: s[k] for k in ("kdamond_idx", "context_idx", "scheme_idx",
                                                  "action", "stats", "active")
                               if k in s})
    if data.baseline is not None:
        out["baseline"] = {"recording": data.baseline_path, "overheads": {
            name: {"baseline": b, "variant": v, "overhead": over}
            for name, (b, v, over) in overheads(summary(m), summary(data.baseline)).items()}}
    return out


def render(data, only=None, color=False, width=None):
    """The profile as text."""
    from rich.console import Console

    if width is None:
        import shutil
        width = shutil.get_terminal_size((80, 24)).columns
    console = Console(record=True, width=max(width, 40), force_terminal=color,
                      color_system="standard" if color else None, highlight=False)
    with console.capture() as capture:
        first = True
        for name, fn in _SECTIONS:
            if only and name not in only:
                continue
            parts = fn(data)
            if not parts:
                continue
            if not first:
                console.print()
            first = False
            for part in parts:
                console.print(part)
    return capture.get().rstrip("\n")


# ------------------------------------------------------------ image

def plot(data, path, size=(1000, 800)):
    """Per-tier resident memory and memory in use over time, the runtime
    split, and the bytes each scheme applied over time, in one image."""
    from damo.reports import plot as plot_mod

    kind = plot_mod.image_kind(path)
    fig = plot_mod._figure(size, kind)
    m = data.metrics
    names = node_names(m)
    t, rss = rss_series(m)
    secs = t / 1e9
    used = np.asarray(m["node_used"], dtype=np.float64)
    swapped = np.asarray(m["swapped"], dtype=np.float64)
    swapped = swapped.sum(axis=1) if swapped.ndim == 2 else np.zeros(len(t))
    axes = fig.subplots(3, 1, gridspec_kw={"height_ratios": [3, 2, 1]})
    ax = axes[0]
    if len(t):
        ax.stackplot(secs, *[rss[:, n] for n in range(len(names))], swapped,
                     labels=["rss on %s" % n for n in names] + ["swapped out"], alpha=0.7)
        for n, name in enumerate(names):
            ax.plot(secs, used[:, n], linestyle="--", label="in use on %s" % name)
    if data.baseline is not None:
        bt, brss = rss_series(data.baseline)
        if len(bt):
            ax.plot(bt / 1e9, brss.sum(axis=1), color="black", linestyle=":",
                    label="baseline rss")
    ax.yaxis.set_major_formatter(plot_mod._size_formatter(0))
    ax.set_ylabel("memory")
    ax.set_title("Memory per tier: %s" % data.path, fontsize="medium")
    ax.legend(fontsize="small", loc="upper right")
    ax.grid(True, alpha=0.3)
    ax = axes[1]
    for s in m["schemes"]:
        applied = np.asarray(s["stats"]["sz_applied"], dtype=np.float64)
        if len(applied) == len(secs):
            ax.plot(secs, applied, label="%d/%d/%d %s applied" % (
                s["kdamond_idx"], s["context_idx"], s["scheme_idx"], s["action"]))
    ax.yaxis.set_major_formatter(plot_mod._size_formatter(0))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("DAMOS (cumulative)")
    if m["schemes"]:
        ax.legend(fontsize="small", loc="upper left")
    ax.grid(True, alpha=0.3)
    ax = axes[2]
    bars = [("this run", m)] + ([("baseline", data.baseline)] if data.baseline else [])
    colors = {}
    for y, (bar_label, bm) in enumerate(bars):
        left = 0.0
        bnames = node_names(bm)
        for p in bm["final"]["processes"][:1]:
            rt = p["runtime"]
            parts = [("compute", rt["compute_ns"])] + \
                [("stall %s" % n, rt["stall_ns"][i]) for i, n in enumerate(bnames)] + \
                [("faults", rt["fault_ns"]), ("swap-ins", rt["swapin_ns"]),
                 ("reclaim", rt.get("reclaim_ns", 0.0)), ("migrations", rt["migrate_ns"])]
            for label, v in parts:
                if v <= 0:
                    continue
                known = label in colors
                bar = ax.barh([-y], [v / 1e9], left=[left], color=colors.get(label),
                              label=None if known else label)
                colors.setdefault(label, bar.patches[0].get_facecolor())
                left += v / 1e9
    if len(bars) > 1:
        ax.set_yticks([-y for y in range(len(bars))], [b[0] for b in bars])
    else:
        ax.set_yticks([])
    ax.set_xlabel("runtime (s)")
    ax.legend(fontsize="small", ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.6))
    plot_mod.tight_layout(fig)
    plot_mod._save(fig, path, kind)
