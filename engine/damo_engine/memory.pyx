"""Simulated memory: tiers, swap, address spaces and page bits.

See memory.pxd for the layout.  Costs are simulated nanoseconds, absolute:
an access costs its compute time, and a cache miss what the tier its page
sits on takes for that kind of access (latency over memory-level
parallelism, or bytes over bandwidth; see costs.py); faults, swap-ins and
THP faults add their own costs.  zswap and zram keep swapped-out pages
compressed in frames taken from the nodes, as the kernel's pools do.
"""
from libc.stdlib cimport calloc, malloc, realloc, free
from libc.string cimport memset, memcpy
from libc.math cimport ceil, sqrt

cdef extern from *:
    int __builtin_popcountll(unsigned long long) nogil
    int __builtin_ctzll(unsigned long long) nogil
    int __builtin_ctz(unsigned int) nogil
    int __builtin_popcount(unsigned int) nogil
    void __builtin_prefetch(const void *) nogil

cdef uint32_t PTE_NONE = 0xFFFFFFFFu
cdef uint64_t RMAP_EMPTY = 0xFFFFFFFFFFFFFFFFull
cdef uint64_t RMAP_POOL = 0xFFFFFFFFFFFFFFFEull     # a frame of the compressed swap pool

# Workingset detection (mm/workingset.c).  The kernel packs a shadow entry
# into an xarray value (63 bits): the eviction stamp, the memcg id
# (MEM_CGROUP_ID_SHIFT 16 bits), the node (NODES_SHIFT bits: 10, as x86_64
# distribution kernels build with) and PG_workingset (1 bit), so the stamp
# keeps BITS_PER_LONG - EVICTION_SHIFT = 64 - (1 + 1 + 10 + 16) = 36 bits
# (EVICTION_MASK) and refault distances are taken modulo 2^36.  The engine
# keeps the same stamp bits, and in the bits below them the node (3 bits:
# MAX_NODES) and PG_workingset; reclaim is global here, so the memcg is
# always the root one and is not stored.
cdef enum:
    WS_TIMESTAMP_BITS = 36
    WS_NODE_BITS = 3
cdef uint64_t WS_EVICTION_MASK = (1ULL << WS_TIMESTAMP_BITS) - 1
cdef uint64_t WS_SHADOW_VALID = 1ULL << 63  # a shadow entry is stored (0: none)


class SimulationError(Exception):
    """The simulated machine cannot go on (e.g. it ran out of memory)."""


cdef inline int64_t _min64(int64_t a, int64_t b) noexcept nogil:
    return a if a < b else b


cdef inline int64_t _max64(int64_t a, int64_t b) noexcept nogil:
    return a if a > b else b


cdef inline int64_t _pages_fitting(double budget, double spent, double per_page,
                                   int64_t most) noexcept nogil:
    """How many pages of cost per_page to process before spent reaches budget.

    The page that crosses the budget is processed too (an access that starts
    before an event completes), so at least one page is always taken.
    """
    cdef double left = budget - spent
    cdef int64_t m
    if per_page <= 0 or left >= per_page * most:
        return most
    m = <int64_t>ceil(left / per_page)
    if m < 1:
        m = 1
    return m if m < most else most


# ---------------------------------------------------------------------------
# reverse maps of page-granular chunks (layout in memory.pxd)

cdef inline uint64_t *_rmap_new() noexcept nogil:
    """A page-granular chunk's reverse map: no frame in use (NULL if out of memory)."""
    cdef uint64_t *rm = <uint64_t *>malloc(RMAP_WORDS * sizeof(uint64_t))
    if rm != NULL:
        memset(rm, 0xFF, CHUNK_PAGES * sizeof(uint64_t))
        memset(rm + CHUNK_PAGES, 0, (RMAP_WORDS - CHUNK_PAGES) * sizeof(uint64_t))
    return rm


cdef inline void _rmap_map(uint64_t *rm, int64_t j, const VmaData *v, int64_t li) noexcept nogil:
    """Frame j now holds page li of v (never part of a THP: the chunk is page-granular)."""
    rm[j] = (<uint64_t>v.gid << 32) | <uint64_t>li
    bm_set(rm + RMAP_LRU, j)
    bm_set(rm + RMAP_USED, j)
    if bm_test(v.bm_active, li):
        bm_set(rm + RMAP_ACT, j)
    else:
        bm_clear(rm + RMAP_ACT, j)


# ---------------------------------------------------------------------------
# page-table primitives on the C structs

cdef int vma_uniform_node(const VmaData *v) noexcept nogil:
    """The node holding every page of the VMA if all are present, chunk-mapped
    and on one node; -1 otherwise."""
    cdef int n
    if v.nr_present != v.end_li - v.first_li or v.nr_ptes_chunks:
        return -1
    for n in range(MAX_NODES):
        if v.node_pages[n] == v.nr_present:
            return n
    return -1


cdef uint64_t int_sqrt(uint64_t x) noexcept nogil:
    """floor(sqrt(x)), as lib/math/int_sqrt.c returns it: the result is
    built a bit at a time, from bit 31 down (r < 2**32, so r * r fits)."""
    cdef uint64_t r = 0, t
    cdef int b
    for b in range(31, -1, -1):
        t = r | (<uint64_t>1 << b)
        if t * t <= x:
            r = t
    return r



cdef inline void _pb_or_mask(pagebits *b, int64_t c, const uint64_t *mask,
                             unsigned int words) noexcept nogil:
    """Set the pages of chunk c in mask[CHUNK_WORDS], whose words with a
    page set are the bits of ``words``: a word at a time unless the chunk
    is summarised (then its exceptions may need dropping).  Only those words
    are visited: a sparse draw's batch is mostly one page of its chunk."""
    cdef int w
    cdef uint64_t x
    cdef int64_t lo = c << CHUNK_SHIFT
    if bm_test(b.full, c):
        if b.nexc:
            while words:
                w = __builtin_ctz(words)
                words &= words - 1
                x = mask[w]
                while x:
                    pb_set(b, lo + w * 64 + __builtin_ctzll(x))
                    x &= x - 1
        return
    bm_set(b.any, c)
    if __builtin_popcount(words) > 2:
        for w in range(CHUNK_WORDS):    # unrolled: no branch per word
            b.bits[c * CHUNK_WORDS + w] |= mask[w]
        return
    while words:
        w = __builtin_ctz(words)
        words &= words - 1
        b.bits[c * CHUNK_WORDS + w] |= mask[w]


cdef inline void _account(VmaData *v, int node, int64_t accesses,
                          const CostTable *ct) noexcept nogil:
    v.mm.compute_ns += accesses * ct.compute_ns
    v.mm.stall_ns[node] += accesses * ct.stall_ns[node]
    v.mm.node_accesses[node] += accesses


cdef inline void _mark_accessed(VmaData *v, int64_t li, int64_t m, uint32_t k,
                                bint write) noexcept nogil:
    """Set the Accessed (and dirty) bits of [li, li+m) in one chunk; a THP has
    a single PMD Accessed bit, modelled as all of its page bits."""
    cdef int64_t c = li >> CHUNK_SHIFT, i
    if v.vc_huge[c]:
        pb_set_chunk(&v.young, c)
        if write:
            pb_set_chunk(&v.dirty, c)
    else:
        pb_set_range(&v.young, li, li + m)
        if write:
            pb_set_range(&v.dirty, li, li + m)
    if v.gt_counts != NULL:             # ground truth kept (a call less per fault otherwise)
        gt_add_range(v, li, li + m, k)


# ---------------------------------------------------------------------------
# Ground truth: exact accesses per page, and the sampling intervals (epochs
# of MmData.gt_epoch) each page was accessed in, counted once per interval.
# A pass over a page range costs O(1): whole-VMA passes go to a per-VMA
# layer, other ranges to difference arrays and a short list of the disjoint
# ranges accessed in the current interval (their union is what counts once);
# an interval with more ranges than that, or single pages, counts page by
# page with gt_stamp.  gt_flush() folds everything into the pages.

cdef inline void _gt_stamp(VmaData *v, int64_t lo, int64_t hi, uint32_t e) noexcept nogil:
    cdef int64_t i
    for i in range(lo, hi):
        v.gt_samples[i] += v.gt_stamp[i] != e
        v.gt_stamp[i] = e
    v.gt_part_epoch = e


cdef inline void _gt_ranges_to_stamps(VmaData *v) noexcept nogil:
    """The pending ranges (of the current interval) counted page by page."""
    cdef int j
    for j in range(v.gt_nrng):
        _gt_stamp(v, v.gt_rng_lo[j], v.gt_rng_hi[j], v.gt_rng_epoch)
    v.gt_part_epoch = v.gt_rng_epoch
    v.gt_nrng = 0


cdef inline void _gt_commit_ranges(VmaData *v) noexcept nogil:
    """The pending ranges of a past interval, one interval more each."""
    cdef int j
    for j in range(v.gt_nrng):
        v.gt_sdiff[v.gt_rng_lo[j]] += 1
        v.gt_sdiff[v.gt_rng_hi[j]] -= 1
    v.gt_nrng = 0
    v.gt_diff_dirty = True


cdef void gt_add_range(VmaData *v, int64_t lo, int64_t hi, uint64_t k) noexcept nogil:
    """k accesses to each page of [lo, hi) in the current sampling interval."""
    cdef int64_t i, a, b
    cdef uint32_t e
    cdef int j, n
    cdef bint merged
    if v.gt_counts == NULL or k == 0 or lo >= hi:
        return
    v.gt_mods += 1
    e = v.mm.gt_epoch
    if v.gt_nrng and v.gt_rng_epoch != e:
        _gt_commit_ranges(v)
    if lo == v.first_li and hi == v.end_li:
        v.gt_whole_k += k
        if v.gt_whole_epoch != e:
            v.gt_whole_epoch = e
            v.gt_whole_samples += 1
            if v.gt_part_epoch == e:
                # pages already counted one by one in this interval
                for i in range(lo, hi):
                    if v.gt_stamp[i] == e:
                        v.gt_samples[i] -= 1
            v.gt_nrng = 0           # the ranges are covered by the whole VMA
        return
    if hi - lo <= 16:
        for i in range(lo, hi):
            v.gt_counts[i] += k
    else:
        v.gt_cdiff[lo] += <int64_t>k
        v.gt_cdiff[hi] -= <int64_t>k
        v.gt_diff_dirty = True
    if v.gt_whole_epoch == e:
        return                      # every page counts in this interval already
    if v.gt_part_epoch == e or hi - lo <= 16:
        if v.gt_nrng:
            _gt_ranges_to_stamps(v)
        _gt_stamp(v, lo, hi, e)
        return
    # merge [lo, hi) into the interval's disjoint ranges
    v.gt_rng_epoch = e
    a, b = lo, hi
    merged = True
    while merged:
        merged = False
        n = 0
        for j in range(v.gt_nrng):
            if v.gt_rng_hi[j] < a or v.gt_rng_lo[j] > b:
                v.gt_rng_lo[n] = v.gt_rng_lo[j]
                v.gt_rng_hi[n] = v.gt_rng_hi[j]
                n += 1
            else:
                if v.gt_rng_lo[j] < a:
                    a = v.gt_rng_lo[j]
                if v.gt_rng_hi[j] > b:
                    b = v.gt_rng_hi[j]
                merged = True
        v.gt_nrng = n
    if v.gt_nrng == 8:
        _gt_ranges_to_stamps(v)
        _gt_stamp(v, a, b, e)
        return
    v.gt_rng_lo[v.gt_nrng] = a
    v.gt_rng_hi[v.gt_nrng] = b
    v.gt_nrng += 1


cdef void gt_flush(VmaData *v) noexcept nogil:
    """Fold what is pending into the pages (before they are read), in one
    pass."""
    cdef int64_t i, c = 0
    cdef int64_t s = 0
    cdef uint64_t k
    cdef uint32_t n
    if v.gt_counts == NULL:
        return
    if v.gt_nrng:
        if v.gt_rng_epoch != v.mm.gt_epoch:
            _gt_commit_ranges(v)
        else:
            _gt_ranges_to_stamps(v)
    k = v.gt_whole_k
    n = v.gt_whole_samples
    if v.gt_diff_dirty:
        for i in range(v.first_li, v.end_li):
            c += v.gt_cdiff[i]
            s += v.gt_sdiff[i]
            v.gt_cdiff[i] = 0
            v.gt_sdiff[i] = 0
            v.gt_counts[i] += c + k
            v.gt_samples[i] += s + n
        v.gt_cdiff[v.end_li] = 0
        v.gt_sdiff[v.end_li] = 0
        v.gt_diff_dirty = False
    elif k or n:
        for i in range(v.first_li, v.end_li):
            v.gt_counts[i] += k
            v.gt_samples[i] += n
    v.gt_whole_k = 0
    v.gt_whole_samples = 0


cdef void _pb_alloc(pagebits *b, int64_t nchunks) noexcept nogil:
    b.bits = <uint64_t *>sim_zalloc(nchunks * CHUNK_WORDS * sizeof(uint64_t))
    b.full = <uint64_t *>sim_zalloc((nchunks + 63) // 64 * sizeof(uint64_t))
    b.exc_chunks = <uint64_t *>sim_zalloc((nchunks + 63) // 64 * sizeof(uint64_t))
    b.any = <uint64_t *>sim_zalloc((nchunks + 63) // 64 * sizeof(uint64_t))
    b.nexc = 0


cdef bint _pb_ok(pagebits *b) noexcept nogil:
    return b.bits != NULL and b.full != NULL and b.exc_chunks != NULL and b.any != NULL


cdef void _pb_reset(pagebits *b, int64_t nchunks) noexcept nogil:
    memset(b.bits, 0, nchunks * CHUNK_WORDS * sizeof(uint64_t))
    memset(b.full, 0, (nchunks + 63) // 64 * sizeof(uint64_t))
    memset(b.exc_chunks, 0, (nchunks + 63) // 64 * sizeof(uint64_t))
    memset(b.any, 0, (nchunks + 63) // 64 * sizeof(uint64_t))
    b.nexc = 0


cdef void _pb_free(pagebits *b, size_t words, size_t summary) noexcept nogil:
    sim_zfree(b.bits, words)
    sim_zfree(b.full, summary)
    sim_zfree(b.exc_chunks, summary)
    sim_zfree(b.any, summary)
    b.bits = NULL
    b.full = NULL
    b.exc_chunks = NULL
    b.any = NULL


cdef void _vma_free_tables(VmaData *v) noexcept nogil:
    _vma_free_maps(v)
    _vma_free_truth(v)


cdef void _vma_free_truth(VmaData *v) noexcept nogil:
    cdef size_t n = v.nchunks
    sim_zfree(v.gt_counts, n * CHUNK_PAGES * sizeof(uint64_t))
    sim_zfree(v.gt_stamp, n * CHUNK_PAGES * sizeof(uint32_t))
    sim_zfree(v.gt_samples, n * CHUNK_PAGES * sizeof(uint32_t))
    sim_zfree(v.gt_cdiff, (n * CHUNK_PAGES + 1) * sizeof(int64_t))
    sim_zfree(v.gt_sdiff, (n * CHUNK_PAGES + 1) * sizeof(int32_t))
    v.gt_counts = NULL; v.gt_stamp = NULL; v.gt_samples = NULL; v.gt_cdiff = NULL
    v.gt_sdiff = NULL


cdef void _vma_free_maps(VmaData *v) noexcept nogil:
    """Everything of a VMA's but its ground truth."""
    cdef int64_t c
    if v.vc_ptes != NULL:
        for c in range(v.nchunks):
            free(v.vc_ptes[c])
    cdef size_t n = v.nchunks, words = n * CHUNK_WORDS * sizeof(uint64_t)
    cdef size_t summary = (n + 63) // 64 * sizeof(uint64_t)
    sim_zfree(v.vc_pchunk, n * sizeof(int32_t)); sim_zfree(v.vc_ptes, n * sizeof(uint32_t *))
    sim_zfree(v.vc_present, n * sizeof(uint16_t)); sim_zfree(v.vc_huge, n)
    sim_zfree(v.vc_thp_hint, n)
    _pb_free(&v.present, words, summary)
    _pb_free(&v.young, words, summary)
    _pb_free(&v.dirty, words, summary)
    sim_zfree(v.bm_swapped, words)
    sim_zfree(v.bm_zpool, words)
    sim_zfree(v.bm_active, words)
    sim_zfree(v.bm_workingset, words)
    sim_zfree(v.shadow, n * CHUNK_PAGES * sizeof(uint64_t))
    sim_zfree(v.bm_lru_ref, words); sim_zfree(v.bm_damon_ref, words)
    sim_zfree(v.damon_ref_chunks, summary)
    v.bm_lru_ref = NULL; v.bm_damon_ref = NULL; v.damon_ref_chunks = NULL
    v.vc_pchunk = NULL; v.vc_ptes = NULL; v.vc_present = NULL; v.vc_huge = NULL
    v.vc_thp_hint = NULL

    v.bm_swapped = NULL; v.bm_zpool = NULL; v.bm_active = NULL
    v.bm_workingset = NULL; v.shadow = NULL


cdef VmaData *_vma_new(MmData *mm, uint64_t start, uint64_t end, bint anon) except NULL:
    cdef VmaData *v = <VmaData *>calloc(1, sizeof(VmaData))
    cdef int64_t words, c
    if v == NULL:
        raise MemoryError()
    v.mm = mm
    v.start = start
    v.end = end
    v.anon = anon
    v.origin_page = <int64_t>((start >> PAGE_SHIFT) & ~(<uint64_t>CHUNK_PAGES - 1))
    v.first_li = <int64_t>(start >> PAGE_SHIFT) - v.origin_page
    v.end_li = <int64_t>(end >> PAGE_SHIFT) - v.origin_page
    v.nchunks = (v.end_li + CHUNK_PAGES - 1) >> CHUNK_SHIFT
    words = v.nchunks * CHUNK_WORDS
    v.vc_pchunk = <int32_t *>sim_zalloc(v.nchunks * sizeof(int32_t))
    v.vc_ptes = <uint32_t **>sim_zalloc(v.nchunks * sizeof(uint32_t *))
    v.vc_present = <uint16_t *>sim_zalloc(v.nchunks * sizeof(uint16_t))
    v.vc_huge = <uint8_t *>sim_zalloc(v.nchunks)
    v.vc_thp_hint = <uint8_t *>sim_zalloc(v.nchunks)
    _pb_alloc(&v.present, v.nchunks)
    _pb_alloc(&v.young, v.nchunks)
    _pb_alloc(&v.dirty, v.nchunks)
    v.bm_swapped = <uint64_t *>sim_zalloc(words * sizeof(uint64_t))
    v.bm_zpool = <uint64_t *>sim_zalloc(words * sizeof(uint64_t))
    v.bm_active = <uint64_t *>sim_zalloc(words * sizeof(uint64_t))
    v.bm_workingset = <uint64_t *>sim_zalloc(words * sizeof(uint64_t))
    v.shadow = <uint64_t *>sim_zalloc(v.nchunks * CHUNK_PAGES * sizeof(uint64_t))
    v.bm_lru_ref = <uint64_t *>sim_zalloc(words * sizeof(uint64_t))
    v.bm_damon_ref = <uint64_t *>sim_zalloc(words * sizeof(uint64_t))
    v.damon_ref_chunks = <uint64_t *>sim_zalloc((v.nchunks + 63) // 64 * sizeof(uint64_t))
    if mm.track_ground_truth:
        v.gt_counts = <uint64_t *>sim_zalloc(v.nchunks * CHUNK_PAGES * sizeof(uint64_t))
        v.gt_stamp = <uint32_t *>sim_zalloc(v.nchunks * CHUNK_PAGES * sizeof(uint32_t))
        v.gt_samples = <uint32_t *>sim_zalloc(v.nchunks * CHUNK_PAGES * sizeof(uint32_t))
        v.gt_cdiff = <int64_t *>sim_zalloc((v.nchunks * CHUNK_PAGES + 1) * sizeof(int64_t))
        v.gt_sdiff = <int32_t *>sim_zalloc((v.nchunks * CHUNK_PAGES + 1) * sizeof(int32_t))
    if (v.vc_pchunk == NULL or v.vc_ptes == NULL or v.vc_present == NULL
            or v.vc_huge == NULL or v.vc_thp_hint == NULL or not _pb_ok(&v.present)
            or not _pb_ok(&v.young) or not _pb_ok(&v.dirty) or v.bm_swapped == NULL or v.bm_zpool == NULL
            or v.bm_active == NULL or v.bm_workingset == NULL or v.shadow == NULL
            or v.bm_lru_ref == NULL or v.bm_damon_ref == NULL or v.damon_ref_chunks == NULL
            or (mm.track_ground_truth and (v.gt_counts == NULL or v.gt_stamp == NULL
                                           or v.gt_samples == NULL or v.gt_cdiff == NULL
                                           or v.gt_sdiff == NULL))):
        _vma_free_tables(v)
        free(v)
        raise MemoryError("cannot allocate page tables for a %d MiB mapping"
                          % ((end - start) >> 20))
    memset(v.vc_pchunk, 0xFF, v.nchunks * sizeof(int32_t))     # no physical chunk
    return v


# ---------------------------------------------------------------------------
# Python handles

cdef class Vma:
    """A virtual memory area [start, end) of an address space (a handle)."""

    def __repr__(self):
        return "Vma(%#x-%#x %s)" % (self.v.start, self.v.end, self.name)

    @property
    def start(self):
        return self.v.start

    @property
    def end(self):
        return self.v.end

    @property
    def size(self):
        return self.v.end - self.v.start

    @property
    def anon(self):
        return self.v.anon

    @property
    def alive(self):
        return not self.v.dead

    @property
    def hugepage(self):
        return self.v.hugepage

    @hugepage.setter
    def hugepage(self, bint value):
        self.v.hugepage = value

    @property
    def nohugepage(self):
        return self.v.nohugepage

    @nohugepage.setter
    def nohugepage(self, bint value):
        self.v.nohugepage = value

    @property
    def present_bytes(self):
        return self.v.nr_present * PAGE_SIZE

    @property
    def swapped_bytes(self):
        return self.v.nr_swapped * PAGE_SIZE

    @property
    def young_bytes(self):
        if self.v.dead:
            return 0
        return pb_count_range(&self.v.young, self.v.first_li, self.v.end_li) * PAGE_SIZE

    def page_state(self, uint64_t addr):
        """State of the page holding addr: its bits and placement."""
        cdef VmaData *v = self.v
        cdef int64_t li, pfn
        if v.dead or addr < v.start or addr >= v.end:
            raise ValueError("%#x is outside %r" % (addr, self))
        li = vma_li(v, addr)
        pfn = vma_frame(v, li)
        return {
            "present": bool(pb_test(&v.present, li)),
            "young": bool(pb_test(&v.young, li)),
            "dirty": bool(pb_test(&v.dirty, li)),
            "swapped": bool(bm_test(v.bm_swapped, li)),
            "active": bool(bm_test(v.bm_active, li)),
            "workingset": bool(bm_test(v.bm_workingset, folio_head(v, li))),
            # the shadow entry of a swapped-out page: (eviction stamp, node,
            # PG_workingset at eviction)
            "shadow": ((v.shadow[li] >> (WS_NODE_BITS + 1)) & WS_EVICTION_MASK,
                       <int>((v.shadow[li] >> 1) & ((1 << WS_NODE_BITS) - 1)),
                       bool(v.shadow[li] & 1))
                      if bm_test(v.bm_swapped, li) and v.shadow[li] & WS_SHADOW_VALID
                      else None,
            "referenced": bool(bm_test(v.bm_lru_ref, folio_head(v, li))),
            "idle": not pb_test(&v.young, li) and not bm_test(v.bm_damon_ref,
                                                             folio_head(v, li)),
            "huge": bool(v.vc_huge[li >> CHUNK_SHIFT]),
            "pfn": pfn if pfn >= 0 else None,
            "node": self.mm.machine.node_of_pfn(pfn) if pfn >= 0 else None,
        }

    def ground_truth(self):
        """Exact per-page access counts so far (numpy copy over the VMA's
        pages), or None if the address space does not track them."""
        import numpy as np
        cdef uint64_t[::1] view
        if self.v.gt_counts == NULL:
            return None
        gt_flush(self.v)
        view = <uint64_t[:self.v.nchunks * CHUNK_PAGES]>self.v.gt_counts
        return np.asarray(view)[self.v.first_li:self.v.end_li].copy()

    def ground_truth_samples(self):
        """Per page, the number of sampling intervals (AddressSpace.gt_epoch
        steps) it was accessed in so far (numpy copy), or None."""
        import numpy as np
        cdef uint32_t[::1] view
        if self.v.gt_samples == NULL:
            return None
        gt_flush(self.v)
        view = <uint32_t[:self.v.nchunks * CHUNK_PAGES]>self.v.gt_samples
        return np.asarray(view)[self.v.first_li:self.v.end_li].copy()


cdef Vma _vma_handle(AddressSpace mm, VmaData *v, str name):
    cdef Vma h = Vma.__new__(Vma)
    h.v = v
    h.mm = mm
    h.name = name
    return h


cdef _unmap(AddressSpace a, Vma vma, bint keep_truth):
    """Remove a VMA, freeing its frames and swap slots (and its truth
    unless keep_truth)."""
    cdef VmaData *v = vma.v
    cdef int i, j = 0
    if v.dead or v.mm != a.mm:
        raise ValueError("%r is not mapped in process %d" % (vma, a.mm.pid))
    a.machine.drop_vma(v)
    if keep_truth:
        gt_flush(v)
        _vma_free_maps(v)
    else:
        _vma_free_tables(v)
    v.dead = True
    for i in range(a.mm.nr_vmas):
        if a.mm.vmas[i] != v:
            a.mm.vmas[j] = a.mm.vmas[i]
            j += 1
    a.mm.nr_vmas = j
    a.mm.last_found = NULL
    a._dead.append(<size_t>v)


cdef class AddressSpace:
    """A process's mm: its VMAs, page tables, and where its time went."""

    def __cinit__(self, Machine machine, int pid, bint track_ground_truth=False):
        self.mm = <MmData *>calloc(1, sizeof(MmData))
        if self.mm == NULL:
            raise MemoryError()
        self.mm.pid = pid
        self.mm.alive = True
        self.mm.track_ground_truth = track_ground_truth
        self.mm.gt_epoch = 1
        self.machine = machine
        self._dead = []
        self._names = {}

    def __dealloc__(self):
        cdef int i
        cdef VmaData *v
        if self.mm == NULL:
            return
        for i in range(self.mm.nr_vmas):
            v = self.mm.vmas[i]
            if self.machine is not None:
                self.machine.drop_vma(v)
            _vma_free_tables(v)
            free(v)
        for p in self._dead or ():      # None if a GC cycle cleared it first
            _vma_free_truth(<VmaData *><size_t>p)   # what exit() kept
            free(<VmaData *><size_t>p)
        free(self.mm.vmas)
        free(self.mm)

    @property
    def pid(self):
        return self.mm.pid

    @property
    def alive(self):
        return self.mm.alive

    @property
    def track_ground_truth(self):
        return self.mm.track_ground_truth

    @property
    def gt_epoch(self):
        """Ground truth's sampling intervals so far: a page's access in a new
        one counts once more in Vma.ground_truth_samples()."""
        return self.mm.gt_epoch

    def next_gt_epoch(self):
        """A new sampling interval begins (the truth's kdamond prepared its
        access checks)."""
        self.mm.gt_epoch += 1

    def map(self, uint64_t start, uint64_t size, str name="[anon]", bint anon=True):
        """Create a VMA at a fixed place (MAP_FIXED_NOREPLACE); returns it."""
        cdef uint64_t end = start + size
        cdef VmaData *v
        cdef VmaData **grown
        cdef int i, pos
        if start % PAGE_SIZE or size % PAGE_SIZE or size == 0:
            raise ValueError("mapping %#x+%#x is not page aligned" % (start, size))
        if end <= start:
            # start + size wrapped: nothing maps past the top of the address space
            raise ValueError("mapping %#x+%#x runs past the top of the address space"
                             % (start, size))
        if not self.mm.alive:
            raise ValueError("process %d has exited" % self.mm.pid)
        pos = self.mm.nr_vmas
        for i in range(self.mm.nr_vmas):
            v = self.mm.vmas[i]
            if v.start < end and start < v.end:
                raise ValueError("mapping %#x-%#x overlaps %#x-%#x"
                                 % (start, end, v.start, v.end))
            if v.start > start and pos == self.mm.nr_vmas:
                pos = i
        v = _vma_new(self.mm, start, end, anon)
        grown = <VmaData **>realloc(self.mm.vmas, (self.mm.nr_vmas + 1) * sizeof(VmaData *))
        if grown == NULL:
            _vma_free_tables(v)
            free(v)
            raise MemoryError()
        self.mm.vmas = grown
        for i in range(self.mm.nr_vmas, pos, -1):
            self.mm.vmas[i] = self.mm.vmas[i - 1]
        self.mm.vmas[pos] = v
        self.mm.nr_vmas += 1
        self.machine.register_vma(v)
        self._names[<size_t>v] = name
        return _vma_handle(self, v, name)

    def unmap(self, Vma vma):
        """Remove a VMA, freeing its frames and swap slots."""
        _unmap(self, vma, False)

    def exit(self):
        """The process exits: every mapping goes away.  A truth-tracking
        process's pages keep their truth (truth_vmas()): the kdamond still
        completes the sampling interval it exits in, and may close its
        aggregation interval, whose truth is what the process did in it."""
        for vma in self.vmas:
            _unmap(self, vma, self.mm.track_ground_truth)
        self.mm.alive = False

    def truth_vmas(self):
        """The VMAs the ground truth is read from, in address order: the
        live ones, or once the process has exited, those it exited with."""
        cdef VmaData *v
        if self.mm.alive:
            return self.vmas
        out = []
        for p in self._dead:
            v = <VmaData *><size_t>p
            if v.gt_samples != NULL:
                out.append(_vma_handle(self, v, self._names[p]))
        return out

    @property
    def vmas(self):
        return [_vma_handle(self, self.mm.vmas[i], self._names[<size_t>self.mm.vmas[i]])
                for i in range(self.mm.nr_vmas)]

    def ground_truth_pages(self):
        """All of the ground truth in one pass: (VMA starts, their page counts,
        accesses per page, sampling intervals accessed per page), the pages
        of every VMA of truth_vmas() in address order; None if it is not
        tracked."""
        import numpy as np
        cdef int i
        cdef int64_t n = 0, off = 0, m
        cdef VmaData *v
        if not self.mm.track_ground_truth:
            return None
        vmas = self.truth_vmas()
        for h in vmas:
            n += (<Vma>h).v.end_li - (<Vma>h).v.first_li
        starts = np.empty(len(vmas), np.uint64)
        lens = np.empty(len(vmas), np.int64)
        counts = np.empty(n, np.uint64)
        samples = np.empty(n, np.uint32)
        cdef uint64_t[::1] cv = counts
        cdef uint32_t[::1] sv = samples
        for i, h in enumerate(vmas):
            v = (<Vma>h).v
            gt_flush(v)
            m = v.end_li - v.first_li
            starts[i] = v.start
            lens[i] = m
            if m:
                memcpy(&cv[off], &v.gt_counts[v.first_li], m * sizeof(uint64_t))
                memcpy(&sv[off], &v.gt_samples[v.first_li], m * sizeof(uint32_t))
            off += m
        return starts, lens, counts, samples

    def vma_at(self, uint64_t addr):
        cdef VmaData *v = mm_find_vma(self.mm, addr)
        if v == NULL:
            return None
        return _vma_handle(self, v, self._names[<size_t>v])

    def access(self, uint64_t addr, uint64_t size=1, uint32_t count=1, bint write=False):
        """Access every page of [addr, addr+size) `count` times, one byte of
        each page at a time (a page-stride pattern over the range); returns
        the cost in simulated ns.  Raises ValueError for an unmapped
        address."""
        cdef VmaData *v
        cdef CostTable ct
        cdef uint64_t a = addr, end = addr + (size if size else 1), stop
        cdef int64_t done, li
        cdef double cost = 0
        self.machine.pattern_cost(AK_PAGE_W if write else AK_PAGE_R,
                                  ((end - addr + PAGE_SIZE - 1) // PAGE_SIZE) * 64.0, 64.0,
                                  &ct, NULL)
        while a < end:
            v = mm_find_vma(self.mm, a)
            if v == NULL:
                raise ValueError("access to unmapped address %#x" % a)
            stop = end if end < v.end else v.end
            li = vma_li(v, a)
            cost += self.machine.touch_seq(v, li, vma_li(v, stop - 1) - li + 1, count, write,
                                           &ct, 1e300, &done)
            a = stop
        return cost

    @property
    def rss(self):
        """Resident bytes."""
        cdef int i
        cdef int64_t pages = 0
        for i in range(self.mm.nr_vmas):
            pages += self.mm.vmas[i].nr_present
        return pages * PAGE_SIZE

    @property
    def swapped(self):
        cdef int i
        cdef int64_t pages = 0
        for i in range(self.mm.nr_vmas):
            pages += self.mm.vmas[i].nr_swapped
        return pages * PAGE_SIZE

    def rss_by_node(self):
        cdef int i, n
        out = [0] * self.machine.nr_nodes
        for i in range(self.mm.nr_vmas):
            for n in range(self.machine.nr_nodes):
                out[n] += self.mm.vmas[i].node_pages[n] * PAGE_SIZE
        return out

    def runtime_breakdown(self):
        """Simulated ns spent computing, stalled on each node, and faulting."""
        cdef MmData *mm = self.mm
        return {
            "compute_ns": mm.compute_ns,
            "stall_ns": [mm.stall_ns[n] for n in range(self.machine.nr_nodes)],
            "fault_ns": mm.fault_ns,
            "swapin_ns": mm.swapin_ns,
            "migrate_ns": mm.migrate_ns,
            "reclaim_ns": mm.reclaim_ns,
            "accesses": [mm.node_accesses[n] for n in range(self.machine.nr_nodes)],
            "minor_faults": mm.minor_faults,
            "major_faults": mm.major_faults,
            "thp_faults": mm.thp_faults,
        }


# ---------------------------------------------------------------------------

cdef class Machine:
    """Physical memory nodes (fastest first for first touch), a swap device,
    the costs of faults and migrations, and the THP policy."""

    def __cinit__(self):
        self.pc_owner = NULL
        self.vmas_by_gid = NULL

    def __init__(self, nodes, swap=None, thp="madvise", double minor_fault_ns=1500.0,
                 double thp_fault_ns=100000.0, double migrate_page_ns=7500.0,
                 cpu=None, reference=None, uint64_t phys_base=0x100000000,
                 int64_t khugepaged_pages_to_scan=4096, double khugepaged_sleep_ms=10000.0):
        """nodes: list of dicts with name, kind ('dram', 'cxl', ...), capacity
        (bytes), latency_ns, bandwidth_gbps (reads) and optionally
        write_bandwidth_gbps (default: the read bandwidth).  swap: None or a
        dict with kind, capacity (bytes: the device's slots), fault_ns
        (swap-in), out_ns (swap-out CPU cost) and, for a compressed pool in
        memory (zswap, zram), pool (True), pool_only (zram), ratio,
        max_pool_percent (0: no limit), pool_fault_ns and pool_out_ns.
        cpu: compute_ns and mlp (by access kind), llc_bytes and
        llc_page_bytes (default: costs.CPU).  reference: the memory that
        workloads' nominal speeds are defined on (latency_ns,
        bandwidth_gbps, write_bandwidth_gbps; default: costs' DRAM).
        khugepaged_*: how many pages khugepaged scans per wake-up and how long
        it sleeps in between (the kernel's defaults: 4096 pages, 10 s)."""
        from damo_engine import costs
        cdef int n, i, j, tmp
        cdef int64_t base = 0, nch, k, first
        if not nodes:
            raise ValueError("a machine needs at least one memory node")
        if len(nodes) > MAX_NODES:
            raise ValueError("at most %d memory nodes are supported" % MAX_NODES)
        self.nr_nodes = len(nodes)
        self.node_names = []
        self.node_kinds = []
        self.phys_base = phys_base
        for n, spec in enumerate(nodes):
            npages = (int(spec["capacity"]) // HPAGE_SIZE) * CHUNK_PAGES
            if npages <= 0:
                raise ValueError("node %s: capacity must be at least 2 MiB" % spec["name"])
            if float(spec["latency_ns"]) <= 0:
                raise ValueError("node %s: latency must be positive" % spec["name"])
            self.node_names.append(spec["name"])
            self.node_kinds.append(spec.get("kind", "dram"))
            self.node_base_pfn[n] = base
            self.node_npages[n] = npages
            self.node_used[n] = 0
            self.node_active[n] = 0
            self.node_pool[n] = 0
            self.lru_gb[n] = 0
            self.lru_ratio[n] = 1
            self.ws_age[n] = 0
            self.ws_refault_anon[n] = 0
            self.ws_activate_anon[n] = 0
            self.ws_restore_anon[n] = 0
            self.ws_refaults_snap[n] = 0
            self.node_latency_ns[n] = float(spec["latency_ns"])
            self.node_bandwidth_gbps[n] = float(spec.get("bandwidth_gbps") or 0)
            self.node_write_bw[n] = float(spec.get("write_bandwidth_gbps")
                                          or self.node_bandwidth_gbps[n])
            base += npages
        self.nr_pchunks = base >> CHUNK_SHIFT
        # workingset_init(): the stamps cover totalram_pages (rounded up to a
        # power of two); past 2^36 pages low bits are shaved off
        self.ws_bucket_order = 0
        k = 0
        while k < 64 and ((<uint64_t>(base - 1)) >> k) != 0:
            k += 1                                  # fls_long(totalram_pages - 1)
        if k > WS_TIMESTAMP_BITS:
            self.ws_bucket_order = k - WS_TIMESTAMP_BITS
        for n in range(self.nr_nodes):
            self.node_order[n] = n
        for i in range(1, self.nr_nodes):       # fastest first; ties keep node order
            j = i
            while j > 0 and self.node_latency_ns[self.node_order[j - 1]] > \
                    self.node_latency_ns[self.node_order[j]]:
                tmp = self.node_order[j]
                self.node_order[j] = self.node_order[j - 1]
                self.node_order[j - 1] = tmp
                j -= 1
        self.pc_owner = <int32_t *>sim_zalloc(self.nr_pchunks * sizeof(int32_t))
        self.pc_vchunk = <int32_t *>sim_zalloc(self.nr_pchunks * sizeof(int32_t))
        self.pc_used = <int32_t *>sim_zalloc(self.nr_pchunks * sizeof(int32_t))
        self.pc_rmap = <uint64_t **>sim_zalloc(self.nr_pchunks * sizeof(uint64_t *))
        self.pc_node = <uint8_t *>sim_zalloc(self.nr_pchunks)
        self.pc_in_partial = <uint8_t *>sim_zalloc(self.nr_pchunks)
        if (self.pc_owner == NULL or self.pc_vchunk == NULL or self.pc_used == NULL or
                self.pc_rmap == NULL or self.pc_node == NULL or self.pc_in_partial == NULL):
            raise MemoryError("cannot allocate the physical memory map")
        memset(self.pc_owner, 0xFF, self.nr_pchunks * sizeof(int32_t))    # PC_FREE
        for n in range(self.nr_nodes):
            nch = self.node_npages[n] >> CHUNK_SHIFT
            first = self.node_base_pfn[n] >> CHUNK_SHIFT
            # freed chunks go on a stack; never-used ones are handed out in
            # address order, so setting up a big machine costs nothing
            self.free_chunks[n] = <int32_t *>sim_zalloc(nch * sizeof(int32_t))
            self.nr_stacked[n] = 0
            self.fresh_next[n] = first
            self.fresh_end[n] = first + nch
            self.nr_free_chunks[n] = nch
            self.cap_partial[n] = 64
            self.partial[n] = <int32_t *>malloc(64 * sizeof(int32_t))
            self.nr_partial[n] = 0
            self.break_cursor[n] = first
            if self.free_chunks[n] == NULL or self.partial[n] == NULL:
                raise MemoryError("cannot allocate the physical memory map")
            memset(&self.pc_node[first], n, nch)
        self.swap_pool = False
        self.swap_pool_only = False
        self.pool_ratio = 1.0
        self.pool_limit_frames = 0
        self.pool_pfns = NULL
        if swap:
            self.swap_kind = swap.get("kind", "zswap")
            self.swap_capacity_pages = int(swap["capacity"]) // PAGE_SIZE
            self.swap_fault_ns = float(swap["fault_ns"])
            self.swap_out_ns = float(swap.get("out_ns", swap["fault_ns"]))
            if swap.get("pool"):
                self.swap_pool = True
                self.swap_pool_only = bool(swap.get("pool_only"))
                self.pool_ratio = float(swap.get("ratio") or costs.ZSWAP_RATIO)
                if self.pool_ratio < 1:
                    raise ValueError("the compression ratio must be at least 1")
                self.pool_fault_ns = float(swap.get("pool_fault_ns", self.swap_fault_ns))
                self.pool_out_ns = float(swap.get("pool_out_ns", self.swap_out_ns))
                pct = float(swap.get("max_pool_percent") or 0)
                if pct < 0 or pct > 100:
                    raise ValueError("max_pool_percent must be within 0..100")
                self.pool_limit_frames = int(base * pct / 100) if pct else base
        else:
            self.swap_kind = None
            self.swap_capacity_pages = 0
        self.swap_used = 0
        self.pool_stored = 0
        self.nr_pool_frames = 0
        self.cap_pool_pfns = 0
        cpu = dict(costs.CPU, **(cpu or {}))
        compute = dict(costs.CPU["compute_ns"], **(cpu.get("compute_ns") or {}))
        for i, kind in enumerate(costs.ACCESS_KINDS):
            self.cpu_compute_ns[i] = float(compute[kind])
            if self.cpu_compute_ns[i] <= 0:
                raise ValueError("compute time of %s accesses must be positive" % kind)
        mlp = dict(costs.CPU["mlp"], **(cpu.get("mlp") or {}))
        for i, kind in enumerate(costs.ACCESS_KINDS):
            self.cpu_mlp[i] = float(mlp.get(kind, 1.0))
            if self.cpu_mlp[i] < 1:
                raise ValueError("memory-level parallelism must be at least 1")
        self.llc_bytes = float(cpu["llc_bytes"])
        self.llc_page_bytes = float(cpu["llc_page_bytes"])
        if self.llc_bytes < 0 or self.llc_page_bytes < 0:
            raise ValueError("cache sizes must not be negative")
        lat, rbw, wbw = costs.TIERS["dram"][:3]
        reference = dict({"latency_ns": lat, "bandwidth_gbps": rbw,
                          "write_bandwidth_gbps": wbw}, **(reference or {}))
        self.ref_latency_ns = float(reference["latency_ns"])
        self.ref_read_bw = float(reference["bandwidth_gbps"])
        self.ref_write_bw = float(reference.get("write_bandwidth_gbps") or self.ref_read_bw)
        if thp not in ("never", "madvise", "always"):
            raise ValueError("THP policy must be never, madvise or always, not %r" % thp)
        self.thp_policy = {"never": THP_NEVER, "madvise": THP_MADVISE,
                           "always": THP_ALWAYS}[thp]
        self.minor_fault_ns = minor_fault_ns
        self.thp_fault_ns = thp_fault_ns
        self.migrate_page_ns = migrate_page_ns
        self.next_pid = 1000
        self._set_watermarks()
        self.reclaim_scan_ns = 50.0
        if khugepaged_pages_to_scan <= 0 or khugepaged_sleep_ms <= 0:
            raise ValueError("khugepaged needs a positive scan size and sleep time")
        self.khugepaged_pages_to_scan = khugepaged_pages_to_scan
        self.khugepaged_sleep_ns = khugepaged_sleep_ms * 1e6
        self.khugepaged_max_ptes_none = CHUNK_PAGES - 1
        self.khugepaged_max_ptes_swap = CHUNK_PAGES // 8

    def _set_watermarks(self):
        """Per-node min/low/high free-page watermarks as the kernel sets them:
        min_free_kbytes = sqrt(16 * memory in KiB) within [128 KiB, 256 MiB],
        shared by the nodes in proportion to their size; low and high add
        max(min / 4, 0.1% of the node) (watermark_scale_factor 10) once and
        twice."""
        cdef int n
        cdef int64_t total = 0, min_pages, gap
        for n in range(self.nr_nodes):
            total += self.node_npages[n]
        min_kb = int(sqrt(<double>total * 4.0 * 16.0))
        min_kb = max(128, min(min_kb, 262144))
        min_pages = min_kb // 4
        for n in range(self.nr_nodes):
            self.wmark_min[n] = min_pages * self.node_npages[n] // total
            gap = max(self.wmark_min[n] // 4, self.node_npages[n] * 10 // 10000)
            self.wmark_low[n] = self.wmark_min[n] + gap
            self.wmark_high[n] = self.wmark_min[n] + 2 * gap
            self.reclaim_hand[n] = self.node_base_pfn[n]

    def __dealloc__(self):
        cdef int64_t i
        cdef int n
        free(self.vmas_by_gid)
        free(self.pool_pfns)
        cdef size_t n4 = self.nr_pchunks * sizeof(int32_t)
        # any of these may be NULL: __init__ stops at the first failed allocation
        if self.pc_rmap != NULL:
            for i in range(self.nr_pchunks):
                free(self.pc_rmap[i])
        sim_zfree(self.pc_owner, n4); sim_zfree(self.pc_vchunk, n4); sim_zfree(self.pc_used, n4)
        sim_zfree(self.pc_rmap, self.nr_pchunks * sizeof(uint64_t *))
        sim_zfree(self.pc_node, self.nr_pchunks); sim_zfree(self.pc_in_partial, self.nr_pchunks)
        for n in range(self.nr_nodes):
            sim_zfree(self.free_chunks[n], (self.node_npages[n] >> CHUNK_SHIFT) * sizeof(int32_t))
            free(self.partial[n])

    # ---- Python-level description ----
    def new_address_space(self, bint track_ground_truth=False):
        """A fresh process address space with a new pid."""
        self.next_pid += 1
        return AddressSpace(self, self.next_pid, track_ground_truth)

    def node(self, int n):
        """Description and usage of node n."""
        if n < 0 or n >= self.nr_nodes:
            raise IndexError(n)
        return {
            "id": n,
            "name": self.node_names[n],
            "kind": self.node_kinds[n],
            "capacity": self.node_npages[n] * PAGE_SIZE,
            "used": self.node_used[n] * PAGE_SIZE,
            "free": self.node_free(n) * PAGE_SIZE,
            "latency_ns": self.node_latency_ns[n],
            "wmark_min": self.wmark_min[n] * PAGE_SIZE,
            "wmark_low": self.wmark_low[n] * PAGE_SIZE,
            "wmark_high": self.wmark_high[n] * PAGE_SIZE,
            "bandwidth_gbps": self.node_bandwidth_gbps[n],
            "write_bandwidth_gbps": self.node_write_bw[n],
            "phys_start": self.phys_base + self.node_base_pfn[n] * PAGE_SIZE,
            "phys_end": self.phys_base + (self.node_base_pfn[n] + self.node_npages[n]) * PAGE_SIZE,
        }

    @property
    def nodes(self):
        return [self.node(n) for n in range(self.nr_nodes)]

    @property
    def total_bytes(self):
        return sum(self.node_npages[n] for n in range(self.nr_nodes)) * PAGE_SIZE

    @property
    def free_bytes(self):
        return sum(self.node_free(n) for n in range(self.nr_nodes)) * PAGE_SIZE

    @property
    def phys_range(self):
        """[start, end) of all physical memory: DAMON paddr's default region."""
        return (self.phys_base, self.phys_base + self.nr_pchunks * HPAGE_SIZE)

    def free_mem_rate(self):
        """Free memory in permil of total, as DAMOS watermarks read it."""
        return self.free_bytes * 1000 // self.total_bytes

    def vmstat(self):
        """The machine's /proc/vmstat-like event counters (pages or events)
        and a few gauges (bytes)."""
        return {"pgfault": self.pgfault, "pgmajfault": self.pgmajfault,
                "pswpin": self.pswpin, "pswpout": self.pswpout,
                "pgmigrate_success": self.pgmigrate,
                "pgpromote_success": self.pgpromote, "pgdemote": self.pgdemote,
                "pgactivate": self.pgactivate, "pgdeactivate": self.pgdeactivate,
                "pgscan_kswapd": self.pgscan_kswapd, "pgscan_direct": self.pgscan_direct,
                "pgsteal_kswapd": self.pgsteal_kswapd, "pgsteal_direct": self.pgsteal_direct,
                "thp_fault_alloc": self.thp_fault_alloc,
                "thp_collapse_alloc": self.thp_collapse_alloc,
                "zswpin": self.zswpin, "zswpout": self.zswpout,
                "zswap_pool_limit_hit": self.pool_limit_hit,
                "workingset_refault_anon": sum(self.ws_refault_anon[n]
                                               for n in range(self.nr_nodes)),
                "workingset_activate_anon": sum(self.ws_activate_anon[n]
                                                for n in range(self.nr_nodes)),
                "workingset_restore_anon": sum(self.ws_restore_anon[n]
                                               for n in range(self.nr_nodes)),
                "nr_active": self.nr_active * PAGE_SIZE,
                "nr_inactive": (self.nr_used_pages() - self.nr_pool_frames - self.nr_active)
                               * PAGE_SIZE,
                "swap_used": self.swap_used * PAGE_SIZE,
                # meminfo's Zswap (pool memory) and Zswapped (what it holds);
                # zram's pool is reported the same way
                "zswap_pool": self.nr_pool_frames * PAGE_SIZE,
                "zswapped": self.pool_stored * PAGE_SIZE}

    def used_pages(self):
        return self.nr_used_pages()

    cdef int64_t nr_used_pages(self) noexcept nogil:
        # a C call: reclaim's loop asks it for every folio it passes
        cdef int n
        cdef int64_t used = 0
        for n in range(self.nr_nodes):
            used += self.node_used[n]
        return used

    def page_owner(self, uint64_t paddr):
        """(pid, virtual address) mapped at a physical address, or None."""
        cdef int64_t li, pfn
        cdef VmaData *v
        if paddr < self.phys_base:
            return None
        pfn = (paddr - self.phys_base) >> PAGE_SHIFT
        if pfn >= self.nr_pchunks * CHUNK_PAGES:
            return None
        v = self.owner_of_pfn(pfn, &li)
        if v == NULL:
            return None
        return v.mm.pid, vma_addr(v, li) + (paddr & (PAGE_SIZE - 1))

    def access_cost(self, str kind, double footprint, double bytes=64.0):
        """Per-access costs of a pattern of one kind (page_r, page_w,
        random_r, random_w, stream_r, stream_w) whose distinct cache lines
        take ``footprint`` bytes, each miss moving ``bytes``: the compute
        time, the average stall a miss to each node adds, and the nominal
        time (all on the reference memory), in ns."""
        from damo_engine.costs import ACCESS_KINDS
        cdef CostTable ct
        cdef double nominal
        if kind not in ACCESS_KINDS:
            raise ValueError("unknown access kind %r (%s)" % (kind, ", ".join(ACCESS_KINDS)))
        self.pattern_cost(ACCESS_KINDS.index(kind), footprint, bytes, &ct, &nominal)
        return {"compute_ns": ct.compute_ns,
                "stall_ns": [ct.stall_ns[n] for n in range(self.nr_nodes)],
                "nominal_ns": nominal}

    def describe_cpu(self):
        """The CPU model: compute time by access kind, memory-level
        parallelism, caches, and the reference memory."""
        from damo_engine.costs import ACCESS_KINDS
        return {"compute_ns": {k: self.cpu_compute_ns[i] for i, k in enumerate(ACCESS_KINDS)},
                "mlp": {k: self.cpu_mlp[i] for i, k in enumerate(ACCESS_KINDS)
                        if not k.startswith("stream")},
                "llc_bytes": self.llc_bytes,
                "llc_page_bytes": self.llc_page_bytes,
                "reference": {"latency_ns": self.ref_latency_ns,
                              "bandwidth_gbps": self.ref_read_bw,
                              "write_bandwidth_gbps": self.ref_write_bw}}

    def describe_swap(self):
        """The swap device and its compressed pool, or None."""
        if not self.swap_kind:
            return None
        out = {"kind": self.swap_kind, "capacity": self.swap_capacity_pages * PAGE_SIZE,
               "fault_ns": self.swap_fault_ns, "out_ns": self.swap_out_ns,
               "pool": bool(self.swap_pool)}
        if self.swap_pool:
            out.update({"pool_only": bool(self.swap_pool_only), "ratio": self.pool_ratio,
                        "pool_limit": self.pool_limit_frames * PAGE_SIZE,
                        "pool_fault_ns": self.pool_fault_ns,
                        "pool_out_ns": self.pool_out_ns})
        return out

    # ---- costs ----
    cdef int64_t node_free(self, int node) noexcept nogil:
        return self.node_npages[node] - self.node_used[node]

    cdef int first_touch_node(self) noexcept nogil:
        cdef int i, n
        for i in range(self.nr_nodes):
            n = self.node_order[i]
            if self.node_used[n] < self.node_npages[n]:
                return n
        return -1

    cdef double miss_ns(self, int kind, double latency, double read_bw, double write_bw,
                        double bytes) noexcept nogil:
        """The time of a cache-missing access of this kind to memory of this
        latency and bandwidth: the slowest of its compute time, the latency
        over the misses in flight (page-stride and random accesses; streams
        are prefetched) and its bytes over the bandwidth (GB/s = B/ns)."""
        cdef bint write = kind & 1
        cdef double t = self.cpu_compute_ns[kind], m
        cdef double bw = write_bw if write else read_bw
        if kind != AK_STREAM_R and kind != AK_STREAM_W:
            m = latency / self.cpu_mlp[kind]
            if m > t:
                t = m
        if bw > 0:
            m = bytes / bw
            if m > t:
                t = m
        return t

    cdef void pattern_cost(self, int kind, double footprint, double bytes, CostTable *ct,
                           double *nominal_ns) noexcept:
        """Per-access costs of a pattern whose distinct cache lines take
        ``footprint`` bytes: a fraction cache/footprint of its accesses hit
        the last-level cache (all if it fits) and cost their compute time;
        the others cost a miss to the node their page is on.  nominal_ns:
        the average on the reference memory."""
        cdef double cache = self.llc_page_bytes if kind == AK_PAGE_R or kind == AK_PAGE_W \
            else self.llc_bytes
        cdef double hit = 1.0 if footprint <= cache else cache / footprint
        cdef double compute = self.cpu_compute_ns[kind]
        cdef int n
        ct.compute_ns = compute
        for n in range(MAX_NODES):
            if n >= self.nr_nodes:
                ct.stall_ns[n] = 0
                continue
            ct.stall_ns[n] = (1.0 - hit) * (self.miss_ns(
                kind, self.node_latency_ns[n], self.node_bandwidth_gbps[n],
                self.node_write_bw[n], bytes) - compute)
        if nominal_ns != NULL:
            nominal_ns[0] = compute + (1.0 - hit) * (self.miss_ns(
                kind, self.ref_latency_ns, self.ref_read_bw, self.ref_write_bw,
                bytes) - compute)

    cdef int register_vma(self, VmaData *v) except -1:
        cdef VmaData **grown
        if self.nr_gids == self.cap_gids:
            self.cap_gids = self.cap_gids * 2 if self.cap_gids else 64
            grown = <VmaData **>realloc(self.vmas_by_gid, self.cap_gids * sizeof(VmaData *))
            if grown == NULL:
                raise MemoryError()
            self.vmas_by_gid = grown
        v.gid = self.nr_gids
        self.vmas_by_gid[self.nr_gids] = v
        self.nr_gids += 1
        return 0

    # ---- frames ----
    cdef int64_t take_frame(self, int node) except -2:
        """One free frame on node (page granularity), or -1 if the node is full."""
        cdef int64_t pc, j, k, first, end
        cdef uint64_t *rm
        if node < 0 or self.node_used[node] >= self.node_npages[node]:
            return -1
        first = self.node_base_pfn[node] >> CHUNK_SHIFT
        end = (self.node_base_pfn[node] + self.node_npages[node]) >> CHUNK_SHIFT
        while True:
            while self.nr_partial[node] > 0:
                pc = self.partial[node][self.nr_partial[node] - 1]
                if self.pc_owner[pc] == PC_RMAP and self.pc_used[pc] < CHUNK_PAGES:
                    j = bm_find_clear(self.pc_rmap[pc] + RMAP_USED, 0, CHUNK_PAGES)
                    if j < CHUNK_PAGES:
                        return (pc << CHUNK_SHIFT) + j      # its first free frame
                self.nr_partial[node] -= 1
                self.pc_in_partial[pc] = 0
            pc = self.pop_free_chunk(node)
            if pc >= 0:
                rm = _rmap_new()
                if rm == NULL:
                    raise MemoryError()
                self.pc_rmap[pc] = rm
                self.pc_owner[pc] = PC_RMAP
                self._add_partial(pc)
                continue
            # Only frames reserved for chunk-mapped VMAs are left: break one
            # reservation by giving its owner per-page frames.
            for k in range(end - first):
                pc = self.break_cursor[node]
                self.break_cursor[node] = pc + 1 if pc + 1 < end else first
                if self.pc_owner[pc] >= 0 and self.pc_used[pc] < CHUNK_PAGES:
                    self.vc_to_ptes(self.vmas_by_gid[self.pc_owner[pc]], self.pc_vchunk[pc])
                    break
            else:
                return -1

    cdef int64_t take_frame_fast(self, int node) except -2:
        """take_frame(), its common case inline: the node's newest partial
        chunk has a free frame (a thrashing machine's every fault)."""
        cdef int64_t pc, j
        if node >= 0 and self.node_used[node] < self.node_npages[node] and \
                self.nr_partial[node] > 0:
            pc = self.partial[node][self.nr_partial[node] - 1]
            if self.pc_owner[pc] == PC_RMAP and self.pc_used[pc] < CHUNK_PAGES:
                j = bm_find_clear(self.pc_rmap[pc] + RMAP_USED, 0, CHUNK_PAGES)
                if j < CHUNK_PAGES:
                    return (pc << CHUNK_SHIFT) + j
        return self.take_frame(node)

    cdef int64_t pop_free_chunk(self, int node) noexcept nogil:
        """A free 2 MiB chunk of node (freed ones first), or -1."""
        cdef int64_t pc
        if self.nr_stacked[node] > 0:
            self.nr_stacked[node] -= 1
            pc = self.free_chunks[node][self.nr_stacked[node]]
        elif self.fresh_next[node] < self.fresh_end[node]:
            pc = self.fresh_next[node]
            self.fresh_next[node] += 1
        else:
            return -1
        self.nr_free_chunks[node] -= 1
        return pc

    cdef void _add_partial(self, int64_t pc) noexcept:
        cdef int n = self.pc_node[pc]
        if self.pc_in_partial[pc]:
            return
        if self.nr_partial[n] == self.cap_partial[n]:
            self.cap_partial[n] *= 2
            self.partial[n] = <int32_t *>realloc(self.partial[n],
                                                 self.cap_partial[n] * sizeof(int32_t))
        self.partial[n][self.nr_partial[n]] = <int32_t>pc
        self.nr_partial[n] += 1
        self.pc_in_partial[pc] = 1

    cdef void _free_chunk(self, int64_t pc) noexcept:
        cdef int n = self.pc_node[pc]
        free(self.pc_rmap[pc])
        self.pc_rmap[pc] = NULL
        self.pc_owner[pc] = PC_FREE
        self.pc_used[pc] = 0
        self.free_chunks[n][self.nr_stacked[n]] = <int32_t>pc
        self.nr_stacked[n] += 1
        self.nr_free_chunks[n] += 1

    cdef void release_frame(self, int64_t pfn) noexcept:
        """A frame is no longer used (the caller fixes its page table)."""
        cdef int64_t pc = pfn >> CHUNK_SHIFT
        self.node_used[self.pc_node[pc]] -= 1
        self.pc_used[pc] -= 1
        if self.pc_owner[pc] == PC_RMAP:
            self.pc_rmap[pc][pfn & (CHUNK_PAGES - 1)] = RMAP_EMPTY
            bm_clear(self.pc_rmap[pc] + RMAP_LRU, pfn & (CHUNK_PAGES - 1))
            bm_clear(self.pc_rmap[pc] + RMAP_ACT, pfn & (CHUNK_PAGES - 1))
            bm_clear(self.pc_rmap[pc] + RMAP_USED, pfn & (CHUNK_PAGES - 1))
            if self.pc_used[pc] == 0:
                self._free_chunk(pc)
            else:
                self._add_partial(pc)
        elif self.pc_used[pc] == 0:
            self._free_chunk(pc)

    cdef void vc_to_ptes(self, VmaData *v, int64_t c) noexcept:
        """Give a virtual chunk per-page frames; its physical chunk becomes
        page-granular, so its unused frames can go to others."""
        cdef uint32_t *ptes
        cdef uint64_t *rm
        cdef int64_t pc = v.vc_pchunk[c], j, li
        if v.vc_ptes[c] != NULL:
            return
        vma_split_huge(v, c)
        ptes = <uint32_t *>malloc(CHUNK_PAGES * sizeof(uint32_t))
        memset(ptes, 0xFF, CHUNK_PAGES * sizeof(uint32_t))
        if pc >= 0:
            rm = _rmap_new()
            for j in range(CHUNK_PAGES):
                li = (c << CHUNK_SHIFT) + j
                if pb_test(&v.present, li):
                    ptes[j] = <uint32_t>((pc << CHUNK_SHIFT) + j)
                    _rmap_map(rm, j, v, li)
            self.pc_rmap[pc] = rm
            self.pc_owner[pc] = PC_RMAP
            if self.pc_used[pc] < CHUNK_PAGES:
                self._add_partial(pc)
            v.vc_pchunk[c] = -1
        v.vc_ptes[c] = ptes
        v.nr_ptes_chunks += 1

    cdef bint thp_allowed(self, const VmaData *v, int64_t c) noexcept nogil:
        cdef int64_t lo = c << CHUNK_SHIFT
        cdef bint hugepage = v.hugepage or v.vc_thp_hint[c] == 1
        if v.nohugepage or v.vc_thp_hint[c] == 2 or not v.anon or self.thp_policy == THP_NEVER:
            return False
        if self.thp_policy == THP_MADVISE and not hugepage:
            return False
        return lo >= v.first_li and lo + CHUNK_PAGES <= v.end_li   # whole 2 MiB inside

    cdef bint try_thp_fault(self, VmaData *v, int64_t c) noexcept:
        """Fault a whole 2 MiB THP in, if allowed and a free 2 MiB chunk exists
        on a node (first-touch order)."""
        cdef int i, n = -1
        cdef int64_t pc, lo = c << CHUNK_SHIFT
        if (not self.thp_allowed(v, c) or v.vc_present[c] or v.vc_ptes[c] != NULL
                or v.vc_pchunk[c] >= 0
                or bm_count_range(v.bm_swapped, lo, lo + CHUNK_PAGES)):
            return False
        for i in range(self.nr_nodes):
            if self.nr_free_chunks[self.node_order[i]] > 0:
                n = self.node_order[i]
                break
        if n < 0:
            return False
        pc = self.pop_free_chunk(n)
        self.pc_owner[pc] = v.gid
        self.pc_vchunk[pc] = <int32_t>c
        self.pc_used[pc] = CHUNK_PAGES
        v.vc_pchunk[c] = <int32_t>pc
        v.vc_present[c] = CHUNK_PAGES
        v.vc_huge[c] = 1
        v.nr_huge += 1
        pb_set_range(&v.present, lo, lo + CHUNK_PAGES)
        v.nr_present += CHUNK_PAGES
        v.node_pages[n] += CHUNK_PAGES
        self.node_used[n] += CHUNK_PAGES
        self.thp_fault_alloc += 1
        self.pgfault += 1
        v.mm.thp_faults += 1
        v.mm.fault_ns += self.thp_fault_ns
        return True

    cdef int64_t alloc_run(self, VmaData *v, int64_t li, int64_t n, int node) except -1:
        """Give frames on `node` to the not-present pages [li, li+n) of one
        chunk.  Returns how many got one (a chunk-mapped chunk takes them all;
        otherwise one page at a time), 0 if the node is full."""
        cdef int64_t c = li >> CHUNK_SHIFT, pc, pfn
        pc = v.vc_pchunk[c]
        if v.vc_ptes[c] == NULL and pc < 0 and self.nr_free_chunks[node] > 0:
            pc = self.pop_free_chunk(node)
            self.pc_owner[pc] = v.gid
            self.pc_vchunk[pc] = <int32_t>c
            self.pc_used[pc] = 0
            v.vc_pchunk[c] = <int32_t>pc
        if v.vc_ptes[c] == NULL and pc >= 0 and self.pc_node[pc] == node:
            self.pc_used[pc] += <int32_t>n      # this chunk's own frames
        else:
            pfn = self.take_frame_fast(node)
            if pfn < 0:
                return 0
            if v.vc_ptes[c] == NULL:
                self.vc_to_ptes(v, c)
            n = 1
            v.vc_ptes[c][li & (CHUNK_PAGES - 1)] = <uint32_t>pfn
            _rmap_map(self.pc_rmap[pfn >> CHUNK_SHIFT], pfn & (CHUNK_PAGES - 1), v, li)
            self.pc_used[pfn >> CHUNK_SHIFT] += 1
        pb_set_range(&v.present, li, li + n)
        v.vc_present[c] += <uint16_t>n
        v.nr_present += n
        v.node_pages[node] += n
        self.node_used[node] += n
        return n

    cdef int alloc_page(self, VmaData *v, int64_t li, int node) except -1:
        """A frame for one page: on `node` if it has room, else in first-touch
        order; when every node is full, the faulting process reclaims some
        memory itself (direct reclaim).  Returns the node used."""
        cdef int i, n, attempt
        for attempt in range(2):
            if node >= 0 and self.alloc_run(v, li, 1, node):
                return node
            for i in range(self.nr_nodes):
                n = self.node_order[i]
                if n != node and self.alloc_run(v, li, 1, n):
                    return n
            if attempt == 0 and not self.direct_reclaim(v):
                break
        if not self.swap_capacity_pages:
            why = "no swap"
        elif self.swap_used >= self.swap_capacity_pages:
            why = "swap full"
        else:
            why = "nothing left to reclaim"
        raise SimulationError(
            "the simulated machine ran out of memory (%d MiB in %d node(s), %s); "
            "give it more memory or swap with --memory" % (
                self.total_bytes >> 20, self.nr_nodes, why))

    cdef inline void _page_gone(self, VmaData *v, int64_t li, int64_t c, int node) noexcept:
        """A present page's bits and counts once its frame is released (the
        freed folio's flags): free_page() and reclaim's swap_out_frame()."""
        pb_clear(&v.present, li)
        pb_clear(&v.young, li)
        if bm_test(v.bm_active, li):
            bm_clear(v.bm_active, li)
            self.nr_active -= 1
            self.node_active[node] -= 1
        bm_clear(v.bm_lru_ref, li)
        bm_clear(v.bm_damon_ref, li)
        bm_clear(v.bm_workingset, li)
        v.vc_present[c] -= 1
        v.nr_present -= 1
        v.node_pages[node] -= 1

    cdef void free_page(self, VmaData *v, int64_t li) noexcept:
        """Take a present page out of memory; its frame becomes free."""
        cdef int64_t c = li >> CHUNK_SHIFT
        cdef int64_t pfn = vma_frame(v, li)
        cdef int node
        if pfn < 0:
            return
        vma_split_huge(v, c)
        node = self.pc_node[pfn >> CHUNK_SHIFT]
        self.release_frame(pfn)
        self._page_gone(v, li, c, node)
        if v.vc_ptes[c] != NULL:
            v.vc_ptes[c][li & (CHUNK_PAGES - 1)] = PTE_NONE
            if v.vc_present[c] == 0:
                free(v.vc_ptes[c])
                v.vc_ptes[c] = NULL
                v.nr_ptes_chunks -= 1
        elif v.vc_present[c] == 0:
            v.vc_pchunk[c] = -1              # release_frame freed the chunk

    cdef void drop_vma(self, VmaData *v) noexcept:
        """Free every frame and swap slot of a VMA and forget it."""
        cdef int64_t c, li, pc, nzp
        cdef int node
        cdef size_t words = v.nchunks * CHUNK_WORDS * sizeof(uint64_t)
        if v.dead:
            return
        self.nr_active -= bm_count_range(v.bm_active, v.first_li, v.end_li)
        self._drop_active(v, v.first_li, v.end_li)
        memset(v.bm_active, 0, words)
        memset(v.bm_workingset, 0, words)
        memset(v.bm_lru_ref, 0, words)
        memset(v.bm_damon_ref, 0, words)
        for c in range(v.nchunks):
            pc = v.vc_pchunk[c]
            if v.vc_ptes[c] == NULL and pc >= 0:
                node = self.pc_node[pc]
                self.node_used[node] -= self.pc_used[pc]
                v.node_pages[node] -= self.pc_used[pc]
                self._free_chunk(pc)
                v.vc_pchunk[c] = -1
            elif v.vc_ptes[c] != NULL:
                for li in range(c << CHUNK_SHIFT, (c + 1) << CHUNK_SHIFT):
                    if pb_test(&v.present, li):
                        self.free_page(v, li)
        self.swap_used -= bm_count_range(v.bm_swapped, v.first_li, v.end_li)
        nzp = <int64_t>bm_count_range(v.bm_zpool, v.first_li, v.end_li)
        if nzp:
            self.pool_stored -= nzp
            self._pool_remove()
        _pb_reset(&v.present, v.nchunks)
        memset(v.bm_swapped, 0, v.nchunks * CHUNK_WORDS * sizeof(uint64_t))
        memset(v.bm_zpool, 0, v.nchunks * CHUNK_WORDS * sizeof(uint64_t))
        memset(v.vc_present, 0, v.nchunks * sizeof(uint16_t))
        memset(v.vc_huge, 0, v.nchunks)
        v.nr_huge = 0
        v.nr_present = 0
        v.nr_swapped = 0
        self.vmas_by_gid[v.gid] = NULL

    # ---- what DAMOS actions do to pages ----
    cdef bint swap_out_page(self, VmaData *v, int64_t li) noexcept:
        """Reclaim a present anonymous page to swap (False if it cannot be).
        With zswap or zram it is compressed into the pool first (frames of
        the nodes); when zswap's pool is at max_pool_percent, or no frame
        is free for it, the page goes to the backing device instead (zram
        has none: the swap-out fails).  last_swap_out_ns: its CPU cost."""
        cdef bint pooled = False
        cdef int64_t pfn
        if (not pb_test(&v.present, li) or not v.anon
                or self.swap_used >= self.swap_capacity_pages):
            return False
        if self.swap_pool:
            pooled = self._pool_add()
            if not pooled:
                if self.swap_pool_only:
                    return False
                self.pool_limit_hit += 1
        # __remove_mapping(): the folio leaves the swap cache, reclaimed,
        # and leaves a shadow entry behind (MADV_PAGEOUT and DAMOS pageout
        # reclaim through the same path)
        pfn = vma_frame(v, li)
        self.workingset_eviction(v, li, self.pc_node[pfn >> CHUNK_SHIFT])
        self.free_page(v, li)
        pb_clear(&v.dirty, li)
        bm_set(v.bm_swapped, li)
        v.nr_swapped += 1
        self.swap_used += 1
        if pooled:
            bm_set(v.bm_zpool, li)
            self.last_swap_out_ns = self.pool_out_ns
            if self.swap_pool_only:
                self.pswpout += 1       # zram is a block device
            else:
                self.zswpout += 1
        else:
            self.last_swap_out_ns = self.swap_out_ns
            self.pswpout += 1
        return True

    cdef bint swap_out_frame(self, VmaData *v, int64_t li, int64_t pc, int64_t j) noexcept:
        """swap_out_page() of page li, a small page in frame j of the
        page-granular chunk pc, as reclaim's batched walk finds it (present,
        anonymous): the same steps in the same order, with what the walk
        knows (the frame, its node, no THP) instead of asking again; the
        page's free_page() and release_frame() are done here."""
        cdef bint pooled = False
        cdef int64_t c = li >> CHUNK_SHIFT
        cdef int node = self.pc_node[pc]
        cdef uint64_t *rm
        cdef uint32_t *ptes = v.vc_ptes[c]
        if ptes == NULL or v.vc_huge[c]:
            return self.swap_out_page(v, li)     # not what the walk finds (kept general)
        if self.swap_used >= self.swap_capacity_pages:
            return False
        if self.swap_pool:
            pooled = self._pool_add()
            if not pooled:
                if self.swap_pool_only:
                    return False
                self.pool_limit_hit += 1
        self.workingset_eviction(v, li, node)
        # free_page(): release_frame() of frame j, then the page's bits
        self.node_used[node] -= 1
        self.pc_used[pc] -= 1
        rm = self.pc_rmap[pc]
        rm[j] = RMAP_EMPTY
        bm_clear(rm + RMAP_LRU, j)
        bm_clear(rm + RMAP_ACT, j)
        bm_clear(rm + RMAP_USED, j)
        if self.pc_used[pc] == 0:
            self._free_chunk(pc)
        else:
            self._add_partial(pc)
        self._page_gone(v, li, c, node)
        ptes[li & (CHUNK_PAGES - 1)] = PTE_NONE
        if v.vc_present[c] == 0:
            free(ptes)
            v.vc_ptes[c] = NULL
            v.nr_ptes_chunks -= 1
        # the rest of swap_out_page()
        pb_clear(&v.dirty, li)
        bm_set(v.bm_swapped, li)
        v.nr_swapped += 1
        self.swap_used += 1
        if pooled:
            bm_set(v.bm_zpool, li)
            self.last_swap_out_ns = self.pool_out_ns
            if self.swap_pool_only:
                self.pswpout += 1
            else:
                self.zswpout += 1
        else:
            self.last_swap_out_ns = self.swap_out_ns
            self.pswpout += 1
        return True

    cdef bint _pool_add(self) noexcept:
        """One more page into the compressed pool: grow it by a frame when
        the pages it holds need one more (pages / ratio, rounded up); False
        if zswap's limit is reached or no node has a free frame."""
        cdef int64_t need = <int64_t>ceil((self.pool_stored + 1) / self.pool_ratio)
        cdef int64_t pfn = -1, *grown
        cdef int i
        if need > self.nr_pool_frames:
            if self.nr_pool_frames >= self.pool_limit_frames:
                return False
            for i in range(self.nr_nodes):
                if self.node_used[self.node_order[i]] < self.node_npages[self.node_order[i]]:
                    try:
                        pfn = self.take_frame(self.node_order[i])
                    except MemoryError:
                        pfn = -1
                    if pfn >= 0:
                        break
            if pfn < 0:
                return False
            if self.nr_pool_frames == self.cap_pool_pfns:
                grown = <int64_t *>realloc(self.pool_pfns, (self.cap_pool_pfns * 2 + 64)
                                           * sizeof(int64_t))
                if grown == NULL:
                    return False
                self.pool_pfns = grown
                self.cap_pool_pfns = self.cap_pool_pfns * 2 + 64
            self.pc_rmap[pfn >> CHUNK_SHIFT][pfn & (CHUNK_PAGES - 1)] = RMAP_POOL
            bm_set(self.pc_rmap[pfn >> CHUNK_SHIFT] + RMAP_USED, pfn & (CHUNK_PAGES - 1))
            self.pc_used[pfn >> CHUNK_SHIFT] += 1
            self.node_used[self.pc_node[pfn >> CHUNK_SHIFT]] += 1
            self.node_pool[self.pc_node[pfn >> CHUNK_SHIFT]] += 1
            self.pool_pfns[self.nr_pool_frames] = pfn
            self.nr_pool_frames += 1
        self.pool_stored += 1
        return True

    cdef void _pool_remove(self) noexcept:
        """The pool shrinks to the frames its pages still need."""
        cdef int64_t need = <int64_t>ceil(self.pool_stored / self.pool_ratio)
        while self.nr_pool_frames > need:
            self.nr_pool_frames -= 1
            self.node_pool[self.pc_node[self.pool_pfns[self.nr_pool_frames] >> CHUNK_SHIFT]] -= 1
            self.release_frame(self.pool_pfns[self.nr_pool_frames])

    cdef double swap_in_cost(self, VmaData *v, int64_t li) noexcept:
        """What reading a swapped-out page back takes: decompression from
        the pool, or the device's read."""
        return self.pool_fault_ns if bm_test(v.bm_zpool, li) else self.swap_fault_ns

    cdef void swap_forget(self, VmaData *v, int64_t li) noexcept:
        """A swapped-out page is read back (or dropped): its slot and its
        pool entry are freed, and the swap-in counted where it came from."""
        bm_clear(v.bm_swapped, li)
        v.nr_swapped -= 1
        self.swap_used -= 1
        if bm_test(v.bm_zpool, li):
            bm_clear(v.bm_zpool, li)
            self.pool_stored -= 1
            self._pool_remove()
            if self.swap_pool_only:
                self.pswpin += 1
            else:
                self.zswpin += 1
        else:
            self.pswpin += 1

    cdef bint swap_in_page(self, VmaData *v, int64_t li) except -1:
        """Read a swapped-out page back (MADV_WILLNEED); it is not accessed.
        last_swap_in_ns: what it cost the caller."""
        cdef int node
        if not bm_test(v.bm_swapped, li):
            return False
        if self.first_touch_node() < 0:
            return False
        self.last_swap_in_ns = self.swap_in_cost(v, li)
        self.swap_forget(v, li)
        node = self.alloc_page(v, li, self.first_touch_node())
        self.workingset_refault(v, li, node, True)
        pb_clear(&v.young, li)
        self.balance()
        return True

    cdef void _count_migration(self, int old, int node, int64_t n) noexcept:
        self.pgmigrate += n
        if self.node_latency_ns[node] < self.node_latency_ns[old]:
            self.pgpromote += n
        elif self.node_latency_ns[node] > self.node_latency_ns[old]:
            self.pgdemote += n

    cdef bint migrate_page(self, VmaData *v, int64_t li, int node) except -1:
        """Move a present page's frame to `node` (False if it is not present,
        already there, or the node is full)."""
        cdef int64_t pfn = vma_frame(v, li), npfn, c = li >> CHUNK_SHIFT
        cdef int old
        if pfn < 0 or node < 0 or node >= self.nr_nodes:
            return False
        old = self.pc_node[pfn >> CHUNK_SHIFT]
        if old == node:
            return False
        npfn = self.take_frame(node)
        if npfn < 0:
            return False
        self.vc_to_ptes(v, c)
        self.release_frame(pfn)
        v.vc_ptes[c][li & (CHUNK_PAGES - 1)] = <uint32_t>npfn
        _rmap_map(self.pc_rmap[npfn >> CHUNK_SHIFT], npfn & (CHUNK_PAGES - 1), v, li)
        self.pc_used[npfn >> CHUNK_SHIFT] += 1
        self.node_used[node] += 1
        v.node_pages[old] -= 1
        v.node_pages[node] += 1
        if bm_test(v.bm_active, li):
            self.node_active[old] -= 1
            self.node_active[node] += 1
        self._count_migration(old, node, 1)
        return True

    cdef int64_t migrate_chunk(self, VmaData *v, int64_t c, int node) except -2:
        """Move a whole chunk-mapped chunk (THP included) to a free 2 MiB chunk
        of `node`.  Returns the pages moved, or -1 if this fast path does not
        apply (the caller then moves pages one by one)."""
        cdef int64_t pc = v.vc_pchunk[c], q, n, k
        cdef int old
        if v.vc_ptes[c] != NULL or pc < 0:
            return -1
        old = self.pc_node[pc]
        if old == node:
            return 0
        q = self.pop_free_chunk(node)
        if q < 0:
            return -1
        n = self.pc_used[pc]
        self.pc_owner[q] = v.gid
        self.pc_vchunk[q] = <int32_t>c
        self.pc_used[q] = <int32_t>n
        self.node_used[old] -= n
        self.node_used[node] += n
        v.node_pages[old] -= n
        v.node_pages[node] += n
        k = <int64_t>bm_count_range(v.bm_active, c << CHUNK_SHIFT, (c + 1) << CHUNK_SHIFT)
        self.node_active[old] -= k
        self.node_active[node] += k
        self._free_chunk(pc)
        v.vc_pchunk[c] = <int32_t>q
        self._count_migration(old, node, n)
        return n

    cdef void set_thp_hint(self, VmaData *v, int64_t c, bint hugepage) noexcept:
        """MADV_(NO)HUGEPAGE on a 2 MiB chunk.  Like the VMA flags, the hint
        only decides future faults and khugepaged's collapses: a THP already
        there stays."""
        if hugepage != (v.vc_thp_hint[c] == 1):
            v.nr_hugepage_hints += 1 if hugepage else -1
        v.vc_thp_hint[c] = 1 if hugepage else 2

    def lru_sizes(self):
        """(active, inactive) bytes of the LRU lists: every page in use by
        a process is on one of them (the compressed pool's frames are not)."""
        return (self.nr_active * PAGE_SIZE,
                (self.nr_used_pages() - self.nr_pool_frames - self.nr_active) * PAGE_SIZE)

    def node_lru_sizes(self, int node):
        """(active, inactive) pages of a node's LRU lists: the lruvec that
        inactive_is_low() reads (the pool's frames on the node are on none)."""
        if node < 0 or node >= self.nr_nodes:
            raise IndexError(node)
        return (self.node_active[node],
                self.node_used[node] - self.node_pool[node] - self.node_active[node])

    def node_inactive_is_low(self, int node):
        """Test hook: what reclaim of the node decides of its lists now."""
        if node < 0 or node >= self.nr_nodes:
            raise IndexError(node)
        return self.inactive_is_low(node)

    def check_lru_counts(self):
        """Test hook: each node's (active pages, pool frames) counted afresh
        from the VMAs' active bits and the pool's frames, beside the
        counters reclaim reads; equal lists when all is as it expects."""
        cdef int g, n
        cdef int64_t li, pfn, i
        cdef VmaData *v
        act = [0] * self.nr_nodes
        pool = [0] * self.nr_nodes
        for g in range(self.nr_gids):
            v = self.vmas_by_gid[g]
            if v == NULL or v.dead:
                continue
            for li in range(v.first_li, v.end_li):
                if bm_test(v.bm_active, li):
                    pfn = vma_frame(v, li)
                    if pfn < 0:
                        return ("active page not present", g, li)
                    act[self.pc_node[pfn >> CHUNK_SHIFT]] += 1
        for i in range(self.nr_pool_frames):
            pool[self.pc_node[self.pool_pfns[i] >> CHUNK_SHIFT]] += 1
        return ((act, pool),
                ([self.node_active[n] for n in range(self.nr_nodes)],
                 [self.node_pool[n] for n in range(self.nr_nodes)]))

    # ---- LRU lists ----
    cdef bint inactive_is_low(self, int node) noexcept nogil:
        """mm/vmscan.c inactive_is_low() on the node's lruvec: its LRU pages
        only (the compressed pool's frames are not on an LRU list); the
        target active:inactive ratio grows with the lists' size,
        int_sqrt(10 * GiB), 1 below 1 GiB."""
        cdef uint64_t active = <uint64_t>self.node_active[node]
        cdef uint64_t inactive = <uint64_t>(self.node_used[node] - self.node_pool[node]
                                            - self.node_active[node])
        cdef uint64_t gb = (inactive + active) >> (30 - PAGE_SHIFT)
        if gb == 0:
            return inactive < active
        if gb != self.lru_gb[node]:
            self.lru_gb[node] = gb
            self.lru_ratio[node] = int_sqrt(10 * gb)
        return inactive * self.lru_ratio[node] < active

    cdef void _drop_active(self, VmaData *v, int64_t lo, int64_t hi) noexcept:
        """The active pages of [lo, hi) leave their nodes' lruvecs (the
        caller clears their bits): node_active follows, page by page where
        the chunk is page-granular."""
        cdef int64_t c, a, b, k, li, pfn
        for c in range(lo >> CHUNK_SHIFT, ((hi - 1) >> CHUNK_SHIFT) + 1):
            a = _max64(lo, c << CHUNK_SHIFT)
            b = _min64(hi, (c + 1) << CHUNK_SHIFT)
            k = <int64_t>bm_count_range(v.bm_active, a, b)
            if k == 0:
                continue
            if v.vc_ptes[c] == NULL and v.vc_pchunk[c] >= 0:
                self.node_active[self.pc_node[v.vc_pchunk[c]]] -= k
                continue
            for li in range(a, b):
                if bm_test(v.bm_active, li):
                    pfn = vma_frame(v, li)
                    if pfn >= 0:
                        self.node_active[self.pc_node[pfn >> CHUNK_SHIFT]] -= 1

    cdef void set_active(self, VmaData *v, int64_t li, bint active) noexcept:
        """Move the folio holding page li to the active (or inactive) list,
        counted in pgactivate (pgdeactivate)."""
        cdef int64_t n = self._lru_move(v, li, active)
        if active:
            self.pgactivate += n
        else:
            self.pgdeactivate += n

    cdef int64_t _lru_move(self, VmaData *v, int64_t li, bint active) noexcept:
        """The folio holding page li goes on the active (inactive) list;
        returns its pages (0 if it was there already)."""
        cdef int64_t h = folio_head(v, li)
        cdef int64_t n = CHUNK_PAGES if v.vc_huge[li >> CHUNK_SHIFT] else 1
        cdef uint32_t *ptes = v.vc_ptes[li >> CHUNK_SHIFT]
        cdef uint32_t pfn = PTE_NONE
        cdef int64_t frame = vma_frame(v, h)    # the folio's node: its lruvec
        if active == bm_test(v.bm_active, h):
            return 0
        if ptes != NULL:
            pfn = ptes[li & (CHUNK_PAGES - 1)]      # a small page: its frame's rmap bit
        if active:
            bm_set_range(v.bm_active, h, h + n)
            self.nr_active += n
            if frame >= 0:
                self.node_active[self.pc_node[frame >> CHUNK_SHIFT]] += n
            if pfn != PTE_NONE:
                bm_set(self.pc_rmap[pfn >> CHUNK_SHIFT] + RMAP_ACT, pfn & (CHUNK_PAGES - 1))
        else:
            bm_clear_range(v.bm_active, h, h + n)
            self.nr_active -= n
            if frame >= 0:
                self.node_active[self.pc_node[frame >> CHUNK_SHIFT]] -= n
            if pfn != PTE_NONE:
                bm_clear(self.pc_rmap[pfn >> CHUNK_SHIFT] + RMAP_ACT, pfn & (CHUNK_PAGES - 1))
        return n

    # ---- workingset detection (mm/workingset.c) ----
    cdef void workingset_age(self, int node, int64_t nr) noexcept nogil:
        """workingset_age_nonresident(): the node's inactive list aged by nr
        pages (an eviction, or an activation)."""
        self.ws_age[node] += <uint64_t>nr

    cdef void workingset_activation(self, VmaData *v, int64_t h) noexcept:
        """workingset_activation(): folio_mark_accessed() activated the
        folio at h; its lruvec's inactive list ages by its pages."""
        cdef int64_t frame = vma_frame(v, h)
        if frame >= 0:
            self.workingset_age(self.pc_node[frame >> CHUNK_SHIFT],
                                CHUNK_PAGES if v.vc_huge[h >> CHUNK_SHIFT] else 1)

    cdef void workingset_eviction(self, VmaData *v, int64_t li, int node) noexcept:
        """workingset_eviction() of page li, on `node`, as it is swapped
        out: its shadow entry takes the node's nonresident_age (shifted by
        bucket_order, kept to EVICTION_MASK), the node and the folio's
        PG_workingset; then the node's clock ages by the page."""
        cdef uint64_t eviction = (self.ws_age[node] >> self.ws_bucket_order) & WS_EVICTION_MASK
        v.shadow[li] = (WS_SHADOW_VALID | (eviction << (WS_NODE_BITS + 1))
                        | (<uint64_t>node << 1)
                        | (1 if bm_test(v.bm_workingset, folio_head(v, li)) else 0))
        self.workingset_age(node, 1)

    cdef void workingset_refault(self, VmaData *v, int64_t li, int node, bint to_lru) noexcept:
        """workingset_refault() of page li, swapped back in onto `node` (its
        new folio, not on an LRU list yet): counted in the node's
        workingset_refault_anon; workingset_test_recent() on the node it was
        evicted from: refault distance = (nonresident_age - eviction) &
        EVICTION_MASK, against the workingset size an anon refault competes
        with, the file lists and, if swap has a free slot, the active anon
        list (one list pair here: the node's active pages).  Recent: the
        folio goes on the active list (not a pgactivate event: it is added
        to the LRU active), the node's clock ages, workingset_activate_anon;
        was it PG_workingset when evicted, also workingset_restore_anon.
        to_lru False: the folio is not kept (khugepaged copies it into a THP
        at once), only the counters and the clock move."""
        cdef uint64_t e = v.shadow[li], eviction, distance, size = 0
        cdef int enode
        if not (e & WS_SHADOW_VALID):
            return
        v.shadow[li] = 0
        self.ws_refault_anon[node] += 1
        enode = <int>((e >> 1) & ((1 << WS_NODE_BITS) - 1))
        eviction = ((e >> (WS_NODE_BITS + 1)) & WS_EVICTION_MASK) << self.ws_bucket_order
        distance = (self.ws_age[enode] - eviction) & WS_EVICTION_MASK
        # get_nr_swap_pages() > 0: the page's own slot is still taken then
        # (the engine freed it as the swap-in began)
        if self.swap_capacity_pages - self.swap_used - 1 > 0:
            size += <uint64_t>self.node_active[enode]
        if distance > size:
            return
        if to_lru:
            self._lru_move(v, li, True)
        self.workingset_age(node, 1)
        self.ws_activate_anon[node] += 1
        if e & 1:
            if to_lru:
                bm_set(v.bm_workingset, folio_head(v, li))
            self.ws_restore_anon[node] += 1

    cdef void snapshot_refaults(self, int node) noexcept nogil:
        """snapshot_refaults(): the end of a reclaim run (balance_pgdat(),
        do_try_to_free_pages()) remembers the node's WORKINGSET_ACTIVATE_ANON."""
        self.ws_refaults_snap[node] = self.ws_activate_anon[node]

    cdef bint may_deactivate_anon(self, int node) noexcept nogil:
        """prepare_scan_control()'s DEACTIVATE_ANON: refaulting pages were
        activated since the last snapshot (a new workingset is forming), or
        the inactive list is low."""
        return (self.ws_activate_anon[node] != self.ws_refaults_snap[node]
                or self.inactive_is_low(node))

    def node_workingset(self, int node):
        """Test hook: the node's workingset state: nonresident_age, the
        workingset_*_anon counters, the snapshot reclaim compares with, and
        what prepare_scan_control() would decide for the anon lists now."""
        if node < 0 or node >= self.nr_nodes:
            raise IndexError(node)
        return {"nonresident_age": self.ws_age[node],
                "refault": self.ws_refault_anon[node],
                "activate": self.ws_activate_anon[node],
                "restore": self.ws_restore_anon[node],
                "snapshot": self.ws_refaults_snap[node],
                "may_deactivate": self.may_deactivate_anon(node)}

    cdef void clear_folio_refs(self, VmaData *v, int64_t li) noexcept:
        """folio_referenced() as reclaim calls it: clear the Accessed bit
        (telling DAMON the folio was accessed) and the folio's PG_young."""
        cdef int64_t c = li >> CHUNK_SHIFT, h = folio_head(v, li)
        if pb_test(&v.young, li):
            if v.vc_huge[c]:
                pb_clear_chunk(&v.young, c)
            else:
                pb_clear(&v.young, li)
            bm_set(v.bm_damon_ref, h)
            bm_set(v.damon_ref_chunks, c)
        bm_clear(v.bm_lru_ref, h)

    cdef bint _folio_referenced(self, VmaData *v, int64_t li) noexcept:
        return pb_test(&v.young, li) or bm_test(v.bm_lru_ref, folio_head(v, li))

    # ---- reclaim ----
    cdef bint can_evict(self) noexcept nogil:
        """Anything to reclaim to: only anonymous memory is reclaimed, to swap."""
        return self.swap_used < self.swap_capacity_pages

    cdef int64_t reclaim_node(self, int node, int64_t nr_to_reclaim, bint direct,
                              VmaData *stalled) except -1:
        """Reclaim up to nr_to_reclaim pages of a node: a CLOCK over its
        frames approximates the kernel's LRU lists.  An inactive folio that
        was referenced since the last look gets a second chance (it is
        activated); an unreferenced one is swapped out; active folios are
        deactivated while prepare_scan_control() would let reclaim age the
        active anon list: refaulting pages were activated since the node's
        last snapshot_refaults() (decided once, at the start of the pass), or
        the node's inactive list is low (inactive_is_low(): its LRU pages,
        weighed by int_sqrt(10 * GiB)).  Evictions and activations age the
        node's nonresident_age; a deactivated folio is PG_workingset.
        Returns the pages reclaimed; the work is charged to the stalled
        process (direct reclaim) or to kswapd."""
        cdef int64_t first = self.node_base_pfn[node], end = first + self.node_npages[node]
        cdef int64_t pfn = self.reclaim_hand[node], scanned = 0, reclaimed = 0, looked = 0
        cdef int64_t max_scan = 3 * self.node_npages[node], pc, li, h, j, npages, k
        cdef uint64_t *rm, e
        cdef VmaData *v
        cdef bint huge
        cdef double work = 0
        # the room in swap changes only when a page is swapped out: asked
        # then, not for every folio passed
        cdef bint evictable = self.can_evict()
        # refaults != lruvec->refaults[WORKINGSET_ANON]
        cdef bint deact = self.ws_activate_anon[node] != self.ws_refaults_snap[node]
        if pfn < first or pfn >= end:
            pfn = first
        while reclaimed < nr_to_reclaim and scanned < max_scan and evictable:
            pc = pfn >> CHUNK_SHIFT
            if self.pc_owner[pc] == PC_FREE:
                scanned += CHUNK_PAGES - (pfn & (CHUNK_PAGES - 1))
                pfn = (pc + 1) << CHUNK_SHIFT
                if pfn >= end:
                    pfn = first
                continue
            if self.pc_owner[pc] == PC_RMAP and not self.reclaim_frame_walk:
                # A page-granular chunk, walked as the frame-by-frame walk
                # below does, with what it knows: a frame holds a small page
                # (never a THP) or none, and its rmap bitmaps say which, and
                # whether the page is active.  The frames the walk would only
                # count as scanned (no process page on them, e.g. the swap
                # pool's; an active page while the inactive list is not low)
                # are passed a bitmap word at a time, up to max_scan.
                rm = self.pc_rmap[pc]
                j = pfn & (CHUNK_PAGES - 1)
                while True:
                    if not (deact or self.inactive_is_low(node)):
                        k = bm_find_set_andnot(rm + RMAP_LRU, rm + RMAP_ACT, j, CHUNK_PAGES)
                    else:
                        k = bm_find_set(rm + RMAP_LRU, j, CHUNK_PAGES)
                    if k > j:
                        k = _min64(k - j, max_scan - scanned)
                        self.clock_batched_frames += k
                        scanned += k
                        j += k
                        if j == CHUNK_PAGES or scanned >= max_scan:
                            break
                    # frame j holds page li of v, present
                    e = rm[j]
                    v = self.vmas_by_gid[e >> 32]
                    li = <int64_t>(e & 0xFFFFFFFFu)
                    scanned += 1
                    looked += 1
                    work += self.reclaim_scan_ns
                    if bm_test(rm + RMAP_ACT, j):
                        # active, so the active list may be aged: deactivate
                        # (clear_folio_refs() and set_active(False) on a small page)
                        if pb_test_clear(&v.young, li):
                            bm_set(v.bm_damon_ref, li)
                            bm_set(v.damon_ref_chunks, li >> CHUNK_SHIFT)
                        bm_clear(v.bm_lru_ref, li)
                        bm_clear(v.bm_active, li)
                        bm_clear(rm + RMAP_ACT, j)
                        bm_set(v.bm_workingset, li)
                        self.nr_active -= 1
                        self.node_active[node] -= 1
                        self.pgdeactivate += 1
                    elif pb_test_clear(&v.young, li):
                        # referenced (Accessed bit): a second chance
                        bm_set(v.bm_damon_ref, li)
                        bm_set(v.damon_ref_chunks, li >> CHUNK_SHIFT)
                        bm_clear(v.bm_lru_ref, li)
                        bm_set(v.bm_active, li)
                        bm_set(rm + RMAP_ACT, j)
                        self.nr_active += 1
                        self.node_active[node] += 1
                        self.pgactivate += 1
                        self.workingset_age(node, 1)
                    elif bm_test(v.bm_lru_ref, li):
                        # referenced (PG_young, from DAMON's mkold): a second chance
                        bm_clear(v.bm_lru_ref, li)
                        bm_set(v.bm_active, li)
                        bm_set(rm + RMAP_ACT, j)
                        self.nr_active += 1
                        self.node_active[node] += 1
                        self.pgactivate += 1
                        self.workingset_age(node, 1)
                    elif v.anon:
                        if self.swap_out_frame(v, li, pc, j):
                            reclaimed += 1
                            work += self.last_swap_out_ns
                        evictable = self.can_evict()
                        if self.pc_owner[pc] != PC_RMAP:
                            j += 1              # its last frame freed the chunk
                            break
                        rm = self.pc_rmap[pc]
                    j += 1
                    if (j == CHUNK_PAGES or reclaimed >= nr_to_reclaim or scanned >= max_scan
                            or not evictable):
                        break
                pfn = (pc << CHUNK_SHIFT) + j
                if pfn >= end:
                    pfn = first
                continue
            v = self.owner_of_pfn(pfn, &li)
            if v == NULL or not pb_test(&v.present, li):
                scanned += 1
                pfn += 1
                if pfn >= end:
                    pfn = first
                continue
            huge = v.vc_huge[li >> CHUNK_SHIFT]
            h = folio_head(v, li)
            npages = CHUNK_PAGES if huge else 1
            if bm_test(v.bm_active, h) and not (deact or self.inactive_is_low(node)):
                # an active folio while the active list is not to be aged:
                # the kernel's reclaim does not walk the active list then, so it
                # is neither a scanned page nor work; 64 active pages of a
                # chunk-mapped chunk are passed at once
                if (not huge and self.pc_owner[pc] >= 0 and (li & 63) == 0
                        and pfn + 64 <= end and v.bm_active[li >> 6] == 0xFFFFFFFFFFFFFFFFULL):
                    npages = 64
                scanned += npages
                if huge:
                    pfn = (pfn | (CHUNK_PAGES - 1)) + 1
                else:
                    pfn += npages
                if pfn >= end:
                    pfn = first
                continue
            scanned += npages
            looked += npages
            work += self.reclaim_scan_ns
            if bm_test(v.bm_active, h):
                if deact or self.inactive_is_low(node):
                    # shrink_active_list(): deactivated, PG_workingset
                    self.clear_folio_refs(v, h)
                    self.set_active(v, h, False)
                    bm_set(v.bm_workingset, h)
            elif self._folio_referenced(v, h):
                # activated: move_folios_to_lru() ages nonresident_age
                self.clear_folio_refs(v, h)
                self.set_active(v, h, True)
                self.workingset_age(node, npages)
            elif v.anon:
                bm_clear(v.bm_lru_ref, h)
                for j in range(h, h + npages):
                    if self.swap_out_page(v, j):
                        reclaimed += 1
                        work += self.last_swap_out_ns
                evictable = self.can_evict()
            if huge:
                pfn = (pfn | (CHUNK_PAGES - 1)) + 1
            else:
                pfn += 1
            if pfn >= end:
                pfn = first
        self.reclaim_hand[node] = pfn
        if direct:
            self.pgscan_direct += looked
            self.pgsteal_direct += reclaimed
            if stalled != NULL:
                stalled.mm.reclaim_ns += work
        else:
            self.pgscan_kswapd += looked
            self.pgsteal_kswapd += reclaimed
            self.kswapd_ns += work
            self.snapshot_refaults(node)        # the end of balance_pgdat()
        return reclaimed

    cdef int64_t direct_reclaim(self, VmaData *stalled) except -1:
        """Every node is full: the allocating process reclaims a batch
        (SWAP_CLUSTER_MAX pages) itself."""
        cdef int i
        cdef int64_t got = 0
        for i in range(self.nr_nodes):
            got = self.reclaim_node(self.node_order[i], 32, True, stalled)
            if got:
                break
        # the end of do_try_to_free_pages(): every node of the zonelist
        for i in range(self.nr_nodes):
            self.snapshot_refaults(i)
        return got

    cdef void balance(self) except *:
        """kswapd: once no node has free memory above its low watermark (an
        allocation would have to fall back past every node), reclaim each
        node up to its high watermark.  A pass that frees nothing backs off
        for a while, so a machine with nothing to reclaim stays fast."""
        cdef int n
        cdef int64_t got = 0
        if self.kswapd_backoff > 0:
            self.kswapd_backoff -= 1
            return
        for n in range(self.nr_nodes):
            if self.node_free(n) >= self.wmark_low[n]:
                return
        if not self.can_evict():
            self.kswapd_backoff = 4096
            return
        for n in range(self.nr_nodes):
            if self.node_free(n) < self.wmark_high[n]:
                got += self.reclaim_node(n, self.wmark_high[n] - self.node_free(n), False,
                                         NULL)
        if not got:
            self.kswapd_backoff = 4096

    def reclaim(self, int64_t nr_pages, node=None):
        """Reclaim up to nr_pages (kswapd-style, in the background) from one
        node or from every node in turn; returns the pages reclaimed."""
        cdef int i
        cdef int64_t got = 0
        nodes = [node] if node is not None else [self.node_order[i]
                                                 for i in range(self.nr_nodes)]
        for n in nodes:
            if n < 0 or n >= self.nr_nodes:
                raise IndexError(n)
            if got < nr_pages:
                got += self.reclaim_node(n, nr_pages - got, False, NULL)
        return got

    # ---- khugepaged ----
    cdef bint collapse_chunk(self, VmaData *v, int64_t c) except -1:
        """Collapse a 2 MiB chunk into a THP, as khugepaged does: swapped-out
        pages are read back, the chunk's pages are copied into a fresh huge
        page on the node that held most of them (empty pages become zeroed
        memory), and the old frames are freed.  False if that node has no
        free 2 MiB chunk (and the chunk is not already mapped in place)."""
        cdef int64_t lo = c << CHUNK_SHIFT, j, pfn, pc, present_before, nsw
        cdef int64_t count[MAX_NODES]
        cdef int n, best = -1, node
        cdef bint in_place
        memset(count, 0, sizeof(count))
        for j in range(lo, lo + CHUNK_PAGES):
            pfn = vma_frame(v, j)
            if pfn >= 0:
                count[self.pc_node[pfn >> CHUNK_SHIFT]] += 1
        for n in range(self.nr_nodes):
            node = self.node_order[n]
            if best < 0 or count[node] > count[best]:
                best = node
        pc = v.vc_pchunk[c]
        in_place = v.vc_ptes[c] == NULL and pc >= 0 and self.pc_node[pc] == best
        if not in_place and self.nr_free_chunks[best] == 0:
            return False
        # swapped-out pages come back first
        nsw = <int64_t>bm_count_range(v.bm_swapped, lo, lo + CHUNK_PAGES)
        if nsw:
            node = self.first_touch_node()      # where the swap-in's small folio goes
            if node < 0:
                node = best
            for j in range(lo, lo + CHUNK_PAGES):
                if bm_test(v.bm_swapped, j):
                    self.swap_forget(v, j)
                    self.workingset_refault(v, j, node, False)
        # the new folio starts on the inactive list
        j = <int64_t>bm_count_range(v.bm_active, lo, lo + CHUNK_PAGES)
        self.nr_active -= j
        if j:
            self._drop_active(v, lo, lo + CHUNK_PAGES)
        bm_clear_range(v.bm_active, lo, lo + CHUNK_PAGES)
        bm_clear_range(v.bm_workingset, lo, lo + CHUNK_PAGES)
        bm_clear_range(v.bm_lru_ref, lo, lo + CHUNK_PAGES)
        bm_clear_range(v.bm_damon_ref, lo, lo + CHUNK_PAGES)
        present_before = v.vc_present[c]
        if in_place:
            self.pc_used[pc] = CHUNK_PAGES
            self.node_used[best] += CHUNK_PAGES - present_before
            v.node_pages[best] += CHUNK_PAGES - present_before
        else:
            if v.vc_ptes[c] != NULL:
                for j in range(CHUNK_PAGES):
                    pfn = v.vc_ptes[c][j]
                    if pfn != PTE_NONE:
                        v.node_pages[self.pc_node[pfn >> CHUNK_SHIFT]] -= 1
                        self.release_frame(pfn)
                free(v.vc_ptes[c])
                v.vc_ptes[c] = NULL
                v.nr_ptes_chunks -= 1
            elif pc >= 0:
                n = self.pc_node[pc]
                self.node_used[n] -= self.pc_used[pc]
                v.node_pages[n] -= self.pc_used[pc]
                self._free_chunk(pc)
            pc = self.pop_free_chunk(best)
            self.pc_owner[pc] = v.gid
            self.pc_vchunk[pc] = <int32_t>c
            self.pc_used[pc] = CHUNK_PAGES
            v.vc_pchunk[c] = <int32_t>pc
            self.node_used[best] += CHUNK_PAGES
            v.node_pages[best] += CHUNK_PAGES
        v.vc_present[c] = CHUNK_PAGES
        v.nr_present += CHUNK_PAGES - present_before
        pb_set_chunk(&v.present, c)
        pb_set_chunk(&v.young, c)       # the new PMD maps it young
        pb_set_chunk(&v.dirty, c)
        v.vc_huge[c] = 1
        v.nr_huge += 1
        self.thp_collapse_alloc += 1
        self.kswapd_ns += CHUNK_PAGES * 100.0       # copying 2 MiB
        return True

    cdef bint khugepaged_scans(self, const VmaData *v) noexcept nogil:
        """khugepaged walks only the VMAs THP may back (khugepaged_enter_vma):
        anonymous ones, every one under 'always', madvised ones otherwise."""
        if not v.anon or v.nohugepage or self.thp_policy == THP_NEVER:
            return False
        return self.thp_policy == THP_ALWAYS or v.hugepage or v.nr_hugepage_hints > 0

    def khugepaged_scan(self):
        """One khugepaged wake-up: scan up to khugepaged_pages_to_scan pages
        of the VMAs THP may back, from where the last scan stopped, and
        collapse each 2 MiB chunk that has at most max_ptes_none empty and
        max_ptes_swap swapped-out pages.  Returns the THPs made."""
        cdef int64_t budget = self.khugepaged_pages_to_scan, c, lo, present, swapped
        cdef int gid, visited = 0, made = 0
        cdef VmaData *v
        if self.nr_gids == 0:
            return 0
        gid = self.khugepaged_gid % self.nr_gids
        c = self.khugepaged_chunk
        while budget > 0 and visited <= self.nr_gids:
            v = self.vmas_by_gid[gid]
            if (v == NULL or v.dead or c >= v.nchunks
                    or not self.khugepaged_scans(v)):
                gid = (gid + 1) % self.nr_gids
                c = 0
                visited += 1
                continue
            budget -= CHUNK_PAGES       # every 2 MiB walked counts, as the kernel's
            if self.thp_allowed(v, c) and not v.vc_huge[c]:
                lo = c << CHUNK_SHIFT
                present = v.vc_present[c]
                swapped = <int64_t>bm_count_range(v.bm_swapped, lo, lo + CHUNK_PAGES)
                if (present + swapped > 0
                        and CHUNK_PAGES - present - swapped <= self.khugepaged_max_ptes_none
                        and swapped <= self.khugepaged_max_ptes_swap):
                    made += self.collapse_chunk(v, c)
            c += 1
        self.khugepaged_gid = gid
        self.khugepaged_chunk = c
        self.balance()
        return made

    def check_rmap_bits(self):
        """Test hook: the frames of page-granular chunks whose RMAP_LRU,
        RMAP_ACT or RMAP_USED bit disagrees with the reverse map and the
        page's active bit, or whose page is not a present small page mapped
        back to the frame (an empty list when all is as reclaim expects)."""
        cdef int64_t pc, j, li
        cdef uint64_t e, *rm
        cdef VmaData *v
        cdef bint lru, act
        bad = []
        for pc in range(self.nr_pchunks):
            if self.pc_owner[pc] != PC_RMAP:
                continue
            rm = self.pc_rmap[pc]
            for j in range(CHUNK_PAGES):
                e = rm[j]
                lru = e != RMAP_EMPTY and e != RMAP_POOL
                act = False
                if lru:
                    v = self.vmas_by_gid[e >> 32]
                    li = <int64_t>(e & 0xFFFFFFFFu)
                    act = v != NULL and bm_test(v.bm_active, li)
                    # what the batched CLOCK takes for granted of such a frame
                    if (v == NULL or not pb_test(&v.present, li) or v.vc_huge[li >> CHUNK_SHIFT]
                            or v.vc_ptes[li >> CHUNK_SHIFT] == NULL
                            or v.vc_ptes[li >> CHUNK_SHIFT][li & (CHUNK_PAGES - 1)]
                            != <uint32_t>((pc << CHUNK_SHIFT) + j)):
                        bad.append((pc << CHUNK_SHIFT) + j)
                        continue
                if (bm_test(rm + RMAP_LRU, j) != lru or bm_test(rm + RMAP_ACT, j) != act
                        or bm_test(rm + RMAP_USED, j) != (e != RMAP_EMPTY)):
                    bad.append((pc << CHUNK_SHIFT) + j)
        return bad

    cdef VmaData *owner_of_pfn(self, int64_t pfn, int64_t *li) noexcept nogil:
        cdef int64_t pc = pfn >> CHUNK_SHIFT
        cdef int32_t o = self.pc_owner[pc]
        cdef uint64_t e
        cdef VmaData *v
        if o >= 0:
            v = self.vmas_by_gid[o]
            li[0] = (<int64_t>self.pc_vchunk[pc] << CHUNK_SHIFT) + (pfn & (CHUNK_PAGES - 1))
            return v if pb_test(&v.present, li[0]) else NULL
        if o == PC_RMAP:
            e = self.pc_rmap[pc][pfn & (CHUNK_PAGES - 1)]
            if e == RMAP_EMPTY or e == RMAP_POOL:
                return NULL
            li[0] = <int64_t>(e & 0xFFFFFFFFu)
            return self.vmas_by_gid[e >> 32]
        return NULL

    # ---- accesses ----
    cdef double touch_seq(self, VmaData *v, int64_t li, int64_t n, uint32_t k, bint write,
                          const CostTable *ct, double budget, int64_t *done) except -1.0:
        """Access each page of [li, li+n) k times, in address order, until the
        cost reaches budget.  Returns the cost; *done = pages processed."""
        cdef int64_t pos = li, end = li + n, seg_end, m, c, nr_present
        cdef int64_t counts[MAX_NODES]
        cdef double cost = 0, per_page
        cdef int node
        while pos < end and cost < budget:
            c = pos >> CHUNK_SHIFT
            seg_end = _min64(end, (c + 1) << CHUNK_SHIFT)
            if v.vc_ptes[c] == NULL:
                nr_present = pb_count_range(&v.present, pos, seg_end)
                if nr_present == seg_end - pos:
                    # chunk-mapped and present: one node, no per-page work
                    node = self.pc_node[v.vc_pchunk[c]]
                    per_page = k * (ct.compute_ns + ct.stall_ns[node])
                    m = _pages_fitting(budget, cost, per_page, seg_end - pos)
                    _mark_accessed(v, pos, m, k, write)
                    _account(v, node, m * k, ct)
                    cost += m * per_page
                    pos += m
                    continue
                if nr_present == 0 and not bm_count_range(v.bm_swapped, pos, seg_end):
                    if (pos & (CHUNK_PAGES - 1)) == 0 and end - pos >= CHUNK_PAGES:
                        m = self.fault_fresh_chunks(v, pos, end, k, write, ct, budget, &cost)
                        if m:
                            pos += m
                            continue
                    if self.try_thp_fault(v, c):
                        cost += self.thp_fault_ns
                        continue
                    # first touch of the whole segment: fault it in bulk
                    node = self.first_touch_node()
                    if node >= 0:
                        per_page = self.minor_fault_ns + k * (ct.compute_ns + ct.stall_ns[node])
                        m = _pages_fitting(budget, cost, per_page, seg_end - pos)
                        m = self.alloc_run(v, pos, m, node)
                        if m > 0:
                            v.mm.minor_faults += m
                            v.mm.fault_ns += m * self.minor_fault_ns
                            self.pgfault += m
                            _mark_accessed(v, pos, m, k, write)
                            _account(v, node, m * k, ct)
                            cost += m * per_page
                            pos += m
                            continue
            elif self.span_node_pages(v, pos, seg_end, counts):
                # per-page mapped and present: per-node counts, no faults
                per_page = 0
                for node in range(self.nr_nodes):
                    per_page += counts[node] * (ct.compute_ns + ct.stall_ns[node])
                per_page = k * per_page / (seg_end - pos)
                m = _pages_fitting(budget, cost, per_page, seg_end - pos)
                if m < seg_end - pos:
                    self.span_node_pages(v, pos, pos + m, counts)
                _mark_accessed(v, pos, m, k, write)
                for node in range(self.nr_nodes):
                    if counts[node]:
                        _account(v, node, counts[node] * k, ct)
                        cost += counts[node] * k * (ct.compute_ns + ct.stall_ns[node])
                pos += m
                continue
            cost += self.touch_page(v, pos, k, write, ct)      # mixed chunk
            pos += 1
        done[0] = pos - li
        self.balance()
        return cost

    cdef bint span_node_pages(self, const VmaData *v, int64_t lo, int64_t hi,
                              int64_t *counts) noexcept nogil:
        """Pages of [lo, hi) on each node (counts[MAX_NODES]) if every page
        is present; False (counts undefined) otherwise.  O(chunks) for
        chunk-mapped memory, O(pages) for per-page mapped chunks."""
        cdef int64_t c, a, b, j
        cdef uint32_t *ptes
        memset(counts, 0, MAX_NODES * sizeof(int64_t))
        if lo >= hi:
            return True
        for c in range(lo >> CHUNK_SHIFT, ((hi - 1) >> CHUNK_SHIFT) + 1):
            a = lo if lo > (c << CHUNK_SHIFT) else (c << CHUNK_SHIFT)
            b = hi if hi < ((c + 1) << CHUNK_SHIFT) else ((c + 1) << CHUNK_SHIFT)
            if <int64_t>pb_count_range(&v.present, a, b) != b - a:
                return False
            ptes = v.vc_ptes[c]
            if ptes == NULL:
                counts[self.pc_node[v.vc_pchunk[c]]] += b - a
            else:
                for j in range(a & (CHUNK_PAGES - 1), ((b - 1) & (CHUNK_PAGES - 1)) + 1):
                    counts[self.pc_node[ptes[j] >> CHUNK_SHIFT]] += 1
        return True

    cdef int64_t fault_mask(self, VmaData *v, int64_t c, const uint64_t *mask,
                            unsigned int words, bint write) except -1:
        """First touch of the pages of chunk c set in mask[CHUNK_WORDS], all
        at once, when each would be a plain minor fault onto the chunk's own
        frames (the chunk is chunk-mapped, or free to be, on the first-touch
        node; none of the pages is swapped out; no THP): what touch_page
        does page by page, as one batch.  Returns the pages faulted in, 0
        (nothing done) when the chunk needs touch_page's care.  The
        caller accounts the accesses and calls balance().  ``words``: the
        words of mask with a page set (bit w for mask[w]); the others are 0."""
        cdef int node
        cdef int64_t pc, cnt = 0, lo = c << CHUNK_SHIFT, i
        cdef int w
        cdef unsigned int ws = words
        cdef uint64_t x
        if v.vc_ptes[c] != NULL:
            return 0                # a page-granular chunk (a thrashing one's): touch_page's
        node = self.first_touch_node()
        if node < 0:
            return 0
        while ws:
            w = __builtin_ctz(ws)
            ws &= ws - 1
            if mask[w] & v.bm_swapped[(lo >> 6) + w]:
                return 0
            cnt += __builtin_popcountll(mask[w])
        if cnt == 0:
            return 0
        pc = v.vc_pchunk[c]
        if pc < 0:
            if v.vc_present[c] or self.thp_allowed(v, c) or self.nr_free_chunks[node] <= 0:
                return 0
            pc = self.pop_free_chunk(node)
            if pc < 0:
                return 0
            self.pc_owner[pc] = v.gid
            self.pc_vchunk[pc] = <int32_t>c
            self.pc_used[pc] = 0
            v.vc_pchunk[c] = <int32_t>pc
        elif self.pc_node[pc] != node:
            return 0
        _pb_or_mask(&v.present, c, mask, words)
        _pb_or_mask(&v.young, c, mask, words)
        if write:
            _pb_or_mask(&v.dirty, c, mask, words)
        pb_resummarize(&v.young, c)
        if write:
            pb_resummarize(&v.dirty, c)
        self.pc_used[pc] += <int32_t>cnt
        v.vc_present[c] += <uint16_t>cnt
        if v.vc_present[c] == CHUNK_PAGES:
            pb_resummarize(&v.present, c)
        v.nr_present += cnt
        v.node_pages[node] += cnt
        self.node_used[node] += cnt
        v.mm.minor_faults += cnt
        v.mm.fault_ns += cnt * self.minor_fault_ns
        self.pgfault += cnt
        return cnt

    cdef int64_t fault_fresh_chunks(self, VmaData *v, int64_t pos, int64_t end, uint32_t k,
                                    bint write, const CostTable *ct, double budget,
                                    double *cost) noexcept:
        """First touch of whole never-used chunks from pos on: each gets a free
        2 MiB chunk of the first-touch node at once.  Stops at the first chunk
        that needs more care (THP, swapped or present pages, a full node) or
        does not fit the budget whole.  Returns the pages faulted in."""
        cdef int64_t c, pc, done = 0
        cdef int node = self.first_touch_node()
        cdef double per_chunk
        if node < 0:
            return 0
        per_chunk = CHUNK_PAGES * (self.minor_fault_ns + k * (ct.compute_ns + ct.stall_ns[node]))
        while end - pos >= CHUNK_PAGES and cost[0] + per_chunk <= budget:
            c = pos >> CHUNK_SHIFT
            if (v.vc_pchunk[c] >= 0 or v.vc_ptes[c] != NULL or v.vc_present[c]
                    or self.thp_allowed(v, c)
                    or bm_count_range(v.bm_swapped, pos, pos + CHUNK_PAGES)):
                break
            pc = self.pop_free_chunk(node)
            if pc < 0:
                break
            self.pc_owner[pc] = v.gid
            self.pc_vchunk[pc] = <int32_t>c
            self.pc_used[pc] = CHUNK_PAGES
            v.vc_pchunk[c] = <int32_t>pc
            v.vc_present[c] = CHUNK_PAGES
            pb_set_chunk(&v.present, c)
            pb_set_chunk(&v.young, c)
            if write:
                pb_set_chunk(&v.dirty, c)
            if v.gt_counts != NULL:
                _mark_accessed(v, pos, CHUNK_PAGES, k, write)
            pos += CHUNK_PAGES
            done += CHUNK_PAGES
            cost[0] += per_chunk
        if done:
            v.nr_present += done
            v.node_pages[node] += done
            self.node_used[node] += done
            v.mm.minor_faults += done
            v.mm.fault_ns += done * self.minor_fault_ns
            self.pgfault += done
            _account(v, node, done * k, ct)
        return done

    cdef double touch_page(self, VmaData *v, int64_t li, uint32_t k, bint write,
                           const CostTable *ct) except -1.0:
        """Access one page k times, faulting or swapping it in if needed."""
        cdef int64_t c = li >> CHUNK_SHIFT
        cdef double cost = 0, stalled = v.mm.reclaim_ns, t
        cdef int node
        if not pb_test(&v.present, li):
            if bm_test(v.bm_swapped, li):
                # its shadow entry is read after the frame is taken: fetched
                # meanwhile (one random line of a big array each major fault)
                __builtin_prefetch(&v.shadow[li])
                if v.vc_ptes[c] != NULL:
                    __builtin_prefetch(&v.vc_ptes[c][li & (CHUNK_PAGES - 1)])    # its PTE, too
                t = self.swap_in_cost(v, li)
                self.swap_forget(v, li)
                node = self.alloc_page(v, li, self.first_touch_node())
                self.workingset_refault(v, li, node, True)
                cost += t
                v.mm.swapin_ns += t
                v.mm.major_faults += 1
                self.pgmajfault += 1
                self.pgfault += 1
            elif self.try_thp_fault(v, c):
                cost += self.thp_fault_ns
                node = self.pc_node[vma_frame(v, li) >> CHUNK_SHIFT]
            else:
                node = self.alloc_page(v, li, self.first_touch_node())
                cost += self.minor_fault_ns
                v.mm.fault_ns += self.minor_fault_ns
                v.mm.minor_faults += 1
                self.pgfault += 1
        else:
            node = self.pc_node[vma_frame(v, li) >> CHUNK_SHIFT]
        _mark_accessed(v, li, 1, k, write)
        _account(v, node, k, ct)
        cost += k * (ct.compute_ns + ct.stall_ns[node])
        if v.mm.reclaim_ns != stalled:
            cost += v.mm.reclaim_ns - stalled       # direct reclaim on the way
        self.balance()
        return cost


cdef class PageBitsForTest:
    """A bare pagebits over nchunks 2 MiB chunks, to test the summary and
    exception bookkeeping of sim_pagebits.h against a plain model."""
    cdef pagebits b
    cdef int64_t nchunks

    def __cinit__(self, int64_t nchunks):
        self.nchunks = nchunks
        _pb_alloc(&self.b, nchunks)
        if not _pb_ok(&self.b):
            raise MemoryError()

    def __dealloc__(self):
        _pb_free(&self.b, self.nchunks * CHUNK_WORDS * sizeof(uint64_t),
                 (self.nchunks + 63) // 64 * sizeof(uint64_t))

    def test(self, uint64_t i):
        return bool(pb_test(&self.b, i))

    def set(self, uint64_t i):
        pb_set(&self.b, i)

    def clear(self, uint64_t i):
        pb_clear(&self.b, i)

    def set_range(self, uint64_t lo, uint64_t hi):
        pb_set_range(&self.b, lo, hi)

    def clear_range(self, uint64_t lo, uint64_t hi):
        pb_clear_range(&self.b, lo, hi)

    def set_chunk(self, uint64_t c):
        pb_set_chunk(&self.b, c)

    def clear_chunk(self, uint64_t c):
        pb_clear_chunk(&self.b, c)

    def count(self, uint64_t lo, uint64_t hi):
        return pb_count_range(&self.b, lo, hi)

    @property
    def nr_exceptions(self):
        return self.b.nexc

    @property
    def max_exceptions(self):
        """Capacity of the exception list (PB_MAX_EXC)."""
        return PB_MAX_EXC


cdef extern from "sim_sample.h":
    ctypedef struct pb_sampler:
        pass
    void smp_init(pb_sampler *s, const pagebits *present, pagebits *young,
                  pagebits *dirty, const uint16_t *chunk_present, int mode,
                  uint64_t lo, uint64_t hi, double p, sim_rng *rng) noexcept nogil
    int64_t smp_next(pb_sampler *s) noexcept nogil
    void smp_set_sparse(pb_sampler *s) noexcept nogil


def kunit_sampler_picks(PageBitsForTest present, PageBitsForTest young, PageBitsForTest dirty,
                        bint absent, uint64_t lo, uint64_t hi, double p, bint sparse,
                        uint64_t seed):
    """The pages one draw of sim_sample.h's sampler picks over pages [lo, hi)
    of the given bits (absent: the pages not present, as a random burst's
    faults; else the present pages not young, or not dirty when dirty is
    given), each candidate with probability p, by gaps over the candidates
    or (sparse) over every page."""
    cdef pb_sampler s
    cdef sim_rng rng
    cdef int64_t li, c
    cdef uint16_t *cp = NULL
    out = []
    if present.nchunks != young.nchunks or (dirty is not None and dirty.nchunks != young.nchunks):
        raise ValueError("bits of different sizes")
    if hi > <uint64_t>present.nchunks * CHUNK_PAGES or lo > hi:
        raise ValueError("range out of the bits")
    sim_rng_seed(&rng, seed)
    if absent:
        # the present pages per chunk, as VmaData.vc_present keeps them
        cp = <uint16_t *>calloc(present.nchunks, sizeof(uint16_t))
        if cp == NULL:
            raise MemoryError()
        for c in range(present.nchunks):
            cp[c] = <uint16_t>pb_count_range(&present.b, c * CHUNK_PAGES, (c + 1) * CHUNK_PAGES)
    try:
        smp_init(&s, &present.b, &young.b, &dirty.b if dirty is not None else NULL, cp,
                 1 if absent else 0, lo, hi, p, &rng)
        if sparse:
            smp_set_sparse(&s)
        while True:
            li = smp_next(&s)
            if li < 0:
                break
            out.append(li)
    finally:
        free(cp)
    return out


def lru_inactive_ratio(uint64_t gb):
    """The target active:inactive ratio inactive_is_low() uses for lists of
    `gb` GiB (their size shifted right by 30 - PAGE_SHIFT): int_sqrt(10 * gb),
    1 below 1 GiB."""
    return int_sqrt(10 * gb) if gb else 1


def lru_inactive_is_low(uint64_t inactive, uint64_t active):
    """inactive_is_low() of a lruvec with these inactive and active pages."""
    cdef uint64_t gb = (inactive + active) >> (30 - PAGE_SHIFT)
    return inactive * (int_sqrt(10 * gb) if gb else 1) < active


def lru_int_sqrt(uint64_t x):
    """Test hook: the engine's int_sqrt()."""
    return int_sqrt(x)
