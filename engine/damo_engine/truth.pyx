"""Ground truth of one process at each aggregation, in one pass over its pages.

``TruthReducer`` keeps, per page of a truth-tracking address space, the
sampling-interval count it had at the last aggregation, its age (aggregation
intervals it has stayed accessed, or unaccessed) and whether it was accessed;
``reduce()`` walks every page once and sums what a snapshot's truth needs per
DAMON region and per heatmap piece, and the runs of pages of equal (region,
sample-count bin, age) from which damo.records.truth builds its histogram.
"""
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from libc.stdlib cimport calloc, malloc, realloc, free
from libc.string cimport memcpy, memset
from damo_engine.memory cimport AddressSpace, Vma, VmaData, gt_flush, PAGE_SHIFT

import numpy as np

cdef uint32_t AGE_MAX = 0xFFFFFFFEu


cdef class _Runs:
    """A growable (owner, bin, age, pages) table."""
    cdef int64_t *owner
    cdef int64_t *nrb
    cdef int64_t *age
    cdef int64_t *pages
    cdef int64_t n, cap

    def __cinit__(self):
        self.cap = 256
        self.n = 0
        self.owner = <int64_t *>malloc(self.cap * sizeof(int64_t))
        self.nrb = <int64_t *>malloc(self.cap * sizeof(int64_t))
        self.age = <int64_t *>malloc(self.cap * sizeof(int64_t))
        self.pages = <int64_t *>malloc(self.cap * sizeof(int64_t))
        if not (self.owner and self.nrb and self.age and self.pages):
            raise MemoryError()

    def __dealloc__(self):
        free(self.owner)
        free(self.nrb)
        free(self.age)
        free(self.pages)

    cdef int add(self, int64_t owner, int64_t nrb, int64_t age, int64_t pages) except -1:
        cdef int64_t cap
        if self.n == self.cap:
            cap = self.cap * 2
            self.owner = <int64_t *>_grow(self.owner, cap)
            self.nrb = <int64_t *>_grow(self.nrb, cap)
            self.age = <int64_t *>_grow(self.age, cap)
            self.pages = <int64_t *>_grow(self.pages, cap)
            self.cap = cap
        self.owner[self.n] = owner
        self.nrb[self.n] = nrb
        self.age[self.n] = age
        self.pages[self.n] = pages
        self.n += 1
        return 0

    def arrays(self):
        """The table as four numpy int64 arrays (rows of one)."""
        out = np.empty((4, self.n), np.int64)
        cdef int64_t[:, ::1] t = out
        if self.n:
            memcpy(&t[0, 0], self.owner, self.n * sizeof(int64_t))
            memcpy(&t[1, 0], self.nrb, self.n * sizeof(int64_t))
            memcpy(&t[2, 0], self.age, self.n * sizeof(int64_t))
            memcpy(&t[3, 0], self.pages, self.n * sizeof(int64_t))
        return out[0], out[1], out[2], out[3]


cdef void *_grow(void *p, int64_t cap) except NULL:
    cdef void *q = realloc(p, cap * sizeof(int64_t))
    if q == NULL:
        raise MemoryError()
    return q


cdef class _VmaState:
    """A VMA's pages as the reducer last saw them."""
    cdef uint32_t *base         # its sampling-interval count
    cdef uint32_t *since        # the reduction its accessed-or-not state began at
    cdef uint8_t *was           # accessed in the last interval
    cdef int64_t npages
    cdef uint64_t mods          # VmaData.gt_mods then
    cdef bint idle              # every page unaccessed: since[] as runs below
    cdef int64_t *run_lo        # run j of equal since[]: pages [run_lo[j], run_lo[j + 1])
    cdef uint32_t *run_since
    cdef int64_t nr_runs

    def __cinit__(self, int64_t npages, uint32_t now):
        cdef int64_t k
        self.npages = npages
        self.base = <uint32_t *>calloc(npages + 1, sizeof(uint32_t))
        self.since = <uint32_t *>malloc((npages + 1) * sizeof(uint32_t))
        self.was = <uint8_t *>calloc(npages + 1, sizeof(uint8_t))
        if self.base == NULL or self.since == NULL or self.was == NULL:
            raise MemoryError()
        for k in range(npages):
            self.since[k] = now
        self.mods = <uint64_t>-1
        self.idle = False

    def __dealloc__(self):
        free(self.base)
        free(self.since)
        free(self.was)
        free(self.run_lo)
        free(self.run_since)

    cdef int runs(self) except -1:
        """since[] as runs of equal values (for the idle, untouched VMA's
        reductions that follow: O(runs + regions), not O(pages))."""
        cdef int64_t k, j = 0, n = 1 if self.npages else 0
        for k in range(1, self.npages):
            n += self.since[k] != self.since[k - 1]
        free(self.run_lo)
        free(self.run_since)
        self.run_lo = <int64_t *>malloc((n + 1) * sizeof(int64_t))
        self.run_since = <uint32_t *>malloc((n + 1) * sizeof(uint32_t))
        if self.run_lo == NULL or self.run_since == NULL:
            raise MemoryError()
        for k in range(self.npages):
            if k == 0 or self.since[k] != self.since[k - 1]:
                self.run_lo[j] = k
                self.run_since[j] = self.since[k]
                j += 1
        self.run_lo[n] = self.npages
        self.nr_runs = n
        return 0


cdef class TruthReducer:
    """Per-aggregation truth of one address space, from its start or the
    moment the reducer is made (what happened before is no interval's)."""
    cdef dict vmas          # VMA start -> _VmaState
    cdef readonly uint32_t epoch
    cdef uint32_t now       # reductions so far: a page's age is now - since
    cdef _Runs cells        # reused by every reduction
    cdef int64_t *work      # per-region sums and piece bounds, per-piece sums
    cdef int64_t work_len

    def __dealloc__(self):
        free(self.work)

    def __init__(self, AddressSpace mm):
        cdef int i
        cdef VmaData *v
        cdef _VmaState st
        cdef int64_t k
        self.vmas = {}
        self.epoch = mm.mm.gt_epoch
        self.now = 0
        if not mm.mm.track_ground_truth:
            raise ValueError("the address space does not track the ground truth")
        for h in mm.truth_vmas():
            v = (<Vma>h).v
            gt_flush(v)
            st = _VmaState(v.end_li - v.first_li, 1)
            for k in range(st.npages):
                st.base[k] = v.gt_samples[v.first_li + k]
            self.vmas[v.start] = st

    def reduce(self, AddressSpace mm, const uint64_t[::1] starts, const uint64_t[::1] ends,
               int64_t nr_pieces, int64_t width):
        """(sampling intervals since the last call, bytes accessed, and per
        region: bytes accessed, mean interval count of its pages, number of
        heatmap pieces (nr_pieces spread by size, at least one per region, at
        most one per page); per piece: mean interval count; the cells
        (region, count bin, age, pages): each region's pages grouped by
        (count // width * width, age), its unmapped pages as (0, NEVER),
        grouped by region in order; whether a region has a repeated cell)
        for the sorted regions [starts, ends).  Piece j of a region of P
        pages starts at page P * j // k of it.

        A VMA nobody touched since the last call whose pages were all idle
        since one reduction costs O(regions over it), not O(pages)."""
        cdef int64_t n = starts.shape[0], npc = 0, total = 0, extra, j, rp, r
        acc_arr = np.zeros(n, np.int64)
        k_arr = np.zeros(n, np.int64)
        cdef int64_t[::1] accessed = acc_arr, pk = k_arr
        # sums (n), pfirst (n + 1) and psum (at most nr_pieces + n): C scratch
        cdef int64_t need = 3 * n + 1 + (nr_pieces if nr_pieces > 0 else 0)
        cdef int64_t *grown
        if need > self.work_len:
            grown = <int64_t *>realloc(self.work, need * sizeof(int64_t))
            if grown == NULL:
                raise MemoryError()
            self.work = grown
            self.work_len = need
        memset(self.work, 0, need * sizeof(int64_t))
        cdef int64_t *sums = self.work
        cdef int64_t *pfirst = self.work + n
        cdef int64_t *psum = self.work + 2 * n + 1
        for r in range(n):
            total += <int64_t>((ends[r] - starts[r]) >> PAGE_SHIFT)
        extra = nr_pieces - n if nr_pieces > n else 0
        for r in range(n):
            rp = <int64_t>((ends[r] - starts[r]) >> PAGE_SHIFT)
            pk[r] = 1 + rp * extra // (total if total > 0 else 1)
            if pk[r] > (rp if rp > 0 else 1):
                pk[r] = rp if rp > 0 else 1
            pfirst[r + 1] = pfirst[r] + pk[r]
        npc = pfirst[n]
        cdef int64_t pj = 0, last_r = -1, o, kr, r_page
        r = 0
        if self.cells is None:
            self.cells = _Runs()
        cdef _Runs cells = self.cells
        cells.n = 0
        cdef dict seen = {}
        cdef int i
        cdef VmaData *v
        cdef _VmaState st
        cdef int64_t li, k, q = 0, wss = 0, region_first = 0, mapped = 0
        cdef int64_t seg_hi, p_hi, nrb, run_nrb = 0, run_age = 0, run_len = 0
        cdef int64_t v_hi, acc_sum, smp_sum, ri
        cdef uint64_t base_page
        cdef uint32_t cur, smp, since, now, first_since, age
        cdef uint8_t acc
        cdef bint quiet, dup = False, all_idle, same_since, inside
        if width < 1:
            width = 1
        self.now += 1
        now = self.now
        # (an exited process's: the pages it exited with, as they were)
        handles = None if mm.mm.alive else mm.truth_vmas()
        for i in range(mm.mm.nr_vmas if handles is None else len(handles)):
            v = mm.mm.vmas[i] if handles is None else (<Vma>handles[i]).v
            gt_flush(v)
            st = self.vmas.get(v.start)
            if st is None or st.npages != v.end_li - v.first_li:
                st = _VmaState(v.end_li - v.first_li, now)
            seen[v.start] = st
            quiet = st.idle and st.mods == v.gt_mods
            st.mods = v.gt_mods
            ri = 0
            all_idle = True
            same_since = True
            first_since = st.since[0] if st.npages else now
            base_page = <uint64_t>(v.first_li + v.origin_page)
            v_hi = st.npages
            k = 0
            while k < v_hi:
                # the region holding page k, or the gap before the next one
                while r < n and (ends[r] >> PAGE_SHIFT) <= base_page + k:
                    _finish_region(cells, r, region_first, starts[r], ends[r], mapped,
                                   run_nrb, run_age, run_len, &dup)
                    region_first = cells.n
                    mapped = 0
                    run_len = 0
                    r += 1
                inside = r < n and (starts[r] >> PAGE_SHIFT) <= base_page + k
                if inside:
                    seg_hi = <int64_t>((ends[r] >> PAGE_SHIFT) - base_page)
                elif r < n:
                    seg_hi = <int64_t>((starts[r] >> PAGE_SHIFT) - base_page)
                else:
                    seg_hi = v_hi
                if seg_hi > v_hi:
                    seg_hi = v_hi
                if quiet:
                    # nothing changed: every page still idle, its age one more
                    if inside:
                        mapped += seg_hi - k
                        while k < seg_hi:
                            while st.run_lo[ri + 1] <= k:
                                ri += 1
                            p_hi = st.run_lo[ri + 1] if st.run_lo[ri + 1] < seg_hi else seg_hi
                            _add_run(cells, r, region_first, 0, _age(now, st.run_since[ri]),
                                     p_hi - k, &run_nrb, &run_age, &run_len, &dup)
                            k = p_hi
                    k = seg_hi
                    continue
                if not inside:
                    # pages outside every region: their state only
                    for li in range(k, seg_hi):
                        cur = v.gt_samples[v.first_li + li]
                        smp = cur - st.base[li]
                        st.base[li] = cur
                        acc = smp > 0
                        if acc != st.was[li]:
                            st.since[li] = now
                            st.was[li] = acc
                        all_idle &= not acc
                        same_since &= st.since[li] == first_since
                        wss += acc
                    k = seg_hi
                    continue
                mapped += seg_hi - k
                # the region's pieces within [k, seg_hi)
                if r != last_r:
                    last_r = r
                    pj = 0
                rp = <int64_t>((ends[r] - starts[r]) >> PAGE_SHIFT)
                kr = pk[r]
                r_page = <int64_t>(starts[r] >> PAGE_SHIFT)
                while k < seg_hi:
                    o = <int64_t>base_page + k - r_page
                    while pj + 1 < kr and rp * (pj + 1) // kr <= o:
                        pj += 1
                    q = pfirst[r] + pj
                    p_hi = seg_hi
                    if pj + 1 < kr and r_page + rp * (pj + 1) // kr - <int64_t>base_page < p_hi:
                        p_hi = r_page + rp * (pj + 1) // kr - <int64_t>base_page
                    acc_sum = 0
                    smp_sum = 0
                    if p_hi - k >= 8 and _uniform(&v.gt_samples[v.first_li], st.base, st.since,
                                                  st.was, k, p_hi):
                        # the common case (a pass over a whole range, or none):
                        # every page of the segment alike, one run
                        smp = v.gt_samples[v.first_li + k] - st.base[k]
                        memcpy(&st.base[k], &v.gt_samples[v.first_li + k],
                               (p_hi - k) * sizeof(uint32_t))
                        acc = smp > 0
                        if acc != st.was[k]:
                            for li in range(k, p_hi):
                                st.since[li] = now
                            memset(&st.was[k], acc, p_hi - k)
                        since = st.since[k]
                        all_idle &= not acc
                        same_since &= since == first_since
                        acc_sum = acc * (p_hi - k)
                        smp_sum = <int64_t>smp * (p_hi - k)
                        nrb = smp if width == 1 else (smp // width) * width
                        age = now - since
                        if age > AGE_MAX:
                            age = AGE_MAX
                        _add_run(cells, r, region_first, nrb, age, p_hi - k,
                                 &run_nrb, &run_age, &run_len, &dup)
                        accessed[r] += acc_sum
                        sums[r] += smp_sum
                        psum[q] += smp_sum
                        wss += acc_sum
                        k = p_hi
                        continue
                    for li in range(k, p_hi):
                        cur = v.gt_samples[v.first_li + li]
                        smp = cur - st.base[li]
                        st.base[li] = cur
                        acc = smp > 0
                        if acc != st.was[li]:
                            st.since[li] = now
                            st.was[li] = acc
                        since = st.since[li]
                        all_idle &= not acc
                        same_since &= since == first_since
                        acc_sum += acc
                        smp_sum += smp
                        nrb = smp if width == 1 else (smp // width) * width
                        age = now - since
                        if age > AGE_MAX:
                            age = AGE_MAX
                        if run_len and run_nrb == nrb and run_age == age:
                            run_len += 1        # the common case, inline
                        else:
                            _add_run(cells, r, region_first, nrb, age, 1,
                                     &run_nrb, &run_age, &run_len, &dup)
                    accessed[r] += acc_sum
                    sums[r] += smp_sum
                    psum[q] += smp_sum
                    wss += acc_sum
                    k = p_hi
            if not quiet:
                st.idle = all_idle
                if all_idle:
                    st.runs()
        while r < n:
            _finish_region(cells, r, region_first, starts[r], ends[r], mapped, run_nrb,
                           run_age, run_len, &dup)
            region_first = cells.n
            mapped = 0
            run_len = 0
            r += 1
        self.vmas = seen
        nr_samples = mm.mm.gt_epoch - self.epoch
        self.epoch = mm.mm.gt_epoch
        mean_arr = np.zeros(n, np.float64)
        pnr_arr = np.zeros(npc, np.float32)
        cdef double[::1] mean = mean_arr
        cdef float[::1] pnr = pnr_arr
        cdef int64_t pages
        for r in range(n):
            rp = <int64_t>((ends[r] - starts[r]) >> PAGE_SHIFT)
            accessed[r] <<= PAGE_SHIFT
            mean[r] = sums[r] / <double>rp if rp > 0 else 0.0
            kr = pk[r]
            for j in range(kr):
                pages = rp * (j + 1) // kr - rp * j // kr
                pnr[pfirst[r] + j] = psum[pfirst[r] + j] / <double>(pages if pages > 0 else 1)
        cnt_arr = np.zeros(n, np.int64)
        cdef int64_t[::1] cnt = cnt_arr
        for j in range(cells.n):
            cnt[cells.owner[j]] += 1
        return (nr_samples, wss << PAGE_SHIFT, acc_arr, mean_arr, k_arr, pnr_arr,
                cells.arrays(), cnt_arr, dup)


cdef uint32_t NEVER = 0xFFFFFFFFu


cdef inline bint _uniform(const uint32_t *samples, const uint32_t *base, const uint32_t *since,
                          const uint8_t *was, int64_t lo, int64_t hi) noexcept nogil:
    """Whether pages [lo, hi) all have the same new interval count, state
    and start of that state (branch-free, so that it vectorizes)."""
    cdef uint32_t d0 = samples[lo] - base[lo], s0 = since[lo], diff = 0
    cdef uint32_t w0 = was[lo]
    cdef int64_t i
    for i in range(lo + 1, hi):
        diff |= ((samples[i] - base[i]) ^ d0) | (since[i] ^ s0) | (was[i] ^ w0)
    return diff == 0


cdef inline int64_t _age(uint32_t now, uint32_t since) noexcept nogil:
    cdef uint32_t age = now - since
    return age if age <= AGE_MAX else AGE_MAX


cdef inline int _add_run(_Runs cells, int64_t r, int64_t first, int64_t nrb, int64_t age,
                         int64_t pages, int64_t *run_nrb, int64_t *run_age, int64_t *run_len,
                         bint *dup) except -1:
    """pages more of (nrb, age) in region r: the current run, or a new one."""
    if run_len[0] and run_nrb[0] == nrb and run_age[0] == age:
        run_len[0] += pages
        return 0
    if run_len[0]:
        _add_cell(cells, r, first, run_nrb[0], run_age[0], run_len[0], dup)
    run_nrb[0] = nrb
    run_age[0] = age
    run_len[0] = pages
    return 0


cdef int _add_cell(_Runs cells, int64_t r, int64_t first, int64_t nrb, int64_t age,
                   int64_t pages, bint *dup) except -1:
    """pages more in region r's cell (nrb, age), its cells from index first."""
    cdef int64_t j
    if cells.n - first <= 64:
        for j in range(first, cells.n):
            if cells.nrb[j] == nrb and cells.age[j] == age:
                cells.pages[j] += pages
                return 0
    else:
        dup[0] = True           # not searched: damo.records.truth groups them
    cells.add(r, nrb, age, pages)
    return 0


cdef int _finish_region(_Runs cells, int64_t r, int64_t first, uint64_t start, uint64_t end,
                        int64_t mapped, int64_t nrb, int64_t age, int64_t run_len,
                        bint *dup) except -1:
    cdef int64_t unmapped = <int64_t>((end - start) >> PAGE_SHIFT) - mapped
    if run_len:
        _add_cell(cells, r, first, nrb, age, run_len, dup)
    if unmapped > 0:
        _add_cell(cells, r, first, 0, NEVER, unmapped, dup)
    return 0
