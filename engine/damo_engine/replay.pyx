"""Replaying a DAMON recording's access pattern.

``ReplayWorkload`` is a simulated process that accesses memory the way a
recording says its target did: each snapshot's time is cut into
aggr/sample slices, as damo's ``replay`` does, and in slice i the regions
whose nr_accesses is above i are worked on for the whole slice (see the
class).  A DAMON sampling the process then finds a region accessed in about
nr_accesses of its sampling intervals, and the work costs what the memory
it sits on makes it cost (by tier, faults and swap-ins included).

``RealBuffer`` does the same to real memory, from compiled code: an
anonymous mapping laid out like the recording's address ranges, whose pages
are touched (written the first time, so each gets its own frame; read
after) in the recorded pattern, paced to the recording's time or as fast as
possible.
"""
from libc.stdint cimport int32_t, uint32_t, uint64_t, int64_t
from libc.stdlib cimport malloc, calloc, free
from posix.mman cimport mmap, munmap, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, \
    MAP_FAILED
from posix.time cimport clock_gettime, nanosleep, timespec, CLOCK_MONOTONIC

from damo_engine.memory cimport (AddressSpace, Machine, VmaData, CostTable, mm_find_vma,
                                 vma_li, PAGE_SHIFT, PAGE_SIZE, AK_PAGE_R)
from damo_engine.workloads cimport Workload

import numpy as np

cdef extern from *:
    """
    #include <stdint.h>
    #ifndef MAP_NORESERVE
    #define MAP_NORESERVE 0x4000
    #endif
    /* Touch one byte in the middle of each page of the regions whose samples
       exceed `slice` (all regions when slice < 0): a write the first time (the
       page then gets a frame of its own instead of the shared zero page), a
       read after.  Returns the pages touched; *sink keeps the reads alive. */
    static uint64_t rr_touch(unsigned char *base, const uint64_t *off,
                             const uint64_t *npages, const int32_t *samples,
                             int64_t nreg, int64_t slice, uint64_t *populated,
                             uint64_t *sink)
    {
        uint64_t touched = 0, s = 0;
        for (int64_t r = 0; r < nreg; r++) {
            if (slice >= 0 && samples[r] <= slice)
                continue;
            uint64_t pg = off[r] >> 12, n = npages[r];
            unsigned char *q = base + (pg << 12) + 2048;
            for (uint64_t j = 0; j < n; j++, pg++, q += 4096) {
                uint64_t bit = 1ull << (pg & 63);
                if (populated[pg >> 6] & bit) {
                    __builtin_prefetch(q + 16 * 4096);
                    s += *(volatile unsigned char *)q;
                } else {
                    *(volatile unsigned char *)q = 1;
                    populated[pg >> 6] |= bit;
                }
            }
            touched += n;
        }
        *sink += s;
        return touched;
    }
    """
    uint64_t rr_touch(unsigned char *base, const uint64_t *off, const uint64_t *npages,
                      const int32_t *samples, int64_t nreg, int64_t slice,
                      uint64_t *populated, uint64_t *sink) nogil
    int MAP_NORESERVE


cdef double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


cdef void _wait_until(double deadline) noexcept nogil:
    cdef timespec ts
    cdef double left = deadline - _now()
    while left > 0.0002:
        left -= 0.0001                  # wake early, spin the rest
        ts.tv_sec = <long>left
        ts.tv_nsec = <long>((left - ts.tv_sec) * 1e9)
        nanosleep(&ts, NULL)
        left = deadline - _now()
    while _now() < deadline:
        pass


cdef class RealBuffer:
    """An anonymous mapping of ``size`` bytes (pages allocated on first
    touch) and which of its pages have been touched."""
    cdef unsigned char *base
    cdef readonly uint64_t size
    cdef uint64_t *populated
    cdef readonly uint64_t sink

    def __cinit__(self, uint64_t size):
        cdef void *p
        if size == 0 or size % PAGE_SIZE:
            raise ValueError("the buffer size must be a positive multiple of 4 KiB")
        p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        if p == MAP_FAILED:
            raise MemoryError("cannot map %d MiB for the replay" % (size >> 20))
        self.base = <unsigned char *>p
        self.size = size
        self.populated = <uint64_t *>calloc((size // PAGE_SIZE + 63) // 64 + 1, 8)
        if self.populated == NULL:
            munmap(p, size)
            self.base = NULL
            raise MemoryError()

    def __dealloc__(self):
        if self.base != NULL:
            munmap(self.base, self.size)
        free(self.populated)

    def touch(self, offsets, npages, samples=None, int64_t slice=-1):
        """Touch every page of the regions (byte offsets, page counts) whose
        samples exceed ``slice`` (all with slice -1).  Returns pages touched."""
        cdef uint64_t[::1] off = np.ascontiguousarray(offsets, dtype=np.uint64)
        cdef uint64_t[::1] npg = np.ascontiguousarray(npages, dtype=np.uint64)
        cdef int32_t[::1] smp
        cdef int64_t n = off.shape[0]
        cdef uint64_t done
        if samples is None:
            samples = np.zeros(n, dtype=np.int32)
        smp = np.ascontiguousarray(samples, dtype=np.int32)
        self._check(off, npg, smp)
        if n == 0:
            return 0
        with nogil:
            done = rr_touch(self.base, &off[0], &npg[0], &smp[0], n, slice,
                            self.populated, &self.sink)
        return done

    cdef int _check(self, uint64_t[::1] off, uint64_t[::1] npg, int32_t[::1] smp) except -1:
        cdef int64_t i
        if npg.shape[0] != off.shape[0] or smp.shape[0] != off.shape[0]:
            raise ValueError("region columns disagree in length")
        for i in range(off.shape[0]):
            if off[i] % PAGE_SIZE or off[i] + npg[i] * PAGE_SIZE > self.size:
                raise ValueError("region %d is outside the buffer" % i)
        return 0

    def play_snapshot(self, offsets, npages, samples, int64_t nr_slices,
                      double slice_s, double start_s, bint paced):
        """One snapshot: ``nr_slices`` slices of ``slice_s`` seconds; in slice
        i, the regions whose samples exceed i are touched.  Paced, slice i
        must not end before ``start_s + (i + 1) * slice_s`` (monotonic
        clock).  Returns (pages touched, seconds the last slice ended late)."""
        cdef uint64_t[::1] off = np.ascontiguousarray(offsets, dtype=np.uint64)
        cdef uint64_t[::1] npg = np.ascontiguousarray(npages, dtype=np.uint64)
        cdef int32_t[::1] smp = np.ascontiguousarray(samples, dtype=np.int32)
        cdef int64_t n = off.shape[0], i
        cdef uint64_t done = 0
        cdef double late = 0, deadline
        self._check(off, npg, smp)
        if nr_slices <= 0:
            return 0, 0.0
        with nogil:
            for i in range(nr_slices):
                if n:
                    done += rr_touch(self.base, &off[0], &npg[0], &smp[0], n, i,
                                     self.populated, &self.sink)
                if paced:
                    deadline = start_s + (i + 1) * slice_s
                    late = _now() - deadline
                    if late < 0:
                        _wait_until(deadline)
                        late = 0
        return done, late

    @property
    def resident_pages(self):
        """Pages touched at least once."""
        cdef uint64_t i, c = 0
        for i in range((self.size // PAGE_SIZE + 63) // 64):
            c += _popcount(self.populated[i])
        return c


cdef inline uint64_t _popcount(uint64_t x) noexcept nogil:
    cdef uint64_t c = 0
    while x:
        x &= x - 1
        c += 1
    return c


def monotonic():
    """The clock RealBuffer.play_snapshot paces against (seconds)."""
    return _now()


# ---------------------------------------------------------------------------

cdef class ReplayWorkload(Workload):
    """A simulated process accessing memory as a recording's target did.

    ``ranges``: [(start, end)] address ranges to map (the recording's
    contiguous address unions, page aligned, disjoint); ``snap_start_ns`` /
    ``snap_end_ns``: snapshot times relative to the replay's start;
    ``region_offsets``: each snapshot's regions in the region columns
    ``starts``, ``ends`` (page aligned, inside one range) and ``samples``;
    ``nr_slices``: aggregation / sampling interval of each snapshot.

    In slice i of a snapshot the regions whose samples exceed i are active,
    and the process works the whole slice on them, as the monitored
    program did when DAMON saw them accessed: the slice's accesses (its
    length at the nominal speed of one-byte-per-page reads over the active
    pages on the reference memory, or at ``access_rate`` accesses per ms)
    are spread evenly over the active pages, each region continuing from
    where its last slice stopped.  So a region accessed in n of a
    snapshot's samples gets n slices of the work, and pages on slower
    memory take longer.  A slice with nothing active is idle.  The process
    is busy (``busy_ns``) while it touches pages; when a slice's work does
    not fit its time the replay runs late, and stays late.
    """
    cdef double *snap_start
    cdef double *snap_end
    cdef int64_t *reg_off
    cdef int64_t *slices
    cdef uint64_t *r_start
    cdef uint64_t *r_end
    cdef int32_t *r_samples
    cdef int64_t *r_cursor          # next page of the region's partial passes
    cdef double *r_carry            # fraction of a page touch owed to the region
    cdef readonly int64_t nr_snapshots, nr_regions
    cdef readonly list ranges
    cdef readonly object access_rate
    cdef CostTable ct
    # where the replay is
    cdef readonly int64_t snapshot, slice_idx
    cdef int64_t reg, page, stage, part_left
    cdef uint32_t full                  # touches per active page in this slice
    cdef double frac                    # ... plus this fraction of the pages once
    cdef bint working
    cdef readonly double lag_ns, busy_ns, nominal_ns
    cdef readonly uint64_t pages_touched    # page touches (accesses), all passes

    def __cinit__(self):
        self.snap_start = NULL
        self.snap_end = NULL
        self.reg_off = NULL
        self.slices = NULL
        self.r_start = NULL
        self.r_end = NULL
        self.r_samples = NULL
        self.r_cursor = NULL
        self.r_carry = NULL

    def __init__(self, ranges, snap_start_ns, snap_end_ns, region_offsets, starts, ends,
                 samples, nr_slices, *, access_rate=None, str name="replay"):
        cdef int64_t i, n, m
        s0 = np.ascontiguousarray(snap_start_ns, dtype=np.float64)
        s1 = np.ascontiguousarray(snap_end_ns, dtype=np.float64)
        offs = np.ascontiguousarray(region_offsets, dtype=np.int64)
        rs = np.ascontiguousarray(starts, dtype=np.uint64)
        re = np.ascontiguousarray(ends, dtype=np.uint64)
        smp = np.clip(np.ascontiguousarray(samples, dtype=np.int64), 0, 1 << 30).astype(np.int32)
        sl = np.ascontiguousarray(nr_slices, dtype=np.int64)
        n = len(s0)
        m = len(rs)
        if len(s1) != n or len(offs) != n + 1 or len(sl) != n:
            raise ValueError("snapshot columns disagree in length")
        if len(re) != m or len(smp) != m or offs[0] != 0 or offs[n] != m or \
                np.any(np.diff(offs) < 0):
            raise ValueError("region columns disagree with the snapshots")
        if n and (np.any(s1 < s0) or np.any(s0[1:] < s1[:n - 1] - 1) or np.any(sl < 1)):
            raise ValueError("snapshots must be in time order with at least one slice")
        if np.any((rs % PAGE_SIZE) != 0) or np.any((re % PAGE_SIZE) != 0) or np.any(re <= rs):
            raise ValueError("regions must be non-empty and page aligned")
        if access_rate is not None and not access_rate > 0:
            raise ValueError("the access rate must be positive")
        self.nr_snapshots = n
        self.nr_regions = m
        self.ranges = [(int(a), int(b)) for a, b in ranges]
        self.access_rate = access_rate
        self.name = name
        self.snap_start = <double *>malloc(max(n, 1) * sizeof(double))
        self.snap_end = <double *>malloc(max(n, 1) * sizeof(double))
        self.slices = <int64_t *>malloc(max(n, 1) * sizeof(int64_t))
        self.reg_off = <int64_t *>malloc((n + 1) * sizeof(int64_t))
        self.r_start = <uint64_t *>malloc(max(m, 1) * sizeof(uint64_t))
        self.r_end = <uint64_t *>malloc(max(m, 1) * sizeof(uint64_t))
        self.r_samples = <int32_t *>malloc(max(m, 1) * sizeof(int32_t))
        self.r_cursor = <int64_t *>calloc(max(m, 1), sizeof(int64_t))
        self.r_carry = <double *>calloc(max(m, 1), sizeof(double))
        if (self.snap_start == NULL or self.snap_end == NULL or self.slices == NULL or
                self.reg_off == NULL or self.r_start == NULL or self.r_end == NULL or
                self.r_samples == NULL or self.r_cursor == NULL or self.r_carry == NULL):
            raise MemoryError()
        for i in range(n):
            self.snap_start[i] = s0[i]
            self.snap_end[i] = s1[i]
            self.slices[i] = sl[i]
        for i in range(n + 1):
            self.reg_off[i] = offs[i]
        for i in range(m):
            self.r_start[i] = rs[i]
            self.r_end[i] = re[i]
            self.r_samples[i] = smp[i]
        self.mm = None

    def __dealloc__(self):
        free(self.snap_start)
        free(self.snap_end)
        free(self.slices)
        free(self.reg_off)
        free(self.r_start)
        free(self.r_end)
        free(self.r_samples)
        free(self.r_cursor)
        free(self.r_carry)

    @property
    def expected_ns(self):
        return self.snap_end[self.nr_snapshots - 1] if self.nr_snapshots else 0

    @property
    def work_done(self):
        """The share of the recording's slices replayed, 0 to 1."""
        cdef double total = 0, done = 0
        cdef int64_t k
        if self.finished or self.nr_snapshots == 0:
            return 1.0
        for k in range(self.nr_snapshots):
            total += self.slices[k]
            if k < self.snapshot:
                done += self.slices[k]
        done += self.slice_idx
        return min(done / total, 1.0) if total > 0 else 1.0

    @property
    def footprint_bytes(self):
        return sum(b - a for a, b in self.ranges)

    def attach(self, Machine machine, uint64_t seed=0, bint track_ground_truth=False):
        cdef int64_t i
        self.machine = machine
        self.mm = machine.new_address_space(track_ground_truth)
        for a, b in self.ranges:
            self.mm.map(a, b - a, "[replay]", anon=True)
        for i in range(self.nr_regions):
            if mm_find_vma((<AddressSpace>self.mm).mm, self.r_start[i]) == NULL or \
                    mm_find_vma((<AddressSpace>self.mm).mm, self.r_end[i] - 1) != \
                    mm_find_vma((<AddressSpace>self.mm).mm, self.r_start[i]):
                raise ValueError("region %#x-%#x is not inside one mapped range"
                                 % (self.r_start[i], self.r_end[i]))
        self.clock_ns = 0
        self.snapshot = 0
        self.slice_idx = 0
        self.working = False
        self.lag_ns = 0
        self.busy_ns = 0
        self.finished = self.nr_snapshots == 0
        return self.mm.pid

    cdef inline double _slice_len(self, int64_t k) noexcept:
        return (self.snap_end[k] - self.snap_start[k]) / self.slices[k]

    cdef inline int64_t _npages(self, int64_t r) noexcept:
        return <int64_t>((self.r_end[r] - self.r_start[r]) >> PAGE_SHIFT)

    cdef bint _plan_slice(self, int64_t k) except -1:
        """The work of slice slice_idx of snapshot k: touches per active page
        and the costs of touching them.  False if nothing is active."""
        cdef int64_t r, active = 0
        cdef double work
        for r in range(self.reg_off[k], self.reg_off[k + 1]):
            if self.r_samples[r] > self.slice_idx:
                active += self._npages(r)
        if active == 0:
            return False
        self.machine.pattern_cost(AK_PAGE_R, active * 64.0, 64.0, &self.ct, &self.nominal_ns)
        if self.access_rate is not None:
            work = self._slice_len(k) * self.access_rate / 1e6
        else:
            work = self._slice_len(k) / self.nominal_ns
        self.full = <uint32_t>min(work / active, 4e9)
        self.frac = work / active - self.full
        return True

    cdef int run_until(self, double t_ns) except -1:
        cdef int64_t k, end, npages, done, n, li
        cdef uint32_t k2
        cdef double start, cost, nominal_end, end_t
        cdef VmaData *v
        cdef uint64_t addr
        while not self.finished and self.clock_ns < t_ns:
            k = self.snapshot
            if k >= self.nr_snapshots:
                # idle to the end of the last snapshot, then exit
                end_t = self.snap_end[self.nr_snapshots - 1] + self.lag_ns
                if end_t > t_ns:
                    self.clock_ns = t_ns
                    break
                if self.clock_ns < end_t:
                    self.clock_ns = end_t
                self.finish()
                break
            if not self.working:
                start = self.snap_start[k] + self.slice_idx * self._slice_len(k) + self.lag_ns
                if self.clock_ns < start:
                    if start > t_ns:
                        self.clock_ns = t_ns
                        break
                    self.clock_ns = start
                self.working = True
                self.reg = self.reg_off[k] if self._plan_slice(k) else self.reg_off[k + 1]
                self.page = 0
                self.stage = 0
            end = self.reg_off[k + 1]
            while self.reg < end and self.clock_ns < t_ns:
                if self.r_samples[self.reg] <= self.slice_idx:
                    self.reg += 1
                    continue
                npages = self._npages(self.reg)
                if self.stage == 0:
                    # every page of the region, `full` times
                    if self.full == 0 or self.page >= npages:
                        self.stage = 1
                        self.page = 0
                        self.r_carry[self.reg] += self.frac * npages
                        self.part_left = <int64_t>self.r_carry[self.reg]
                        self.r_carry[self.reg] -= self.part_left
                        continue
                    li = self.page
                    n = npages - self.page
                    k2 = self.full
                else:
                    # part of the region once more, from its cursor, wrapping
                    if self.part_left <= 0:
                        self.reg += 1
                        self.stage = 0
                        self.page = 0
                        continue
                    li = self.r_cursor[self.reg]
                    if li >= npages:
                        li = 0
                    n = min(self.part_left, npages - li)
                    k2 = 1
                addr = self.r_start[self.reg] + (<uint64_t>li << PAGE_SHIFT)
                v = mm_find_vma((<AddressSpace>self.mm).mm, addr)
                cost = self.machine.touch_seq(v, vma_li(v, addr), n, k2, False, &self.ct,
                                              t_ns - self.clock_ns, &done)
                self.clock_ns += cost
                self.busy_ns += cost
                self.pages_touched += <uint64_t>done * k2
                if self.stage == 0:
                    self.page += done
                else:
                    self.r_cursor[self.reg] = li + done
                    self.part_left -= done
            if self.reg < end:
                break                   # out of time mid-slice
            # the slice's work is done; late if it overran the slice
            self.working = False
            nominal_end = self.snap_start[k] + (self.slice_idx + 1) * self._slice_len(k) \
                + self.lag_ns
            if self.clock_ns > nominal_end:
                self.lag_ns += self.clock_ns - nominal_end
            self.slice_idx += 1
            if self.slice_idx >= self.slices[k]:
                self.slice_idx = 0
                self.snapshot += 1
        return 0
