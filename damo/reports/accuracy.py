"""How accurate DAMON was, against the exact truth (``damo report accuracy``).

For each snapshot of a recording made with ``damo record --ground_truth``
(damo.records.truth), and over all of them:

- WSS error: DAMON's working set size as ``damo report wss`` counts it (the
  regions with at least ``acc_thres`` samples and ``sz_thres`` bytes) against
  the exact one (the bytes the process accessed in the interval), relative:
  ``(estimate - truth) / truth``;
- region frequency error: the size-weighted mean of ``|DAMON's access rate -
  the region's exact mean rate|``, in percentage points of the sampling
  intervals (what DAMON's sampling itself gets wrong);
- page frequency error: the same, with each page's exact rate against the
  rate of the DAMON region holding it (what a user who takes a region's rate
  for each of its pages gets wrong: sampling and regions that mix hot and
  cold pages);
- hot/cold classification: DAMON's regions that match the access pattern
  (``--access_rate``, ``--age``, ``--sz_region``, as damo's filters parse and
  apply them: rate ``int(samples * 100 / (aggr / sample))`` percent, age
  ``aggregations * aggr``) are "hot", the others "cold"; a page is truly hot
  when its exact rate and age match the same pattern (its age: aggregation
  intervals it has stayed accessed, or unaccessed; the truth has no regions,
  so ``--sz_region`` narrows DAMON's side only).  Precision: the bytes DAMON
  calls hot that truly are, over what it calls hot; recall: over what truly
  is.  The same for cold.

Overall figures pool the snapshots (bytes and errors weighted by size); the
WSS error overall is the mean of the snapshots' absolute relative errors.
"""
import numpy as np

from damo import units
from damo.errors import DamoError
from damo.params.access_filter import access_percent
from damo.records import truth as truth_mod

PAGE = truth_mod.PAGE
_ULONG_MAX = units.ULONG_MAX
_INT64_MAX = np.iinfo(np.int64).max

NO_TRUTH = ("%s: no ground truth (record it with `damo record --ground_truth`, which "
            "keeps the exact accesses in a native recording or in %s)")


def load(path):
    """(recording, truths) of a recording with ground truth; DamoError if it
    has none."""
    from damo import records
    recording = records.load(path)
    truths = truth_mod.load(path, recording)
    if truths is None:
        raise DamoError(NO_TRUTH % (path, truth_mod.sidecar_path(path)))
    return recording, truths


def default_filter(access_rate=None, age=None, sz_region=None):
    """damo's access pattern filter for the "hot" class (default: accessed
    at all, --access_rate 1% max)."""
    from damo.params.access_filter import AccessFilter
    return AccessFilter.from_options(
        sz_region=sz_region or ("min", "max"), access_rate=access_rate or ("1%", "max"),
        age=age or ("min", "max"))


def _ratio(a, b):
    return None if b == 0 else float(a) / float(b)


def evaluate_record(record, t, flt, acc_thres=1, sz_thres=1):
    """Per snapshot and overall figures of one record against its truth."""
    n = record.nr_snapshots
    counts = record.nr_regions_per_snapshot()
    snap = np.repeat(np.arange(n), counts)
    sizes = (record.ends - record.starts).astype(np.int64)
    nr = record.nr_accesses.astype(np.float64)
    iv = record.intervals
    nr_samples = t.nr_samples.astype(np.float64)
    if iv is not None:
        max_samples = np.full(n, iv.aggr_us / iv.sample_us)
        aggr_us = iv.aggr_us
    else:
        max_samples = nr_samples.copy()
        aggr_us = None
    # per region: DAMON's rate and the exact mean rate, in percent
    with np.errstate(divide="ignore", invalid="ignore"):
        d_rate = np.where(max_samples[snap] > 0, nr * 100.0 / max_samples[snap], 0.0)
        t_rate = np.where(nr_samples[snap] > 0, t.mean_nr * 100.0 / nr_samples[snap], 0.0)
    wss_est = record.per_snapshot_sum(np.where((record.nr_accesses >= acc_thres)
                                               & (sizes >= sz_thres), sizes, 0))
    wss_true = t.wss.astype(np.int64)
    region_abs = record.per_snapshot_sum(sizes * np.abs(d_rate - t_rate))
    snap_bytes = record.per_snapshot_sum(sizes)

    # per cell (a group of pages of one region)
    owner = np.repeat(np.arange(record.nr_regions), t.nr_cells)
    c_snap = snap[owner]
    c_bytes = t.cell_pages * PAGE
    width = t.nr_bin[c_snap]
    c_nr = t.cell_nr.astype(np.float64) + (width - 1) / 2.0     # a bin's middle
    with np.errstate(divide="ignore", invalid="ignore"):
        c_rate = np.where(nr_samples[c_snap] > 0, c_nr * 100.0 / nr_samples[c_snap], 0.0)
    page_abs = np.bincount(c_snap, weights=c_bytes * np.abs(d_rate[owner] - c_rate),
                           minlength=n)[:n]

    # hot/cold classification, damo's way on both sides
    lo, hi = (min(v, _INT64_MAX) for v in flt.sz_bytes)
    d_hot = (sizes >= lo) & (sizes <= hi)
    d_pct = np.trunc(d_rate + 0.0).astype(np.int64) if iv is None else \
        access_percent(record.nr_accesses, max_samples[snap])
    d_hot &= (d_pct >= flt.access_rate[0]) & (d_pct <= flt.access_rate[1])
    known = record.ages != np.iinfo(np.int64).min
    if aggr_us is not None:
        d_age = record.ages * aggr_us
        d_hot &= ~known | ((d_age >= flt.age_us[0]) & (d_age <= flt.age_us[1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        c_pct = np.where(nr_samples[c_snap] > 0,
                         np.trunc(t.cell_nr * 100.0 / nr_samples[c_snap]), 0).astype(np.int64)
    t_hot = (c_pct >= flt.access_rate[0]) & (c_pct <= flt.access_rate[1])
    if aggr_us is not None:
        c_age = np.where(t.cell_age == truth_mod.NEVER, float(_ULONG_MAX),
                         t.cell_age.astype(np.float64) * aggr_us)
        t_hot &= (c_age >= flt.age_us[0]) & (c_age <= flt.age_us[1])

    def per_snap(weights, mask):
        return np.bincount(c_snap, weights=weights * mask, minlength=n)[:n]

    hot_tp = per_snap(c_bytes, t_hot & d_hot[owner])
    cold_tp = per_snap(c_bytes, ~t_hot & ~d_hot[owner])
    d_hot_bytes = record.per_snapshot_sum(np.where(d_hot, sizes, 0))
    d_cold_bytes = snap_bytes - d_hot_bytes
    t_hot_bytes = per_snap(c_bytes, t_hot)
    t_cold_bytes = per_snap(c_bytes, ~t_hot)

    snapshots = []
    for i in range(n):
        snapshots.append({
            "index": i, "start_ns": int(record.start_ns[i]), "end_ns": int(record.end_ns[i]),
            "nr_regions": int(counts[i]), "nr_samples": int(t.nr_samples[i]),
            "wss_true": int(wss_true[i]), "wss_damon": int(wss_est[i]),
            "wss_error": _ratio(wss_est[i] - wss_true[i], wss_true[i]),
            "region_freq_error": _ratio(region_abs[i], snap_bytes[i]),
            "page_freq_error": _ratio(page_abs[i], snap_bytes[i]),
            "hot_precision": _ratio(hot_tp[i], d_hot_bytes[i]),
            "hot_recall": _ratio(hot_tp[i], t_hot_bytes[i]),
            "cold_precision": _ratio(cold_tp[i], d_cold_bytes[i]),
            "cold_recall": _ratio(cold_tp[i], t_cold_bytes[i]),
        })
    wss_errors = [abs(s["wss_error"]) for s in snapshots if s["wss_error"] is not None]
    overall = {
        "nr_snapshots": n,
        "wss_error": float(np.mean(wss_errors)) if wss_errors else None,
        "wss_bias": float(np.mean([s["wss_error"] for s in snapshots
                                   if s["wss_error"] is not None])) if wss_errors else None,
        "region_freq_error": _ratio(region_abs.sum(), snap_bytes.sum()),
        "page_freq_error": _ratio(page_abs.sum(), snap_bytes.sum()),
        "hot_precision": _ratio(hot_tp.sum(), d_hot_bytes.sum()),
        "hot_recall": _ratio(hot_tp.sum(), t_hot_bytes.sum()),
        "cold_precision": _ratio(cold_tp.sum(), d_cold_bytes.sum()),
        "cold_recall": _ratio(cold_tp.sum(), t_cold_bytes.sum()),
        "_sums": [float(x) for x in (region_abs.sum(), page_abs.sum(), snap_bytes.sum(),
                                     hot_tp.sum(), d_hot_bytes.sum(), t_hot_bytes.sum(),
                                     cold_tp.sum(), d_cold_bytes.sum(), t_cold_bytes.sum())],
        "_wss_errors": wss_errors,
    }
    return {"kdamond_idx": record.kdamond_idx, "context_idx": record.context_idx,
            "target_id": record.target_id,
            "sample_us": None if iv is None else iv.sample_us,
            "aggr_us": None if iv is None else iv.aggr_us,
            "snapshots": snapshots, "overall": overall}


def evaluate(recording, truths, flt, acc_thres=1, sz_thres=1):
    """The report of every record that has its truth, and all of them pooled."""
    out = [evaluate_record(r, t, flt, acc_thres, sz_thres)
           for r, t in zip(recording.records, truths) if t is not None]
    sums = np.sum([o["overall"].pop("_sums") for o in out], axis=0)
    wss_errors = sum((o["overall"].pop("_wss_errors") for o in out), [])
    overall = {
        "nr_snapshots": sum(o["overall"]["nr_snapshots"] for o in out),
        "wss_error": float(np.mean(wss_errors)) if wss_errors else None,
        "region_freq_error": _ratio(sums[0], sums[2]),
        "page_freq_error": _ratio(sums[1], sums[2]),
        "hot_precision": _ratio(sums[3], sums[4]), "hot_recall": _ratio(sums[3], sums[5]),
        "cold_precision": _ratio(sums[6], sums[7]), "cold_recall": _ratio(sums[6], sums[8]),
    }
    return {"hot": describe_pattern(flt), "records": out, "overall": overall}


# ---------------------------------------------------------------- text

def _pct(x, digits=1):
    return "-" if x is None else "%.*f%%" % (digits, x * 100)


def _pp(x):
    return "-" if x is None else "%.2f" % x


def describe_pattern(flt):
    """The hot pattern as options, 'max' for the unbounded ends."""
    def bound(v, fmt):
        return "max" if v >= _ULONG_MAX else fmt(v)
    rate = [bound(v, lambda x: "%g%%" % x) for v in flt.access_rate]
    age = [bound(v, lambda x: units.format_time_us(x, False).replace(" ", "")) for v in
           flt.age_us]
    size = [bound(v, lambda x: units.format_sz(x, False).replace(" ", "")) for v in
            flt.sz_bytes]
    return "--access_rate %s %s --age %s %s --sz_region %s %s" % tuple(rate + age + size)


def text(report, raw=False, per_snapshot=True):
    lines = ["# hot: %s (cold: the rest)" % report["hot"]]
    sz = (lambda v: "%d" % v) if raw else (lambda v: units.format_sz(v, False))
    header = ("%6s %10s %11s %11s %8s %8s %8s %7s %7s %7s %7s" % (
        "snap", "time", "wss_true", "wss_damon", "wss_err", "freq_err", "page_err",
        "hot_p", "hot_r", "cold_p", "cold_r"))
    for rec in report["records"]:
        lines.append("# kdamond %s context %s target_id %s: %d snapshots, sampling %s, "
                     "aggregation %s" % (
                         rec["kdamond_idx"], rec["context_idx"], rec["target_id"],
                         len(rec["snapshots"]),
                         "-" if rec["sample_us"] is None
                         else units.format_time_us(rec["sample_us"], False),
                         "-" if rec["aggr_us"] is None
                         else units.format_time_us(rec["aggr_us"], False)))
        if per_snapshot:
            lines.append("# freq_err, page_err: percentage points; hot_p/r, cold_p/r: "
                         "precision/recall")
            lines.append(header)
            t0 = rec["snapshots"][0]["start_ns"] if rec["snapshots"] else 0
            for s in rec["snapshots"]:
                lines.append("%6d %10s %11s %11s %8s %8s %8s %7s %7s %7s %7s" % (
                    s["index"], units.format_time_ns(s["end_ns"] - t0, False),
                    sz(s["wss_true"]), sz(s["wss_damon"]), _pct(s["wss_error"]),
                    _pp(s["region_freq_error"]), _pp(s["page_freq_error"]),
                    _pct(s["hot_precision"], 0), _pct(s["hot_recall"], 0),
                    _pct(s["cold_precision"], 0), _pct(s["cold_recall"], 0)))
    o = report["overall"]
    lines.append("# overall (%d snapshots)" % o["nr_snapshots"])
    lines.append("wss error (mean |estimate - truth| / truth): %s" % _pct(o["wss_error"]))
    lines.append("region access frequency error (size-weighted): %s percentage points"
                 % _pp(o["region_freq_error"]))
    lines.append("page access frequency error (size-weighted): %s percentage points"
                 % _pp(o["page_freq_error"]))
    lines.append("hot: precision %s, recall %s" % (_pct(o["hot_precision"]),
                                                   _pct(o["hot_recall"])))
    lines.append("cold: precision %s, recall %s" % (_pct(o["cold_precision"]),
                                                    _pct(o["cold_recall"])))
    return "\n".join(lines)


# ---------------------------------------------------------------- heatmaps

def truth_record(record, t):
    """A Record whose regions are the truth's pieces, with their exact mean
    sample counts, of age 0 (each painted over its own snapshot only)."""
    from damo.records.model import Record
    starts, ends = t.piece_bounds(record)
    per_snapshot = np.add.reduceat(t.nr_pieces, record.region_offsets[:-1]) \
        if record.nr_regions else np.zeros(record.nr_snapshots, np.int64)
    per_snapshot[np.diff(record.region_offsets) == 0] = 0
    offsets = np.concatenate([[0], np.cumsum(per_snapshot)]).astype(np.int64)
    out = Record(record.target_id, record.start_ns, record.end_ns, offsets,
                 starts.astype(np.uint64), ends.astype(np.uint64),
                 np.zeros(len(starts), np.int64), np.zeros(len(starts), np.int64),
                 kdamond_idx=record.kdamond_idx, context_idx=record.context_idx,
                 intervals=record.intervals, sample_interval_us=record.sample_interval_us)
    if record.intervals is not None:
        # samples in DAMON's unit: the truth's count of its own intervals,
        # scaled to the record's aggr / sample
        iv = record.intervals
        scale = (iv.aggr_us / iv.sample_us) / np.maximum(t.nr_samples, 1)
        out.nr_accesses = t.piece_nr.astype(np.float64) * np.repeat(scale, per_snapshot)
    else:
        out.nr_accesses = t.piece_nr.astype(np.float64)
    return out


def heatmap_pair(recording, truths, resol, time_range=None, address_range=None,
                 target=None):
    """(DAMON's HeatMap, the truth's) of one record, on the same axes."""
    from damo.records.model import Recording
    from damo.reports.heatmap import HeatMap
    from damo.reports.heatmap_reporter import HeatmapReporter
    pairs = [(r, t) for r, t in zip(recording.records, truths) if t is not None
             and (target is None or r.target_id == target)]
    if not pairs:
        raise DamoError("no record of target %s has ground truth" % target)
    record, t = pairs[0]
    one = Recording([record], recording.metadata, path=recording.path)
    reporter = HeatmapReporter(one, time_range=time_range,
                               address_ranges=[address_range] if address_range else None,
                               draw_range="all", resol=resol)
    addr = reporter.address_ranges[0]
    if not address_range:
        # the contiguous range where the process truly accessed the most
        starts = record.starts.astype(np.int64)
        best = -1
        for a in reporter.address_ranges:
            inside = (starts >= a[0]) & (starts < a[1])
            accessed = int(t.accessed[inside].sum())
            if accessed > best:
                best, addr = accessed, a
    damon = HeatMap.build([record], reporter.time_range, addr, reporter.resol)
    exact = HeatMap.build([truth_record(record, t)], reporter.time_range, addr,
                          reporter.resol)
    return damon, exact


def shared_levels(maps):
    """Colour level 0-9 of each pixel of each map on one scale (-1: unpainted),
    and the scale's (lowest, highest)."""
    from damo.reports.heatmap import MAX_LEVEL
    painted = [h.heats[~np.isnan(h.heats)] for h in maps]
    values = np.concatenate(painted) if painted else np.zeros(0)
    if not len(values):
        raise DamoError("nothing to draw in the selected ranges")
    lowest, highest = float(values.min()), float(values.max())
    unit = (highest + 1 - lowest) / 9
    out = []
    for h in maps:
        lv = np.full(h.heats.shape, -1, np.int64)
        ok = ~np.isnan(h.heats)
        lv[ok] = np.minimum(np.trunc((h.heats[ok] - lowest) / unit).astype(np.int64),
                            MAX_LEVEL)
        out.append(lv.reshape(h.time_resol, h.addr_resol))
    return out, (lowest, highest)


def heatmap_text(damon, exact, colorset="gray", color=False):
    from damo.reports.colors import COLOR_END, MAX_LEVEL, color_samples, color_start
    (ld, le), (lowest, highest) = shared_levels([damon, exact])
    if color:
        cells = np.array([color_start(colorset, 4) + " "] +
                         [color_start(colorset, lv) + "%d" % lv for lv in range(MAX_LEVEL + 1)])
        end = COLOR_END
    else:
        cells = np.array([" "] + ["%d" % lv for lv in range(MAX_LEVEL + 1)])
        end = ""
    w = damon.addr_resol
    lines = ["%-*s  %s" % (w, "DAMON", "truth")]
    for a, b in zip(cells[ld + 1], cells[le + 1]):
        lines.append("".join(a.tolist()) + end + "  " + "".join(b.tolist()) + end)
    lines.append("# access_frequency: %s (%.3f-%.3f %s, both maps)" % (
        color_samples(colorset) if color else "0123456789", lowest, highest, damon.heat_unit))
    lines += damon.axis_lines()
    return "\n".join(lines)


def draw_heatmaps(damon, exact, path, size, title):
    """DAMON's map and the truth's side by side, same axes and colour scale."""
    from damo.reports import plot
    kind = plot.image_kind(path)
    fig = plot._figure(size, kind)
    lowest = min(np.nanmin(h.heats) for h in (damon, exact) if not np.all(np.isnan(h.heats)))
    highest = max(np.nanmax(h.heats) for h in (damon, exact) if not np.all(np.isnan(h.heats)))
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    t_len = damon.time_unit * damon.time_resol
    a_len = damon.addr_unit * damon.addr_resol
    extent = [0, t_len / 1e9, 0, a_len]
    image = None
    for ax, h, name in zip(axes, (damon, exact), ("DAMON", "truth")):
        heats = np.ma.masked_invalid(h.heats.reshape(h.time_resol, h.addr_resol))
        image = ax.imshow(heats.T, origin="lower", aspect="auto", extent=extent,
                          cmap="inferno", interpolation="nearest", vmin=lowest, vmax=highest)
        ax.set_xlabel("Time (s, from the map's start)")
        ax.set_title(name, fontsize="medium")
    axes[0].set_ylabel("Address (from the map's start)")
    axes[0].yaxis.set_major_formatter(plot._size_formatter(0))
    fig.suptitle(title, fontsize="medium")
    bar = fig.colorbar(image, ax=list(axes))
    bar.set_label("Access frequency (%s)" % damon.heat_unit)
    plot._save(fig, path, kind)


# ---------------------------------------------------------------- sweeps

def measure(run):
    """damo.evaluation measure function: the overall accuracy of a run made
    with ground truth (run.truths, run.recording), and its monitoring
    overhead (kdamond CPU, access checks)."""
    truths = getattr(run, "truths", None)
    if not truths:
        raise DamoError("the evaluation kept no ground truth (Evaluation(ground_truth=True))")
    from damo.records.model import Recording
    recording = run.recording
    by_key = {t.key(): t for t in truths}
    aligned = [by_key.get((r.kdamond_idx, r.context_idx, r.target_id))
               if r.scheme_idx is None else None for r in recording.records]
    report = evaluate(Recording(recording.records, {}), aligned, default_filter())
    final = (run.metrics or {}).get("final", {})
    kd = final.get("kdamonds") or [{}]
    out = dict(report["overall"])
    out["kdamond_cpu_util"] = sum(k.get("cpu_util", 0.0) for k in kd)
    out["nr_access_checks"] = sum(k.get("nr_access_checks", 0) for k in kd)
    return out
