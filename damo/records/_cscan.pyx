"""C-speed inner loops of reading and printing recordings.

Optional: damo.records.json_format and damo.reports.access fall back to their
numpy/Python code when this module is not built, and take the same result.

- ``scan_regions``: the text of one snapshot's ``"regions"`` array -> its
  values, in one pass.  It accepts only texts that the numpy fast path of
  json_format (digit runs marked, the layout compared, ``bytes.translate``
  and ``np.fromstring``) accepts with the same layout, and gives the same
  numbers; for anything else (another layout, a value it would not read as a
  plain decimal, an overflow) it returns -1 and the caller takes the numpy
  path, which decides.
- ``raw_form_regions``: the region lines of ``report access --raw_form``.
"""
from libc.stdint cimport int64_t, uint64_t, INT64_MIN
from libc.stdio cimport snprintf
from libc.string cimport memcpy

cdef extern from *:
    """
    #define _INT64_MAX_U 0x7fffffffffffffffULL
    typedef unsigned __int128 _u128;
    """
    uint64_t _INT64_MAX "_INT64_MAX_U"
    ctypedef unsigned long long u128 "_u128"


def scan_regions(const unsigned char[::1] buf, Py_ssize_t lo, Py_ssize_t hi,
                 const unsigned char[::1] first, const unsigned char[::1] unit,
                 Py_ssize_t nr_values, bint drop_empty_lists, int64_t[::1] out):
    """Parse ``buf[lo:hi]`` (the inside of a regions array) into ``out``.

    The text, less blanks around it and with every run of digits marked by
    one '#', must be ``first`` (one region's marked text) followed by
    ``unit`` (the separator and ``first`` again) any number of times, and a
    run of digits may start with 0 only in a string (after a quote or a
    comma, a minus sign skipped): json_format's check.  Values are what its
    translate keeps: the digits and '-' between two colons, "[]" dropped when
    ``drop_empty_lists``.  Returns the number of regions (their values fill
    ``out[:n * nr_values]``), or -1 when the text does not fit.
    """
    cdef Py_ssize_t n, nr_tokens = 0
    if first.shape[0] == 0 or unit.shape[0] == 0 or nr_values <= 0 or lo < 0 or lo > hi \
            or hi > buf.shape[0]:
        return -1
    with nogil:
        n = _scan(&buf[0], lo, hi, &first[0], first.shape[0], &unit[0], unit.shape[0],
                  drop_empty_lists, &out[0] if out.shape[0] else NULL, out.shape[0],
                  &nr_tokens)
    if n < 0 or n * nr_values != nr_tokens:
        return -1
    return n


cdef inline bint _blank(unsigned char c) noexcept nogil:
    return c == 32 or c == 9 or c == 10 or c == 13


cdef Py_ssize_t _scan(const unsigned char *buf, Py_ssize_t lo, Py_ssize_t hi,
                      const unsigned char *first, Py_ssize_t first_len,
                      const unsigned char *unit, Py_ssize_t unit_len,
                      bint drop_empty_lists, int64_t *out, Py_ssize_t cap,
                      Py_ssize_t *nr_tokens) noexcept nogil:
    cdef const unsigned char *template = first
    cdef Py_ssize_t tlen = first_len
    cdef Py_ssize_t tpos = 0, nregions = 0, ntokens = 0, i, end, run, before
    cdef unsigned char c
    # a value: its sign, its digits so far (at most 19 fit a uint64 unwrapped)
    cdef bint in_token = False, negative = False
    cdef int ndigits = 0
    cdef uint64_t value = 0
    i = lo
    end = hi
    while i < end and _blank(buf[i]):
        i += 1
    while end > i and _blank(buf[end - 1]):
        end -= 1
    if i == end:
        return -1
    while i < end:
        c = buf[i]
        if 48 <= c <= 57:                           # a run of digits: one '#'
            if template[tpos] != 35:
                return -1
            run = i
            in_token = True
            while True:
                value = value * 10 + (c - 48)
                ndigits += 1
                i += 1
                if i == end:
                    break
                c = buf[i]
                if c < 48 or c > 57:
                    break
            if ndigits > 19:
                return -1
            if buf[run] == 48 and i - run > 1:
                # a leading zero: only inside a string
                if run == lo:
                    return -1
                before = run - 1
                if buf[before] == 45 and before > lo:
                    before -= 1
                if buf[before] != 34 and buf[before] != 44:
                    return -1
        else:
            if c != template[tpos]:
                return -1
            i += 1
            if c == 58:                             # ':' ends the previous value
                if in_token:
                    if ndigits == 0 or value >= _INT64_MAX or ntokens >= cap:
                        return -1                   # np.fromstring may read it otherwise
                    out[ntokens] = -<int64_t>value if negative else <int64_t>value
                    ntokens += 1
                    in_token = negative = False
                    ndigits = 0
                    value = 0
            elif c == 45:                           # '-': a sign, or not ours
                # JSON's minus sign is followed by a digit: `-"0"` or `- 1`
                # is no number (json.loads refuses it; the slow path says so)
                if in_token or i >= end or buf[i] < 48 or buf[i] > 57:
                    return -1
                in_token = True
                negative = True
            elif c == 91:                           # '[': only in "[]", when dropped
                if not drop_empty_lists or i >= end or buf[i] != 93:
                    return -1
        tpos += 1
        if tpos == tlen:                            # a region, then separator + region
            tpos = 0
            nregions += 1
            template = unit
            tlen = unit_len
    if tpos != 0:
        return -1
    if in_token:                                    # the end closes the last value
        if ndigits == 0 or value >= _INT64_MAX or ntokens >= cap:
            return -1
        out[ntokens] = -<int64_t>value if negative else <int64_t>value
        ntokens += 1
    nr_tokens[0] = ntokens
    return nregions


cdef const char *_SIZE_UNITS[6]
_SIZE_UNITS[:] = [b"EiB", b"PiB", b"TiB", b"GiB", b"MiB", b"KiB"]
cdef const char *_HEX = b"0123456789abcdef"


cdef inline Py_ssize_t _hex12(char *dst, uint64_t v) noexcept nogil:
    """'%012x' % v"""
    cdef char tmp[16]
    cdef int n = 0, i
    while v or n < 12:
        tmp[n] = _HEX[v & 15]
        v >>= 4
        n += 1
    for i in range(n):
        dst[i] = tmp[n - 1 - i]
    return n


cdef inline Py_ssize_t _dec(char *dst, int64_t v, int width) noexcept nogil:
    """'%<width>d' % v"""
    cdef char tmp[24]
    cdef int n = 0, i, pad
    cdef uint64_t u = <uint64_t>(-(v + 1)) + 1 if v < 0 else <uint64_t>v
    while True:
        tmp[n] = 48 + <char>(u % 10)
        u //= 10
        n += 1
        if u == 0:
            break
    if v < 0:
        tmp[n] = 45
        n += 1
    pad = width - n if width > n else 0
    for i in range(pad):
        dst[i] = 32
    for i in range(n):
        dst[pad + i] = tmp[n - 1 - i]
    return pad + n


cdef int _format_sz(char *dst, uint64_t size, bint raw) noexcept nogil:
    """damo.units.format_sz(size, raw) into ``dst`` (32 bytes); its length.

    '%.3f %s' % (float(size) / 2**shift, unit) without printf: the float is
    size rounded to 53 bits, m * 2**e, so 1000 times its quotient is an
    integer ratio, rounded here to nearest, ties to even, as printf does."""
    cdef double sz
    cdef int shift, u, n
    cdef uint64_t m, q, whole, frac
    cdef u128 x, rem, half
    if raw:
        return _dec(dst, <int64_t>size, 0) if size <= _INT64_MAX \
            else snprintf(dst, 32, b"%llu", <unsigned long long>size)
    sz = <double>size
    if sz == 18446744073709551615.0:            # float(ULONG_MAX), as 2**64
        memcpy(dst, b"max", 3)
        return 3
    for u in range(6):
        shift = 60 - 10 * u
        if sz > <double>(<uint64_t>1 << shift):
            m = <uint64_t>sz                    # exact: sz is an integer below 2**64
            x = <u128>m * 1000
            q = <uint64_t>(x >> shift)
            rem = x & (((<u128>1) << shift) - 1)
            half = (<u128>1) << (shift - 1)
            if rem > half or (rem == half and (q & 1)):
                q += 1
            whole = q // 1000
            frac = q % 1000
            n = _dec(dst, <int64_t>whole, 0)
            dst[n] = 46
            dst[n + 1] = 48 + <char>(frac // 100)
            dst[n + 2] = 48 + <char>(frac // 10 % 10)
            dst[n + 3] = 48 + <char>(frac % 10)
            dst[n + 4] = 32
            memcpy(dst + n + 5, _SIZE_UNITS[u], 3)
            return n + 8
    n = _dec(dst, <int64_t>sz, 0)
    memcpy(dst + n, b" B", 2)
    return n + 2


cdef enum:
    # longest region line: 16 + 1 + 16 + 2 + 31 + 2 + 20 + 1 + 20 + 1
    _MAX_LINE = 128


def raw_form_regions(const uint64_t[:] starts, const uint64_t[:] ends,
                     const int64_t[:] samples, const int64_t[:] ages, bint raw):
    """The region lines of ``report access --raw_form``, each ending in a
    newline: '%012x-%012x (%12s) %11d %5d' % (start, end, format_sz(end -
    start, raw), samples, age), an age of INT64_MIN (unknown) printed as -1."""
    cdef Py_ssize_t n = starts.shape[0], i, pos = 0
    cdef int sz_len
    cdef int64_t age
    cdef char sz[32]
    cdef bytearray out
    cdef char *dst
    if ends.shape[0] != n or samples.shape[0] != n or ages.shape[0] != n:
        raise ValueError("region columns disagree in length")
    out = bytearray(n * _MAX_LINE)
    dst = out
    with nogil:
        for i in range(n):
            pos += _hex12(dst + pos, starts[i])
            dst[pos] = 45
            pos += 1
            pos += _hex12(dst + pos, ends[i])
            dst[pos] = 32
            dst[pos + 1] = 40
            pos += 2
            sz_len = _format_sz(sz, ends[i] - starts[i], raw)
            for _ in range(sz_len, 12):         # right-aligned, as '%12s'
                dst[pos] = 32
                pos += 1
            memcpy(dst + pos, sz, sz_len)
            pos += sz_len
            dst[pos] = 41
            dst[pos + 1] = 32
            pos += 2
            pos += _dec(dst + pos, samples[i], 11)
            dst[pos] = 32
            pos += 1
            age = ages[i]
            pos += _dec(dst + pos, -1 if age == INT64_MIN else age, 5)
            dst[pos] = 10
            pos += 1
    del out[pos:]
    return out
