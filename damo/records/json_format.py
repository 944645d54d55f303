"""damo's JSON recordings (plain or inside a raw zlib stream): read and write.

Reading has two paths that give the same result:

- a fast, streaming path for JSON laid out the way damo (and we) write it: the
  text is decompressed chunk by chunk, every snapshot's ``"regions"`` array is
  cut out and turned into numpy columns with a couple of C-speed
  ``bytes.translate`` passes and one ``np.fromstring``, and only the small
  remainder (records and snapshot headers) goes through ``json.loads``.  The
  cut-out text is checked to be exactly N repetitions of the first region's
  layout, so a file that does not fit is never misread: it takes

- the generic path: ``json.loads`` of the whole text, then one pass over the
  region objects.
"""
import json
import math
import re

import numpy as np

from damo import units
from damo.records.model import (AGE_UNKNOWN, INT64_MAX, UINT_MAX, ULONG_MAX, FormatError,
                                Intervals, Record, RecordHead, check_int)

try:
    from damo.records import _cscan
except ImportError:     # not built (a source tree before build_ext): numpy alone
    _cscan = None

# JSON nesting a recording may have (damo's layout needs 6; damos_stats and
# scheme_filters a few more): deeper input is refused, not recursed into
MAX_DEPTH = 64


class _NotFast(Exception):
    """The fast path does not apply; use the generic path."""


# ------------------------------------------------------------------ values

def _number(value, where, parse=units.to_number):
    """A finite number (int, or float where the text had a fraction)."""
    try:
        number = parse(value)
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise FormatError("%s: bad number %r" % (where, value)) from None
    if isinstance(number, bool) or not isinstance(number, (int, float)) or \
            (isinstance(number, float) and not math.isfinite(number)):
        raise FormatError("%s: bad number %r" % (where, value))
    return number


def _time(value, where):
    """A time in ns that an int64 holds."""
    t = _number(value, where, units.to_ns)
    if not -INT64_MAX <= t <= INT64_MAX:
        raise FormatError("%s: time %r is out of range" % (where, value))
    return t


def _intervals(kv, where):
    if kv is None:
        return None
    try:
        goal = kv.get("intervals_goal")
        if goal is not None:
            goal = {"access_bp": units.to_bp(goal["access_bp"]),
                    "aggrs": units.to_number(goal["aggrs"]),
                    "min_sample_us": units.to_us(goal["min_sample_us"]),
                    "max_sample_us": units.to_us(goal["max_sample_us"])}
        intervals = Intervals(units.to_us(kv["sample_us"]), units.to_us(kv["aggr_us"]),
                              units.to_us(kv["ops_update_us"]), goal)
    except KeyError as e:
        raise FormatError("%s: intervals lack %s" % (where, e)) from None
    except FormatError:
        raise
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise FormatError("%s: bad intervals %r" % (where, kv)) from None
    intervals.check("%s: intervals" % where)
    return intervals


def _check_depth(obj, where="top level"):
    """Refuse JSON nested deeper than MAX_DEPTH (iteratively)."""
    stack = [(obj, 1)]
    while stack:
        o, depth = stack.pop()
        if isinstance(o, dict):
            o = o.values()
        elif not isinstance(o, list):
            continue
        if depth > MAX_DEPTH:
            raise FormatError("nested deeper than %d levels" % MAX_DEPTH)
        stack.extend((v, depth + 1) for v in o if isinstance(v, (dict, list)))


def _refuse_constant(name):
    raise FormatError("invalid JSON (%s is not a JSON number)" % name)


def _loads(text):
    """json.loads, refusing what JSON does not have (NaN, Infinity) and what
    would nest too deep; FormatError says why."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise FormatError("invalid JSON (nested too deeply)") from None
    except FormatError:
        raise
    except (ValueError, UnicodeDecodeError) as e:
        raise FormatError("invalid JSON (%s)" % e) from None


# Region fields the model keeps, by their path in a region object.
_FIELDS = {("start",): "starts", ("end",): "ends",
           ("nr_accesses", "samples"): "nr_accesses",
           ("nr_accesses", "percent"): "percent",
           ("age", "aggr_intervals"): "ages", ("age", "usec"): "age_usec",
           ("sz_filter_passed",): "sz_filter_passed"}


class _RegionColumns:
    """Region columns of one snapshot, before units are reconciled.

    ``columns`` maps a field name to an int64 array, to None where no region
    has the field, or (generic path only) to a list holding None where some
    regions lack it.
    """

    # _finish_regions' result where the C scanner found it could be no other
    finished = None

    def __init__(self, n, columns):
        self.n = n
        self.columns = columns


def _regions_from_objects(regions, where):
    """Generic path: a list of region objects -> _RegionColumns."""
    cols = {name: [] for name in _FIELDS.values()}
    i = 0

    def finite(value, name):
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and
                math.isfinite(value) and 0 <= value <= INT64_MAX):
            raise FormatError("%s %r is not a number in [0, 2^63-1]" % (name, value))
        return value

    try:
        for i, r in enumerate(regions):
            cols["starts"].append(check_int(units.to_bytes(r["start"]), "start", 0, ULONG_MAX))
            cols["ends"].append(check_int(units.to_bytes(r["end"]), "end", 0, ULONG_MAX))
            acc = r.get("nr_accesses")
            if acc is None:
                raise KeyError("nr_accesses")   # missing or null: named once, below
            samples, percent = acc.get("samples"), acc.get("percent")
            cols["nr_accesses"].append(None if samples is None else check_int(
                units.to_number(samples), "nr_accesses.samples", 0, UINT_MAX))
            cols["percent"].append(None if percent is None else finite(
                units.to_percent(percent), "nr_accesses.percent"))
            # damo requires both keys of age once nr_accesses is there
            age = r["age"]
            usec, aggrs = age["usec"], age["aggr_intervals"]
            cols["ages"].append(None if aggrs is None else check_int(
                units.to_number(aggrs), "age.aggr_intervals"))
            cols["age_usec"].append(None if usec is None else finite(units.to_us(usec),
                                                                     "age.usec"))
            szfp = r.get("sz_filter_passed")
            cols["sz_filter_passed"].append(None if szfp is None else check_int(
                units.to_bytes(szfp), "sz_filter_passed"))
    except KeyError as e:
        raise FormatError("%s: region %d lacks %s" % (where, i, e)) from None
    except FormatError as e:
        raise FormatError("%s: region %d: %s" % (where, i, e)) from None
    except (ValueError, TypeError, AttributeError, OverflowError) as e:
        raise FormatError("%s: region %d is malformed (%s)" % (where, i, e)) from None
    columns = {}
    for name, values in cols.items():
        if all(v is None for v in values):
            columns[name] = None
        elif any(v is None for v in values):
            columns[name] = values
        else:
            dtype = np.uint64 if name in ("starts", "ends") else np.int64
            columns[name] = np.array([int(v) for v in values], dtype=dtype)
    return _RegionColumns(len(regions), columns)


def _finish_regions(rc, intervals, where):
    """(starts, ends, samples, ages, sz_filter_passed) of one snapshot,
    filling samples from percent and ages from usec as damo does."""
    if rc.finished is not None:
        return rc.finished
    c = rc.columns
    if rc.n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty.astype(np.uint64), empty.astype(np.uint64), empty, empty, None
    samples = c.get("nr_accesses")
    if not isinstance(samples, np.ndarray):
        percent = c.get("percent")
        if intervals is None or percent is None:
            raise FormatError("%s: regions lack nr_accesses.samples" % where)
        if not intervals.sample_us:
            raise FormatError("%s: nr_accesses.percent needs a sample interval above 0"
                              % where)
        max_samples = intervals.aggr_us / intervals.sample_us
        try:
            samples = [s if s is not None else int(p * max_samples / 100)
                       for s, p in zip(samples or [None] * rc.n, list(percent))]
        except (OverflowError, TypeError):
            raise FormatError("%s: nr_accesses.percent is out of range" % where) from None
        if any(s is None for s in samples):
            raise FormatError("%s: regions lack nr_accesses.samples" % where)
        if any(s > UINT_MAX for s in samples):
            raise FormatError("%s: nr_accesses.percent is out of range" % where)
        samples = np.array(samples, dtype=np.int64)
    ages = c.get("ages")
    if not isinstance(ages, np.ndarray):
        usecs = c.get("age_usec")
        ages = list(ages or [None] * rc.n)
        if usecs is not None and intervals is not None:
            if not intervals.aggr_us and any(u is not None for u in usecs):
                raise FormatError("%s: age.usec needs an aggregation interval above 0"
                                  % where)
            ages = [int(u / intervals.aggr_us) if a is None and u is not None else a
                    for a, u in zip(ages, list(usecs))]
            if any(a is not None and a > INT64_MAX for a in ages):
                raise FormatError("%s: age.usec is out of range" % where)
        ages = np.array([AGE_UNKNOWN if a is None else a for a in ages], dtype=np.int64)
    szfp = c.get("sz_filter_passed")
    if isinstance(szfp, list):
        # damo takes a missing sz_filter_passed as 0
        szfp = np.array([0 if v is None else v for v in szfp], dtype=np.int64)
    for key, name in (("starts", "start"), ("ends", "end")):
        col = c[key]
        if isinstance(col, np.ndarray) and col.dtype.kind == "i" and np.any(col < 0):
            # the fast paths read signed values: a negative address would
            # wrap to one near 2^64 where the per-region path refuses it
            i = int(np.argmax(col < 0))
            raise FormatError("%s: region %d: %s: %d is out of range [0, %d]"
                              % (where, i, name, int(col[i]), 2 ** 64 - 1))
    return _as_uint64(c["starts"]), _as_uint64(c["ends"]), samples, ages, szfp


def _as_uint64(column):
    """astype(np.uint64); an int64 column's bits as they are (the same values:
    astype wraps negative ones modulo 2**64), without a copy."""
    if column.dtype == np.int64 and column.flags.c_contiguous:
        return column.view(np.uint64)
    return column.astype(np.uint64)


# ------------------------------------------------------------- fast path

# Keep digits, '-' and ':' (every value follows a colon); ':' becomes the
# separator.  Everything else (quotes, keys, nulls, thousands separators, the
# "B" of "0 B") disappears, but for '[': the elements of a non-empty list
# would follow no colon, so '[' turns into a character np.fromstring rejects.
_KEEP = set(b"0123456789-:[")
_VALUE_DELETE = bytes(c for c in range(256) if c not in _KEEP)
_VALUE_TABLE = bytes(range(256)).replace(b":", b" ").replace(b"[", b"x")
_DIGITS = re.compile(r"-?[0-9,]+( B)?")
_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min
_MARK_DIGITS = bytes(range(256)).replace(b"0123456789", b"#" * 10)
_JSON_WS = b" \t\r\n"
_IN_STRING = np.frombuffer(b'",', dtype=np.uint8)

_layout_cache = {}
_KEPT_IN_KEY = re.compile(r"[0-9:\[-]")


def _learn_layout(first_region_text, skeleton):
    """Which region fields the value tokens of this layout hold, in order."""
    try:
        obj = json.loads(first_region_text)
    except ValueError:
        raise _NotFast() from None
    names = []

    def walk(kv, path):
        if not isinstance(kv, dict):
            raise _NotFast()
        for key, value in kv.items():
            if _KEPT_IN_KEY.search(key):
                # the value text keeps digits, '-', ':' and '[' wherever they
                # are: "percent9": null would join its digits to the value
                # before it
                raise _NotFast()
            here = path + (key,)
            if isinstance(value, dict):
                walk(value, here)
            elif value is None or value == []:
                continue
            elif isinstance(value, bool) or isinstance(value, (float, list)):
                raise _NotFast()
            elif isinstance(value, int) or (isinstance(value, str)
                                             and _DIGITS.fullmatch(value)):
                names.append(_FIELDS.get(here))
            else:
                raise _NotFast()

    walk(obj, ())
    if "starts" not in names or "ends" not in names or \
            ("nr_accesses" not in names and "percent" not in names):
        raise _NotFast()
    age = obj.get("age")
    if not isinstance(age, dict) or "usec" not in age or "aggr_intervals" not in age:
        # the generic path requires both keys (null or not), as damo does;
        # a null one leaves no value for the layout to miss
        raise _NotFast()
    layout = tuple(names)
    _layout_cache[skeleton] = layout
    return layout


# (skeleton, separator + skeleton, layout) of the latest regions array of
# several regions that the numpy path read: the C scanner tries it on the next
# array (a recording has one layout throughout).
_last_layout = None


def _regions_at(buf, lo, hi):
    """The regions array text ``buf[lo:hi]`` -> _RegionColumns.

    The C scanner reads it in one pass if it has the latest layout; it gives
    up (-1) on anything that the numpy path might read otherwise, and that
    path, which learns layouts, decides."""
    global _last_layout
    if _cscan is not None:
        if _last_layout is not None:
            found = _scan_closed(buf, lo, hi, _last_layout)
            if found is not None:
                return found
        # a first array, or another layout: learnt from its first region
        learned = _layout_of_first(buf, lo, hi)
        if learned is not None and learned != _last_layout:     # (that one failed above)
            found = _scan_closed(buf, lo, hi, learned)
            if found is not None:
                _last_layout = learned
                return found
    return _regions_from_text(bytes(buf[lo:hi]))


def _scan_closed(buf, lo, hi, learned):
    first, unit, layout = learned
    k = len(layout)
    n = _cscan.scan_regions(buf, lo, hi, first, unit, k, b"[]" in first,
                            _scratch_for(hi - lo, first, k))
    return _RegionColumns(n, _scratch_columns(n, layout)) if n > 0 else None


_DIGIT_RUN = re.compile(rb"[0-9]+")


def _layout_of_first(buf, lo, hi):
    """(first, unit, layout) as the numpy path would learn them from the
    regions array ``buf[lo:hi]``, from its first two regions' text alone
    (the scanner then checks every region against them): a small
    recording's load runs none of the numpy path's array operations, whose
    code, paged in for its first array, cost a 100 x 100 heatmap 124 KiB.
    None where that path would have to decide (one region, no layout)."""
    start = buf.find(b"{", lo, hi)
    if start < 0 or buf[lo:start].strip(_JSON_WS):
        return None
    try:
        text = _first_region_text(bytes(buf[start:min(hi, start + 4096)]))
    except _NotFast:
        return None
    end = start + len(text)
    second = buf.find(b"{", end, hi)
    if second < 0 or buf[end:second].strip(_JSON_WS) != b",":
        return None
    first = _DIGIT_RUN.sub(b"#", text)
    try:
        layout = _layout_cache.get(first) or _learn_layout(text, first)
    except _NotFast:
        return None
    return first, bytes(buf[end:second]) + first, layout


_scratch = np.empty(0, dtype=np.int64)


def _scratch_for(nbytes, first, k):
    """The scanner's output buffer, room for the values of ``nbytes`` of
    text (a region's text is at least its marked template ``first``)."""
    global _scratch
    need = (nbytes // len(first) + 1) * k
    if len(_scratch) < need:
        _scratch = np.empty(max(need, 2 * len(_scratch)), dtype=np.int64)
    return _scratch


def _scratch_columns(n, layout):
    """The n regions' values the scanner left in the scratch buffer, as
    columns: contiguous copies, each its own (the buffer is the next
    array's; a record's columns are joined one at a time, each piece let go
    once used)."""
    values = _scratch[:n * len(layout)].reshape(n, len(layout))
    return {name: values[:, i].copy() for i, name in enumerate(layout) if name is not None}


def _regions_open(buf, lo, last_len):
    """The regions array that starts at ``buf[lo]``, its end not looked for:
    (_RegionColumns, index of its ']') from the C scanner, which finds that
    end as it reads the latest layout's regions.  None where it cannot tell
    (not built, no layout yet, another layout, an empty array, the text read
    so far ending inside the array): the caller looks for the end and reads
    the array as before (and waits for more text if it needs to)."""
    if _cscan is None or _last_layout is None:
        return None
    if last_len and len(buf) - lo < last_len + (last_len >> 3):
        # likely to end inside the array (or the stream's last array):
        # not scanned twice
        return None
    first, unit, layout = _last_layout
    k = len(layout)
    n, closing, negatives = _cscan.scan_regions_open(
        buf, lo, first, unit, k, b"[]" in first, _scratch_for(len(buf) - lo, first, k))
    if n <= 0:
        return None
    columns = _scratch_columns(n, layout)
    rc = _RegionColumns(n, columns)
    if not negatives and _FINISHED_FIELDS <= columns.keys():
        # every column an int64 array and no address negative: what
        # _finish_regions would return, without its checks
        rc.finished = (columns["starts"].view(np.uint64), columns["ends"].view(np.uint64),
                       columns["nr_accesses"], columns["ages"],
                       columns.get("sz_filter_passed"))
    return rc, closing


_FINISHED_FIELDS = frozenset(("starts", "ends", "nr_accesses", "ages"))


def _regions_from_text(seg):
    """Fast path: the text inside a "regions" array -> _RegionColumns.

    The array must be exactly its first region's text, repeated with only
    the digits changed: its skeleton (every run of digits marked by one '#',
    everything else, whitespace and commas included, kept) is the first
    region's, then ", <first region's>" N-1 times.  The first region is
    parsed by json.loads, so the array is valid JSON wherever json.loads
    would take it (and nowhere else: an unquoted number with a leading zero
    is sent to the generic path, which refuses it)."""
    if not seg.strip(_JSON_WS):
        return _RegionColumns(0, {})
    chars = np.frombuffer(seg, dtype=np.uint8)
    is_digit = (chars - 48) <= 9            # uint8: below '0' wraps around
    more_digits = is_digit[1:] & is_digit[:-1]
    if more_digits.any():
        # unquoted numbers with a leading zero, which JSON refuses: a run of
        # digits starting with 0 that follows neither a quote nor a comma
        # (inside a string, "1,007"), skipping a minus sign
        zero_led = np.flatnonzero(more_digits & (chars[:-1] == 48) &
                                  np.append(True, ~is_digit[:-2]))
        if zero_led.size:
            before = np.where(zero_led > 0, zero_led - 1, 0)
            minus = chars[before] == 45
            before = np.where(minus & (before > 0), before - 1, before)
            if np.any(~np.isin(chars[before], _IN_STRING)) or np.any(zero_led == 0):
                raise _NotFast()
    keep = np.ones(len(chars), dtype=bool)
    keep[1:] = ~more_digits
    marked = chars[keep].tobytes().translate(_MARK_DIGITS)
    body = marked.strip(_JSON_WS)
    if not body:
        return _RegionColumns(0, {})
    first_end = _object_end(body)
    first = body[:first_end]
    rest = body[first_end:]
    n = 1
    if rest:
        unit_start = rest.find(b"{")
        if unit_start < 0 or rest[:unit_start].strip(_JSON_WS) != b",":
            raise _NotFast()
        unit = rest[:unit_start] + first
        more, extra = divmod(len(rest), len(unit))
        if extra or rest != unit * more:
            raise _NotFast()
        n += more
    layout = _layout_cache.get(first) or _learn_layout(_first_region_text(seg), first)
    if b"[]" in first:
        seg = seg.replace(b"[]", b"")   # damo writes "probe_hits": []
    try:
        values = np.fromstring(seg.translate(_VALUE_TABLE, _VALUE_DELETE),
                               dtype=np.int64, sep=" ")
    except ValueError:
        raise _NotFast() from None
    k = len(layout)
    if values.size != n * k or (values.size and (values.max() == _INT64_MAX or
                                                 values.min() == _INT64_MIN)):
        raise _NotFast()
    values = values.reshape(n, k)
    columns = {name: values[:, i] for i, name in enumerate(layout) if name is not None}
    if n > 1:
        global _last_layout
        _last_layout = (first, unit, layout)
    return _RegionColumns(n, columns)


def _object_end(text):
    """Index just past the JSON object that ``text`` starts with."""
    if not text.startswith(b"{"):
        raise _NotFast()
    depth = 0
    for i in range(len(text)):
        ch = text[i]
        if ch == 0x7B:
            depth += 1
        elif ch == 0x7D:
            depth -= 1
            if depth == 0:
                return i + 1
    raise _NotFast()


def _first_region_text(seg):
    """Text of the first region object (its braces balanced)."""
    start = seg.find(b"{")
    depth = 0
    for i in range(start, len(seg)):
        ch = seg[i]
        if ch == 0x7B:
            depth += 1
        elif ch == 0x7D:
            depth -= 1
            if depth == 0:
                return seg[start:i + 1]
    raise _NotFast()


def _cut_regions(chunks):
    """Split a streamed JSON text into its skeleton and parsed regions arrays.

    Returns (skeleton text, list of _RegionColumns); in the skeleton, every
    regions array is replaced by its index in that list.
    """
    parts = []
    regions = list(_iter_cut(chunks, parts))
    return b"".join(parts), regions


# How much of a block, besides the latest array's length and an eighth, is
# joined to the text left over from the block before.
_JOIN_SLACK = 1 << 12


def _iter_cut(chunks, parts):
    """The regions arrays of a streamed JSON text, parsed, in order; the rest
    of the text goes to ``parts`` (unless None), each array replaced by its
    index."""
    last_len = 0
    nr_cut = 0

    def cut(buf, pos, until, hinted=True):
        """Cut the arrays of ``buf`` from ``pos`` while it holds them whole,
        and ``pos`` is before ``until``; returns where the unparsed text
        starts.  ``hinted``: each array's end looked for from about where
        the last array's length puts it."""
        nonlocal last_len, nr_cut
        while pos < until:
            hint = last_len if hinted else 0
            key = buf.find(b'"regions"', pos)
            if key < 0:
                return pos
            bracket = buf.find(b"[", key)
            if bracket < 0:
                return pos
            if buf[key + 9:bracket].strip() != b":":
                raise _NotFast()
            found = _regions_open(buf, bracket + 1, hint)
            if found is not None:
                columns, closing = found
            else:
                closing = _regions_end(buf, bracket, hint)
                if closing is None:
                    return pos
                try:
                    columns = _regions_at(buf, bracket + 1, closing)
                except _NotFast:
                    if not hint:
                        raise
                    # the guess may have skipped this snapshot's end; look again
                    closing = _regions_end(buf, bracket, 0)
                    columns = _regions_at(buf, bracket + 1, closing)
            if parts is not None:
                parts.append(bytes(buf[pos:bracket]))
                parts.append(b"%d" % nr_cut)
            nr_cut += 1
            yield columns
            last_len = closing - bracket
            pos = closing + 1
        return pos

    buf = b""
    pos = 0
    for chunk in chunks:
        tail = len(buf) - pos
        if tail >= len(chunk) >> 1:
            # an array longer than the blocks: grown in place (joining each
            # block to all of it again would copy it once per block)
            if isinstance(buf, bytearray):
                del buf[:pos]
            else:
                buf = bytearray(memoryview(buf)[pos:])
            buf += chunk
            pos = 0
        elif tail:
            # the text left unparsed (an array, or a piece of the skeleton, cut
            # by the block's end) is joined to as much of this block as it
            # likely runs into, and the rest read in the block itself: copying
            # every block after the tail took 4% of a 1000 x 1000 heatmap's
            # CPU time, and 8 MB
            reach = min(len(chunk), last_len + (last_len >> 3) + _JOIN_SLACK)
            joined = b"".join((memoryview(buf)[pos:], memoryview(chunk)[:reach]))
            # only what starts in the tail is cut there
            done = yield from cut(joined, 0, tail if reach < len(chunk) else len(joined))
            if reach == len(chunk):
                buf, pos = joined, done
                continue
            if done >= tail:
                # what is left starts in the block: read on there
                buf, pos = chunk, done - tail
            else:
                buf, pos = b"".join((memoryview(joined)[done:], memoryview(chunk)[reach:])), 0
        else:
            buf, pos = chunk, 0
        pos = yield from cut(buf, pos, len(buf))
    if pos < len(buf):
        # the last arrays, read without the hints: the end of one shorter
        # than the array before lies before where its hint has the search
        # start, and no more text will come to take it beyond
        pos = yield from cut(buf, pos, len(buf), hinted=False)
    if buf.find(b'"regions"', pos) >= 0:
        raise _NotFast()
    if parts is not None:
        parts.append(bytes(buf[pos:]))


def _regions_end(buf, bracket, hint):
    """Index of the ']' closing the regions array opened at ``bracket``.

    damo writes "total_bytes" right after "regions"; rely on that (a distinct
    key is much faster to find than the bracket), start looking half the last
    array's length ahead, and let the layout check of the cut text catch any
    file, or guess, where this does not hold.  None if more text is needed.
    """
    if buf[bracket + 1:bracket + 64].lstrip().startswith(b"]"):
        return buf.index(b"]", bracket)
    total = buf.find(b'"total_bytes"', bracket + hint // 2)
    if total < 0:
        if hint and len(buf) > bracket + hint:
            return _regions_end(buf, bracket, 0)
        return None
    closing = buf.rfind(b"]", bracket, total)
    if closing < 0 or buf[closing + 1:total].strip() != b",":
        raise _NotFast()
    return closing


# ------------------------------------------------------------------ both

def _records(kvpairs, region_columns, heads_only=False):
    """Build Records from parsed JSON; ``region_columns`` resolves the
    placeholders of the fast path (None on the generic path).  With
    ``heads_only``, RecordHeads: everything checked, no region kept."""
    if not isinstance(kvpairs, list):
        raise FormatError("top level is not a list of records")
    records = []
    for ridx, kv in enumerate(kvpairs):
        where = "record %d" % ridx
        if not isinstance(kv, dict):
            raise FormatError("%s is not an object" % where)
        for key in ("target_id", "snapshots"):
            if key not in kv:
                raise FormatError("%s lacks '%s'" % (where, key))
        if not isinstance(kv["snapshots"], list):
            raise FormatError("%s: 'snapshots' is not a list" % where)
        intervals = _intervals(kv.get("intervals"), where)
        for key in ("scheme_filters",):
            if kv.get(key) is not None and not isinstance(kv[key], list):
                raise FormatError("%s: '%s' is not a list" % (where, key))
        try:
            records.append(_record(kv, intervals, region_columns, where, heads_only))
        except FormatError as e:
            message = str(e)
            if not message.startswith(where):
                message = "%s: %s" % (where, message)
            raise FormatError(message) from None
    return records


def _record(kv, intervals, region_columns, where, heads_only=False):
    snapshots = kv["snapshots"]
    nr = len(snapshots)
    start_ns, end_ns, offsets = [0] * nr, [0] * nr, [0] * (nr + 1)
    total_bytes, sample_us, stats = [-1] * nr, [np.nan] * nr, [None] * nr
    parts = []
    refs = [] if heads_only else None       # the regions array of each snapshot
    for sidx, s in enumerate(snapshots):
        here = "%s snapshot %d" % (where, sidx)
        if not isinstance(s, dict):
            raise FormatError("%s is not an object" % here)
        for key in ("start_time", "end_time", "regions"):
            if key not in s:
                raise FormatError("%s lacks '%s'" % (here, key))
        start_ns[sidx] = _time(s["start_time"], here + " start_time")
        end_ns[sidx] = _time(s["end_time"], here + " end_time")
        regions = s["regions"]
        if region_columns is not None and isinstance(regions, int) \
                and not isinstance(regions, bool):
            if not 0 <= regions < len(region_columns) or region_columns[regions] is None:
                raise FormatError("%s: 'regions' is not a list" % here)
            rc = region_columns[regions]
            # each array is one snapshot's (the cut numbers them once): let it go
            # with that snapshot's pieces, so that the record's columns need not
            # be built beside all of them
            region_columns[regions] = None
        elif isinstance(regions, list):
            if heads_only:
                raise _NotFast()        # regions the cut did not see: read it whole
            rc = _regions_from_objects(regions, here)
        else:
            raise FormatError("%s: 'regions' is not a list" % here)
        if heads_only:
            _finish_regions(rc, intervals, here)        # the checks; nothing kept
            refs.append(regions)
        else:
            parts.append(list(_finish_regions(rc, intervals, here)))
        offsets[sidx + 1] = offsets[sidx] + rc.n
        if s.get("total_bytes") is not None:
            total_bytes[sidx] = check_int(_number(s["total_bytes"], here, units.to_bytes),
                                          here + " total_bytes")
        if s.get("sample_interval_us") is not None:
            sample_us[sidx] = _number(s["sample_interval_us"], here, units.to_us)
            if not 0 <= sample_us[sidx] <= ULONG_MAX:
                raise FormatError("%s: sample_interval_us %r is out of range"
                                  % (here, s["sample_interval_us"]))
        stats[sidx] = s.get("damos_stats")

    times_are_float = any(isinstance(t, float) and not t.is_integer() for t in start_ns)
    start_ns = np.array(start_ns, dtype=np.float64 if times_are_float else np.int64)
    end_ns = np.array([int(t) for t in end_ns], dtype=np.int64)
    if heads_only:
        return RecordHead(kv["target_id"], start_ns, end_ns, offsets, refs,
                          kdamond_idx=kv.get("kdamond_idx"), context_idx=kv.get("context_idx"),
                          scheme_idx=kv.get("scheme_idx"), intervals=intervals,
                          data_source=kv.get("data_source", "unknown"))

    def cat(i, dtype):
        arrays = []
        for p in parts:
            arrays.append(p[i])
            p[i] = None         # the pieces go once the column is made
        if not arrays:
            return np.zeros(0, dtype=dtype)
        return np.concatenate(arrays).astype(dtype, copy=False)

    has_sz = any(p[4] is not None for p in parts)
    sz = None
    if has_sz:
        sz = np.concatenate([p[4] if p[4] is not None else np.zeros(len(p[0]), np.int64)
                             for p in parts])
    return Record(
        kv["target_id"], start_ns, end_ns, offsets, cat(0, np.uint64), cat(1, np.uint64),
        cat(2, np.int64), cat(3, np.int64),
        kdamond_idx=kv.get("kdamond_idx"), context_idx=kv.get("context_idx"),
        scheme_idx=kv.get("scheme_idx"), intervals=intervals,
        scheme_filters=kv.get("scheme_filters") or [],
        data_source=kv.get("data_source", "unknown"),
        sample_interval_us=None if all(np.isnan(sample_us)) else sample_us,
        total_bytes=None if all(t < 0 for t in total_bytes) else total_bytes,
        damos_stats=None if all(x is None for x in stats) else stats,
        sz_filter_passed=sz)


def read(chunks_factory):
    """Records from JSON text given as a factory of byte-chunk iterators.

    The factory is called once for the fast path and, if the layout does not
    fit, once more for the generic path.
    """
    try:
        skeleton, region_columns = _cut_regions(chunks_factory())
        try:
            kvpairs = _loads(skeleton)
        except FormatError:
            raise _NotFast() from None
        _check_depth(kvpairs)
        return _records(kvpairs, region_columns)
    except _NotFast:
        pass
    kvpairs = _loads(b"".join(chunks_factory()))
    _check_depth(kvpairs)
    return _records(kvpairs, None)


class _Shape(_RegionColumns):
    """A regions array's length and fields, its values dropped (zero-stride
    zeros): what the first pass of a streamed read checks and keeps."""

    def __init__(self, rc):
        zeros = np.broadcast_to(np.int64(0), (rc.n,))
        super().__init__(rc.n, {name: zeros if isinstance(c, np.ndarray) else c
                                for name, c in rc.columns.items()})


def read_heads(chunks_factory):
    """First pass of a streamed read: the RecordHeads of a JSON text, every
    check of ``read`` done, no region kept; None if the text is not laid out
    for streaming (the generic path reads it whole)."""
    try:
        parts = []
        shapes = [_Shape(rc) for rc in _iter_cut(chunks_factory(), parts)]
        try:
            kvpairs = _loads(b"".join(parts))
        except FormatError:
            raise _NotFast() from None
        _check_depth(kvpairs)
        heads = _records(kvpairs, shapes, heads_only=True)
    except _NotFast:
        return None
    refs = [ref for head in heads for ref in head.refs]
    if refs != sorted(set(refs)):
        return None         # arrays out of order: not one pass
    return heads


def iter_regions(chunks_factory, heads):
    """Second pass: (starts, ends, nr_accesses, ages) of every snapshot of
    ``heads`` (from read_heads of the same text), in order, as they are read."""
    wanted = [(ref, head, sidx) for head in heads for sidx, ref in enumerate(head.refs)]
    if not wanted:
        return
    at = 0
    try:
        for idx, rc in enumerate(_iter_cut(chunks_factory(), None)):
            ref, head, sidx = wanted[at]
            if idx < ref:
                continue
            regions = _finish_regions(rc, head.intervals, "snapshot %d" % sidx)
            yield regions[:4]
            at += 1
            if at == len(wanted):
                return
    except _NotFast:
        pass
    raise FormatError("changed while being read")


# ----------------------------------------------------------------- writing

# damo's schema and key order.  The document is indented by 4 as damo's is,
# but each region object sits on one line: that halves the text of a big
# recording (and so its loading time) and damo reads it all the same.
_REGION = ('{"start": "%d", "end": "%d", "nr_accesses": {"samples": %d, "percent": null}, '
           '"age": {"usec": null, "aggr_intervals": %s}%s}')
_SZ_FILTER_PASSED = ', "sz_filter_passed": "%d"'
_REGIONS_SEP = ",\n" + " " * 20


def _indented(value, level):
    """``value`` as json.dumps(indent=4) would write it ``level`` deep."""
    return json.dumps(value, indent=4).replace("\n", "\n" + " " * (4 * level))


def _intervals_kv(intervals):
    kv = {"sample_us": "%d" % intervals.sample_us, "aggr_us": "%d" % intervals.aggr_us,
          "ops_update_us": "%d" % intervals.ops_update_us}
    if intervals.goal is not None:
        goal = intervals.goal
        kv["intervals_goal"] = {"access_bp": "%d" % goal["access_bp"],
                                "aggrs": "%d" % goal["aggrs"],
                                "min_sample_us": "%d" % goal["min_sample_us"],
                                "max_sample_us": "%d" % goal["max_sample_us"]}
    return kv


def _regions_text(record, sl):
    ages = record.ages[sl]
    age_texts = np.where(ages == AGE_UNKNOWN, "null",
                         np.char.add(np.char.add('"', ages.astype(str)), '"')).tolist()
    if record.sz_filter_passed is not None:
        tails = [_SZ_FILTER_PASSED % v for v in record.sz_filter_passed[sl].tolist()]
    else:
        tails = [""] * len(age_texts)
    return _REGIONS_SEP.join(
        _REGION % values for values in zip(record.starts[sl].tolist(),
                                           record.ends[sl].tolist(),
                                           record.nr_accesses[sl].tolist(),
                                           age_texts, tails))


def iter_text(records):
    """The JSON text of ``records`` in pieces (damo's layout, indent 4)."""
    yield "["
    for ridx, record in enumerate(records):
        head = {
            "kdamond_idx": record.kdamond_idx, "context_idx": record.context_idx,
            "intervals": None if record.intervals is None else _intervals_kv(record.intervals),
            "scheme_idx": record.scheme_idx, "target_id": record.target_id,
            "scheme_filters": record.scheme_filters,
        }
        yield "%s\n    {\n" % ("," if ridx else "")
        for key, value in head.items():
            yield '        "%s": %s,\n' % (key, _indented(value, 2))
        yield '        "snapshots": ['
        totals = record.snapshot_total_bytes()
        for sidx in range(record.nr_snapshots):
            sl = record.snapshot_slice(sidx)
            yield "%s\n            {\n" % ("," if sidx else "")
            yield '                "start_time": "%d",\n' % record.start_ns[sidx]
            yield '                "end_time": "%d",\n' % record.end_ns[sidx]
            if sl.start == sl.stop:
                yield '                "regions": [],\n'
            else:
                yield '                "regions": [\n' + " " * 20
                yield _regions_text(record, sl)
                yield "\n                ],\n"
            yield '                "total_bytes": "%d",\n' % totals[sidx]
            stats = None if record.damos_stats is None else record.damos_stats[sidx]
            yield '                "damos_stats": %s,\n' % _indented(stats, 4)
            sample_us = (None if record.sample_interval_us is None
                         else record.sample_interval_us[sidx])
            yield '                "sample_interval_us": %s\n' % (
                "null" if sample_us is None or np.isnan(sample_us) else '"%d"' % sample_us)
            yield "            }"
        yield "%s],\n" % ("\n        " if record.nr_snapshots else "")
        yield '        "data_source": %s\n    }' % json.dumps(record.data_source)
    yield "\n]" if records else "]"
