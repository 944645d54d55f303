"""The C inner loops of reading and printing recordings (damo/records/_cscan.pyx)
against the numpy/Python code they stand in for.

The scanner may only read a regions array the way the numpy path reads it, and
give up (-1) otherwise: whatever it accepts, the numpy path accepts with the
same numbers.  Checked on damo's and our layouts and on many mutations of them.
"""
import json
import random
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def _mutated(rng, seg, below):
    """``seg`` with 1 to ``below`` - 1 bytes replaced, inserted or deleted."""
    b = bytearray(seg)
    for _ in range(rng.randrange(1, below)):
        pos = rng.randrange(len(b))
        what = rng.randrange(3)
        ch = ALPHABET[rng.randrange(len(ALPHABET))]
        if what == 0:
            b[pos] = ch
        elif what == 1:
            b.insert(pos, ch)
        else:
            del b[pos]
    return bytes(b)


@pytest.mark.parametrize("seed", range(4))
def test_scanner_accepts_nothing_numpy_would_read_otherwise(seed):
    rng = random.Random(seed)
    accepted = rejected = 0
    for seg in _segments():
        assert _numpy_path(seg) is not None
        learned = _learned()
        for _ in range(300):
            mutated = _mutated(rng, seg, 4)
            got = _c_path(mutated, learned)
            if got is None:
                rejected += 1
                continue
            accepted += 1
            _same(got, _numpy_path(mutated), learned)
    # both kinds happen: digits and blanks moved around still read, the rest not
    assert accepted > 100 and rejected > 100



@pytest.mark.parametrize("seg", _segments(), ids=lambda s: "%d bytes" % len(s))
def test_a_first_array_s_layout_is_learnt_as_the_numpy_path_learns_it(seg):
    # the C path reads a recording's first array too, its layout learnt from
    # the text of its first two regions: the very (first, unit, layout) that
    # the numpy path learns from the whole array
    for text in (seg, b"\n      " + seg + b"\n    "):
        assert _numpy_path(text) is not None
        assert jf._layout_of_first(text, 0, len(text)) == _learned()
        # and from where the array starts in a bigger buffer
        buf = bytearray(b'"regions": [' + text + b'], "total_bytes": 1')
        assert jf._layout_of_first(buf, 12, 12 + len(text)) == _learned()
    # one region: nothing to learn a unit from (the numpy path decides)
    one = seg[:jf._object_end(seg)]
    assert jf._layout_of_first(one, 0, len(one)) is None


@pytest.mark.parametrize("seed", range(3))
def test_a_first_array_read_in_c_reads_as_numpy_does(seed, monkeypatch):
    # mutated first arrays: where the C path (layout learnt from the first
    # regions, then the scanner) accepts one, the numpy path reads the same
    # numbers and learns the same layout; elsewhere the numpy path decides
    rng = random.Random(100 + seed)
    accepted = rejected = 0
    for seg in _segments():
        for _ in range(200):
            mutated = _mutated(rng, seg, 3)
            monkeypatch.setattr(jf, "_last_layout", None)
            learned = jf._layout_of_first(mutated, 0, len(mutated))
            got = _c_path(mutated, learned) if learned is not None else None
            if got is None:
                rejected += 1
                continue
            accepted += 1
            _same(got, _numpy_path(mutated), learned)
            if got[0] > 1:
                assert _learned() == learned
    assert accepted > 100 and rejected > 100


_PLAIN = (b'{"start": "4096", "end": "8192", "nr_accesses": {"samples": 1}, '
          b'"age": {"usec": null, "aggr_intervals": null}}')


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


# ------------------------------------------- the compiled scanner against the byte loop
#
# scan_regions compares a template's literal runs a word at a time and reads
# digits 8 at a time; scan_regions_bytewise is the scanner it replaced, a byte
# at a time.  On any text, any template and any room in ``out``, the two must
# give the same return value and, when they read it, the same values.

def _number(rng):
    """A number as a recording may have it, or nearly: leading zeros, a sign,
    thousands separators, 1 to 25 digits (runs across 8 and 19)."""
    kind = rng.randrange(8)
    if kind == 0:
        return "0" * rng.randrange(1, 4) + str(rng.randrange(10 ** rng.randrange(1, 6)))
    if kind == 1:
        return "-" + str(rng.randrange(10 ** rng.randrange(1, 19)))
    if kind == 2:
        return "{:,}".format(rng.randrange(10 ** rng.randrange(1, 19)))
    if kind == 3:
        return "".join(rng.choice("0123456789") for _ in range(rng.randrange(17, 26)))
    if kind == 4:
        return str(rng.choice([2 ** 63 - 1, 2 ** 63, 2 ** 64, 2 ** 63 - 2, 10 ** 18, 0]))
    return str(rng.randrange(10 ** rng.randrange(1, 17)))


_REGION_TEXTS = [
    DAMO_REGION.replace("%d", "%s"), OUR_REGION.replace("%d", "%s"),
    HUMAN_REGION.replace("%d", "%s"),
    OUR_REGION.replace("%d", "%s")[:-1] + ', "sz_filter_passed": "%s"}',
    # (an "age" with both keys, as the generic path and damo need)
    '{"start": %s, "end": %s, "nr_accesses": {"samples": %s}, "x": [], '
    '"age": {"aggr_intervals": -%s, "usec": null}}',
    '{ "start" : "%s" , "end":"%s","nr_accesses":{"samples":%s}, '
    '"age": {"usec": %s,"aggr_intervals":null}}',
]
_SEPARATORS = [", ", ",\n" + " " * 20, ",", " ,\t", ",\r\n    "]


def _region_text(rng, n):
    fmt = rng.choice(_REGION_TEXTS)
    sep = rng.choice(_SEPARATORS)
    nr = fmt.count("%s")
    if rng.random() < 0.5:      # plain numbers: what the numpy path reads
        values = [[str(rng.randrange(10 ** rng.randrange(1, 16))) for _ in range(nr)]
                  for _ in range(n)]
    else:
        values = [[_number(rng) for _ in range(nr)] for _ in range(n)]
    return (" " * rng.randrange(3) + sep.join(fmt % tuple(v) for v in values) +
            "\n" * rng.randrange(2)).encode()


# bytes that end or nearly end a digit run, and those the 8-at-a-time test
# could get wrong ('/' and ':' around the digits, 0xfa-0xff that carry)
_MUTATION_BYTES = b'0123456789-:, \t\r\n[]{}"#x/.+B\x00\x2f\x3a\xfa\xff\x7f\xf9\x90'


_DIGIT_RUN = re.compile(rb"[0-9]+")


def _mutate(rng, text):
    if rng.random() < 0.4:          # numbers changed, the layout kept (mostly)
        def digits(m):
            if rng.random() < 0.7:
                return m.group()
            if rng.random() < 0.1:
                return _number(rng).encode()
            return b"%d" % rng.randrange(10 ** rng.randrange(1, 20))
        return _DIGIT_RUN.sub(digits, text)
    b = bytearray(text)
    for _ in range(rng.randrange(1, 4)):
        what = rng.randrange(8)
        pos = rng.randrange(len(b) + 1)
        ch = _MUTATION_BYTES[rng.randrange(len(_MUTATION_BYTES))]
        if what == 0 and pos < len(b):
            b[pos] = ch
        elif what == 1:
            b.insert(pos, ch)
        elif what == 2 and pos < len(b):
            del b[pos]
        elif what == 3:
            del b[pos:]                                 # truncated
        elif what == 4:                                 # a digit run longer or odder
            b[pos:pos] = rng.choice([b"0", b"00", b"-", b"9" * rng.randrange(1, 24),
                                     b"[]", b"[", b"#", b"1,2"])
        elif what == 5 and b:                           # a span repeated or dropped
            end = min(len(b), pos + rng.randrange(1, 200))
            if rng.random() < 0.5:
                b[pos:pos] = b[pos:end]
            else:
                del b[pos:end]
        elif what == 6:
            b[pos:pos] = rng.choice([b" ", b"\t", b"\n", b"\r", b",", b", "])
        elif what == 7 and pos < len(b) and 48 <= b[pos] <= 57:
            b[pos] = rng.choice(b"0123456789")
    return bytes(b)


def _templates(rng, text):
    """(first, unit, nr_values, learnt or None) to scan ``text`` with: what the numpy path
    learns from it (or from another layout), or that mutated (a digit, '##',
    a template that ends in '-' or '[': the scanners must agree on those too)."""
    if _numpy_path(text) is not None and _learned() is not None:
        first, unit, layout = _learned()
    else:
        first, unit = b'{"start": "#", "end": "#"}', b', {"start": "#", "end": "#"}'
        layout = (None, None)
    if rng.random() < 0.25:
        first, unit = _mutate(rng, first) or b"#", _mutate(rng, unit) or b",#"
        return first, unit, max(1, len(layout) + rng.randrange(-1, 2)), None
    return first, unit, len(layout), (first, unit, layout)


def _both(buf, lo, hi, first, unit, k, drop, cap):
    """The two scanners' (return value, values read)."""
    results = []
    for scan in (_cscan.scan_regions, _cscan.scan_regions_bytewise):
        out = np.full(cap, -7, dtype=np.int64)
        n = scan(buf, lo, hi, first, unit, k, drop, out)
        results.append((n, out[:max(n, 0) * k].tolist()))
    return results


def _columns(buf, lo, hi, first, unit, k, drop, rows):
    out = np.full((k, rows), -7, dtype=np.int64)
    n = _cscan.scan_region_columns(buf, lo, hi, first, unit, drop, out)
    return n, out[:, :max(n, 0)].T.reshape(-1).tolist()


@pytest.mark.parametrize("seed", range(6))
def test_scanner_gives_what_the_byte_loop_gives(seed):
    rng = random.Random(100 + seed)
    read = refused = 0
    for _ in range(1500):
        text = _region_text(rng, rng.randrange(2, 7))
        first, unit, k, learned = _templates(rng, text)
        if rng.random() < 0.7:
            text = _mutate(rng, text)
        # inside a bigger buffer: digits and blanks around it are not its own
        prefix = bytes(rng.choice(b'0123456789 "-,[') for _ in range(rng.randrange(3)))
        suffix = bytes(rng.choice(b'0123456789 "]') for _ in range(rng.randrange(12)))
        buf = prefix + text + suffix
        lo, hi = len(prefix), len(prefix) + len(text)
        if rng.random() < 0.2:      # cut anywhere: the buffer goes on past it
            hi = rng.randrange(lo, len(buf) + 1)
        need = (len(text) // len(first) + 1) * k
        cap = need if rng.random() < 0.8 else rng.randrange(need + 1)
        drop = b"[]" in first if rng.random() < 0.9 else rng.random() < 0.5
        new, old = _both(buf, lo, hi, first, unit, k, drop, cap)
        assert new == old, (buf, lo, hi, first, unit, k, drop, cap)
        assert _columns(buf, lo, hi, first, unit, k, drop, cap // k) == \
            _both(buf, lo, hi, first, unit, k, drop, cap // k * k)[1]
        if new[0] < 0:
            refused += 1
            continue
        read += 1
        if learned is not None and cap == need and drop == (b"[]" in first):
            # and what it reads, the numpy path reads alike
            _same((new[0], np.array(new[1]).reshape(-1, k)), _numpy_path(buf[lo:hi]),
                  learned)
    assert read > 150 and refused > 300


def test_scanner_digit_runs_against_the_byte_loop():
    """Every run length from 1 to 25 digits, ended by every byte (or by the
    end of the text at each distance): the 8-at-a-time reading's edges."""
    first, unit = b'"#"', b',"#"'
    for length in range(1, 26):
        digits = ("".join(str((length * 7 + i) % 10) for i in range(length))).encode()
        for leading in (b"", b"0", b"-", b"-0"):
            for after in range(256):
                for tail in (b"", b'"', b'"' + b"1" * 9):
                    text = b'"' + leading + digits + bytes([after]) + tail
                    for hi in {len(text), len(text) - len(tail), 1 + len(leading) + length}:
                        new, old = _both(text, 0, hi, first, unit, 1, False, 4)
                        assert new == old, (text, hi)
                        if new[0] == 1 and not 48 <= after <= 57:
                            assert new[1] == [int(leading + digits)]


_NUMBER_TEXT = st.one_of(
    st.integers(min_value=0, max_value=10 ** 25).map(str),
    st.integers(min_value=-2 ** 64, max_value=2 ** 64).map(str),
    st.text(alphabet="0123456789-,", min_size=1, max_size=22),
    st.sampled_from(["007", "-0", "0", "9223372036854775807", "9223372036854775806",
                     "-9223372036854775808", "18446744073709551615", "1,000", ""]))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(fmt=st.sampled_from(_REGION_TEXTS), sep=st.sampled_from(_SEPARATORS),
       regions=st.lists(st.lists(_NUMBER_TEXT, min_size=6, max_size=6), min_size=1,
                        max_size=5),
       learn_from=st.integers(min_value=1, max_value=10 ** 15),
       edit=st.tuples(st.integers(min_value=0, max_value=10 ** 6),
                      st.binary(max_size=3), st.integers(min_value=0, max_value=3)))
def test_scanner_gives_what_the_byte_loop_gives_hypothesis(fmt, sep, regions, learn_from,
                                                            edit):
    nr = fmt.count("%s")
    plain = sep.join(fmt % ((str(learn_from),) * nr) for _ in range(2)).encode()
    assert _numpy_path(plain) is not None
    first, unit, layout = _learned()
    k = len(layout)
    text = sep.join(fmt % tuple(values[:nr]) for values in regions).encode()
    pos, insert, delete = edit
    pos %= len(text) + 1
    text = text[:pos] + insert + text[pos + delete:]
    cap = (len(text) // len(first) + 1) * k
    new, old = _both(text, 0, len(text), first, unit, k, b"[]" in first, cap)
    assert new == old
    assert _columns(text, 0, len(text), first, unit, k, b"[]" in first, cap // k) == new
    if new[0] >= 0:
        _same((new[0], np.array(new[1]).reshape(-1, k)), _numpy_path(text),
              (first, unit, layout))


_TEMPLATE_ATOMS = [b': "#"', b":#", b": -#", b':"-#"', b": #,#", b": [], ", b"x", b", ", b'"']
_ODD_ATOMS = [b":##", b":", b"0", b"[", b"-", b"#", b": #-#", b": #:"]


@pytest.mark.parametrize("seed", range(4))
def test_scanner_on_any_template_as_the_byte_loop(seed):
    """Templates no recording has ('#-#', '##', a digit, '[' without ']', a
    '-' or ':' first or last) and texts made from them: the byte loop's
    every rule, not only those a learnt layout reaches."""
    rng = random.Random(200 + seed)
    read = 0
    for _ in range(3000):
        first, unit = (b"".join(rng.choice(_ODD_ATOMS if rng.random() < 0.1 else _TEMPLATE_ATOMS)
                                for _ in range(rng.randrange(1, 6)))
                       for _ in range(2))
        parts = [first] + [unit] * rng.randrange(4)

        def fill(m):
            if rng.random() < 0.7:
                return b"%d" % rng.randrange(10 ** rng.randrange(1, 19))
            return rng.choice([b"#", b"0", b"00", b"12345678", b"123456789",
                               b"1" * rng.randrange(15, 22), b"0" * 9 + b"5"])
        text = re.sub(rb"#", fill, b"".join(parts))
        if rng.random() < 0.3:
            text = _mutate(rng, text)
        prefix = bytes(rng.choice(b'0",- ') for _ in range(rng.randrange(3)))
        buf = prefix + text + bytes(rng.choice(b'0#:-"]') for _ in range(rng.randrange(9)))
        lo = len(prefix)
        hi = lo + len(text) if rng.random() < 0.7 else rng.randrange(lo, len(buf) + 1)
        cap = rng.randrange(40)
        drop = rng.random() < 0.5
        for k in (1, 2, 3, 4):
            new, old = _both(buf, lo, hi, first, unit, k, drop, cap)
            assert new == old, (buf, lo, hi, first, unit, k, drop, cap)
            assert _columns(buf, lo, hi, first, unit, k, drop, cap // k) == \
                _both(buf, lo, hi, first, unit, k, drop, cap // k * k)[1]
            read += new[0] >= 0
    assert read > 200


@pytest.mark.parametrize("prefix", [b"", b'"', b",", b"x", b"-"])
@pytest.mark.parametrize("text", [b"-007", b"007", b"-0", b"-00", b'"-007"', b'"007"', b"7",
                                  b",007", b"-7"])
def test_scanner_leading_zeros_at_the_edge(prefix, text):
    """What comes before ``lo`` is not the text's: a leading zero there (a
    minus sign skipped) has no quote or comma before it, whatever the buffer
    holds before ``lo``."""
    buf = prefix + text
    template = re.sub(rb"[0-9]+", b"#", text)
    for first in (template, b"-#", b"#"):
        new, old = _both(buf, len(prefix), len(buf), first, b",#", 1, False, 4)
        assert new == old
    new, _ = _both(buf, len(prefix), len(buf), template, b",#", 1, False, 4)
    zero_led_at_the_edge = re.match(rb"-?0[0-9]", text) is not None
    assert (new[0] == -1) == zero_led_at_the_edge
    if not zero_led_at_the_edge:
        assert new[1] == [int(re.sub(rb'[",]', b"", text))]


def _open(buf, lo, first, unit, k, drop):
    """scan_regions_open's (n, closing, negatives, values read)."""
    out = np.full((max(len(buf) - lo, 0) // len(first) + 1) * k, -7, dtype=np.int64)
    n, closing, negatives = _cscan.scan_regions_open(buf, lo, first, unit, k, drop, out)
    return n, closing, negatives, out[:max(n, 0) * k].tolist()


def _first_close(buf, lo, first, unit, k, drop):
    """What scan_regions_open must find: the first ']' before which the
    bounded scanner reads the text from ``lo`` as whole regions; (n, its
    index, values) or None."""
    cap = ((len(buf) - lo) // len(first) + 1) * k
    for close in range(lo, len(buf)):
        if buf[close] == 93:
            n, values = _both(buf, lo, close, first, unit, k, drop, cap)[0]
            if n > 0:
                return n, close, values
    return None


@pytest.mark.parametrize("seed", range(4))
def test_open_scan_ends_at_the_first_close_the_bounded_scan_reads(seed):
    """scan_regions_open on a regions array and what follows it (its end
    not given) reads what scan_regions reads up to the first ']' after
    whole regions, or refuses (-1) or asks for more text (-2) where there is
    no such ']'; a valid array cut anywhere before its ']' asks for more."""
    rng = random.Random(300 + seed)
    read = cut = 0
    for _ in range(1200):
        text = _region_text(rng, rng.randrange(1, 6))
        first, unit, k, learned = _templates(rng, text)
        if learned is None:         # a mutated template: the open scan takes learnt ones
            continue
        mutated = rng.random() < 0.5
        if mutated:
            text = _mutate(rng, text)
        prefix = bytes(rng.choice(b'0123456789 "-,[') for _ in range(rng.randrange(3)))
        close = rng.choice([b"]", b" ]", b"\n            ]", b"]]", b"],", b"\t]\n"])
        suffix = bytes(rng.choice(b'0123456789 "],{}') for _ in range(rng.randrange(12)))
        buf = prefix + text + close + suffix
        lo = len(prefix)
        drop = b"[]" in first
        n, closing, negatives, values = _open(buf, lo, first, unit, k, drop)
        expected = _first_close(buf, lo, first, unit, k, drop)
        if expected is None:
            assert n in (-1, -2) and closing == 0, (buf, lo, first, unit)
            continue
        assert (n, closing, values) == expected, (buf, lo, first, unit)
        if negatives == 0:
            assert all(v >= 0 for v in values)
        assert negatives <= buf[lo:closing].count(b"-")
        read += 1
        if not mutated:
            for h in sorted(rng.sample(range(lo, closing + 1), min(12, closing + 1 - lo))):
                assert _open(buf[:h], lo, first, unit, k, drop)[:2] == (-2, 0), (buf[:h], lo)
                cut += 1
    assert read > 200 and cut > 1500, (read, cut)


def test_open_scan_edges():
    first = b'{"start": "#", "end": -#}'
    unit = b', ' + first
    arr = b'{"start": "1", "end": -2}, {"start": "3", "end": -0}'
    assert _open(b"[" + arr + b"]", 1, first, unit, 2, False) == \
        (2, len(arr) + 1, 2, [1, -2, 3, 0])
    assert _open(b"[" + arr[:-3], 1, first, unit, 2, False)[0] == -2  # cut after a '-' 
    assert _open(b"[" + arr + b"  \n]", 1, first, unit, 2, False)[:2] == (2, len(arr) + 4)
    assert _open(b"[]", 1, first, unit, 2, False)[0] == -1          # empty: not its case
    assert _open(b"[ ", 1, first, unit, 2, False)[0] == -2
    assert _open(b"[", 1, first, unit, 2, False)[0] == -2
    assert _open(b"[" + arr, 1, first, unit, 2, False)[0] == -2       # no ']' yet
    assert _open(b"[" + arr + b" ", 1, first, unit, 2, False)[0] == -2
    assert _open(b"[" + arr + b"x]", 1, first, unit, 2, False)[0] == -1
    assert _open(b"[" + arr + b"]", 2, first, unit, 2, False)[0] == -1
    assert _open(b"[" + arr + b"]", 99, first, unit, 2, False)[0] == -1
    out = np.zeros(3, dtype=np.int64)           # no room for the second region's values
    assert _cscan.scan_regions_open(b"[" + arr + b"]", 1, first, unit, 2, False, out)[0] == -1


def _document(rng, nr_snapshots, total_bytes_after):
    """A recording's JSON text, damo's layout or another, its snapshots'
    region arrays of a few regions each."""
    snapshots = []
    for s in range(nr_snapshots):
        regions = [{"start": str(1000 * r), "end": str(1000 * r + 1000),
                    "nr_accesses": {"samples": rng.randrange(21), "percent": None},
                    "age": {"usec": None, "aggr_intervals": str(rng.randrange(9))}}
                   for r in range(rng.randrange(0 if s else 2, 5))]
        snapshot = {"start_time": str(100 * s), "end_time": str(100 * s + 100),
                    "regions": regions}
        if total_bytes_after:
            snapshot["total_bytes"] = 1 << 20
        else:           # regions last: no "total_bytes" after the array
            snapshot = {"total_bytes": None, **snapshot}
        snapshots.append(snapshot)
    doc = [{"kdamond_idx": 0, "context_idx": 0, "intervals": {
        "sample_us": "5000", "aggr_us": "100000", "ops_update_us": "1000000"},
        "scheme_idx": None, "target_id": 0, "scheme_filters": [], "snapshots": snapshots}]
    return json.dumps(doc, indent=rng.choice([4, None, 1])).encode()


@pytest.mark.parametrize("seed", range(3))
def test_reader_with_open_scan_reads_as_json_loads(seed):
    """json_format.read, whose arrays after the first are read by the open
    scan (their end found as they are read), against json.loads of the same
    text: mutated later arrays, junk after a ']', no "total_bytes" after
    the arrays, the text cut into chunks anywhere."""
    rng = random.Random(400 + seed)
    fast = 0
    for _ in range(300):
        text = _document(rng, rng.randrange(2, 5), rng.random() < 0.7)
        if rng.random() < 0.7:
            # mutated after the first array, where the open scan reads
            at = text.index(b'"regions"', text.index(b'"regions"') + 1) \
                if text.count(b'"regions"') > 1 else len(text)
            tail = _mutate(rng, text[at:]) if at < len(text) else b""
            text = text[:at] + tail
        try:
            expected = jf._records(json.loads(text), None)
        except jf.FormatError:
            expected = "refused"
        except (ValueError, RecursionError):
            expected = None
        cuts = sorted(rng.sample(range(1, len(text)), min(rng.randrange(4), len(text) - 1)))
        chunks = [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]
        try:
            got = jf.read(lambda: iter(chunks))
        except jf.FormatError:
            assert expected in (None, "refused"), text
            continue
        assert expected not in (None, "refused"), text
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            for col in ("starts", "ends", "nr_accesses", "ages", "region_offsets",
                        "start_ns", "end_ns"):
                assert getattr(a, col).tolist() == getattr(b, col).tolist(), (col, text)
            assert np.array_equal(a.total_bytes, b.total_bytes) if b.total_bytes is not None \
                else a.total_bytes is None
        fast += 1
    assert fast > 100


def test_digits_in_a_key_are_not_read_as_a_value():
    """A key with digits (or '-', ':') next to a value: the fast paths keep
    those characters wherever they are, so "p2": null after "samples": 1
    read 12; such a layout goes to the generic path, which reads 1."""
    regions = [{"start": "0", "end": "4096", "nr_accesses": {"samples": 1, "p2": None},
                "age": {"usec": None, "aggr_intervals": "3"}}] * 3
    for key in ("p2", "a-b", "a:b", "x[", "7"):
        doc = [{"target_id": 0, "snapshots": [
            {"start_time": "0", "end_time": "100", "regions": [
                dict(r, nr_accesses={"samples": 1, key: None}) for r in regions],
             "total_bytes": None},
            {"start_time": "100", "end_time": "200", "regions": regions, "total_bytes": None}]}]
        text = json.dumps(doc, indent=4).encode()
        got = jf.read(lambda: iter([text]))
        assert got[0].nr_accesses.tolist() == [1] * 6, key
        assert got[0].ages.tolist() == [3] * 6


def test_a_region_without_both_age_keys_is_refused_as_damo_does():
    """The generic path (as damo) needs "age" with "usec" and
    "aggr_intervals", null or not; the fast path took a region without one."""
    region = {"start": "0", "end": "4096", "nr_accesses": {"samples": 1, "percent": None},
              "age": {"usec": None, "aggr_intervals": "3"}}
    for age in ({"usec": None}, {"aggr_intervals": "3"}, None, "x"):
        bad = dict(region, age=age) if age is not None else \
            {k: v for k, v in region.items() if k != "age"}
        doc = [{"target_id": 0, "snapshots": [
            {"start_time": "0", "end_time": "100", "regions": [region] * 3,
             "total_bytes": None},
            {"start_time": "100", "end_time": "200", "regions": [bad] * 3,
             "total_bytes": None}]}]
        with pytest.raises(jf.FormatError, match="snapshot 1"):
            jf.read(lambda: iter([json.dumps(doc, indent=4).encode()]))


def test_buffers_are_checked_as_memoryviews_checked_them():
    """The scanner takes its arrays through the buffer protocol
    (damo/_cbuffers.pxi): a wrong item kind or size, a read-only output, a
    wrong number of dimensions or a non-buffer is refused with ValueError or
    TypeError naming the argument, before anything is read or written."""
    text = b'{"a": 1}'
    out = np.full(4, -7, dtype=np.int64)
    assert _cscan.scan_regions(text, 0, len(text), b'{"a": #}', b', {"a": #}', 1,
                               False, out) == 1
    assert out[0] == 1
    bad_outs = [np.zeros(4, dtype=np.float64), np.zeros(4, dtype=np.int32),
                np.zeros((2, 2), dtype=np.int64), np.zeros(4, dtype=np.uint64)]
    readonly = np.zeros(4, dtype=np.int64)
    readonly.flags.writeable = False
    for bad in bad_outs:
        with pytest.raises(ValueError, match="out"):
            _cscan.scan_regions(text, 0, len(text), b'{"a": #}', b', {"a": #}', 1, False, bad)
    with pytest.raises((ValueError, BufferError)):
        _cscan.scan_regions(text, 0, len(text), b'{"a": #}', b', {"a": #}', 1, False, readonly)
    with pytest.raises(TypeError):
        _cscan.scan_regions("text", 0, 4, b'{"a": #}', b', {"a": #}', 1, False, out)
    with pytest.raises(ValueError, match="starts"):
        _cscan.raw_form_regions(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.uint64),
                                np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), False)
    # strided columns are read as they are
    starts = np.arange(0, 8192, 4096, dtype=np.uint64)
    wide = np.zeros(4, dtype=np.uint64)
    wide[::2] = starts + 4096
    ages = np.zeros(4, dtype=np.int64)
    assert _cscan.raw_form_regions(starts, wide[::2], ages[::2], ages[::2], True) == \
        _cscan.raw_form_regions(starts, np.ascontiguousarray(wide[::2]),
                                np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64), True)


def _damo_text(rng, nr_records=2, nr_snapshots=6):
    """A recording's JSON text as damo writes it (total_bytes after regions),
    arrays of varying lengths, one empty and one of a single region."""
    records = []
    for t in range(nr_records):
        snapshots = []
        for s in range(nr_snapshots):
            n = rng.choice((0, 1, 2, 5, 40, 300)) if s else 3
            start = rng.randrange(1 << 40)
            regions = []
            for _ in range(n):
                end = start + rng.randrange(1, 1 << 30)
                a = rng.randrange(21)
                g = rng.randrange(1000)
                regions.append(DAMO_REGION % (start, end, a, a * 5, g * 100000, g))
                start = end
            snapshots.append('{"start_time": %d, "end_time": %d, "regions": [%s], '
                             '"total_bytes": %d}' % (s * 100, s * 100 + 100,
                                                     ", ".join(regions), n))
        records.append('{"kdamond_idx": 0, "context_idx": 0, "scheme_idx": null, '
                       '"target_id": %d, "intervals": {"sample": 5000, "aggr": 100000, '
                       '"ops_update": 1000000}, "snapshots": [%s]}' % (t, ", ".join(snapshots)))
    return ("[%s]" % ", ".join(records)).encode()


def _cut_of(chunks):
    skeleton, regions = jf._cut_regions(iter(chunks))
    return skeleton, [(rc.n, {k: None if v is None else list(v) for k, v in rc.columns.items()})
                      for rc in regions]


@pytest.mark.parametrize("seed", range(6))
def test_the_cut_reads_the_same_however_the_text_is_split_into_blocks(seed, monkeypatch):
    # blocks end anywhere: inside a number, a key, an array or between them;
    # the text left over from one block is joined to part of the next, or
    # grown in place when it is longer than the blocks: the same skeleton and
    # the same columns as from the text in one piece
    rng = random.Random(seed)
    text = _damo_text(rng)
    monkeypatch.setattr(jf, "_last_layout", None)
    whole = _cut_of([text])
    assert whole[0].count(b'"regions": ') == 12 and len(whole[1]) == 12
    json.loads(whole[0])
    mean = rng.choice((1, 7, 100, 3000, 20000, 60000))
    for _ in range(4):
        cuts = sorted(rng.randrange(len(text)) for _ in range(max(1, len(text) // mean)))
        chunks = [text[a:b] for a, b in zip([0] + cuts, cuts + [len(text)])]
        monkeypatch.setattr(jf, "_last_layout", None)
        assert _cut_of(chunks) == whole


def test_short_last_arrays_are_read_by_the_fast_path(monkeypatch):
    # a long array, then the stream's last ones far shorter (DAMON's region
    # count adapts): their ends lie before where the long one's length has
    # the search start; read without hints at the stream's end, not by
    # parsing all the text again with json.loads (5 s and 1 GB for a
    # 1000 x 1000 recording)
    long = ", ".join(DAMO_REGION % (i << 12, (i + 1) << 12, 1, 5, 100000, 1)
                     for i in range(400))
    short = DAMO_REGION % (1 << 40, (1 << 40) + 4096, 2, 10, 200000, 2)
    snaps = ", ".join('{"start_time": %d, "end_time": %d, "regions": [%s], "total_bytes": %d}'
                      % (i * 100, i * 100 + 100, regions, n)
                      for i, (regions, n) in enumerate(((long, 400), (long, 400),
                                                        (short, 1), (short, 1))))
    text = ('[{"kdamond_idx": 0, "context_idx": 0, "scheme_idx": null, "target_id": 0, '
            '"intervals": {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000}, '
            '"snapshots": [%s]}]' % snaps).encode()
    calls = []

    def factory():
        calls.append(1)
        return iter([text[i:i + 4096] for i in range(0, len(text), 4096)])

    monkeypatch.setattr(jf, "_last_layout", None)
    record = jf.read(factory)[0]
    assert len(calls) == 1      # no second, generic read
    assert list(record.region_offsets) == [0, 400, 800, 801, 802]
    assert record.nr_accesses.tolist()[-3:] == [1, 2, 2]
