"""The C inner loops of reading and printing recordings (damo/records/_cscan.pyx)
against the numpy/Python code they stand in for.

The scanner may only read a regions array the way the numpy path reads it, and
give up (-1) otherwise: whatever it accepts, the numpy path accepts with the
same numbers.  Checked on damo's and our layouts and on many mutations of them.
"""
import random

import numpy as np
import pytest

from damo import units
from damo.records import json_format as jf
from damo.records.model import AGE_UNKNOWN

_cscan = pytest.importorskip("damo.records._cscan")

DAMO_REGION = ('{"start": "%d", "end": "%d", "nr_accesses": {"samples": %d, "percent": %d}, '
               '"age": {"usec": %d, "aggr_intervals": %d}, "probe_hits": []}')
OUR_REGION = ('{"start": "%d", "end": "%d", "nr_accesses": {"samples": %d, "percent": null}, '
              '"age": {"usec": null, "aggr_intervals": "%d"}}')
HUMAN_REGION = ('{"start": "%s", "end": "%s", "nr_accesses": {"samples": %d, '
                '"percent": null}, "age": {"usec": null, "aggr_intervals": %d}}')


def _segments():
    rng = random.Random(7)
    out = []
    for n in (2, 3, 5):
        regions = []
        start = rng.randrange(1 << 40)
        for _ in range(n):
            end = start + rng.randrange(1, 1 << 30)
            regions.append((start, end, rng.randrange(21), rng.randrange(1000)))
            start = end
        out.append(",\n    ".join(DAMO_REGION % (s, e, a, a * 5, g * 100000, g)
                                  for s, e, a, g in regions).encode())
        out.append(", ".join(OUR_REGION % r for r in regions).encode())
        out.append(", ".join(HUMAN_REGION % ("{:,}".format(s), "{:,}".format(e), a, g)
                             for s, e, a, g in regions).encode())
    return out


def _numpy_path(seg):
    try:
        return jf._regions_from_text(seg)
    except jf._NotFast:
        return None


def _learned():
    """(first, unit, layout) the numpy path learnt last."""
    return jf._last_layout


def _c_path(seg, learned):
    first, unit, layout = learned
    k = len(layout)
    out = np.empty((len(seg) // len(first) + 1) * k, dtype=np.int64)
    n = _cscan.scan_regions(seg, 0, len(seg), first, unit, k, b"[]" in first, out)
    if n < 0:
        return None
    return n, out[:n * k].reshape(n, k)


def _same(c_result, numpy_result, learned):
    layout = learned[2]
    n, values = c_result
    assert numpy_result is not None, "C accepted what the numpy path does not read"
    assert n == numpy_result.n
    for i, name in enumerate(layout):
        if name is not None:
            assert values[:, i].tolist() == numpy_result.columns[name].tolist(), name


@pytest.mark.parametrize("seg", _segments(), ids=lambda s: "%d bytes" % len(s))
def test_scanner_reads_the_layouts_as_numpy_does(seg):
    expected = _numpy_path(seg)
    assert expected is not None
    learned = _learned()
    got = _c_path(seg, learned)
    assert got is not None, "the C scanner gave up on an ordinary layout"
    _same(got, expected, learned)
    # one region of that layout too (the numpy path learns from two or more)
    one = seg[:jf._object_end(seg.strip()) + seg.index(b"{")]
    got = _c_path(one, learned)
    assert got is not None and got[0] == 1
    _same(got, _numpy_path(one), learned)


ALPHABET = b'0123456789-:, \t\n[]{}"x.+B'


@pytest.mark.parametrize("seed", range(4))
def test_scanner_accepts_nothing_numpy_would_read_otherwise(seed):
    rng = random.Random(seed)
    accepted = rejected = 0
    for seg in _segments():
        assert _numpy_path(seg) is not None
        learned = _learned()
        for _ in range(300):
            b = bytearray(seg)
            for _ in range(rng.randrange(1, 4)):
                pos = rng.randrange(len(b))
                what = rng.randrange(3)
                ch = ALPHABET[rng.randrange(len(ALPHABET))]
                if what == 0:
                    b[pos] = ch
                elif what == 1:
                    b.insert(pos, ch)
                else:
                    del b[pos]
            mutated = bytes(b)
            got = _c_path(mutated, learned)
            if got is None:
                rejected += 1
                continue
            accepted += 1
            _same(got, _numpy_path(mutated), learned)
    # both kinds happen: digits and blanks moved around still read, the rest not
    assert accepted > 100 and rejected > 100


_PLAIN = b'{"start": "4096", "end": "8192", "nr_accesses": {"samples": 1}}'


@pytest.mark.parametrize("value,gives_up", [
    (b"9223372036854775807", True), (b"99999999999999999999", True), (b"-", True),
    (b"1-2", True), (b"-9223372036854775808", True), (b"00000000000000000000001", True),
    (b"007", False), (b"123", False)])
def test_scanner_on_odd_numbers(value, gives_up):
    """Numbers numpy saturates, reads as 0 or refuses: the scanner gives up
    (the numpy path decides); leading zeros in a string read as numpy does."""
    plain = _PLAIN + b", " + _PLAIN
    assert _numpy_path(plain) is not None
    learned = _learned()
    assert _c_path(plain, learned)[0] == 2
    text = _PLAIN + b", " + _PLAIN.replace(b'"4096"', b'"%s"' % value)
    got = _c_path(text, learned)
    if gives_up:
        assert got is None
    else:
        _same(got, _numpy_path(text), learned)
    # and an unquoted one with a leading zero (not JSON): never read
    text = _PLAIN + b", " + _PLAIN.replace(b'"samples": 1', b'"samples": 01')
    assert _c_path(text, learned) is None and _numpy_path(text) is None


def test_scanner_bounds():
    seg = _segments()[1]
    jf._regions_from_text(seg)
    first, unit, layout = _learned()
    k = len(layout)
    out = np.empty(64, dtype=np.int64)
    assert _cscan.scan_regions(seg, 0, len(seg), first, unit, k, False, out) > 0
    assert _cscan.scan_regions(seg, 0, len(seg) + 1, first, unit, k, False, out) == -1
    assert _cscan.scan_regions(seg, 5, 2, first, unit, k, False, out) == -1
    # too small an output array: it gives up rather than writing past it
    assert _cscan.scan_regions(seg, 0, len(seg), first, unit, k, False,
                               np.empty(1, dtype=np.int64)) == -1


def _python_lines(starts, ends, samples, ages, raw):
    sizes = (ends - starts).tolist()
    ages = np.where(ages == AGE_UNKNOWN, -1, ages).tolist()
    return "".join("%012x-%012x (%12s) %11d %5d\n" % (s, e, units.format_sz(sz, raw), n, a)
                   for s, e, sz, n, a in zip(starts.tolist(), ends.tolist(), sizes,
                                             samples.tolist(), ages))


def _ties(shift, count):
    """Sizes whose float / 2**shift lies exactly half way between two
    three-decimal numbers (where rounding to even decides)."""
    out = []
    m = 1 << shift
    while len(out) < count:
        m += 1
        if (m * 1000) % (1 << shift) == 1 << (shift - 1):
            out.append(m)
    return out


@pytest.mark.parametrize("raw", [False, True])
def test_raw_form_lines_as_python_prints_them(raw):
    rng = np.random.default_rng(3)
    u64 = np.iinfo(np.uint64).max
    sizes = np.concatenate([
        np.arange(0, 2100, dtype=np.uint64),                        # bytes, KiB edges
        rng.integers(0, 1 << 40, 3000, dtype=np.uint64),
        rng.integers(0, u64, 3000, dtype=np.uint64, endpoint=True),  # > 2**53: rounded
        np.array([(1 << s) + d for s in range(10, 64, 10) for d in (-1, 0, 1, 512)],
                 dtype=np.uint64),
        np.array(_ties(10, 20) + _ties(20, 20), dtype=np.uint64),
        np.array([u64, u64 - 1, u64 - 1024, (1 << 63) - 1, 1 << 63], dtype=np.uint64),
    ])
    starts = rng.integers(0, u64, len(sizes), dtype=np.uint64, endpoint=True)
    starts[:50] = np.arange(50, dtype=np.uint64)        # short and long hex
    ends = starts + sizes                                # wraps as uint64, as damo's do
    samples = rng.integers(-5, 1 << 62, len(sizes), dtype=np.int64)
    samples[:3] = [np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0]
    ages = rng.integers(-100, 1 << 40, len(sizes), dtype=np.int64)
    ages[::7] = AGE_UNKNOWN
    got = _cscan.raw_form_regions(starts, ends, samples, ages, raw).decode("ascii")
    assert got == _python_lines(starts, ends, samples, ages, raw)


def test_raw_form_lines_empty_and_mismatched():
    empty = np.zeros(0, dtype=np.uint64)
    assert _cscan.raw_form_regions(empty, empty, empty.view(np.int64), empty.view(np.int64),
                                   False) == b""
    one = np.ones(1, dtype=np.uint64)
    with pytest.raises(ValueError):
        _cscan.raw_form_regions(one, empty, one.view(np.int64), one.view(np.int64), False)
