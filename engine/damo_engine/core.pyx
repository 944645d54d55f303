"""DAMON's monitoring core and DAMOS, after the kernel's mm/damon/core.c.

Followed version: torvalds/linux mm/damon/core.c and mm/damon/tests/core-kunit.h
at commit 0250dbe08c73 (mainline, after the v7.3-rc1 probe-weights merge); see
damo_engine.KERNEL_VERSION.  Integer arithmetic is the kernel's: unsigned,
floor division, mult_frac(), the same order of operations.  Time is counted
in sampling intervals (passed_sample_intervals); the simulated clock only
decides when the kdamond wakes up.
"""
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memset, memcpy
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t, int32_t, UINT32_MAX
from damo_engine.memory cimport sim_rng, sim_rng_seed, sim_damon_rand

import numpy as np

cdef uint64_t ULONG_MAX = 0xFFFFFFFFFFFFFFFFull
cdef int EINVAL = 22
cdef int EBUSY = 16
cdef int ECANCELED = 125
# jiffies at simulated time 0: the kernel starts jiffies 5 minutes before
# wrapping 32 bits, so a quota's first charge window opens at once.
cdef uint64_t INITIAL_JIFFIES = 0x100000000ull - 300 * 1000
# msecs_to_jiffies() of a "negative" (>= 2^31) millisecond count: never
cdef uint64_t MAX_JIFFY_OFFSET = ((0x7FFFFFFFFFFFFFFFull >> 1) - 1)

# kdamond loop states
cdef enum:
    ST_INIT = 0
    ST_SAMPLING = 1     # access checks prepared; sleeping one sampling interval
    ST_WAITING = 2      # every scheme deactivated by its watermarks; sleeping
    ST_BUSY = 3         # applying schemes took simulated time; loop top is due
    ST_STOPPED = 4
    ST_PAUSED = 5       # ctx->pause: sleeping a sampling interval in the pause loop

STATE_NAMES = {ST_INIT: "init", ST_SAMPLING: "sampling", ST_WAITING: "waiting",
               ST_BUSY: "busy", ST_STOPPED: "stopped", ST_PAUSED: "paused"}


cdef inline uint64_t align_down(uint64_t x, uint64_t a) noexcept nogil:
    return x - x % a


cdef inline uint64_t align_up(uint64_t x, uint64_t a) noexcept nogil:
    return align_down(x + a - 1, a)


cdef inline uint32_t udiff(uint32_t a, uint32_t b) noexcept nogil:
    return a - b if a > b else b - a


cdef inline bint time_after_eq(uint64_t a, uint64_t b) noexcept nogil:
    return <int64_t>(a - b) >= 0


cdef inline bint time_before(uint64_t a, uint64_t b) noexcept nogil:
    return <int64_t>(a - b) < 0


cdef inline bint time_in_range_open(uint64_t a, uint64_t b, uint64_t c) noexcept nogil:
    return time_after_eq(a, b) and time_before(a, c)


cdef inline uint64_t mult_frac(uint64_t x, uint64_t n, uint64_t d) noexcept nogil:
    """The kernel's mult_frac(x, n, d): x * n / d without overflowing x * n."""
    return (x / d) * n + (x % d) * n / d


cdef inline uint32_t mult_frac32(uint32_t x, uint32_t n, uint32_t d) noexcept nogil:
    """mult_frac() on unsigned int operands (the products may wrap)."""
    return <uint32_t>(<uint32_t>(x / d) * n) + <uint32_t>(<uint32_t>((x % d) * n) / d)


cdef inline uint64_t msecs_to_jiffies(uint64_t ms) noexcept nogil:
    """HZ=1000: the argument is an unsigned int; 'negative' ones mean never."""
    cdef uint32_t m = <uint32_t>ms
    if <int32_t>m < 0:
        return MAX_JIFFY_OFFSET
    return m


cdef Region *region_new(uint64_t start, uint64_t end) except NULL:
    cdef Region *r = <Region *>calloc(1, sizeof(Region))
    if r == NULL:
        raise MemoryError()
    r.start = start
    r.end = end
    return r


cdef uint32_t nr_samples_per_aggr(const Attrs *a) noexcept nogil:
    """damon_nr_samples_per_aggr() (formerly damon_max_nr_accesses()): at
    least 1, also with a zero aggregation interval (the hotfix "handle
    extreme intervals in damon_hot_score()": one sample is then the
    most a window takes, and nothing divides by zero)."""
    cdef uint64_t n = a.aggr_interval / (a.sample_interval if a.sample_interval else 1)
    if n == 0:
        return 1
    return <uint32_t>(n if n < UINT32_MAX else UINT32_MAX)


cdef inline uint64_t damon_mvsum(uint64_t current_nr, uint64_t last_nr,
                                 uint64_t left_window_bp) noexcept nogil:
    """damon_mvsum(): the current window's count plus the part of the last
    window's count that the moving window still covers."""
    return current_nr + mult_frac(last_nr, left_window_bp, 10000)


cdef uint64_t feed_loop_next_input(uint64_t last_input, uint64_t score) noexcept nogil:
    """damon_feed_loop_next_input(): next input to reach the goal score 10000."""
    cdef uint64_t goal = 10000, min_input = 10000, diff, compensation
    cdef bint over = score > goal
    if score == goal:
        return last_input
    if score >= goal * 2:
        return min_input
    diff = score - goal if over else goal - score
    if last_input < ULONG_MAX / diff:
        compensation = last_input * diff / goal
    else:
        compensation = last_input / goal * diff
    if over:
        return last_input - compensation if last_input - compensation > min_input \
            else min_input
    if last_input < ULONG_MAX - compensation:
        return last_input + compensation
    return ULONG_MAX


cdef inline uint32_t sample_count_to_bp(uint32_t count, const Attrs *a) noexcept nogil:
    return mult_frac32(count, 10000, nr_samples_per_aggr(a))


cdef inline uint32_t sample_bp_to_count(uint32_t bp, const Attrs *a) noexcept nogil:
    return <uint32_t>(bp * nr_samples_per_aggr(a)) / 10000


cdef inline uint32_t nr_samples_for_new_attrs(uint32_t nr, const Attrs *old,
                                              const Attrs *new) noexcept nogil:
    return sample_bp_to_count(sample_count_to_bp(nr, old), new)


cdef void update_monitoring_result(Region *r, const Attrs *old, const Attrs *new,
                                   bint aggregating, int nr_probes) noexcept nogil:
    """damon_update_monitoring_result(): the last window's count is always
    rescaled; the current one too, unless in the middle of a window, where
    it restarts as if kdamond_reset_aggregated() had just run.  The hits of
    the context's probes first (damon_update_probe_hits(): the same rule,
    stored back into unsigned chars)."""
    cdef int i
    for i in range(nr_probes):
        r.last_probe_hits[i] = <uint8_t>nr_samples_for_new_attrs(r.last_probe_hits[i], old, new)
        if not aggregating:
            r.probe_hits[i] = <uint8_t>nr_samples_for_new_attrs(r.probe_hits[i], old, new)
        else:
            r.probe_hits[i] = 0
    r.last_nr_accesses = nr_samples_for_new_attrs(r.last_nr_accesses, old, new)
    if not aggregating:
        r.nr_accesses = nr_samples_for_new_attrs(r.nr_accesses, old, new)
    else:
        r.nr_accesses = 0
    r.age = <uint32_t>(<uint64_t>r.age * old.aggr_interval / new.aggr_interval)


cdef bint valid_intervals_goal(const Attrs *a) noexcept nogil:
    if not a.goal_aggrs:
        return True
    if a.goal_min_sample_us > a.goal_max_sample_us:
        return False
    if a.sample_interval < a.goal_min_sample_us or a.goal_max_sample_us < a.sample_interval:
        return False
    return True


def _attrs_error(Attrs a):
    """Why damon_set_attrs() would return -EINVAL, or None."""
    if not valid_intervals_goal(&a):
        return ("invalid monitoring intervals goal: the sampling interval must lie in "
                "[min_sample_us, max_sample_us] and min <= max")
    if a.min_nr_regions < 3:
        return "min_nr_regions (%d) must be at least 3" % a.min_nr_regions
    if a.min_nr_regions > a.max_nr_regions:
        return "min_nr_regions (%d) is larger than max_nr_regions (%d)" % (
            a.min_nr_regions, a.max_nr_regions)
    if a.sample_interval > a.aggr_interval:
        return "sampling interval (%d us) is longer than aggregation interval (%d us)" % (
            a.sample_interval, a.aggr_interval)
    return None


def ranges_error(ranges, uint64_t min_region_sz):
    """Why damon_set_regions() would return -EINVAL for these ranges (empty
    once aligned to min_region_sz, or overlapping/unsorted), or None."""
    cdef uint64_t last_end = 0, s, e
    for i, (rs, re) in enumerate(ranges):
        s = align_down(rs, min_region_sz)
        e = align_up(re, min_region_sz)
        if s >= e:
            return "empty target region %d-%d" % (rs, re)
        if i and last_end > s:
            return "target regions overlap or are not sorted"
        last_end = e
    return None


# ---------------------------------------------------------------------------
# Targets and their regions

cdef inline uint32_t probe_hits_wsum_of(const Region *r, bint last, const uint32_t *weights,
                                        int nr_probes) noexcept nogil:
    """damon_probe_hits_wsum(): the hits of each probe times its weight,
    summed in unsigned int (damon_valid_probe_params() keeps it from
    overflowing when weights are set)."""
    cdef uint32_t sum = 0
    cdef int i
    for i in range(nr_probes):
        if last:
            sum += r.last_probe_hits[i] * weights[i]
        else:
            sum += r.probe_hits[i] * weights[i]
    return sum


cdef inline bint is_last_region(Target t, const Region *r) noexcept:
    """damon_is_last_region()."""
    return r.next == NULL


cdef class Target:
    """A monitoring target: a process (vaddr, fvaddr) or physical memory
    (paddr), with its address-ordered list of regions."""

    def __cinit__(self):
        self.head = NULL
        self.tail = NULL
        self.nr_regions = 0
        self.rarr = NULL
        self.rarr_cap = 0
        self.rarr_valid = False

    def __init__(self, pid=None, regions=None):
        self.pid = pid
        self.obj = None
        self.init_ranges = [tuple(r) for r in regions] if regions else []

    def __dealloc__(self):
        self.destroy_all()
        free(self.rarr)

    cdef Region **regions_array(self) except NULL:
        """The regions in order (valid until the list next changes); an
        array of at least one slot even without regions."""
        cdef Region *r
        cdef Region **a
        cdef uint32_t i = 0, cap
        if self.rarr_valid:
            return self.rarr
        if self.nr_regions >= self.rarr_cap or self.rarr == NULL:
            cap = self.nr_regions + self.nr_regions // 2 + 16
            a = <Region **>realloc(self.rarr, cap * sizeof(Region *))
            if a == NULL:
                raise MemoryError()
            self.rarr = a
            self.rarr_cap = cap
        r = self.head
        while r != NULL:
            self.rarr[i] = r
            i += 1
            r = r.next
        self.rarr_valid = True
        return self.rarr

    cdef void add_region(self, Region *r) noexcept:
        self.insert_region(r, self.tail, NULL)

    cdef void insert_region(self, Region *r, Region *prev, Region *next) noexcept:
        r.prev = prev
        r.next = next
        if prev != NULL:
            prev.next = r
        else:
            self.head = r
        if next != NULL:
            next.prev = r
        else:
            self.tail = r
        self.nr_regions += 1
        self.rarr_valid = False

    cdef void destroy_region(self, Region *r) noexcept:
        if r.prev != NULL:
            r.prev.next = r.next
        else:
            self.head = r.next
        if r.next != NULL:
            r.next.prev = r.prev
        else:
            self.tail = r.prev
        self.nr_regions -= 1
        self.rarr_valid = False
        free(r)

    cdef void destroy_all(self) noexcept:
        cdef Region *r = self.head
        cdef Region *nxt
        while r != NULL:
            nxt = r.next
            free(r)
            r = nxt
        self.head = NULL
        self.tail = NULL
        self.nr_regions = 0
        self.rarr_valid = False

    cdef int split_region_at(self, Region *r, uint64_t sz_r) except -1:
        """damon_split_region_at(): r keeps [start, start+sz_r); the new
        region takes the rest and copies r's counters."""
        cdef Region *n = region_new(r.start + sz_r, r.end)
        r.end = n.start
        n.age = r.age
        n.last_nr_accesses = r.last_nr_accesses
        n.nr_accesses = r.nr_accesses
        memcpy(n.probe_hits, r.probe_hits, sizeof(r.probe_hits))
        memcpy(n.last_probe_hits, r.last_probe_hits, sizeof(r.last_probe_hits))
        self.insert_region(n, r, r.next)
        return 0

    cdef void merge_two_regions(self, Region *l, Region *r) noexcept:
        """damon_merge_two_regions(): size-weighted nr_accesses, age and
        (every slot, installed probe or not) probe hits; the last window's
        probe hits stay the left region's."""
        cdef uint64_t sz_l = l.end - l.start, sz_r = r.end - r.start
        cdef int i
        l.nr_accesses = <uint32_t>((l.nr_accesses * sz_l + r.nr_accesses * sz_r) / (sz_l + sz_r))
        l.age = <uint32_t>((l.age * sz_l + r.age * sz_r) / (sz_l + sz_r))
        l.end = r.end
        for i in range(DAMON_MAX_PROBES):
            # 0 and 0 average to 0: skip the division (the usual case)
            if l.probe_hits[i] or r.probe_hits[i]:
                l.probe_hits[i] = <uint8_t>((l.probe_hits[i] * sz_l + r.probe_hits[i] * sz_r)
                                            / (sz_l + sz_r))
        self.destroy_region(r)

    cdef void merge_regions_of(self, uint32_t thres, uint64_t sz_limit, bint count_age,
                               const uint32_t *weights, int nr_weights) noexcept:
        """damon_merge_regions_of(): ages are counted only by the first pass
        of an aggregation (count_age).  With probe weights (nr_weights > 0)
        the score compared is the weighted sum of the probe hits
        (damon_merge_score()), else the access count."""
        cdef Region *r = self.head
        cdef Region *prev = NULL
        cdef Region *nxt
        cdef uint32_t score, last_score
        cdef bint mergeable
        if nr_weights:
            # the same rules on damon_probe_hits_wsum() (kept apart from the
            # nr_accesses loop below, which stays as fast as before probes)
            while r != NULL:
                nxt = r.next
                score = probe_hits_wsum_of(r, False, weights, nr_weights)
                last_score = probe_hits_wsum_of(r, True, weights, nr_weights)
                if count_age:
                    if udiff(score, last_score) > thres:
                        r.age = 0
                    elif (score == 0) != (last_score == 0):
                        r.age = 0
                    else:
                        r.age += 1
                mergeable = prev != NULL and prev.end == r.start
                if mergeable:
                    mergeable = udiff(score, probe_hits_wsum_of(prev, False, weights,
                                                                nr_weights)) <= thres
                if mergeable:
                    mergeable = prev.end - prev.start + r.end - r.start <= sz_limit
                if mergeable:
                    self.merge_two_regions(prev, r)
                else:
                    prev = r
                r = nxt
            return
        while r != NULL:
            nxt = r.next
            if count_age:
                if udiff(r.nr_accesses, r.last_nr_accesses) > thres:
                    r.age = 0
                elif (r.nr_accesses == 0) != (r.last_nr_accesses == 0):
                    r.age = 0
                else:
                    r.age += 1
            if (prev != NULL and prev.end == r.start
                    and udiff(r.nr_accesses, prev.nr_accesses) <= thres
                    and (prev.end - prev.start) + (r.end - r.start) <= sz_limit):
                self.merge_two_regions(prev, r)
            else:
                prev = r
            r = nxt

    cdef int split_regions_of(self, int nr_subs, uint64_t min_region, sim_rng *rng) except -1:
        """damon_split_regions_of(): each region into up to nr_subs pieces."""
        cdef Region *r = self.head
        cdef Region *nxt
        cdef uint64_t sz_region, sz_sub
        cdef int i
        while r != NULL:
            nxt = r.next
            sz_region = r.end - r.start
            i = 0
            while i < nr_subs - 1 and sz_region > 2 * min_region:
                # left piece: 10% to 90% of the region
                sz_sub = align_down(sim_damon_rand(rng, 1, 10) * sz_region / 10, min_region)
                i += 1
                if sz_sub == 0 or sz_sub >= sz_region:
                    continue
                self.split_region_at(r, sz_sub)
                sz_region = sz_sub
            r = nxt
        return 0

    cdef int set_regions(self, list ranges, uint64_t min_region) except -1:
        """damon_set_regions(): fit the regions to sorted, disjoint ranges,
        keeping the counters of regions that stay.  -EINVAL, nothing
        changed, for ranges empty once aligned or overlapping."""
        cdef Region *r
        cdef Region *nxt
        cdef Region *first
        cdef Region *last
        cdef Region *newr
        cdef uint64_t rs, re
        cdef bint hit
        if ranges_error(ranges, min_region) is not None:
            return -EINVAL
        r = self.head
        while r != NULL:                # drop regions outside every range
            nxt = r.next
            hit = False
            for rs, re in ranges:
                if not (r.end <= rs or re <= r.start):
                    hit = True
                    break
            if not hit:
                self.destroy_region(r)
            r = nxt
        r = self.head
        for rs, re in ranges:
            first = NULL
            last = NULL
            while r != NULL:
                if not (r.end <= rs or re <= r.start):
                    if first == NULL:
                        first = r
                    last = r
                if r.start >= re:
                    break
                r = r.next
            if first == NULL:
                newr = region_new(align_down(rs, min_region), align_up(re, min_region))
                self.insert_region(newr, r.prev if r != NULL else self.tail, r)
            else:
                first.start = align_down(rs, min_region)
                last.end = align_up(re, min_region)
                while first != last:    # fill holes between first and last
                    nxt = first.next
                    if first.end != nxt.start:
                        newr = region_new(first.end, nxt.start)
                        self.insert_region(newr, first, nxt)
                    first = nxt
        return 0

    # ---- Python surface ----
    @property
    def init_regions(self):
        return list(self.init_ranges)

    def regions(self):
        """(start, end, nr_accesses, last_nr_accesses, age) of every region,
        in address order."""
        cdef Region *r = self.head
        out = []
        while r != NULL:
            out.append((r.start, r.end, r.nr_accesses, r.last_nr_accesses, r.age))
            r = r.next
        return out

    def ranges(self):
        cdef Region *r = self.head
        out = []
        while r != NULL:
            out.append((r.start, r.end))
            r = r.next
        return out

    def append_region(self, uint64_t start, uint64_t end, uint32_t nr_accesses=0,
                      uint32_t last_nr_accesses=0, uint32_t age=0, probe_hits=(),
                      last_probe_hits=()):
        """Add a region at the tail (damon_add_region)."""
        cdef Region *r = region_new(start, end)
        cdef int i
        r.nr_accesses = nr_accesses
        r.last_nr_accesses = last_nr_accesses
        r.age = age
        for i, h in enumerate(probe_hits):
            r.probe_hits[i] = <uint8_t>h
        for i, h in enumerate(last_probe_hits):
            r.last_probe_hits[i] = <uint8_t>h
        self.add_region(r)

    def probe_hits(self, bint last=False):
        """The probe hit counters of every region (all DAMON_MAX_PROBES
        slots), this window's or (last) the last complete window's."""
        cdef Region *r = self.head
        out = []
        while r != NULL:
            out.append(tuple(r.last_probe_hits[:DAMON_MAX_PROBES] if last
                             else r.probe_hits[:DAMON_MAX_PROBES]))
            r = r.next
        return out

    def set_probe_hits(self, int idx, probe_hits=None, last_probe_hits=None):
        """Set a region's probe hit counters in place (kunit-style tests)."""
        cdef Region *r = self._nth(idx)
        cdef int i
        if probe_hits is not None:
            for i, h in enumerate(probe_hits):
                r.probe_hits[i] = <uint8_t>h
        if last_probe_hits is not None:
            for i, h in enumerate(last_probe_hits):
                r.last_probe_hits[i] = <uint8_t>h

    cdef Region *_nth(self, int idx) except NULL:
        cdef Region *r = self.head
        cdef int i
        if idx < 0 or idx >= <int>self.nr_regions:
            raise IndexError("region index %d out of range" % idx)
        for i in range(idx):
            r = r.next
        return r

    def set_region(self, int idx, start=None, end=None):
        """Move a region's bounds in place (as the kernel's kunit cases do)."""
        cdef Region *r = self._nth(idx)
        if start is not None:
            r.start = start
        if end is not None:
            r.end = end

    def split_at(self, int idx, uint64_t sz_r):
        """Split region idx at sz_r bytes from its start."""
        self.split_region_at(self._nth(idx), sz_r)

    def merge_pair(self, int idx):
        """Merge region idx with the next one."""
        cdef Region *l = self._nth(idx)
        if l.next == NULL:
            raise IndexError("no region after %d" % idx)
        self.merge_two_regions(l, l.next)

    def merge(self, uint32_t thres, uint64_t sz_limit, bint count_age=True, weights=None):
        """damon_merge_regions_of(): one merge pass (ages the regions when
        count_age, as the first pass of an aggregation does); weights: the
        probe weights of the context, if any is set."""
        cdef uint32_t w[DAMON_MAX_PROBES]
        cdef int n = 0
        if weights:
            for x in weights:
                w[n] = x
                n += 1
        self.merge_regions_of(thres, sz_limit, count_age, w, n)

    def is_last(self, int idx):
        """damon_is_last_region() of region idx."""
        return is_last_region(self, self._nth(idx))

    def set_ranges(self, ranges, uint64_t min_region=4096):
        """damon_set_regions() with sorted, non-overlapping [start, end) ranges."""
        rs = [(int(s), int(e)) for s, e in ranges]
        err = ranges_error(rs, min_region)
        if err is not None:
            raise ValueError(err)
        self.set_regions(rs, min_region)

    def __len__(self):
        return self.nr_regions


# ---------------------------------------------------------------------------
# Data attributes probes (struct damon_probe, struct damon_filter)

DAMON_FILTER_NAMES = {DAMON_FILTER_ANON: "anon", DAMON_FILTER_MEMCG: "memcg"}


cdef class DamonFilter:
    """A filter of a data attributes probe: anon (the sampled folio is
    anonymous) or memcg (it belongs to the memory cgroup of id memcg)."""

    def __init__(self, type, bint matching=True, bint allow=False, memcg=None):
        self.type = _lookup(DAMON_FILTER_NAMES, type, "probe filter type")
        self.matching = matching
        self.allow = allow
        self.memcg = memcg

    @property
    def type_name(self):
        return DAMON_FILTER_NAMES[self.type]

    def dump(self):
        d = {"type": self.type_name, "matching": bool(self.matching),
             "allow": bool(self.allow)}
        if self.type == DAMON_FILTER_MEMCG:
            d["memcg"] = self.memcg
        return d

    def __repr__(self):
        return "DamonFilter(%r)" % (self.dump(),)


cdef class Probe:
    """A data attributes probe: a sample hits it when its folio passes the
    filters (the first matching filter decides; with none matching, the
    opposite of the last filter's allow)."""

    def __init__(self, filters=(), uint32_t weight=0):
        self.weight = weight
        self.filters = list(filters)

    def dump(self):
        return {"weight": self.weight, "filters": [f.dump() for f in self.filters]}

    def __repr__(self):
        return "Probe(%r)" % (self.dump(),)


def probe_params_error(Context ctx):
    """Why the kernel would refuse the context's probes (None if it would
    not): sysfs takes at most DAMON_MAX_PROBES of them (nr_probes), and
    damon_valid_probe_params() (damon_start(), damon_commit_ctx()) refuses
    weights whose weighted sum of hits could overflow an unsigned int, or an
    aggregation of more samples than an unsigned char counts."""
    cdef uint64_t sample
    cdef uint8_t max_probe_hits
    cdef uint32_t wsum = 0, wsum_to_add
    cdef Probe p
    if len(ctx.probes) > DAMON_MAX_PROBES:
        return "%d probes (at most %d)" % (len(ctx.probes), DAMON_MAX_PROBES)
    if not ctx.has_probe_weights():
        return None
    sample = ctx.attrs.sample_interval if ctx.attrs.sample_interval else 1
    if ctx.attrs.aggr_interval / sample > 255:
        return ("with probe weights, an aggregation interval takes at most 255 samples "
                "(%d / %d = %d)" % (ctx.attrs.aggr_interval, sample,
                                    ctx.attrs.aggr_interval / sample))
    max_probe_hits = <uint8_t>nr_samples_per_aggr(&ctx.attrs)
    for p in ctx.probes:
        if p.weight > UINT32_MAX / max_probe_hits:
            return "probe weight %d can overflow the weighted sum of hits" % p.weight
        wsum_to_add = p.weight * max_probe_hits
        if UINT32_MAX - wsum < wsum_to_add:
            return "the probe weights can overflow the weighted sum of hits"
        wsum += wsum_to_add
    return None


# ---------------------------------------------------------------------------
# DAMOS objects

FILTER_NAMES = {FILTER_ANON: "anon", FILTER_ACTIVE: "active", FILTER_MEMCG: "memcg",
                FILTER_YOUNG: "young", FILTER_HUGEPAGE_SIZE: "hugepage_size",
                FILTER_UNMAPPED: "unmapped", FILTER_ADDR: "addr", FILTER_TARGET: "target"}
# enum damos_action order (collapse sits after nohugepage since 7.2)
ACTION_NAMES = {WILLNEED: "willneed", COLD: "cold", PAGEOUT: "pageout",
                HUGEPAGE: "hugepage", NOHUGEPAGE: "nohugepage", COLLAPSE: "collapse",
                LRU_PRIO: "lru_prio", LRU_DEPRIO: "lru_deprio", MIGRATE_HOT: "migrate_hot",
                MIGRATE_COLD: "migrate_cold", STAT: "stat"}
GOAL_METRIC_NAMES = {USER_INPUT: "user_input", SOME_MEM_PSI_US: "some_mem_psi_us",
                     NODE_MEM_USED_BP: "node_mem_used_bp", NODE_MEM_FREE_BP: "node_mem_free_bp",
                     NODE_MEMCG_USED_BP: "node_memcg_used_bp",
                     NODE_MEMCG_FREE_BP: "node_memcg_free_bp",
                     ACTIVE_MEM_BP: "active_mem_bp", INACTIVE_MEM_BP: "inactive_mem_bp",
                     NODE_ELIGIBLE_MEM_BP: "node_eligible_mem_bp"}
GOAL_TUNER_NAMES = {TUNER_CONSIST: "consist", TUNER_TEMPORAL: "temporal"}


def _lookup(names, value, what):
    if isinstance(value, str):
        for k, v in names.items():
            if v == value:
                return k
        raise ValueError("unknown %s %r (one of: %s)" % (what, value, ", ".join(names.values())))
    if value not in names:
        raise ValueError("unknown %s %r" % (what, value))
    return value


cdef class Filter:
    """A DAMOS filter (damos_filter)."""

    def __init__(self, type, bint matching=True, bint allow=False, addr_range=None,
                 int target_idx=0, memcg=None, hugepage_size=None):
        self.type = _lookup(FILTER_NAMES, type, "filter type")
        self.matching = matching
        self.allow = allow
        if self.type == FILTER_ADDR:
            if addr_range is None:
                raise ValueError("an addr filter needs an address range")
            self.addr_start, self.addr_end = addr_range
            if self.addr_start >= self.addr_end:
                raise ValueError("addr filter range %d-%d is empty" % tuple(addr_range))
        self.target_idx = target_idx
        self.memcg = memcg
        if hugepage_size is not None:
            self.sz_min, self.sz_max = hugepage_size
        else:
            self.sz_min, self.sz_max = 0, ULONG_MAX

    @property
    def type_name(self):
        return FILTER_NAMES[self.type]

    @property
    def for_ops(self):
        """damos_filter_for_ops(): handled per folio by the operation set."""
        return self.type not in (FILTER_ADDR, FILTER_TARGET)

    def dump(self):
        """The filter as the kernel holds it (type's argument only)."""
        d = {"type": self.type_name, "matching": bool(self.matching), "allow": bool(self.allow)}
        if self.type == FILTER_MEMCG:
            d["memcg"] = self.memcg
        elif self.type == FILTER_ADDR:
            d["addr_range"] = [self.addr_start, self.addr_end]
        elif self.type == FILTER_TARGET:
            d["target_idx"] = self.target_idx
        elif self.type == FILTER_HUGEPAGE_SIZE:
            d["sz_range"] = [self.sz_min, self.sz_max]
        return d

    def __repr__(self):
        return "Filter(%s, matching=%s, allow=%s)" % (self.type_name, self.matching, self.allow)


cdef class QuotaGoal:
    """A DAMOS quota auto-tuning goal (damos_quota_goal)."""

    def __init__(self, metric, uint64_t target_value, uint64_t current_value=0,
                 int nid=0, memcg=None):
        self.metric = _lookup(GOAL_METRIC_NAMES, metric, "quota goal metric")
        if target_value == 0:
            raise ValueError("a quota goal's target value must be positive")
        self.target_value = target_value
        self.current_value = current_value
        self.last_psi_total = 0
        self.nid = nid
        self.memcg = memcg

    @property
    def metric_name(self):
        return GOAL_METRIC_NAMES[self.metric]

    def dump(self):
        d = {"metric": self.metric_name, "target_value": self.target_value,
             "current_value": self.current_value}
        if self.metric == SOME_MEM_PSI_US:
            d["last_psi_total"] = self.last_psi_total
        if self.metric in (NODE_MEM_USED_BP, NODE_MEM_FREE_BP, NODE_MEMCG_USED_BP,
                           NODE_MEMCG_FREE_BP, NODE_ELIGIBLE_MEM_BP):
            d["nid"] = self.nid
        if self.metric in (NODE_MEMCG_USED_BP, NODE_MEMCG_FREE_BP):
            d["memcg"] = self.memcg
        return d


cdef class Scheme:
    """A DAMON-based operation scheme (damos)."""

    def __init__(self, action="stat", *, sz_region=(0, ULONG_MAX),
                 nr_accesses=(0, UINT32_MAX), age=(0, UINT32_MAX),
                 uint64_t apply_interval_us=0, int target_nid=-1, migrate_dests=None,
                 uint64_t quota_ms=0, uint64_t quota_sz=0,
                 uint64_t quota_reset_interval_ms=0, weights=(0, 0, 0), goals=None,
                 goal_tuner="consist", fail_charge=(0, 0), wmarks=None, filters=None,
                 uint64_t max_nr_snapshots=0):
        self.action = _lookup(ACTION_NAMES, action, "DAMOS action")
        self.min_sz_region, self.max_sz_region = sz_region
        self.min_nr_accesses, self.max_nr_accesses = nr_accesses
        self.min_age_region, self.max_age_region = age
        self.apply_interval_us = apply_interval_us
        self.target_nid = target_nid
        self.migrate_dests = [(int(n), int(w)) for n, w in (migrate_dests or [])]
        self.quota_ms = quota_ms
        self.quota_sz = quota_sz
        self.quota_reset_interval_ms = quota_reset_interval_ms
        self.weight_sz, self.weight_nr_accesses, self.weight_age = weights
        self.goals = list(goals or [])
        self.goal_tuner = _lookup(GOAL_TUNER_NAMES, goal_tuner, "goal tuner")
        self.fail_charge_num, self.fail_charge_denom = fail_charge
        if wmarks is None:
            self.wmarks_metric = WMARK_NONE
            self.wmarks_interval = self.wmarks_high = self.wmarks_mid = self.wmarks_low = 0
        else:
            metric, self.wmarks_interval, self.wmarks_high, self.wmarks_mid, \
                self.wmarks_low = wmarks
            self.wmarks_metric = {"none": WMARK_NONE, "free_mem_rate": WMARK_FREE_MEM_RATE}.get(
                metric, metric) if isinstance(metric, str) else metric
            if self.wmarks_metric not in (WMARK_NONE, WMARK_FREE_MEM_RATE):
                raise ValueError("unknown watermarks metric %r" % (metric,))
        self.wmarks_activated = True
        self.core_filters = []
        self.ops_filters = []
        for f in filters or []:
            (self.ops_filters if (<Filter>f).type not in (FILTER_ADDR, FILTER_TARGET)
             else self.core_filters).append(f)
        self.set_filters_default_reject()
        self.last_applied = None
        self.tried_regions_sink = None
        self.tried_buf = []
        self.max_nr_snapshots = max_nr_snapshots

    cdef void set_filters_default_reject(self):
        """Memory no filter matched is rejected if the last filter of its
        group allows (damos_set_filters_default_reject)."""
        if self.ops_filters:
            self.core_filters_default_reject = False
        else:
            self.core_filters_default_reject = bool(self.core_filters) and \
                (<Filter>self.core_filters[len(self.core_filters) - 1]).allow
        self.ops_filters_default_reject = bool(self.ops_filters) and \
            (<Filter>self.ops_filters[len(self.ops_filters) - 1]).allow

    def update_filters_default_reject(self):
        self.set_filters_default_reject()

    @property
    def action_name(self):
        return ACTION_NAMES[self.action]

    @property
    def goal_tuner_name(self):
        return GOAL_TUNER_NAMES[self.goal_tuner]

    @property
    def filters(self):
        return list(self.core_filters) + list(self.ops_filters)

    def stats(self):
        return {"nr_tried": self.nr_tried, "sz_tried": self.sz_tried,
                "nr_applied": self.nr_applied, "sz_applied": self.sz_applied,
                "sz_ops_filter_passed": self.sz_ops_filter_passed,
                "qt_exceeds": self.qt_exceeds, "nr_snapshots": self.nr_snapshots,
                "max_nr_snapshots": self.max_nr_snapshots}

    def apply_state(self):
        """(sim, not a kernel stat) How often damon_set_attrs() -- intervals
        auto-tuning, online commits -- pushed back this scheme's pending
        apply interval, and how many times in a row since it was last
        applied: a scheme whose apply interval is longer than the tuning
        period is never applied, as in the kernel."""
        return {"nr_apply_postponed": self.nr_apply_postponed,
                "apply_postponed_in_row": self.apply_postponed_in_row,
                "nr_madvise_holes": self.nr_madvise_holes,
                "sz_madvise_holes": self.sz_madvise_holes}

    def quota_state(self):
        return {"esz": self.esz, "esz_bp": self.esz_bp, "charged_sz": self.charged_sz,
                "charged_from": self.charged_from,
                "total_charged_sz": self.total_charged_sz,
                "total_charged_ns": self.total_charged_ns, "min_score": self.min_score}

    def dump(self):
        """Every parameter and internal field of the scheme, as a dict (what
        the kernel selftests' drgn_dump_damon_status reads)."""
        return {
            "pattern": {"sz": [self.min_sz_region, self.max_sz_region],
                        "nr_accesses": [self.min_nr_accesses, self.max_nr_accesses],
                        "age": [self.min_age_region, self.max_age_region]},
            "action": self.action_name, "apply_interval_us": self.apply_interval_us,
            "quota": {"reset_interval": self.quota_reset_interval_ms, "ms": self.quota_ms,
                      "sz": self.quota_sz, "goals": [(<QuotaGoal>g).dump() for g in self.goals],
                      "goal_tuner": self.goal_tuner_name,
                      "fail_charge_num": self.fail_charge_num,
                      "fail_charge_denom": self.fail_charge_denom,
                      "weight_sz": self.weight_sz,
                      "weight_nr_accesses": self.weight_nr_accesses,
                      "weight_age": self.weight_age, "esz": self.esz, "esz_bp": self.esz_bp,
                      "charged_sz": self.charged_sz, "charged_from": self.charged_from,
                      "min_score": self.min_score},
            "wmarks": {"metric": self.wmarks_metric, "interval": self.wmarks_interval,
                       "high": self.wmarks_high, "mid": self.wmarks_mid,
                       "low": self.wmarks_low, "activated": bool(self.wmarks_activated)},
            "target_nid": self.target_nid,
            "migrate_dests": [list(d) for d in self.migrate_dests],
            "core_filters": [(<Filter>f).dump() for f in self.core_filters],
            "ops_filters": [(<Filter>f).dump() for f in self.ops_filters],
            "core_filters_default_reject": bool(self.core_filters_default_reject),
            "ops_filters_default_reject": bool(self.ops_filters_default_reject),
            "max_nr_snapshots": self.max_nr_snapshots,
            "stat": self.stats(),
        }

    @property
    def active(self):
        """Whether the scheme is applied: watermarks allow it and it has not
        reached max_nr_snapshots."""
        return self.wmarks_activated and not (
            self.max_nr_snapshots and self.nr_snapshots >= self.max_nr_snapshots)

    @property
    def has_quota(self):
        return bool(self.quota_ms or self.quota_sz or self.goals)


cdef inline bint quota_is_set(Scheme s) noexcept:
    """damos_quota_is_set()."""
    return s.esz != 0 or s.quota_sz != 0 or s.quota_ms != 0 or len(s.goals) != 0


cdef inline bint quota_is_full(Scheme s, uint64_t min_region_sz) noexcept:
    """damos_quota_is_full(): less than one minimum region left counts as
    full, since actions are applied a region at a time."""
    if not quota_is_set(s):
        return False
    if s.charged_sz >= s.esz:
        return True
    return s.esz - s.charged_sz < min_region_sz


cdef inline void charge_quota(Scheme s, uint64_t sz_region, uint64_t sz_applied) noexcept:
    """damos_charge_quota(): failed bytes are charged fail_charge_num /
    fail_charge_denom of their size when a ratio is set."""
    if not s.fail_charge_denom or sz_applied > sz_region:
        s.charged_sz += sz_region
    else:
        s.charged_sz += sz_applied + mult_frac(sz_region - sz_applied, s.fail_charge_num,
                                               s.fail_charge_denom)


# ---------------------------------------------------------------------------
# Operation sets and kernel-wide state

cdef class Operations:
    """Base operation set: every operation is optional, as in the kernel."""

    def __init__(self, name="none"):
        self.name = name

    cdef void init(self, Context ctx) except *:
        pass

    cdef void update(self, Context ctx) except *:
        pass

    cdef void prepare_access_checks(self, Context ctx) except *:
        pass

    cdef uint32_t check_accesses(self, Context ctx) except? 0xFFFFFFFF:
        return 0

    cdef bint target_valid(self, Target t) except -1:
        return True

    cdef bint has_target_valid(self):
        """Whether the set has a target_valid() (without one, as paddr, the
        kdamond never stops on its own)."""
        return False

    cdef bint has_scheme_score(self):
        return False

    cdef int get_scheme_score(self, Context ctx, Target t, Region *r, Scheme s) except -1:
        return DAMOS_MAX_SCORE

    cdef uint64_t apply_scheme(self, Context ctx, Target t, Region *r, Scheme s,
                               uint64_t *sz_filter_passed) except? 0xFFFFFFFFFFFFFFFF:
        return 0

    cdef bint has_apply_probes(self):
        """Whether the operation set has apply_probes() (paddr)."""
        return False

    cdef uint32_t apply_probes(self, Context ctx, bint set_samples,
                               bint return_max_wsum) except? 0xFFFFFFFF:
        return 0

    cdef bint is_paddr(self):
        return False

    cdef int eligible_bytes(self, Context ctx, Region *r, int nid, uint64_t *node_bytes,
                            uint64_t *total) except -1:
        """damos_calc_eligible_bytes() for one region (paddr only)."""
        return 0

    cdef void cleanup(self, Context ctx) except *:
        pass


cdef class KernelState:
    """Kernel-wide statics shared by every context of one simulated machine."""

    def __init__(self, machine=None):
        self.machine = machine
        self.processes = {}
        self.last_nr_regions = 0
        self.split_rotation = 0
        self.va_last_addr = 0
        self.va_last_folio_sz = 4096
        self.va_last_accessed = False
        self.pa_last_addr = 0
        self.pa_last_folio_sz = 4096
        self.pa_last_accessed = False
        self.clock_ns = 0
        self.psi_some_us = 0

    @property
    def jiffies(self):
        """Milliseconds-resolution jiffies (HZ=1000) of the simulated clock."""
        return INITIAL_JIFFIES + <uint64_t>(self.clock_ns / 1000000)


# ---------------------------------------------------------------------------
# The monitoring context and its kdamond

cdef class Context:
    """A DAMON context (damon_ctx) and the kdamond loop that runs it."""

    def __cinit__(self):
        self.score_hist = <uint64_t *>calloc(DAMOS_MAX_SCORE + 1, sizeof(uint64_t))
        if self.score_hist == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.score_hist)

    def __init__(self, Operations ops=None, *, uint64_t sample_us=5000,
                 uint64_t aggr_us=100000, uint64_t update_us=60000000,
                 uint64_t min_nr_regions=10, uint64_t max_nr_regions=1000,
                 intervals_goal=None, uint64_t seed=0, uint64_t min_region_sz=4096,
                 uint64_t addr_unit=1, bint pause=False, KernelState kstate=None,
                 probes=()):
        self.ops = ops if ops is not None else Operations()
        self.targets = []
        self.schemes = []
        self.probes = list(probes)
        self.call_requests = []
        self.kstate = kstate if kstate is not None else KernelState()
        self.on_aggregated = None
        self.state = ST_INIT
        self.walk_control = None
        self.walk_control_obsolete = False
        sim_rng_seed(&self.rng, seed)
        if min_region_sz == 0 or min_region_sz & (min_region_sz - 1):
            raise ValueError("min_region_sz must be a power of two, not %d" % min_region_sz)
        if addr_unit == 0:
            raise ValueError("addr_unit must be positive")
        self.min_region_sz = min_region_sz
        self.addr_unit = addr_unit
        self.pause = pause
        self.set_attrs(sample_us, aggr_us, update_us, min_nr_regions, max_nr_regions,
                       intervals_goal)

    # ---- attributes ----
    def set_attrs(self, uint64_t sample_us, uint64_t aggr_us, uint64_t update_us,
                  uint64_t min_nr_regions, uint64_t max_nr_regions, intervals_goal=None):
        """damon_set_attrs(): validate, rescale counters, re-arm the timers.
        Raises ValueError with the reason where the kernel returns -EINVAL."""
        cdef Attrs a
        memset(&a, 0, sizeof(Attrs))
        a.sample_interval = sample_us
        a.aggr_interval = aggr_us
        a.ops_update_interval = update_us
        a.min_nr_regions = min_nr_regions
        a.max_nr_regions = max_nr_regions
        if intervals_goal:
            a.goal_access_bp, a.goal_aggrs, a.goal_min_sample_us, a.goal_max_sample_us = \
                intervals_goal
        err = _attrs_error(a)
        if err:
            raise ValueError(err)
        self.set_attrs_struct(&a)

    cdef int set_attrs_struct(self, Attrs *a) except -1:
        cdef uint64_t sample = a.sample_interval if a.sample_interval else 1
        cdef bint aggregating = self.passed_sample_intervals < self.next_aggregation_sis
        cdef Scheme s
        cdef uint64_t old_next
        if (not valid_intervals_goal(a) or a.min_nr_regions < 3
                or a.min_nr_regions > a.max_nr_regions
                or a.sample_interval > a.aggr_interval):
            return -EINVAL
        if not a.aggr_samples:
            a.aggr_samples = a.aggr_interval / sample
        self.next_aggregation_sis = self.passed_sample_intervals + a.aggr_interval / sample
        self.next_ops_update_sis = self.passed_sample_intervals + a.ops_update_interval / sample
        self.update_monitoring_results(a, aggregating)
        self.attrs = a[0]
        for s in self.schemes:
            old_next = s.next_apply_sis
            self._set_next_apply_sis(s)
            if self.passed_sample_intervals < old_next < s.next_apply_sis:
                s.nr_apply_postponed += 1       # (sim) a pending apply pushed back
                s.apply_postponed_in_row += 1
        return 0

    cdef void _set_next_apply_sis(self, Scheme s):
        cdef uint64_t sample = self.attrs.sample_interval if self.attrs.sample_interval else 1
        cdef uint64_t apply = s.apply_interval_us if s.apply_interval_us else self.attrs.aggr_interval
        s.next_apply_sis = self.passed_sample_intervals + apply / sample

    cdef void update_monitoring_results(self, Attrs *new_attrs, bint aggregating) noexcept:
        cdef Attrs *old = &self.attrs
        cdef Target t
        cdef Region *r
        if (not old.sample_interval or not old.aggr_interval or not new_attrs.sample_interval
                or not new_attrs.aggr_interval):
            return                      # any zero interval: no conversion
        cdef int nr_probes = min(len(self.probes), DAMON_MAX_PROBES)
        for t in self.targets:
            r = t.head
            while r != NULL:
                update_monitoring_result(r, old, new_attrs, aggregating, nr_probes)
                r = r.next

    @property
    def sample_us(self):
        return self.attrs.sample_interval

    @property
    def aggr_us(self):
        return self.attrs.aggr_interval

    @property
    def update_us(self):
        return self.attrs.ops_update_interval

    @property
    def nr_regions_range(self):
        return (self.attrs.min_nr_regions, self.attrs.max_nr_regions)

    @property
    def intervals_goal(self):
        if not self.attrs.goal_aggrs:
            return None
        return (self.attrs.goal_access_bp, self.attrs.goal_aggrs,
                self.attrs.goal_min_sample_us, self.attrs.goal_max_sample_us)

    @property
    def aggr_samples(self):
        return self.attrs.aggr_samples

    @property
    def max_nr_accesses(self):
        """damon_nr_samples_per_aggr(): samples in one aggregation window."""
        return nr_samples_per_aggr(&self.attrs)

    @property
    def state_name(self):
        return STATE_NAMES[self.state]

    @property
    def running(self):
        return self.state != ST_STOPPED

    def add_target(self, Target t):
        self.targets.append(t)
        return t

    def destroy_target(self, Target t):
        """damon_destroy_target(): the target leaves the context and its
        regions are freed."""
        cdef int i
        for i in range(len(self.targets)):
            if self.targets[i] is t:
                del self.targets[i]
                break
        else:
            raise ValueError("not a target of this context")
        t.destroy_all()

    def add_scheme(self, Scheme s):
        """damon_add_scheme()."""
        self.schemes.append(s)
        self._set_next_apply_sis(s)
        return s

    def call(self, fn):
        """damon_call(): run fn(ctx) in the kdamond loop, after the next sampling."""
        self.call_requests.append(fn)

    def damos_walk(self, walk_fn, done_fn=None):
        """damos_walk(): ask the kdamond to call walk_fn(ctx, target, region,
        scheme, sz_filter_passed) for each region a scheme's action is applied
        to, until every scheme has passed one apply interval; then (or when the
        walk is canceled) done_fn(canceled) is called.  region is (start, end,
        nr_accesses, age).  Returns 0, -EBUSY while another walk is installed,
        or -ECANCELED once the kdamond has exited."""
        if self.walk_control_obsolete:
            return -ECANCELED
        if self.walk_control is not None:
            return -EBUSY
        self.walk_control = (walk_fn, done_fn)
        return 0

    def request_stop(self):
        self.stop_requested = True

    def seed_rng(self, uint64_t seed):
        """Reseed this context's random stream (sampling addresses, splits)."""
        sim_rng_seed(&self.rng, seed)

    def nr_accesses_mvsums(self, Target t):
        """damon_nr_accesses_mvsum() of every region of t, now."""
        cdef Region *r = t.head
        out = []
        while r != NULL:
            out.append(self.nr_accesses_mvsum(r))
            r = r.next
        return out

    def dump(self):
        """Every parameter and internal field of the context, its targets and
        schemes, as a dict (what the kernel selftests' drgn_dump_damon_status
        reads back after a start or a commit)."""
        cdef Target t
        cdef Scheme s
        return {
            "ops": self.ops.name, "addr_unit": self.addr_unit,
            "min_region_sz": self.min_region_sz, "pause": bool(self.pause),
            "attrs": {"sample_us": self.attrs.sample_interval,
                      "aggr_us": self.attrs.aggr_interval,
                      "ops_update_us": self.attrs.ops_update_interval,
                      "min_nr_regions": self.attrs.min_nr_regions,
                      "max_nr_regions": self.attrs.max_nr_regions,
                      "intervals_goal": {"access_bp": self.attrs.goal_access_bp,
                                         "aggrs": self.attrs.goal_aggrs,
                                         "min_sample_us": self.attrs.goal_min_sample_us,
                                         "max_sample_us": self.attrs.goal_max_sample_us},
                      "aggr_samples": self.attrs.aggr_samples},
            "targets": [{"pid": t.pid, "regions": [list(x) for x in t.regions()]}
                        for t in self.targets],
            "schemes": [s.dump() for s in self.schemes],
            "probes": [p.dump() for p in self.probes],
        }

    # ---- kdamond internals ----
    cdef uint64_t region_sz_limit(self) noexcept:
        """damon_region_sz_limit(): total size over min_nr_regions."""
        cdef Target t
        cdef Region *r
        cdef uint64_t sz = 0
        for t in self.targets:
            r = t.head
            while r != NULL:
                sz += r.end - r.start
                r = r.next
        if self.attrs.min_nr_regions:
            sz /= self.attrs.min_nr_regions
        if sz < self.min_region_sz:
            sz = self.min_region_sz
        return sz

    cdef uint64_t apply_min_nr_regions(self) except? 0:
        """damon_apply_min_nr_regions(): split every region bigger than the
        size limit (aligned up to min_region_sz) into chunks of that size;
        returns the limit."""
        cdef uint64_t max_region_sz = align_up(self.region_sz_limit(), self.min_region_sz)
        cdef Target t
        cdef Region *r
        cdef Region *nxt
        for t in self.targets:
            r = t.head
            while r != NULL:
                nxt = r.next
                while r.end - r.start > max_region_sz:
                    t.split_region_at(r, max_region_sz)
                    r = r.next
                r = nxt
        return max_region_sz

    cdef uint32_t nr_accesses_mvsum(self, const Region *r) noexcept:
        """damon_nr_accesses_mvsum(): the access count of the last
        aggregation interval's length, as a pseudo moving sum (the current
        window's samples plus the still-covered part of the last window)."""
        cdef uint64_t sample = self.attrs.sample_interval if self.attrs.sample_interval else 1
        cdef uint64_t aggr = self.attrs.aggr_interval if self.attrs.aggr_interval else 1
        cdef uint64_t window_len = aggr / sample, left_window, left_window_bp
        if window_len == 0:             # set_attrs() forbids it; never divide by zero
            window_len = 1
        if time_after_eq(self.passed_sample_intervals, self.next_aggregation_sis):
            left_window = 0
        else:
            left_window = self.next_aggregation_sis - self.passed_sample_intervals
        left_window_bp = mult_frac(left_window, 10000, window_len)
        if left_window_bp == 10000:
            return r.last_nr_accesses
        return <uint32_t>damon_mvsum(r.nr_accesses, r.last_nr_accesses, left_window_bp)

    cdef uint8_t probe_hits_mvsum(self, int probe_idx, const Region *r) noexcept:
        """damon_probe_hits_mvsum(): damon_nr_accesses_mvsum() of a probe's
        hits, returned as an unsigned char."""
        cdef uint64_t sample = self.attrs.sample_interval if self.attrs.sample_interval else 1
        cdef uint64_t aggr = self.attrs.aggr_interval if self.attrs.aggr_interval else 1
        cdef uint64_t window_len = aggr / sample, left_window, left_window_bp
        if window_len == 0:
            window_len = 1
        if time_after_eq(self.passed_sample_intervals, self.next_aggregation_sis):
            left_window = 0
        else:
            left_window = self.next_aggregation_sis - self.passed_sample_intervals
        left_window_bp = mult_frac(left_window, 10000, window_len)
        if left_window_bp == 10000:
            return r.last_probe_hits[probe_idx]
        return <uint8_t>damon_mvsum(r.probe_hits[probe_idx], r.last_probe_hits[probe_idx],
                                    left_window_bp)

    cdef bint has_probe_weights(self) noexcept:
        """damon_has_probe_weights(): any probe has a non-zero weight."""
        cdef Probe p
        for p in self.probes:
            if p.weight:
                return True
        return False

    cdef uint32_t probe_hits_wsum(self, const Region *r, bint last) noexcept:
        """damon_probe_hits_wsum() of a region, this window's or the last."""
        cdef uint32_t w[DAMON_MAX_PROBES]
        cdef int n = 0
        cdef Probe p
        for p in self.probes:
            if n == DAMON_MAX_PROBES:
                break
            w[n] = p.weight
            n += 1
        return probe_hits_wsum_of(r, last, w, n)

    cdef void merge_regions(self, uint32_t threshold, uint64_t sz_limit) noexcept:
        """kdamond_merge_regions(): repeat with a doubling threshold while the
        region count is above max_nr_regions; only the first pass ages.  With
        probe weights, regions are merged by their weighted probe hits."""
        cdef Target t
        cdef uint64_t nr_regions
        cdef bint count_age = True
        cdef uint32_t max_thres = <uint32_t>(self.attrs.aggr_interval / (
            self.attrs.sample_interval if self.attrs.sample_interval else 1))
        cdef uint32_t w[DAMON_MAX_PROBES]
        cdef int nr_weights = 0
        cdef Probe p
        if self.has_probe_weights():
            for p in self.probes:
                if nr_weights == DAMON_MAX_PROBES:
                    break
                w[nr_weights] = p.weight
                nr_weights += 1
        while True:
            nr_regions = 0
            for t in self.targets:
                t.merge_regions_of(threshold, sz_limit, count_age, w, nr_weights)
                nr_regions += t.nr_regions
            count_age = False
            threshold = threshold * 2 if threshold * 2 > 1 else 1
            if not (nr_regions > self.attrs.max_nr_regions and threshold / 2 < max_thres):
                break

    cdef int split_some_regions(self, uint64_t split_step) except -1:
        """damon_split_some_regions(): split one in every split_step regions
        in two, from an offset that rotates (a kernel-wide static)."""
        cdef Target t
        cdef Region *r
        cdef Region *nxt
        cdef uint64_t offset = self.kstate.split_rotation % split_step
        cdef uint64_t idx = 0, sz_region, sz_sub
        self.kstate.split_rotation += 1
        for t in self.targets:
            r = t.head
            while r != NULL:
                nxt = r.next
                if idx % split_step != offset:
                    idx += 1
                    r = nxt
                    continue
                idx += 1
                sz_region = r.end - r.start
                if sz_region < 2 * self.min_region_sz:
                    r = nxt
                    continue
                sz_sub = align_down(sim_damon_rand(&self.rng, 1, 10) * sz_region / 10,
                                    self.min_region_sz)
                if sz_sub != 0 and sz_sub < sz_region:
                    t.split_region_at(r, sz_sub)
                r = nxt
        return 0

    cdef int split_regions(self) except -1:
        """kdamond_split_regions(): 2 (or 3 after no change) subregions each
        up to half of max_nr_regions; above it, a rotating subset is split
        so the resolution keeps improving up to the maximum."""
        cdef Target t
        cdef uint64_t nr_regions = 0, max_nr_regions = self.attrs.max_nr_regions
        cdef int nr_subs = 2
        for t in self.targets:
            nr_regions += t.nr_regions
        if nr_regions >= max_nr_regions:
            pass
        elif nr_regions > max_nr_regions / 2:
            self.split_some_regions(max_nr_regions / (max_nr_regions - nr_regions))
        else:
            if self.kstate.last_nr_regions == nr_regions and \
                    nr_regions < max_nr_regions / 3:
                nr_subs = 3
            for t in self.targets:
                t.split_regions_of(nr_subs, self.min_region_sz, &self.rng)
        self.kstate.last_nr_regions = nr_regions
        return 0

    cdef void reset_aggregated(self, int64_t now_ns) except *:
        """kdamond_reset_aggregated(): the damon_aggregated trace point fires
        here for every region (with probes, damon_region_aggregated gives
        their hits too); then nr_accesses moves to last_nr_accesses and the
        probe hits to last_probe_hits."""
        cdef Target t
        cdef Region *r
        cdef uint64_t[::1] starts, ends
        cdef uint32_t[::1] nrs, ages
        cdef uint8_t[:, ::1] hits
        cdef Py_ssize_t i, j
        cdef int nr_probes = min(len(self.probes), DAMON_MAX_PROBES)
        snapshot = None
        if self.on_aggregated is not None:
            snapshot = []
            for t in self.targets:
                a_start = np.empty(t.nr_regions, dtype=np.uint64)
                a_end = np.empty(t.nr_regions, dtype=np.uint64)
                a_nr = np.empty(t.nr_regions, dtype=np.uint32)
                a_age = np.empty(t.nr_regions, dtype=np.uint32)
                starts = a_start
                ends = a_end
                nrs = a_nr
                ages = a_age
                r = t.head
                i = 0
                while r != NULL:
                    starts[i] = r.start
                    ends[i] = r.end
                    nrs[i] = r.nr_accesses
                    ages[i] = r.age
                    i += 1
                    r = r.next
                if not nr_probes:
                    snapshot.append((a_start, a_end, a_nr, a_age))
                    continue
                a_hits = np.empty((t.nr_regions, nr_probes), dtype=np.uint8)
                hits = a_hits
                r = t.head
                i = 0
                while r != NULL:
                    for j in range(nr_probes):
                        hits[i, j] = r.probe_hits[j]
                    i += 1
                    r = r.next
                snapshot.append((a_start, a_end, a_nr, a_age, a_hits))
        for t in self.targets:
            r = t.head
            while r != NULL:
                r.last_nr_accesses = r.nr_accesses
                r.nr_accesses = 0
                memcpy(r.last_probe_hits, r.probe_hits, sizeof(r.probe_hits))
                memset(r.probe_hits, 0, sizeof(r.probe_hits))
                r = r.next
        start_ns = self.last_aggregation_ns
        self.last_aggregation_ns = now_ns
        self.nr_aggregations += 1
        if snapshot is not None:
            self.on_aggregated(self, start_ns, now_ns, snapshot)

    cdef void tune_intervals(self) except *:
        """kdamond_tune_intervals(): scale the intervals toward the observed
        access ratio goal, at most x2 up and x0.5 down per step."""
        cdef Target t
        cdef Region *r
        cdef uint64_t sz, max_events = 0, events = 0, target_events, score_bp, adaptation_bp
        cdef Attrs new_attrs
        for t in self.targets:
            r = t.head
            while r != NULL:
                sz = r.end - r.start
                max_events += sz * self.attrs.aggr_samples
                events += sz * r.nr_accesses
                r = r.next
        target_events = max_events * self.attrs.goal_access_bp / 10000
        if not target_events:
            target_events = 1
        score_bp = mult_frac(events, 10000, target_events)
        adaptation_bp = feed_loop_next_input(100000000, score_bp) / 10000
        if adaptation_bp <= 10000:
            adaptation_bp = 5000 + adaptation_bp / 2
        if adaptation_bp == 10000:
            return
        new_attrs = self.attrs
        new_attrs.sample_interval = self.attrs.sample_interval * adaptation_bp / 10000
        if new_attrs.sample_interval > self.attrs.goal_max_sample_us:
            new_attrs.sample_interval = self.attrs.goal_max_sample_us
        if new_attrs.sample_interval < self.attrs.goal_min_sample_us:
            new_attrs.sample_interval = self.attrs.goal_min_sample_us
        new_attrs.aggr_interval = new_attrs.sample_interval * self.attrs.aggr_samples
        self.set_attrs_struct(&new_attrs)

    cdef bint need_stop(self) except -1:
        """kdamond_need_stop(): asked to stop, or every target is gone (only
        for operation sets that can tell: paddr never stops on its own)."""
        cdef Target t
        if self.stop_requested:
            return True
        if not self.ops.has_target_valid():
            return False
        for t in self.targets:
            if self.ops.target_valid(t):
                return False
        return True

    cdef uint64_t wmark_wait_us(self, Scheme s) except? 0xFFFFFFFFFFFFFFFF:
        """damos_wmark_wait_us(): 0 if the scheme is active, else the time to
        wait before checking its watermarks again."""
        cdef uint64_t metric
        if s.wmarks_metric != WMARK_FREE_MEM_RATE:
            return 0
        metric = self.kstate.machine.free_mem_rate()
        if metric > s.wmarks_high or s.wmarks_low > metric:
            s.wmarks_activated = False
            return s.wmarks_interval
        if s.wmarks_high >= metric >= s.wmarks_mid and not s.wmarks_activated:
            return s.wmarks_interval
        s.wmarks_activated = True
        return 0

    cdef uint64_t wait_activation_us(self) except? 0xFFFFFFFFFFFFFFFF:
        cdef Scheme s
        cdef uint64_t wait, min_wait = 0
        cdef bint init = False
        for s in self.schemes:
            wait = self.wmark_wait_us(s)
            if not init or wait < min_wait:
                init = True
                min_wait = wait
        return min_wait

    cdef void kdamond_call(self) except *:
        requests = self.call_requests
        self.call_requests = []
        for fn in requests:
            fn(self)

    cdef void walk_cancel(self):
        """damos_walk_cancel(): the walk request, if any, ends as canceled."""
        cdef Scheme s
        control = self.walk_control
        for s in self.schemes:
            if s.tried_regions_sink is not None and s.tried_buf:
                s.tried_buf = []
        if control is None:
            return
        self.walk_control = None
        if control[1] is not None:
            control[1](True)

    cdef void init_ctx(self) noexcept:
        """kdamond_init_ctx()."""
        cdef uint64_t sample = self.attrs.sample_interval if self.attrs.sample_interval else 1
        cdef Scheme s
        self.passed_sample_intervals = 0
        self.next_aggregation_sis = self.attrs.aggr_interval / sample
        self.next_ops_update_sis = self.attrs.ops_update_interval / sample
        self.next_intervals_tune_sis = self.next_aggregation_sis * self.attrs.goal_aggrs
        for s in self.schemes:
            s.next_apply_sis = (s.apply_interval_us if s.apply_interval_us
                                else self.attrs.aggr_interval) / sample
            s.set_filters_default_reject()

    cdef int64_t step(self, int64_t now_ns) except? -2:
        """Run the kdamond loop from its current suspension point up to the
        next one.  Returns the simulated time to call again, or -1 once the
        kdamond has stopped."""
        cdef double work_ns = 0, check_ns
        cdef uint64_t checks
        cdef Target t
        self.kstate.clock_ns = now_ns
        if self.state == ST_STOPPED:
            return -1
        if self.state == ST_INIT:
            self.started_ns = now_ns
            self.last_aggregation_ns = now_ns
            self.walk_control_obsolete = False
            for t in self.targets:
                if t.init_ranges and not t.nr_regions:
                    t.set_regions(list(t.init_ranges), self.min_region_sz)
            self.init_ctx()
            self.ops.init(self)
            self.sz_limit = self.apply_min_nr_regions()
        elif self.state == ST_SAMPLING:
            checks = self.nr_access_checks
            self._after_sampling(now_ns)
            # (sim) each access check costs the kdamond CPU time
            check_ns = (self.nr_access_checks - checks) * self.access_check_ns
            if self.pause:
                self.walk_cancel()
                self.state = ST_PAUSED
                self.total_work_ns += check_ns
                self.busy_until_ns = now_ns + <int64_t>check_ns
                return self.busy_until_ns + <int64_t>(self.attrs.sample_interval
                                                      if self.attrs.sample_interval else 1) * 1000
            work_ns = self._after_call(now_ns) + check_ns
            self.total_work_ns += work_ns
            if work_ns > 0:
                # checking accesses and applying schemes kept the kdamond
                # busy: the loop top comes later
                self.state = ST_BUSY
                self.busy_until_ns = now_ns + <int64_t>work_ns
                return self.busy_until_ns
        elif self.state == ST_PAUSED:
            # the pause loop: one sampling interval slept; let damon_call()
            # requests (a commit that unpauses) run
            self.kdamond_call()
            if self.need_stop():
                return self._stop()
            if self.pause:
                self.walk_cancel()
                return now_ns + <int64_t>(self.attrs.sample_interval
                                          if self.attrs.sample_interval else 1) * 1000
            work_ns = self._after_call(now_ns)
            self.total_work_ns += work_ns
            if work_ns > 0:
                self.state = ST_BUSY
                self.busy_until_ns = now_ns + <int64_t>work_ns
                return self.busy_until_ns
        elif self.state == ST_WAITING:
            self.kdamond_call()
            self.walk_cancel()
            return self._wait_or_prepare(now_ns)
        # loop top: values used by this iteration (set_attrs() changes apply next)
        if self.need_stop():
            return self._stop()
        self.snap_next_aggregation_sis = self.next_aggregation_sis
        self.snap_next_ops_update_sis = self.next_ops_update_sis
        self.snap_sample_interval = self.attrs.sample_interval
        # attributes-only monitoring: with probe weights, no access checks
        self.snap_access_check_disabled = self.has_probe_weights()
        return self._wait_or_prepare(now_ns)

    cdef int64_t _wait_or_prepare(self, int64_t now_ns) except? -2:
        cdef uint64_t wait_us
        if self.need_stop():
            return self._stop()
        wait_us = self.wait_activation_us()
        if wait_us:
            self.state = ST_WAITING
            return now_ns + <int64_t>wait_us * 1000
        if not self.snap_access_check_disabled:
            self.ops.prepare_access_checks(self)
        self.state = ST_SAMPLING
        # kdamond_usleep(0) still takes about a microsecond
        return now_ns + <int64_t>(self.snap_sample_interval if self.snap_sample_interval
                                  else 1) * 1000

    cdef int64_t _stop(self) except? -2:
        """The end of kdamond_fn(): targets destroyed, pending damon_call()
        requests canceled, walks made impossible."""
        cdef Target t
        self.state = ST_STOPPED
        for t in self.targets:
            t.destroy_all()
        self.ops.cleanup(self)
        self.call_requests = []
        self.walk_control_obsolete = True
        self.walk_cancel()
        return -1

    cdef bint _after_sampling(self, int64_t now_ns) except -1:
        """The loop body after the sampling sleep, up to kdamond_call():
        access checks, and at an aggregation the merge and min_nr_regions."""
        # max_nr is the kernel's max_merge_score: the highest access count,
        # or with probe weights the highest weighted sum of probe hits
        cdef uint32_t max_nr = 0, max_wsum
        cdef bint get_max_wsum
        self.passed_sample_intervals += 1
        if not self.snap_access_check_disabled:
            max_nr = self.ops.check_accesses(self)
        if self.ops.has_apply_probes():
            get_max_wsum = (self.passed_sample_intervals >= self.snap_next_aggregation_sis
                            and self.snap_access_check_disabled)
            max_wsum = self.ops.apply_probes(self, self.snap_access_check_disabled,
                                             get_max_wsum)
            if get_max_wsum:
                max_nr = max_wsum
        if self.passed_sample_intervals >= self.snap_next_aggregation_sis:
            self.merge_regions(max_nr / 10, self.sz_limit)
            # online updates might have been made
            self.sz_limit = self.apply_min_nr_regions()
        self.kdamond_call()
        return 0

    cdef double _after_call(self, int64_t now_ns) except? -1.0:
        """The rest of the loop body (out of the pause loop): schemes, then
        at an aggregation interval tuning, reset and split, then ops update;
        returns the simulated time the kdamond spent applying schemes."""
        cdef uint64_t sample
        cdef double work_ns
        self.apply_ns = 0
        if self.schemes:
            self.apply_schemes()
        else:
            self.walk_cancel()
        work_ns = self.apply_ns
        self.total_apply_ns += work_ns
        sample = self.attrs.sample_interval if self.attrs.sample_interval else 1
        if self.passed_sample_intervals >= self.snap_next_aggregation_sis:
            if self.attrs.goal_aggrs and \
                    self.passed_sample_intervals >= self.next_intervals_tune_sis:
                self.next_aggregation_sis = self.snap_next_aggregation_sis
                self.next_intervals_tune_sis += self.attrs.aggr_samples * self.attrs.goal_aggrs
                self.tune_intervals()
                sample = self.attrs.sample_interval if self.attrs.sample_interval else 1
            self.next_aggregation_sis = self.snap_next_aggregation_sis + \
                self.attrs.aggr_interval / sample
            self.reset_aggregated(now_ns)
            self.split_regions()
        if self.passed_sample_intervals >= self.snap_next_ops_update_sis:
            self.next_ops_update_sis = self.snap_next_ops_update_sis + \
                self.attrs.ops_update_interval / sample
            self.ops.update(self)
        return work_ns

    # ---- DAMOS ----
    cdef void apply_schemes(self) except *:
        """kdamond_apply_schemes()."""
        cdef Scheme s
        cdef Target t
        cdef bint has_schemes_to_apply = False
        cdef uint64_t max_region_sz
        for s in self.schemes:
            if time_before(self.passed_sample_intervals, s.next_apply_sis):
                continue
            if not s.wmarks_activated:
                continue
            has_schemes_to_apply = True
            self.adjust_quota(s)
        if not has_schemes_to_apply:
            return
        max_region_sz = self.region_sz_limit()
        for t in self.targets:
            if self.ops.has_target_valid() and not self.ops.target_valid(t):
                continue
            self.apply_target(t, max_region_sz)
        for s in self.schemes:
            if time_before(self.passed_sample_intervals, s.next_apply_sis):
                continue
            self.walk_complete(s)
            if s.tried_regions_sink is not None:
                buf = s.tried_buf
                s.tried_buf = []
                s.tried_regions_sink(s, buf)
            s.apply_postponed_in_row = 0
            self._set_next_apply_sis(s)
            s.last_applied = None

    cdef void walk_complete(self, Scheme s):
        """damos_walk_complete(): once every scheme passed an apply interval
        since the walk was requested, the walk is done."""
        cdef Scheme si
        control = self.walk_control
        if control is None:
            return
        s.walk_completed = True
        for si in self.schemes:
            if not si.walk_completed:
                return
        for si in self.schemes:
            si.walk_completed = False
        self.walk_control = None
        if control[1] is not None:
            control[1](False)

    cdef void apply_target(self, Target t, uint64_t max_region_sz) except *:
        """damos_apply_target(): regions in address order, including the
        pieces split off while applying (the walk is not a 'safe' one); a
        quota-sliced piece is merged back into the previous region when that
        loses nothing and keeps max_region_sz."""
        cdef Region *r = t.head
        cdef Region *prev
        while r != NULL:
            self.do_apply_schemes(t, r)
            if r != t.head:
                prev = r.prev
                if (prev.end == r.start and prev.age == r.age
                        and prev.last_nr_accesses == r.last_nr_accesses
                        and prev.nr_accesses == r.nr_accesses
                        and r.end - prev.start <= max_region_sz):
                    prev.end = r.end
                    t.destroy_region(r)
                    r = prev
            r = r.next

    cdef void do_apply_schemes(self, Target t, Region *r) except *:
        """damon_do_apply_schemes(): every due scheme on one region; a
        scheme's nr_snapshots counts the targets it walked to their end."""
        cdef Scheme s
        for s in self.schemes:
            if time_before(self.passed_sample_intervals, s.next_apply_sis):
                continue
            if not s.wmarks_activated:
                continue
            if quota_is_full(s, self.min_region_sz):
                continue
            if self.skip_charged_region(t, r, s):
                continue
            if s.max_nr_snapshots and s.max_nr_snapshots <= s.nr_snapshots:
                continue
            if self.valid_target(t, r, s):
                self.apply_scheme(t, r, s)
            if is_last_region(t, r):
                s.nr_snapshots += 1

    cdef bint pattern_matches(self, Scheme s, const Region *r) noexcept:
        """__damos_valid_target(): the access pattern, on the moving-sum
        access count."""
        cdef uint64_t sz = r.end - r.start
        cdef uint32_t nr = self.nr_accesses_mvsum(r)
        return (s.min_sz_region <= sz <= s.max_sz_region
                and s.min_nr_accesses <= nr <= s.max_nr_accesses
                and s.min_age_region <= r.age <= s.max_age_region)

    cdef bint valid_target(self, Target t, Region *r, Scheme s) except -1:
        """damos_valid_target(): the pattern, then the quota's priority."""
        if not self.pattern_matches(s, r):
            return False
        if not quota_is_set(s) or not self.ops.has_scheme_score():
            return True
        return self.ops.get_scheme_score(self, t, r, s) >= s.min_score

    cdef bint skip_charged_region(self, Target t, Region *r, Scheme s) except -1:
        """damos_skip_charged_region(): resume where the last quota window
        ended.  A region that straddles the resume point is split, and the
        second piece is visited next."""
        cdef uint64_t sz_to_skip
        if s.charge_target_from is None:
            return False
        if t is not s.charge_target_from:
            return True
        if is_last_region(t, r):
            s.charge_target_from = None
            s.charge_addr_from = 0
            return True
        if s.charge_addr_from and r.end <= s.charge_addr_from:
            return True
        if s.charge_addr_from and r.start < s.charge_addr_from:
            sz_to_skip = align_down(s.charge_addr_from - r.start, self.min_region_sz)
            if not sz_to_skip:
                if r.end - r.start <= self.min_region_sz:
                    return True
                sz_to_skip = self.min_region_sz
            t.split_region_at(r, sz_to_skip)
            return True
        s.charge_target_from = None
        s.charge_addr_from = 0
        return False

    cdef bint filter_match(self, Target t, Region *r, Filter f) except -1:
        cdef bint matched = False
        cdef uint64_t start, end
        cdef int idx
        if f.type == FILTER_TARGET:
            idx = 0
            for ti in self.targets:
                if ti is t:
                    break
                idx += 1
            matched = idx == f.target_idx
        elif f.type == FILTER_ADDR:
            start = align_down(f.addr_start, self.min_region_sz)
            end = align_down(f.addr_end, self.min_region_sz)
            if start <= r.start and r.end <= end:
                matched = True
            elif r.end <= start or end <= r.start:
                matched = False
            elif r.start < start:
                t.split_region_at(r, start - r.start)
                matched = False
            else:
                t.split_region_at(r, end - r.start)
                matched = True
        else:
            return False
        return matched == f.matching

    cdef bint filter_out(self, Target t, Region *r, Scheme s) except -1:
        """damos_core_filter_out(): core filters; the first match decides."""
        cdef Filter f
        s.core_filters_allowed = False
        for f in s.core_filters:
            if self.filter_match(t, r, f):
                if f.allow:
                    s.core_filters_allowed = True
                return not f.allow
        return s.core_filters_default_reject

    cdef void apply_scheme(self, Target t, Region *r, Scheme s) except *:
        """damos_apply_scheme(): quota-slice, core filters, ask ops, charge,
        count."""
        cdef uint64_t sz = r.end - r.start, sz_applied = 0, sz_ops_filter_passed = 0
        cdef double t0
        if quota_is_set(s) and s.charged_sz + sz > s.esz:
            sz = align_down(s.esz - s.charged_sz, self.min_region_sz) \
                if s.esz > s.charged_sz else 0
            if sz:
                t.split_region_at(r, sz)
        if sz:
            if self.filter_out(t, r, s):
                return
            t0 = self.apply_ns
            sz_applied = self.ops.apply_scheme(self, t, r, s, &sz_ops_filter_passed)
            self.walk_call_walk(t, r, s, sz_ops_filter_passed)
            # time charged: the simulated time the action took
            s.total_charged_ns += <uint64_t>(self.apply_ns - t0)
            charge_quota(s, sz, sz_applied)
            if quota_is_full(s, self.min_region_sz):
                s.charge_target_from = t
                s.charge_addr_from = r.end
            if s.action != STAT:
                r.age = 0
        s.nr_tried += 1
        s.sz_tried += sz
        if sz_applied:
            s.nr_applied += 1
        s.sz_applied += sz_applied
        s.sz_ops_filter_passed += sz_ops_filter_passed

    cdef void walk_call_walk(self, Target t, Region *r, Scheme s, uint64_t sz_filter_passed):
        """damos_walk_call_walk() (and this simulator's per-interval record of
        tried regions)."""
        cdef uint32_t nr
        control = self.walk_control
        if s.tried_regions_sink is None and (control is None or s.walk_completed):
            return
        nr = self.nr_accesses_mvsum(r)
        if s.tried_regions_sink is not None:
            # sysfs-schemes: tried_regions/<r>/probes/<p>/hits are pseudo
            # moving sums too (damon_probe_hits_mvsum())
            s.tried_buf.append([r.start, r.end, nr, r.age, sz_filter_passed, t,
                                tuple(self.probe_hits_mvsum(i, r) for i in
                                      range(min(len(self.probes), DAMON_MAX_PROBES)))])
        if control is not None and not s.walk_completed:
            control[0](self, t, (r.start, r.end, nr, r.age), s, sz_filter_passed)

    cdef uint64_t quota_score(self, Scheme s) except? 0xFFFFFFFFFFFFFFFF:
        """damos_quota_score(): the highest goal score (least aggressive)."""
        cdef QuotaGoal g
        cdef uint64_t highest = 0, score
        for g in s.goals:
            self._set_goal_current_value(s, g)
            score = mult_frac(g.current_value, 10000, g.target_value)
            if score > highest:
                highest = score
        return highest

    cdef void _set_goal_current_value(self, Scheme s, QuotaGoal g) except *:
        """damos_set_quota_goal_current_value()."""
        cdef uint64_t now_psi, total, free_pages, used, active, inactive
        machine = self.kstate.machine
        if g.metric == SOME_MEM_PSI_US:
            now_psi = self.kstate.psi_some_us
            g.current_value = now_psi - g.last_psi_total
            g.last_psi_total = now_psi
        elif g.metric in (NODE_MEM_USED_BP, NODE_MEM_FREE_BP):
            if machine is None or g.nid < 0 or g.nid >= machine.nr_nodes:
                # invalid_mem_node(): no memory used, all free
                g.current_value = 0 if g.metric == NODE_MEM_USED_BP else 10000
            else:
                node = machine.node(g.nid)
                total = node["capacity"] // 4096
                free_pages = node["free"] // 4096
                g.current_value = mult_frac(total - free_pages if g.metric == NODE_MEM_USED_BP
                                            else free_pages, 10000, total)
        elif g.metric in (NODE_MEMCG_USED_BP, NODE_MEMCG_FREE_BP):
            if machine is None or g.nid < 0 or g.nid >= machine.nr_nodes or g.memcg != 0:
                # invalid node, or a memory cgroup that does not exist (every
                # simulated process is in the root one, id 0)
                g.current_value = 0 if g.metric == NODE_MEMCG_USED_BP else 10000
            else:
                node = machine.node(g.nid)
                total = node["capacity"] // 4096
                # the root cgroup's LRU pages on the node: every page in use
                used = (node["capacity"] - node["free"]) // 4096
                g.current_value = mult_frac(used if g.metric == NODE_MEMCG_USED_BP
                                            else total - used, 10000, total)
        elif g.metric in (ACTIVE_MEM_BP, INACTIVE_MEM_BP):
            active, inactive = machine.lru_sizes() if machine is not None else (0, 0)
            total = active + inactive
            # the kernel divides by zero on an empty LRU; we say 0
            g.current_value = 0 if not total else mult_frac(
                active if g.metric == ACTIVE_MEM_BP else inactive, 10000, total)
        elif g.metric == NODE_ELIGIBLE_MEM_BP:
            g.current_value = self.node_eligible_mem_bp(s, g.nid)

    cdef uint64_t node_eligible_mem_bp(self, Scheme s, int nid) except? 0xFFFFFFFFFFFFFFFF:
        """damos_get_node_eligible_mem_bp(): the share of the memory that the
        scheme's access pattern selects which sits on node nid (paddr only)."""
        cdef Target t
        cdef Region *r
        cdef uint64_t node_bytes = 0, total = 0
        machine = self.kstate.machine
        if not self.ops.is_paddr():
            return 0
        if machine is None or nid < 0 or nid >= machine.nr_nodes:
            return 0
        for t in self.targets:
            r = t.head
            while r != NULL:
                if self.pattern_matches(s, r):
                    self.ops.eligible_bytes(self, r, nid, &node_bytes, &total)
                r = r.next
        if not total:
            return 0
        return mult_frac(node_bytes, 10000, total)

    cdef void set_effective_quota(self, Scheme s) except *:
        """damos_set_effective_quota() with the goal tuners
        (damos_goal_tune_esz_bp_{consist,temporal})."""
        cdef uint64_t throughput, esz = ULONG_MAX, score
        if not s.quota_ms and not s.goals:
            s.esz = s.quota_sz
            return
        if s.goals:
            score = self.quota_score(s)
            if s.goal_tuner == TUNER_CONSIST:
                s.esz_bp = feed_loop_next_input(s.esz_bp if s.esz_bp > 10000 else 10000, score)
            elif s.goal_tuner == TUNER_TEMPORAL:
                if score >= 10000:
                    s.esz_bp = 0
                elif s.quota_sz:
                    s.esz_bp = s.quota_sz * 10000
                else:
                    s.esz_bp = ULONG_MAX
            esz = s.esz_bp / 10000
        if s.quota_ms:
            if s.total_charged_ns:
                throughput = mult_frac(s.total_charged_sz, 1000000, s.total_charged_ns)
            else:
                throughput = 4096 * 1024
            if throughput * s.quota_ms < esz:
                esz = throughput * s.quota_ms
            if esz < self.min_region_sz:
                esz = self.min_region_sz
        if s.quota_sz and s.quota_sz < esz:
            esz = s.quota_sz
        s.esz = esz

    cdef void adjust_quota(self, Scheme s) except *:
        """damos_adjust_quota(): open a new charge window when due, then set
        the minimum priority score that fits the effective quota."""
        cdef Target t
        cdef Region *r
        cdef uint64_t cumulated, jiffies
        cdef int score, max_score = 0
        if not s.quota_ms and not s.quota_sz and not s.goals:
            return
        jiffies = INITIAL_JIFFIES + <uint64_t>(self.kstate.clock_ns / 1000000)
        if not s.total_charged_sz and not s.charged_from:
            # the first charge window starts now, with its quota
            s.charged_from = jiffies
            self.set_effective_quota(s)
        if not time_in_range_open(jiffies, s.charged_from,
                                  s.charged_from + msecs_to_jiffies(s.quota_reset_interval_ms)):
            if quota_is_full(s, self.min_region_sz):
                s.qt_exceeds += 1
            s.total_charged_sz += s.charged_sz
            s.charged_from = jiffies
            s.charged_sz = 0
            self.set_effective_quota(s)
        if not self.ops.has_scheme_score():
            return
        memset(self.score_hist, 0, (DAMOS_MAX_SCORE + 1) * sizeof(uint64_t))
        for t in self.targets:
            r = t.head
            while r != NULL:
                if self.pattern_matches(s, r) and not self.filter_out(t, r, s):
                    score = self.ops.get_scheme_score(self, t, r, s)
                    self.score_hist[score] += r.end - r.start
                    if score > max_score:
                        max_score = score
                r = r.next
        cumulated = 0
        score = max_score
        while True:
            cumulated += self.score_hist[score]
            if cumulated >= s.esz or not score:
                break
            score -= 1
        s.min_score = score


# ---------------------------------------------------------------------------
# Entry points for the kernel's own unit tests (tests/core-kunit.h): each one
# calls the function the kdamond itself runs.

def kunit_feed_loop_next_input(uint64_t last_input, uint64_t score):
    return feed_loop_next_input(last_input, score)


def kunit_mvsum(uint64_t current_nr, uint64_t last_nr, uint64_t left_window_bp):
    """damon_mvsum()."""
    return damon_mvsum(current_nr, last_nr, left_window_bp)


def kunit_set_sis(Context ctx, uint64_t passed_sample_intervals, next_aggregation_sis=None):
    """Set the context's sample-interval counters, as kunit cases assign them."""
    ctx.passed_sample_intervals = passed_sample_intervals
    if next_aggregation_sis is not None:
        ctx.next_aggregation_sis = next_aggregation_sis


def kunit_set_min_nr_regions(Context ctx, uint64_t min_nr_regions):
    """ctx->attrs.min_nr_regions = n, unvalidated, as kunit cases assign it."""
    ctx.attrs.min_nr_regions = min_nr_regions


def kunit_nr_accesses_mvsum(Context ctx, Target t, int region_idx):
    """damon_nr_accesses_mvsum() of one region, as __damos_valid_target() reads it."""
    return ctx.nr_accesses_mvsum(t._nth(region_idx))


def kunit_update_monitoring_result(Target t, int region_idx, old, new, bint aggregating=False,
                                   int nr_probes=0):
    """damon_update_monitoring_result() of one region; old/new: (sample_us,
    aggr_us); nr_probes: how many probes the context has."""
    cdef Attrs a, b
    memset(&a, 0, sizeof(Attrs))
    memset(&b, 0, sizeof(Attrs))
    a.sample_interval, a.aggr_interval = old
    b.sample_interval, b.aggr_interval = new
    update_monitoring_result(t._nth(region_idx), &a, &b, aggregating,
                             min(nr_probes, DAMON_MAX_PROBES))


def kunit_probe_hits_mvsum(Context ctx, Target t, int region_idx, int probe_idx):
    """damon_probe_hits_mvsum() of one region's probe."""
    return ctx.probe_hits_mvsum(probe_idx, t._nth(region_idx))


def kunit_probe_hits_wsum(Context ctx, Target t, int region_idx, bint last=False):
    """damon_probe_hits_wsum() of one region."""
    return ctx.probe_hits_wsum(t._nth(region_idx), last)


def kunit_has_probe_weights(Context ctx):
    return ctx.has_probe_weights()


def kunit_apply_probes(Context ctx, bint set_samples=False, bint return_max_wsum=False):
    """ops.apply_probes() of the context's operation set (0 if it has none)."""
    if not ctx.ops.has_apply_probes():
        return None
    return ctx.ops.apply_probes(ctx, set_samples, return_max_wsum)


def kunit_filter_match(Context ctx, Target t, int region_idx, Filter f):
    """damos_filter_match() on one region of t (which may get split)."""
    return ctx.filter_match(t, t._nth(region_idx), f)


def kunit_damon_rand(Context ctx, uint64_t l, uint64_t r, int n):
    """damon_rand(ctx, l, r) n times, from the context's own stream."""
    return [sim_damon_rand(&ctx.rng, l, r) for _ in range(n)]


def kunit_reset_aggregated(Context ctx):
    """kdamond_reset_aggregated() on a context."""
    ctx.reset_aggregated(ctx.last_aggregation_ns)


def kunit_split_regions(Context ctx):
    """kdamond_split_regions() on a context."""
    ctx.split_regions()


def kunit_split_regions_of(Context ctx, Target t, int nr_subs, uint64_t min_region_sz):
    """damon_split_regions_of(ctx, t, nr_subs, min_region_sz)."""
    t.split_regions_of(nr_subs, min_region_sz, &ctx.rng)


def kunit_merge_regions(Context ctx, uint32_t threshold, uint64_t sz_limit):
    """kdamond_merge_regions()."""
    ctx.merge_regions(threshold, sz_limit)


def kunit_apply_min_nr_regions(Context ctx):
    """damon_apply_min_nr_regions(); returns the region size limit."""
    return ctx.apply_min_nr_regions()


def kunit_destroy_region(Target t, int idx):
    """damon_destroy_region() of the idx-th region."""
    t.destroy_region(t._nth(idx))


def kunit_set_walk_control_obsolete(Context ctx, bint obsolete):
    """The kdamond's exit marks walks impossible (damon_ctx->walk_control_obsolete)."""
    ctx.walk_control_obsolete = obsolete


# DAMOS entry points for the kernel's vectors and the DAMOS unit tests

def kunit_set_effective_quota(Context ctx, Scheme s):
    """damos_set_effective_quota(); returns the new esz."""
    ctx.set_effective_quota(s)
    return s.esz


def kunit_adjust_quota(Context ctx, Scheme s, clock_ns=None):
    """damos_adjust_quota() at simulated time clock_ns (default: now);
    returns (esz, min_score)."""
    if clock_ns is not None:
        ctx.kstate.clock_ns = clock_ns
    ctx.adjust_quota(s)
    return s.esz, s.min_score


def kunit_quota_score(Context ctx, Scheme s):
    """damos_quota_score(): the highest goal score (current values updated)."""
    return ctx.quota_score(s)


def kunit_quota_is_full(Context ctx, Scheme s):
    """damos_quota_is_full()."""
    return quota_is_full(s, ctx.min_region_sz)


def kunit_charge_quota(Scheme s, uint64_t sz_region, uint64_t sz_applied):
    """damos_charge_quota(); returns charged_sz."""
    charge_quota(s, sz_region, sz_applied)
    return s.charged_sz


def kunit_apply_scheme(Context ctx, Target t, int region_idx, Scheme s):
    """damos_apply_scheme() of s on the region_idx-th region of t."""
    ctx.apply_ns = 0
    ctx.apply_scheme(t, t._nth(region_idx), s)


def kunit_filter_out(Context ctx, Target t, int region_idx, Scheme s):
    """damos_core_filter_out() of a region; the region may split."""
    return ctx.filter_out(t, t._nth(region_idx), s)


def kunit_filters_default_reject(Scheme s):
    """damos_set_filters_default_reject(): (core, ops) default-reject."""
    s.set_filters_default_reject()
    return bool(s.core_filters_default_reject), bool(s.ops_filters_default_reject)


def kunit_apply_schemes(Context ctx, uint64_t passed_sample_intervals):
    """kdamond_apply_schemes() as if passed_sample_intervals samples had
    passed (schemes due then are applied)."""
    ctx.passed_sample_intervals = passed_sample_intervals
    ctx.apply_ns = 0
    ctx.apply_schemes()


def kunit_msecs_to_jiffies(uint64_t ms):
    return msecs_to_jiffies(ms)
