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
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

include "../_cbuffers.pxi"


cdef extern from *:
    """
    #include <string.h>
    #define _INT64_MAX_U 0x7fffffffffffffffULL
    typedef unsigned __int128 _u128;

    /* unaligned loads (memcpy of a constant size compiles to one move) */
    static inline uint64_t _cs_load64(const unsigned char *p)
    { uint64_t v; memcpy(&v, p, 8); return v; }
    static inline uint32_t _cs_load32(const unsigned char *p)
    { uint32_t v; memcpy(&v, p, 4); return v; }
    static inline uint16_t _cs_load16(const unsigned char *p)
    { uint16_t v; memcpy(&v, p, 2); return v; }

    /* a[:n] == b[:n] for a short n, a word at a time (the last word overlapping) */
    static inline int _cs_same_bytes(const unsigned char *a, const unsigned char *b,
                                     Py_ssize_t n)
    {
        Py_ssize_t k;
        if (n >= 8) {
            for (k = 0; k + 8 < n; k += 8)
                if (_cs_load64(a + k) != _cs_load64(b + k))
                    return 0;
            return _cs_load64(a + n - 8) == _cs_load64(b + n - 8);
        }
        if (n >= 4)
            return _cs_load32(a) == _cs_load32(b) && _cs_load32(a + n - 4) == _cs_load32(b + n - 4);
        if (n >= 2)
            return _cs_load16(a) == _cs_load16(b) && _cs_load16(a + n - 2) == _cs_load16(b + n - 2);
        return n <= 0 || a[0] == b[0];
    }

    /* Eight bytes as one little-endian word: how many of them, from the
       first, are digits; and the number those n (1 to 8) digits spell. */
    #if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    #define _CS_SWAR 1
    static inline int _cs_lead_digits8(uint64_t w)
    {
        /* a byte is a digit iff its high nibble and that of byte + 6 are 3;
           the carry of a byte >= 0xfa only reaches bytes after a non-digit */
        uint64_t bad = ((w & 0xf0f0f0f0f0f0f0f0ULL) ^ 0x3030303030303030ULL) |
                       (((w + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) ^ 0x3030303030303030ULL);
        return bad ? __builtin_ctzll(bad) >> 3 : 8;
    }
    static inline uint64_t _cs_digits8(uint64_t w, int n)
    {
        /* the borrows of the bytes after the digits only go up: shifted out */
        w = (w - 0x3030303030303030ULL) << (8 * (8 - n));
        w = w * 10 + (w >> 8);                      /* pairs of digits */
        return (((w & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32))) +
                (((w >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32)))) >> 32;
    }
    #else
    #define _CS_SWAR 0
    static inline int _cs_lead_digits8(uint64_t w) { (void)w; return 0; }
    static inline uint64_t _cs_digits8(uint64_t w, int n) { (void)w; (void)n; return 0; }
    #endif
    static const uint64_t _cs_pow10[9] = {1, 10, 100, 1000, 10000, 100000, 1000000,
                                          10000000, 100000000};
    """
    uint64_t _INT64_MAX "_INT64_MAX_U"
    ctypedef unsigned long long u128 "_u128"
    uint64_t _load64 "_cs_load64"(const unsigned char *p) noexcept nogil
    bint _same_bytes "_cs_same_bytes"(const unsigned char *a, const unsigned char *b,
                                      Py_ssize_t n) noexcept nogil
    bint _SWAR "_CS_SWAR"
    int _lead_digits8 "_cs_lead_digits8"(uint64_t w) noexcept nogil
    uint64_t _digits8 "_cs_digits8"(uint64_t w, int n) noexcept nogil
    const uint64_t *_POW10 "_cs_pow10"


cdef struct _ScanArgs:
    Py_buffer *buf
    Py_buffer *first
    Py_buffer *unit
    Py_buffer *out


cdef _Buffers _take_scan_args(buf, first, unit, out, int out_ndim, _ScanArgs *a):
    # the scanners' arguments: three texts (bytes-like) and a writable int64
    # array, held while the returned object lives
    cdef _Buffers held = _Buffers()
    a.buf = held.take(buf, _U8, 1, 1, False, True, "buf")
    a.first = held.take(first, _U8, 1, 1, False, True, "first")
    a.unit = held.take(unit, _U8, 1, 1, False, True, "unit")
    a.out = held.take(out, _I64, 8, out_ndim, True, True, "out")
    return held


def scan_regions(buf, Py_ssize_t lo, Py_ssize_t hi, first, unit,
                 Py_ssize_t nr_values, bint drop_empty_lists, out):
    """Parse ``buf[lo:hi]`` (the inside of a regions array) into ``out``.

    The text, less blanks around it and with every run of digits marked by
    one '#', must be ``first`` (one region's marked text) followed by
    ``unit`` (the separator and ``first`` again) any number of times, and a
    run of digits may start with 0 only in a string (after a quote or a
    comma, a minus sign skipped): json_format's check.  Values are what its
    translate keeps: the digits and '-' between two colons, "[]" dropped when
    ``drop_empty_lists``.  Returns the number of regions (their values fill
    ``out[:n * nr_values]``, region by region), or -1 when the text does not
    fit.  The texts are bytes-like; ``out`` a writable int64 array.
    """
    cdef _ScanArgs a
    cdef _Buffers held = _take_scan_args(buf, first, unit, out, 1, &a)
    cdef Py_buffer *b = a.buf, *f = a.first, *u = a.unit, *o = a.out
    if f.len == 0 or u.len == 0 or nr_values <= 0 or lo < 0 or lo > hi or hi > b.len:
        return -1
    return _run(<const unsigned char *>b.buf, lo, hi, f, u, drop_empty_lists,
                <int64_t *>o.buf if o.shape[0] else NULL, o.shape[0], nr_values, 1,
                nr_values)


def scan_region_columns(buf, Py_ssize_t lo, Py_ssize_t hi, first, unit,
                        bint drop_empty_lists, out):
    """scan_regions with the values by field: value i of region r goes to
    ``out[i, r]`` (``out.shape[0]`` values a region; room for
    ``out.shape[1]`` regions; a C-contiguous int64 array), so that each
    field's column is a contiguous row without a copy.  The same return
    value as scan_regions with an ``out`` of the same size."""
    cdef _ScanArgs a
    cdef _Buffers held = _take_scan_args(buf, first, unit, out, 2, &a)
    cdef Py_buffer *b = a.buf, *f = a.first, *u = a.unit, *o = a.out
    cdef Py_ssize_t k = o.shape[0], rows = o.shape[1]
    if f.len == 0 or u.len == 0 or k <= 0 or lo < 0 or lo > hi or hi > b.len:
        return -1
    return _run(<const unsigned char *>b.buf, lo, hi, f, u, drop_empty_lists,
                <int64_t *>o.buf if rows else NULL, k * rows, k, rows, 1)


# scan_regions_open: the text read so far ends inside the array.
cdef enum:
    _MORE = -2


def scan_regions_open(buf, Py_ssize_t lo, first, unit, Py_ssize_t nr_values,
                      bint drop_empty_lists, out):
    """scan_regions of a regions array whose end is not known yet: it starts
    at ``buf[lo]`` (just after its '[') and ends at the first ']' that
    follows a whole region (blanks between), where JSON's array ends when
    the regions are ``first``'s objects.  Returns (n, closing): the number of
    regions as scan_regions gives it for ``buf[lo:closing]`` and the index
    of that ']'; n is -2 when ``buf`` ends before it (more text is needed),
    -1 when the text does not fit (an empty array included).  A third item
    counts the values that had a minus sign."""
    cdef Py_ssize_t closing = 0, n, negatives = 0
    cdef _ScanArgs a
    cdef _Buffers held = _take_scan_args(buf, first, unit, out, 1, &a)
    cdef Py_buffer *b = a.buf, *f = a.first, *u = a.unit, *o = a.out
    if f.len == 0 or u.len == 0 or nr_values <= 0 or lo < 0 or lo > b.len:
        return -1, 0, 0
    if lo == b.len:
        return _MORE, 0, 0
    n = _run(<const unsigned char *>b.buf, lo, b.len, f, u, drop_empty_lists,
             <int64_t *>o.buf if o.shape[0] else NULL, o.shape[0], nr_values, 1, nr_values,
             &closing, &negatives)
    if n < 0:
        return n, 0, 0
    return n, closing, negatives


# The template, compiled: literal runs (compared a word at a time) and '#'s.
cdef enum:
    _HASH = 0           # a '#': a run of digits, or a '#' itself
    _NEVER = -1         # a digit: no text matches it

cdef struct _Op:
    Py_ssize_t length   # a literal run: its length (> 0); or _HASH, _NEVER
    Py_ssize_t off      # a literal run: where in the template it starts
    # a literal run: its bytes that act (':', '-', '['), in the events array
    Py_ssize_t ev_lo, ev_hi


cdef Py_ssize_t _compile(const unsigned char *t, Py_ssize_t tlen, _Op *ops,
                         Py_ssize_t *events, Py_ssize_t *nr_events) noexcept nogil:
    """``t`` as ops; their number.  A digit ends it: no text gets past it."""
    cdef Py_ssize_t p = 0, q, nops = 0
    cdef unsigned char c
    while p < tlen:
        c = t[p]
        if c == 35:
            ops[nops].length = _HASH
            p += 1
        elif 48 <= c <= 57:
            ops[nops].length = _NEVER
            return nops + 1
        else:
            ops[nops].off = p
            ops[nops].ev_lo = nr_events[0]
            q = p
            while q < tlen:
                c = t[q]
                if c == 35 or 48 <= c <= 57:
                    break
                if c == 58 or c == 45 or c == 91:
                    events[nr_events[0]] = q - p
                    nr_events[0] += 1
                q += 1
            ops[nops].length = q - p
            ops[nops].ev_hi = nr_events[0]
            p = q
        nops += 1
    return nops


cdef object _run(const unsigned char *buf, Py_ssize_t lo, Py_ssize_t hi,
                 const Py_buffer *first, const Py_buffer *unit,
                 bint drop_empty_lists, int64_t *out, Py_ssize_t cap, Py_ssize_t k,
                 Py_ssize_t col_step, Py_ssize_t row_step, Py_ssize_t *closing=NULL,
                 Py_ssize_t *nr_negative=NULL):
    cdef Py_ssize_t n, nr_tokens = 0, nr_events = 0, first_nops, unit_nops
    cdef Py_ssize_t flen = first.len, ulen = unit.len
    cdef const unsigned char *fp = <const unsigned char *>first.buf
    cdef const unsigned char *up = <const unsigned char *>unit.buf
    cdef _Op *ops = <_Op *>malloc((flen + ulen) * sizeof(_Op))
    cdef Py_ssize_t *events = <Py_ssize_t *>malloc((flen + ulen) * sizeof(Py_ssize_t))
    if ops == NULL or events == NULL:
        free(ops)
        free(events)
        raise MemoryError()
    with nogil:
        first_nops = _compile(fp, flen, ops, events, &nr_events)
        unit_nops = _compile(up, ulen, ops + first_nops, events, &nr_events)
        n = _scan(buf, lo, hi, fp, ops, first_nops, up, ops + first_nops,
                  unit_nops, events, drop_empty_lists, out, cap, k, col_step, row_step,
                  &nr_tokens, closing, nr_negative)
    free(ops)
    free(events)
    if n == _MORE:
        return _MORE
    if n < 0 or n * k != nr_tokens:
        return -1
    return n


cdef Py_ssize_t _scan(const unsigned char *buf, Py_ssize_t lo, Py_ssize_t hi,
                      const unsigned char *first, const _Op *first_ops, Py_ssize_t first_nops,
                      const unsigned char *unit, const _Op *unit_ops, Py_ssize_t unit_nops,
                      const Py_ssize_t *events, bint drop_empty_lists,
                      int64_t *out, Py_ssize_t cap, Py_ssize_t k, Py_ssize_t col_step,
                      Py_ssize_t row_step, Py_ssize_t *nr_tokens,
                      Py_ssize_t *closing, Py_ssize_t *nr_negative) noexcept nogil:
    """_scan_bytewise's result, op by op: a literal run is compared whole and
    then its acting bytes are applied in order (what the byte loop would do
    to them, as the text there is the template's); a run of digits is read
    8 at a time.  Token t goes to out[(t % k) * col_step + (t / k) * row_step].

    With ``closing`` (open-ended: ``hi`` is where the text read so far ends,
    not the array's end), the array ends at the first ']' that follows a
    whole region, blanks between; its index goes to ``closing[0]``, and
    _MORE says that the text ran out before it.  ``nr_negative`` (if not
    NULL) is set to the number of values read with a minus sign."""
    cdef bint open_end = closing != NULL
    cdef Py_ssize_t negatives = 0
    cdef const unsigned char *template = first
    cdef const _Op *ops = first_ops
    cdef Py_ssize_t nops = first_nops
    cdef Py_ssize_t j = 0, nregions = 0, ntokens = 0, i, end, run, before, q, e, length
    cdef Py_ssize_t col = 0, row_at = 0
    cdef unsigned char c
    cdef bint in_token = False, negative = False, more
    cdef int ndigits = 0, d
    cdef uint64_t value = 0, w
    i = lo
    end = hi
    while i < end and _blank(buf[i]):
        i += 1
    if not open_end:
        while end > i and _blank(buf[end - 1]):
            end -= 1
    if i == end:
        return _MORE if open_end else -1
    while i < end:
        length = ops[j].length
        if length > 0:
            if end - i < length:
                # open-ended: more text is needed if what there is fits
                if open_end and _same_bytes(buf + i, template + ops[j].off, end - i):
                    return _MORE
                return -1
            if not _same_bytes(buf + i, template + ops[j].off, length):
                return -1
            for e in range(ops[j].ev_lo, ops[j].ev_hi):
                q = i + events[e]
                c = buf[q]
                if c == 58:                         # ':' ends the previous value
                    if in_token:
                        if ndigits == 0 or value >= _INT64_MAX or ntokens >= cap:
                            return -1               # np.fromstring may read it otherwise
                        out[col * col_step + row_at] = \
                            -<int64_t>value if negative else <int64_t>value
                        ntokens += 1
                        col += 1
                        if col == k:
                            col = 0
                            row_at += row_step
                        in_token = negative = False
                        ndigits = 0
                        value = 0
                elif c == 45:                       # '-': a sign, or not ours
                    # JSON's minus sign is followed by a digit: `-"0"` or `- 1`
                    # is no number (json.loads refuses it; the slow path says so)
                    if q + 1 >= end and open_end and not in_token:
                        return _MORE
                    if in_token or q + 1 >= end or buf[q + 1] < 48 or buf[q + 1] > 57:
                        return -1
                    in_token = True
                    negative = True
                    negatives += 1
                else:                               # '[': only in "[]", when dropped
                    if q + 1 >= end and open_end and drop_empty_lists:
                        return _MORE
                    if not drop_empty_lists or q + 1 >= end or buf[q + 1] != 93:
                        return -1
            i += length
        elif length == _HASH:
            c = buf[i]
            if 48 <= c <= 57:                       # a run of digits
                run = i
                in_token = True
                more = True
                if _SWAR:
                    while end - i >= 8:
                        w = _load64(buf + i)
                        d = _lead_digits8(w)
                        if d == 0:
                            more = False
                            break
                        value = value * _POW10[d] + _digits8(w, d)
                        ndigits += d
                        i += d
                        if d < 8 or ndigits > 19:
                            more = False
                            break
                if more:                            # the last few bytes: one by one
                    while i < end and 48 <= buf[i] <= 57:
                        value = value * 10 + (buf[i] - 48)
                        ndigits += 1
                        i += 1
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
            elif c == 35:                           # '#' itself
                i += 1
            else:
                return -1
        else:
            return -1
        j += 1
        if j == nops:                               # a region, then separator + region
            j = 0
            nregions += 1
            template = unit
            ops = unit_ops
            nops = unit_nops
            if open_end:
                q = i
                while q < end and _blank(buf[q]):
                    q += 1
                if q == end:
                    return _MORE                    # a ']' or a separator: not yet known
                if buf[q] == 93:
                    closing[0] = q
                    end = i
                    break
    if open_end and end == hi:
        return _MORE                                # no ']' after a region in the text
    if j != 0:
        return -1
    if in_token:                                    # the end closes the last value
        if ndigits == 0 or value >= _INT64_MAX or ntokens >= cap:
            return -1
        out[col * col_step + row_at] = -<int64_t>value if negative else <int64_t>value
        ntokens += 1
    nr_tokens[0] = ntokens
    if nr_negative != NULL:
        nr_negative[0] = negatives
    return nregions


def scan_regions_bytewise(buf, Py_ssize_t lo, Py_ssize_t hi, first, unit,
                          Py_ssize_t nr_values, bint drop_empty_lists, out):
    """scan_regions as it was, a byte at a time: the reference that
    tests/test_records_cscan.py holds scan_regions and scan_region_columns
    to (the same return value and values on any text), and bench's A/B."""
    cdef Py_ssize_t n, nr_tokens = 0
    cdef _ScanArgs a
    cdef _Buffers held = _take_scan_args(buf, first, unit, out, 1, &a)
    cdef Py_buffer *b = a.buf, *f = a.first, *u = a.unit, *o = a.out
    if f.len == 0 or u.len == 0 or nr_values <= 0 or lo < 0 or lo > hi or hi > b.len:
        return -1
    with nogil:
        n = _scan_bytewise(<const unsigned char *>b.buf, lo, hi,
                           <const unsigned char *>f.buf, f.len,
                           <const unsigned char *>u.buf, u.len, drop_empty_lists,
                           <int64_t *>o.buf if o.shape[0] else NULL, o.shape[0], &nr_tokens)
    if n < 0 or n * nr_values != nr_tokens:
        return -1
    return n


cdef inline bint _blank(unsigned char c) noexcept nogil:
    return c == 32 or c == 9 or c == 10 or c == 13


cdef Py_ssize_t _scan_bytewise(const unsigned char *buf, Py_ssize_t lo, Py_ssize_t hi,
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


cdef inline uint64_t _at(const Py_buffer *v, Py_ssize_t i) noexcept nogil:
    # item i of a strided 1-D buffer of 8-byte integers
    return (<const uint64_t *>(<const char *>v.buf + i * v.strides[0]))[0]


def raw_form_regions(starts, ends, samples, ages, bint raw):
    """The region lines of ``report access --raw_form``, each ending in a
    newline: '%012x-%012x (%12s) %11d %5d' % (start, end, format_sz(end -
    start, raw), samples, age), an age of INT64_MIN (unknown) printed as -1.
    The columns: 1-D arrays, uint64 (starts, ends) and int64."""
    cdef _Buffers held = _Buffers()
    cdef Py_buffer *vs = held.take(starts, _U64, 8, 1, False, False, "starts")
    cdef Py_buffer *ve = held.take(ends, _U64, 8, 1, False, False, "ends")
    cdef Py_buffer *vn = held.take(samples, _I64, 8, 1, False, False, "samples")
    cdef Py_buffer *va = held.take(ages, _I64, 8, 1, False, False, "ages")
    cdef Py_ssize_t n = vs.shape[0], i, pos = 0
    cdef int sz_len
    cdef int64_t age
    cdef uint64_t s, e
    cdef char sz[32]
    cdef bytearray out
    cdef char *dst
    if ve.shape[0] != n or vn.shape[0] != n or va.shape[0] != n:
        raise ValueError("region columns disagree in length")
    out = bytearray(n * _MAX_LINE)
    dst = out
    with nogil:
        for i in range(n):
            s = _at(vs, i)
            e = _at(ve, i)
            pos += _hex12(dst + pos, s)
            dst[pos] = 45
            pos += 1
            pos += _hex12(dst + pos, e)
            dst[pos] = 32
            dst[pos + 1] = 40
            pos += 2
            sz_len = _format_sz(sz, e - s, raw)
            for _ in range(sz_len, 12):         # right-aligned, as '%12s'
                dst[pos] = 32
                pos += 1
            memcpy(dst + pos, sz, sz_len)
            pos += sz_len
            dst[pos] = 41
            dst[pos + 1] = 32
            pos += 2
            pos += _dec(dst + pos, <int64_t>_at(vn, i), 11)
            dst[pos] = 32
            pos += 1
            age = <int64_t>_at(va, i)
            pos += _dec(dst + pos, -1 if age == INT64_MIN else age, 5)
            dst[pos] = 10
            pos += 1
    del out[pos:]
    return out
