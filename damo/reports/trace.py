"""``damo report trace --input``: DAMON tracepoint events of a recorded trace,
one line each as damo 3.4.3 prints them.

A trace is ``perf script`` output of a perf.data file (what ``perf record``
and ``damo record --output_type perf_data`` write, read through perf as damo
does), perf_script text as ``damo record`` writes it, or a ``damo report
trace --output`` file (three header lines, then ``perf trace`` or
``trace-cmd stream`` lines).  Each event is ``<time> <comm>/<pid> <event>
<fields>``, the fields of DAMON's region events in human-readable numbers,
wrapped at ``--max_cols`` as damo wraps them.

Where damo cannot do what it means, we do: damo reads perf_script text
through ``perf script`` (which fails on text), and parses its own ``--output``
files of perf traces as ``perf script`` lines (which never match).
"""
import re

from damo import units
from damo.errors import DamoError

EVENTS = ("damon:damon_aggregated", "damon:damos_before_apply",
          "damon:damon_monitor_intervals_tune", "damon:damos_esz",
          "damon:damos_stat_after_apply_interval", "damon:damon_region_aggregated")


def events_to_show(to_show, to_hide):
    events = list(EVENTS) if "all" in to_show else list(to_show)
    for event in to_hide or ():
        if event not in events:
            raise DamoError("--no_event: %s is not among the events to show" % event)
        events.remove(event)
    return events


def parse_line(line, kind):
    """(timestamp, proc, event, trace fields) of a trace line, or Nones."""
    fields = line.split()
    # damo skips lines of less than 4 fields (trace-cmd's headers), which also
    # drops perf trace's events of one field; those are kept here
    if len(fields) < (3 if kind == "perf-trace" else 4):
        return None, None, None, None
    if kind == "perf-script":
        if len(fields) < 5:
            return None, None, None, None
        return fields[3][:-1], "%s/%s" % (fields[0], fields[1]), fields[4][:-1], fields[5:]
    if kind == "perf-trace":
        timestamp, proc = fields[:2]
        event, _, first = fields[2].partition("(")
        rest = fields[3:]
        # the closing parenthesis ends the last field (damo leaves it on a lone one)
        if rest:
            rest[-1] = rest[-1][:-1]
        else:
            first = first[:-1]
        return timestamp, proc, event, [first] + rest
    # trace-cmd report / stream, with or without the latency column
    ts_idx = 2 if fields[2].endswith(":") else 3
    if len(fields) < ts_idx + 2:
        return None, None, None, None
    return (fields[ts_idx][:-1], fields[0], "damon:%s" % fields[ts_idx + 1][:-1],
            fields[ts_idx + 2:])


def _kv(field):
    return int(field.split("=")[1])


def _addr(value):
    return units.format_sz_accurate(value, False)


class TraceFormatter:
    """damo's pr_trace(): per-event texts (region events count their regions)."""

    def __init__(self, max_cols):
        self.max_cols = max_cols
        self.region_idx = 0
        self.region_aggregated_idx = 0

    def _aggregated(self, f):
        nr_regions = _kv(f[1])
        start, end = (int(x) for x in (f[2].split("-")[0], f[2].split("-")[1][:-1]))
        age = int(f[4]) if len(f) > 4 else -1
        text = "%d %d/%d %s (%s) %d %d" % (_kv(f[0]), self.region_idx, nr_regions,
                                           _addr(start), _addr(end - start), int(f[3]), age)
        self.region_idx += 1
        if self.region_idx == nr_regions:
            self.region_idx = 0
        return text

    def _region_aggregated(self, f):
        nr_regions = _kv(f[1])
        start, end = (int(x) for x in (f[2].split("-")[0], f[2].split("-")[1][:-1]))
        if f[5] == "probe_hits=":
            hits = []
        else:
            hits = [int(h, 16) for h in [f[5].split("=")[1]] + f[6:]]
        text = "%d %d/%d %s (%s) %d %d %s" % (
            _kv(f[0]), self.region_aggregated_idx, nr_regions, _addr(start),
            _addr(end - start), int(f[3]), int(f[4]), " ".join("%d" % h for h in hits))
        self.region_aggregated_idx += 1
        if self.region_aggregated_idx == nr_regions:
            self.region_aggregated_idx = 0
        return text

    @staticmethod
    def _before_apply(f):
        start, end = (int(x) for x in (f[4].split("-")[0], f[4].split("-")[1][:-1]))
        return "%d %d %d %d %s (%s) %d %d" % (_kv(f[0]), _kv(f[1]), _kv(f[2]), _kv(f[3]),
                                              _addr(start), _addr(end - start), int(f[5]),
                                              int(f[6]))

    @staticmethod
    def _stat(f):
        def opt(i):
            return _kv(f[i]) if len(f) > i else -1
        nr = units.format_nr
        return "%d %d %s %s %s %s %s %s %s" % (
            _kv(f[0]), _kv(f[1]), nr(_kv(f[2]), False), _addr(_kv(f[3])),
            nr(_kv(f[4]), False), _addr(_kv(f[5])), _addr(opt(6)), nr(opt(7), False),
            nr(opt(8), False))

    def text(self, timestamp, proc, event, fields):
        if event == "damon:damon_region_aggregated":
            body = self._region_aggregated(fields)
        elif event == "damon:damon_aggregated":
            body = self._aggregated(fields)
        elif event == "damon:damos_before_apply":
            body = self._before_apply(fields)
        elif event == "damon:damos_stat_after_apply_interval":
            body = self._stat(fields)
        else:
            body = " ".join(fields)
        return wrapped(" ".join([timestamp, proc, event, body]), self.max_cols)


def wrapped(line, max_cols):
    """damo's pr_wrapped(), as lines: words of a long line go to following
    lines indented by two (a word longer than a line is printed alone, and
    then once more, as damo does)."""
    if len(line) <= max_cols:
        return [line]
    out = []
    words = []
    length = 0
    for word in line.split():
        if length + len(word) > max_cols:
            if words:
                out.append(" ".join(words))
                words = []
            else:
                out.append(word)
            words.append("  ")
            length = 2
        words.append(word)
        length += len(word)
        if len(words) > 1:
            length += 1
    if words:
        out.append(" ".join(words))
    return out


REPORT_OUTPUT_VERSION = "damo_report_trace_output_format_version:"
REPORT_OUTPUT_TRACER = "damo_report_trace_output_tracer:"


def read_trace(path):
    """(trace text, line kind) of a recorded trace file."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise DamoError("%s: %s" % (path, e.strerror or e)) from None
    if head.startswith(b"PERFILE2"):
        from damo.records import perf_data
        return perf_data.script_text(path), "perf-script"
    if head.startswith(b"\x17\x08Dtracing"):
        raise DamoError("%s: a trace-cmd trace; read it with trace-cmd report first" % path)
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except UnicodeDecodeError:
        raise DamoError("%s: not a trace (neither perf.data nor text)" % path) from None
    lines = text.strip().split("\n")
    if lines and lines[0].split()[:1] == [REPORT_OUTPUT_VERSION]:
        if len(lines) < 3 or len(lines[2].split()) != 2 or \
                lines[2].split()[0] != REPORT_OUTPUT_TRACER:
            raise DamoError("%s: a damo report trace output without its tracer line" % path)
        tracer = lines[2].split()[1]
        if tracer not in ("perf", "trace-cmd"):
            raise DamoError("%s: unsupported tracer %r" % (path, tracer))
        return text, "perf-trace" if tracer == "perf" else "trace-cmd-stream"
    return text, "perf-script"


def report_batches(path, events, raw, max_cols):
    """report trace's text as UTF-8 bytes, in batches of whole lines, each
    line ended by a newline (a perf.data file is decoded here unless --raw
    needs perf script's own lines)."""
    if not raw:
        try:
            with open(path, "rb") as f:
                is_perf_data = f.read(8) == b"PERFILE2"
        except OSError as e:
            raise DamoError("%s: %s" % (path, e.strerror or e)) from None
        if is_perf_data:
            batches = decoded_lines(path, events, max_cols)
            if batches is not None:
                return batches
    return ["".join(line + "\n" for line in report_lines(path, events, raw, max_cols)).encode()]


def report_lines(path, events, raw, max_cols):
    text, kind = read_trace(path)
    formatter = TraceFormatter(max_cols)
    out = []
    for line in text.strip().split("\n"):
        timestamp, proc, event, fields = parse_line(line, kind)
        if fields is None or event not in events:
            continue
        if raw:
            out.append(line)
        try:
            out.extend(formatter.text(timestamp, proc, event, fields))
        except (ValueError, IndexError):
            raise DamoError("%s: a malformed %s event: %r" % (path, event, line[:100])) \
                from None
    return out


# ------------------------------------------------------- perf.data, decoded

_FAST_EVENTS = ("damon:damon_aggregated", "damon:damos_before_apply",
                "damon:damon_monitor_intervals_tune")


class _Texts:
    """fmt(value) of many values, each distinct value formatted once."""

    def __init__(self, fmt):
        self.fmt = fmt
        self.cache = {}
        self.encoded = {}       # value -> (UTF-8 text, its length in characters)
        self.last = {}          # column -> parts()'s last values, their texts and indexes

    def __call__(self, values):
        import numpy as np
        if not len(values):
            return []
        uniq, inverse = np.unique(values, return_inverse=True)
        cache, fmt = self.cache, self.fmt
        texts = np.empty(len(uniq), dtype=object)
        for i, v in enumerate(uniq.tolist()):
            text = cache.get(v)
            if text is None:
                text = cache[v] = fmt(v)
            texts[i] = text
        return texts[inverse].tolist()

    def parts(self, values, column):
        """(distinct texts as UTF-8 bytes, their lengths in characters, each
        value's text index): _ctrace.join_lines()'s column.  ``column`` names
        the column across batches: where its values are those of the batch
        before (a recording's regions, snapshot after snapshot), the texts
        and indexes made then are taken again."""
        import numpy as np
        if not len(values):
            return [], [], np.zeros(0, dtype=np.int64)
        last = self.last.get(column)
        if last is not None and len(last[0]) == len(values) and \
                np.array_equal(last[0], values):
            return last[3], last[4], last[2]
        uniq, inverse = _unique(values)
        if last is not None and len(last[1]) == len(uniq) and np.array_equal(last[1], uniq):
            encoded, lengths = last[3], last[4]
        else:
            cache, fmt = self.encoded, self.fmt
            encoded, lengths = [], []
            for v in uniq.tolist():
                got = cache.get(v)
                if got is None:
                    text = fmt(v)
                    got = cache[v] = (text.encode(), len(text))
                encoded.append(got[0])
                lengths.append(got[1])
        self.last[column] = (values.copy(), uniq, inverse, encoded, lengths)
        return encoded, lengths, inverse


def _unique(values):
    """np.unique(values, return_inverse=True), the inverse as contiguous
    int64; integers of a narrow range (region indexes, counts, ages) by a
    lookup table and sorted ones (a batch's timestamps) by their steps,
    instead of a sort."""
    import numpy as np
    n = len(values)
    if values.dtype.kind in "iu":
        lo, hi = int(values.min()), int(values.max())
        if hi - lo <= 4 * n + 1024:
            offsets = (values - values.dtype.type(lo)).astype(np.int64)
            seen = np.zeros(hi - lo + 1, dtype=bool)
            seen[offsets] = True
            present = np.flatnonzero(seen)
            lookup = np.empty(hi - lo + 1, dtype=np.int64)
            lookup[present] = np.arange(len(present))
            return present.astype(values.dtype) + values.dtype.type(lo), lookup[offsets]
        if n > 1 and not np.any(values[1:] < values[:-1]):
            rising = values[1:] > values[:-1]
            inverse = np.zeros(n, dtype=np.int64)
            np.cumsum(rising, out=inverse[1:])
            return values[np.concatenate(([True], rising))], inverse
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, np.ascontiguousarray(inverse.reshape(-1), dtype=np.int64)


def decoded_lines(path, events, max_cols):
    """report trace's text of a perf.data file decoded here (no perf
    script), a batch of lines at a time (UTF-8 bytes, each line ended by a
    newline), or None when its layout or events
    need perf script."""
    import numpy as np

    from damo.records import perf_data
    try:
        trace = perf_data.Trace(path)
    except (perf_data.Unsupported, ValueError, IndexError, OSError) + (struct_error(),):
        return None
    shown = [a for a, name in enumerate(trace.names) if name in events]
    if any(trace.names[a] not in _FAST_EVENTS for a in shown):
        trace.close()
        return None

    def generate():
        stamp = _Texts(lambda t: "%d.%06d" % (t // 1000000000, t % 1000000000 // 1000))
        proc = _Texts(lambda tid: "%s/%d" % (trace.comms[tid], tid))
        number, addr = _Texts(str), _Texts(_addr)
        tune = _Texts(lambda v: "sample_us=%d" % v)
        region_idx = 0
        try:
            for times, attr_of, tids, cpus, fields in trace.batches():
                rows = np.flatnonzero(np.isin(attr_of, shown))
                if not len(rows):
                    continue
                shown_tids = tids[rows]
                lo, hi = int(shown_tids.min()), int(shown_tids.max())
                # (np.unique without an index or counts would import numpy.ma)
                distinct = [lo] if lo == hi else \
                    np.unique(shown_tids, return_counts=True)[0].tolist()
                if any(tid not in trace.comms for tid in distinct):
                    raise perf_data.Unsupported("a sample of a thread without a name")
                present = [a for a in shown if fields.get(a) is not None]
                if len(present) == 1:
                    # one event in the batch (a recording's aggregations): its
                    # samples are the batch's rows shown, in the same order
                    a = present[0]
                    columns, region_idx = _event_columns(trace.names[a], fields[a], region_idx,
                                                         number, addr, tune)
                    columns = [(stamp, times[rows]), (proc, shown_tids)] + columns
                    prefix = "%%s %%s %s %s" % (trace.names[a].replace("%", "%%"),
                                                _EVENT_FORMATS[trace.names[a]])
                    if _ctrace is not None:
                        # each line: the separators and the columns' texts, in C
                        seps = [p.replace("%%", "%").encode()
                                for p in re.split("%[sd]", prefix.replace("%%", "\0"))]
                        seps = [p.replace(b"\0", b"%") for p in seps]
                        text, longest = _ctrace.join_lines(
                            seps, [fmt.parts(values, (a, c))
                                   for c, (fmt, values) in enumerate(columns)], len(rows))
                        if longest <= max_cols:
                            yield text
                            continue
                        lines = text.decode().split("\n")[:-1]
                    else:
                        lines = list(map(prefix.__mod__, zip(
                            *[fmt(values) for fmt, values in columns])))
                else:
                    position = np.full(len(times), -1, dtype=np.int64)
                    position[rows] = np.arange(len(rows))
                    bodies = [None] * len(rows)
                    names = [None] * len(rows)
                    for a in present:
                        f = fields[a]
                        at = position[f["__rows__"]].tolist()
                        name = trace.names[a]
                        columns, region_idx = _event_columns(name, f, region_idx, number,
                                                             addr, tune)
                        texts = map(_EVENT_FORMATS[name].__mod__, zip(
                            *[fmt(values) for fmt, values in columns]))
                        for i, text in zip(at, texts):
                            bodies[i] = text
                            names[i] = name
                    lines = ["%s %s %s %s" % t for t in zip(stamp(times[rows]),
                                                             proc(tids[rows]), names, bodies)]
                if max(map(len, lines)) > max_cols:
                    lines = [part for line in lines for part in
                             ([line] if len(line) <= max_cols else wrapped(line, max_cols))]
                yield ("\n".join(lines) + "\n").encode()
        finally:
            trace.close()

    return generate()


try:
    from damo.reports import _ctrace
except ImportError:     # not built: the lines are formatted in Python
    _ctrace = None


# the body of each decoded event's line, a %-format of _event_columns()
_EVENT_FORMATS = {
    "damon:damon_monitor_intervals_tune": "%s",
    "damon:damon_aggregated": "%s %s/%s %s (%s) %s %s",
    "damon:damos_before_apply": "%s %s %s %s %s (%s) %s %s",
}


def _event_columns(name, f, region_idx, number, addr, tune):
    """([(formatter, values)]: the columns of an event's lines, the region
    index after them)."""
    import numpy as np
    if name == "damon:damon_monitor_intervals_tune":
        return [(tune, f["sample_us"])], region_idx
    start = f["start"]
    if name == "damon:damon_aggregated":
        counts = f["nr_regions"]
        index, region_idx = _running_index(counts, region_idx)
        return [(number, f["target_id"]), (number, index),
                (number, counts), (addr, start), (addr, f["end"] - start),
                (number, f["nr_accesses"]), (number, f["age"])], region_idx
    return [(number, f["context_idx"]), (number, f["scheme_idx"]), (number, f["target_idx"]),
            (number, f["nr_regions"]), (addr, start), (addr, f["end"] - start),
            (number, f["nr_accesses"]), (number, f["age"])], region_idx


def _running_index(counts, start):
    """damo's region index of each event: one up per event, back to 0 when it
    reaches the event's nr_regions (a snapshot's regions count 0..n-1).
    Computed per run of equal nr_regions; an index past a run's count (a
    malformed trace) takes damo's own loop."""
    import numpy as np
    counts = np.asarray(counts, dtype=np.int64)
    n = len(counts)
    index = np.empty(n, dtype=np.int64)
    idx = start
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(counts)) + 1, [n])).tolist()
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        c = int(counts[lo])
        if c <= 0 or idx >= c:
            for i in range(lo, n):
                index[i] = idx
                idx += 1
                if idx == counts[i]:
                    idx = 0
            return index, idx
        index[lo:hi] = (idx + np.arange(hi - lo)) % c
        idx = (idx + hi - lo) % c
    return index, idx


def struct_error():
    import struct
    return struct.error
