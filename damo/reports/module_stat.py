"""DAMON_STAT's idle time percentiles as damo shows them (``damo module stat
read idle_time_percentiles`` and ``idle_time_mem_sz``): a percentile table,
and how much memory (percent) has been idle for each slice of idle times,
reading the percentiles as a piecewise linear distribution."""
from damo import units
from damo.errors import DamoError

KEYWORDS = ("idle_time_mem_sz", "idle_time_percentiles")


def format_time_sec(sec, raw):
    return "%d" % sec if raw else units.format_time_ns(sec * 1e9, False)


def _cum_pct(pcts, idle_sec):
    """Percent of memory idle for less than idle_sec: the percentile
    idle_sec falls on, interpolated between its neighbours."""
    if idle_sec < pcts[0]:
        return 0.0
    for pct, value in enumerate(pcts):
        if value == idle_sec:
            return pct
        if value > idle_sec:
            below = pcts[pct - 1]
            return pct - 1 + (idle_sec - below) / (value - below)
    return 100.0


def idle_time_mem_sz(pcts, nr_lines, raw):
    """Rows of '<idle time upper bound>    <percent of memory>'."""
    lo, hi = pcts[0], pcts[-1]
    step = 1 if hi == lo else (hi - lo) / nr_lines
    start, end = lo - 1, lo + step
    rows = []
    while start < hi:
        rows.append((format_time_sec(end, raw),
                     units.format_percent(_cum_pct(pcts, end) - _cum_pct(pcts, start), raw)))
        start += step
        end += step
    width = max((len(r[0]) for r in rows), default=0) + 4
    return "\n".join("%s%s%s" % (t, " " * (width - len(t)), p) for t, p in rows)


def idle_time_percentiles(pcts, prange, raw):
    start, end, step = prange
    lines = []
    p = start
    while p < end:
        lines.append("%3d %s" % (p, format_time_sec(pcts[p], raw)))
        p += step
    return "\n".join(lines)


def _full_from_partial(known):
    """101 percentiles from [(percentile, seconds)]: linear between the known
    ones, and extended past the first and the last by their neighbours'
    slope."""
    vals = []
    last = None
    for pct, val in known:
        if not vals:
            vals.append(val)
        else:
            per = (val - vals[-1]) / (pct - last)
            for _ in range(last + 1, pct):
                vals.append(vals[-1] + per)
            vals.append(val)
        last = pct
    first_slope = vals[1] - vals[0] if len(vals) > 1 else 0
    for _ in range(known[0][0]):
        vals.insert(0, vals[0] - first_slope)
    last_slope = vals[-1] - vals[-2] if len(vals) > 1 else 0
    for _ in range(known[-1][0] + 1, 101):
        vals.append(vals[-1] + last_slope)
    return vals


def full_percentiles(words):
    """--input_idle_time_percentiles: '<percentile> <seconds>' pairs (or one
    file of them) to 101 percentiles."""
    import os
    if len(words) == 1 and os.path.isfile(words[0]):
        try:
            with open(words[0]) as f:
                words = f.read().split()
        except OSError as e:
            raise DamoError("--input_idle_time_percentiles: %s: %s" % (words[0], e.strerror),
                            exit_code=2)
    if len(words) < 2 or len(words) % 2:
        raise DamoError("wrong --input_idle_time_percentiles (input length invalid)",
                        exit_code=2)
    known = []
    for i in range(0, len(words), 2):
        try:
            pct, val = int(words[i]), float(words[i + 1])
        except ValueError as e:
            raise DamoError("wrong --input_idle_time_percentiles (casting fail (%s))" % e,
                            exit_code=2)
        if not 0 <= pct <= 100 or (known and pct <= known[-1][0]):
            raise DamoError("wrong --input_idle_time_percentiles (percentiles must rise "
                            "within 0..100: %s)" % words[i], exit_code=2)
        known.append((pct, val))
    if len(known) < 2 and known[0][0] not in (0, 100):
        # one point says nothing of the slope
        return [known[0][1]] * 101
    return _full_from_partial(known)
