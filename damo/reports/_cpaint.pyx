"""C loop painting ``damo report heatmap``'s pixels.

Optional: damo.reports.heatmap paints with numpy when this module is not
built, and takes the same heats to the last bit (tests/test_heatmap_cpaint.py
compares the two on random recordings).

``paint_record`` takes a record's regions in damo's order (snapshot by
snapshot, region by region) and, for each, the pixels it overlaps row by row:
it computes the region's contribution to each in the float64 operations of
the numpy path (in the same order; numpy's minimum and maximum, trunc, int64
wrap-around) and folds it into the pixel at once.  Every pixel so takes its
contributions in region order, which is all the fold depends on; and the
columns are read as they are, with no temporary (the numpy path holds some
100 bytes per (region, pixel) overlap, and a few columns per batch).
setup.py builds this without FMA contraction, so that ``c + h * P`` rounds
twice, as numpy's does.
"""
from libc.math cimport fabs, trunc
from libc.stdint cimport int64_t, uint64_t

include "../_cbuffers.pxi"


cdef double _EXACT_FLOAT = 9007199254740992.0      # 2**53


cdef inline double _minimum(double a, double b) noexcept nogil:
    # np.minimum: NaN propagates; of two equal values, the second
    return a if (a < b or a != a) else b


cdef inline double _maximum(double a, double b) noexcept nogil:
    return a if (a > b or a != a) else b


cdef inline int64_t _index(double x, int64_t resol) noexcept nogil:
    """heatmap._trunc_index of one value: truncated toward zero, NaN as -1,
    clipped to [-1, resol]."""
    if not x > -1.0:
        return -1
    if x >= <double>resol:
        return resol
    return <int64_t>x


cdef inline int64_t _wrap_add(int64_t a, int64_t b) noexcept nogil:
    # numpy's int64 arithmetic wraps around
    return <int64_t>(<uint64_t>a + <uint64_t>b)


cdef inline int64_t _wrap_sub(int64_t a, int64_t b) noexcept nogil:
    return <int64_t>(<uint64_t>a - <uint64_t>b)


cdef double _exact(double heat, double account_time, bint sz_int, int64_t sz_i,
                   double sz_f) except? -1.0:
    """damo multiplies integer samples, times and sizes exactly (the numpy
    path's float(int(a) * int(b) * int(c))); OverflowError as there for an
    infinite value."""
    cdef object sz = sz_i if sz_int else int(<object>sz_f)
    return float(int(<object>heat) * int(<object>account_time) * sz)


cdef struct _Map:
    double *heats
    unsigned char *painted
    int64_t time_resol, addr_resol
    double time_start, time_unit, pixel_space
    bint start_int, unit_int, end_int, addr_int
    int64_t start_i, unit_i, end_i
    double start_f, unit_f, end_f


cdef int _paint_region(const _Map *m, int64_t s, int64_t e, double observe, double row_from,
                       double snap_end, double hv, bint heat_is_int) except -1:
    """Fold one region's contributions into the pixels it overlaps, row by
    row (HeatMap._paint_batch's operations, one (region, pixel) at a time)."""
    cdef int64_t r, c, r0, r1, c0, c1, pa_i, pa_end, sz_i = 0
    cdef Py_ssize_t p
    cdef double pt, account_time, pa_f, sz_f, partial, contribution, h
    # the map's values in locals: a store to a heat may alias the struct's
    cdef double *heats = m.heats
    cdef unsigned char *painted = m.painted
    cdef double P = m.pixel_space, time_start = m.time_start, time_unit = m.time_unit
    cdef double start_f = m.start_f, unit_f = m.unit_f
    cdef int64_t start_i = m.start_i, unit_i = m.unit_i, addr_resol = m.addr_resol
    cdef bint addr_int = m.addr_int, unit_int = m.unit_int
    # outside the map's addresses (damo's skip; a region ending at the map's
    # start still touches its first column)
    if (e < start_i) if m.start_int else (<double>e < start_f):
        return 0
    if (m.end_i < s) if m.end_int else (m.end_f < <double>s):
        return 0
    r0 = _index(trunc((row_from - time_start) / time_unit), m.time_resol)
    r1 = _index(trunc((snap_end - time_start) / time_unit), m.time_resol)
    if r0 < 0:
        r0 = 0
    if r1 > m.time_resol - 1:
        r1 = m.time_resol - 1
    if r0 > r1:
        return 0
    if m.start_int:
        c0 = _index(trunc(<double>_wrap_sub(s, start_i) / unit_f), addr_resol)
        c1 = _index(trunc(<double>_wrap_sub(e, start_i) / unit_f), addr_resol)
    else:
        c0 = _index(trunc((<double>s - start_f) / unit_f), addr_resol)
        c1 = _index(trunc((<double>e - start_f) / unit_f), addr_resol)
    if c0 < 0:
        c0 = 0
    if c1 > addr_resol - 1:
        c1 = addr_resol - 1
    for r in range(r0, r1 + 1):
        pt = trunc(time_start + <double>r * time_unit)
        account_time = _minimum(snap_end, pt + time_unit) - _maximum(observe, pt)
        partial = hv * account_time
        for c in range(c0, c1 + 1):
            if addr_int:
                pa_i = _wrap_add(start_i, <int64_t>(<uint64_t>c * <uint64_t>unit_i))
                pa_end = _wrap_add(pa_i, unit_i)
                sz_i = _wrap_sub(e if e < pa_end else pa_end, s if s > pa_i else pa_i)
                sz_f = <double>sz_i
            else:
                if unit_int:
                    pa_f = trunc(<double>(<int64_t>(<uint64_t>c * <uint64_t>unit_i))
                                 + start_f)
                else:
                    pa_f = trunc(<double>c * unit_f + start_f)
                sz_f = _minimum(<double>e, pa_f + unit_f) - _maximum(<double>s, pa_f)
            contribution = partial * sz_f
            if heat_is_int and fabs(partial) >= _EXACT_FLOAT \
                    and account_time == trunc(account_time):
                contribution = _exact(hv, account_time, addr_int, sz_i, sz_f)
            p = r * addr_resol + c
            if painted[p]:
                h = heats[p]
            else:
                painted[p] = 1
                h = 0.0
            heats[p] = (contribution + h * P) / P
    return 0


def paint_record(heats, painted,
                 Py_ssize_t time_resol, Py_ssize_t addr_resol,
                 double time_start, double time_unit, double pixel_space,
                 bint start_int, int64_t start_i, double start_f,
                 bint unit_int, int64_t unit_i, double unit_f,
                 bint end_int, int64_t end_i, double end_f,
                 offsets_obj, start_ns_obj, end_ns_obj, double prev_end,
                 starts_obj, ends_obj, samples_i_obj, samples_f_obj, ages_obj,
                 double aggr_ns, aggr_s_obj, bint df_passed, passed_obj):
    """Fold one record's contributions (snapshot by snapshot, region by
    region) into ``heats`` (row-major, ``time_resol`` x ``addr_resol``);
    ``painted`` marks the pixels that took one (an unpainted pixel starts
    from 0).

    The map's address start, unit and end come as (is an int, as int64, as
    float): numpy computes in int64 or in float64 by their types.  The
    record comes as HeatMap._record_columns gives it: snapshot times as
    float64, the end of the snapshot before (NaN if none), the region
    columns, and with intervals (``aggr_s`` not None) the ages, the
    aggregation interval in ns and each snapshot's in seconds; ``passed``
    None with ``df_passed`` means nothing passed.  The samples are int64
    (``samples_i``) or float64 (``samples_f``: report accuracy's truth), the
    other None."""
    cdef _Buffers held = _Buffers()
    cdef Py_buffer *vh = held.take(heats, _F64, 8, 1, True, True, "heats")
    cdef Py_buffer *vp = held.take(painted, _U8, 1, 1, True, True, "painted")
    cdef Py_buffer *vo = held.take(offsets_obj, _I64, 8, 1, False, True, "offsets")
    cdef Py_buffer *vsn = held.take(start_ns_obj, _F64, 8, 1, False, True, "start_ns")
    cdef Py_buffer *ven = held.take(end_ns_obj, _F64, 8, 1, False, True, "end_ns")
    cdef Py_buffer *vs = held.take(starts_obj, _I64, 8, 1, False, True, "starts")
    cdef Py_buffer *ve = held.take(ends_obj, _I64, 8, 1, False, True, "ends")
    cdef Py_buffer *vsi = NULL
    cdef Py_buffer *vsf = NULL
    cdef Py_buffer *va = NULL
    cdef Py_buffer *vag = NULL
    cdef Py_buffer *vpa = NULL
    if samples_i_obj is not None:
        vsi = held.take(samples_i_obj, _I64, 8, 1, False, True, "samples_i")
    if samples_f_obj is not None:
        vsf = held.take(samples_f_obj, _F64, 8, 1, False, True, "samples_f")
    if ages_obj is not None:
        va = held.take(ages_obj, _I64, 8, 1, False, True, "ages")
    if aggr_s_obj is not None:
        vag = held.take(aggr_s_obj, _F64, 8, 1, False, True, "aggr_s")
    if passed_obj is not None:
        vpa = held.take(passed_obj, _I64, 8, 1, False, True, "passed")
    cdef Py_ssize_t n = vs.shape[0], nr_snapshots = ven.shape[0]
    cdef Py_ssize_t nr_heats = vh.shape[0]
    cdef const int64_t *offsets = <const int64_t *>vo.buf
    cdef const double *start_ns = <const double *>vsn.buf
    cdef const double *end_ns = <const double *>ven.buf
    cdef const int64_t *starts = <const int64_t *>vs.buf
    cdef const int64_t *ends = <const int64_t *>ve.buf
    cdef const int64_t *samples_i = <const int64_t *>vsi.buf if vsi != NULL else NULL
    cdef const double *samples_f = <const double *>vsf.buf if vsf != NULL else NULL
    cdef const int64_t *ages = <const int64_t *>va.buf if va != NULL else NULL
    cdef const double *aggr_s = <const double *>vag.buf if vag != NULL else NULL
    cdef const int64_t *passed = <const int64_t *>vpa.buf if vpa != NULL else NULL
    cdef Py_ssize_t sidx, i
    cdef bint with_intervals = vag != NULL
    cdef bint has_passed = vpa != NULL
    cdef bint int_samples = vsi != NULL
    cdef bint heat_is_int = not with_intervals and not df_passed
    cdef double snap_start, snap_end, prev, observe, row_from, hv
    cdef int64_t s, e, pass_i
    cdef _Map m
    if nr_heats != time_resol * addr_resol or vp.shape[0] != nr_heats:
        raise ValueError("paint_record: %d heats, %d marks for %d x %d pixels" % (
            nr_heats, vp.shape[0], time_resol, addr_resol))
    if vsn.shape[0] != nr_snapshots or vo.shape[0] != nr_snapshots + 1 \
            or ve.shape[0] != n or int_samples == (vsf != NULL) \
            or (vsi.shape[0] if int_samples else vsf.shape[0]) != n \
            or (with_intervals and (va == NULL or va.shape[0] != n
                                    or vag.shape[0] != nr_snapshots)) \
            or (has_passed and vpa.shape[0] != n):
        raise ValueError("paint_record: columns of different lengths")
    if offsets[0] != 0 or offsets[nr_snapshots] != n:
        raise ValueError("paint_record: offsets do not index the regions")
    for sidx in range(nr_snapshots):
        if offsets[sidx] > offsets[sidx + 1]:
            raise ValueError("paint_record: offsets do not index the regions")
    if n == 0 or nr_heats == 0:
        return
    m.heats = <double *>vh.buf
    m.painted = <unsigned char *>vp.buf
    m.time_resol, m.addr_resol = time_resol, addr_resol
    m.time_start, m.time_unit, m.pixel_space = time_start, time_unit, pixel_space
    m.start_int, m.start_i, m.start_f = start_int, start_i, start_f
    m.unit_int, m.unit_i, m.unit_f = unit_int, unit_i, unit_f
    m.end_int, m.end_i, m.end_f = end_int, end_i, end_f
    m.addr_int = start_int and unit_int
    prev = prev_end
    for sidx in range(nr_snapshots):
        snap_start = start_ns[sidx]
        snap_end = end_ns[sidx]
        for i in range(offsets[sidx], offsets[sidx + 1]):
            s = starts[i]
            e = ends[i]
            # the columns of HeatMap._regions, one region at a time
            if with_intervals:
                observe = snap_start - <double>ages[i] * aggr_ns
                if observe < prev:
                    observe = prev
                row_from = observe
                hv = (<double>samples_i[i] if int_samples else samples_f[i]) / aggr_s[sidx]
            else:
                observe = snap_start
                row_from = prev if snap_start < prev else snap_start
                hv = <double>samples_i[i] if int_samples else samples_f[i]
            if df_passed:
                pass_i = passed[i] if has_passed else 0
                if with_intervals or not int_samples:
                    hv = hv * <double>pass_i / <double>_wrap_sub(e, s)
                else:
                    hv = <double>(<int64_t>(<uint64_t>samples_i[i] * <uint64_t>pass_i)) \
                        / <double>_wrap_sub(e, s)
            _paint_region(&m, s, e, observe, row_from, snap_end, hv, heat_is_int)
        prev = snap_end


# ---------------------------------------------------------------- rendering
# The terminal map's min, max and levels in C: numpy's reductions and string
# arrays paged in more of its code (some 200 KiB) than the 3,200 pixels of a
# terminal map take to render, which kept a 100 x 100 heatmap's peak memory
# over damo 3.4.3's.

def heat_range(heats):
    """(lowest, highest) of the heats that are not NaN, as damo's loop over
    the pixels keeps them (the first of equal ones), or None if all are."""
    cdef _Buffers held = _Buffers()
    cdef Py_buffer *vh = held.take(heats, _F64, 8, 1, False, True, "heats")
    cdef const double *h = <const double *>vh.buf
    cdef Py_ssize_t i, n = vh.shape[0]
    cdef double lo = 0, hi = 0, x
    cdef bint found = False
    for i in range(n):
        x = h[i]
        if x != x:
            continue
        if not found:
            lo = hi = x
            found = True
        if hi < x:
            hi = x
        if lo > x:
            lo = x
    return (lo, hi) if found else None


def heat_lines(heats, Py_ssize_t addr_resol, double lowest, double unit, list cells,
               str end):
    """The terminal map's rows: for each pixel cells[level + 1], its level
    damo's min(int((heat - lowest) / unit), 9), -1 where the heat is NaN;
    ``addr_resol`` pixels a row, each row followed by ``end``.  None if a
    level is no finite number (numpy's path decides then)."""
    cdef _Buffers held = _Buffers()
    cdef Py_buffer *vh = held.take(heats, _F64, 8, 1, False, True, "heats")
    cdef const double *h = <const double *>vh.buf
    cdef Py_ssize_t i, j, n = vh.shape[0], level
    cdef double x
    cdef list lines = [], row
    if len(cells) != 11 or addr_resol <= 0 or n % addr_resol:
        raise ValueError("heat_lines: 11 cells and whole rows expected")
    for i in range(0, n, addr_resol):
        row = []
        for j in range(i, i + addr_resol):
            x = h[j]
            if x != x:
                level = -1
            else:
                x = (x - lowest) / unit
                if x != x or x > 1.7976931348623157e308 or x <= -1.0:
                    return None
                level = 9 if x >= 9.0 else <Py_ssize_t>x
            row.append(cells[level + 1])
        lines.append("".join(row) + end)
    return lines


def int64_range(values):
    """(min, max) of an int64 column and 0, as numpy's .min(initial=0) and
    .max(initial=0) give them (HeatMap's check of region ages)."""
    cdef _Buffers held = _Buffers()
    cdef Py_buffer *v = held.take(values, _I64, 8, 1, False, False, "values")
    cdef Py_ssize_t i, n = v.shape[0], stride = v.strides[0]
    cdef const char *p = <const char *>v.buf
    cdef int64_t lo = 0, hi = 0, x
    for i in range(n):
        x = (<const int64_t *>(p + i * stride))[0]
        if x < lo:
            lo = x
        if x > hi:
            hi = x
    return lo, hi
