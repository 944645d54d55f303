# The simulated memory: physical nodes (tiers), swap, and per-process address
# spaces whose pages carry the Accessed (young), dirty and present bits that
# DAMON's operation sets read and clear.
#
# Page tables are two-level, like the kernel's PMD/PTE: a 2 MiB virtual chunk
# is either identity-mapped onto one 2 MiB physical chunk (page j of the chunk
# sits in frame j of the physical chunk; the common case, O(1) per chunk), or
# has a per-page frame array ("ptes" mode) once its pages are scattered.
#
# Page-table state lives in plain C structs (VmaData, MmData) so that DAMON's
# per-sample loops and the workloads' access loops never touch Python objects;
# Vma and AddressSpace are thin Python handles on them.
cimport cython
from libc.stdint cimport uint8_t, uint16_t, uint32_t, int32_t, uint64_t, int64_t

cdef extern from "sim_rng.h":
    ctypedef struct sim_rng:
        pass
    void sim_rng_seed(sim_rng *r, uint64_t seed) nogil
    uint64_t sim_rng_next(sim_rng *r) nogil
    uint32_t sim_rng_u32_below(sim_rng *r, uint32_t ceil) nogil
    uint64_t sim_damon_rand(sim_rng *r, uint64_t l, uint64_t h) nogil
    uint64_t sim_rng_below(sim_rng *r, uint64_t n) nogil
    double sim_rng_double(sim_rng *r) nogil

cdef extern from "sim_bitmap.h":
    int bm_test(const uint64_t *bm, uint64_t i) nogil
    void bm_set(uint64_t *bm, uint64_t i) nogil
    void bm_clear(uint64_t *bm, uint64_t i) nogil
    void bm_set_range(uint64_t *bm, uint64_t start, uint64_t end) nogil
    void bm_clear_range(uint64_t *bm, uint64_t start, uint64_t end) nogil
    uint64_t bm_count_range(const uint64_t *bm, uint64_t start, uint64_t end) nogil
    uint64_t bm_find_set(const uint64_t *bm, uint64_t start, uint64_t end) nogil
    uint64_t bm_find_clear(const uint64_t *bm, uint64_t start, uint64_t end) nogil
    uint64_t bm_find_set_andnot(const uint64_t *a, const uint64_t *b, uint64_t start,
                                uint64_t end) nogil

cdef extern from "sim_alloc.h":
    void *sim_zalloc(size_t n) nogil
    void sim_zfree(void *p, size_t n) nogil

cdef extern from "sim_pagebits.h":
    enum:
        PB_MAX_EXC
    ctypedef struct pagebits:
        uint64_t *bits
        uint64_t *full
        uint64_t *exc_chunks
        uint64_t *any
        int nexc
    int pb_test(const pagebits *b, uint64_t i) nogil
    void pb_set(pagebits *b, uint64_t i) nogil
    void pb_clear(pagebits *b, uint64_t i) nogil
    int pb_test_clear(pagebits *b, uint64_t i) nogil
    void pb_set_chunk(pagebits *b, uint64_t c) nogil
    void pb_clear_chunk(pagebits *b, uint64_t c) nogil
    void pb_set_range(pagebits *b, uint64_t lo, uint64_t hi) nogil
    void pb_clear_range(pagebits *b, uint64_t lo, uint64_t hi) nogil
    uint64_t pb_count_range(const pagebits *b, uint64_t lo, uint64_t hi) nogil
    void pb_resummarize(pagebits *b, uint64_t c) nogil

cdef enum:
    PAGE_SHIFT = 12
    PAGE_SIZE = 4096
    CHUNK_SHIFT = 9             # pages per 2 MiB chunk = 1 << 9
    CHUNK_PAGES = 512
    CHUNK_WORDS = 8             # 64-bit bitmap words per chunk
    HPAGE_SIZE = 2097152
    MAX_NODES = 8

cdef enum:
    PC_FREE = -1                # physical chunk holds no frame in use
    PC_RMAP = -2                # physical chunk frames are owned page by page

# A page-granular chunk's reverse map (Machine.pc_rmap[pc]): an owner per frame,
# then bitmaps over its frames, so that reclaim's CLOCK passes the frames it
# has nothing to do with, and take_frame() finds a free one, a word (64
# frames) at a time:
cdef enum:
    RMAP_LRU = 512              # bitmap: the frame holds a page of a process (on an LRU list)
    RMAP_ACT = 520              # bitmap: ... and that page is on the active list
    RMAP_USED = 528             # bitmap: the frame is in use (a page, or the swap pool's)
    RMAP_WORDS = 536

# kinds of access, for their costs (see costs.py)
cdef enum AccessKind:
    AK_PAGE_R = 0               # sequential, stride >= 4 KiB: a new page each time
    AK_PAGE_W = 1
    AK_RANDOM_R = 2             # independent random accesses
    AK_RANDOM_W = 3
    AK_STREAM_R = 4             # sequential, stride < 4 KiB: prefetched
    AK_STREAM_W = 5
    NR_AK = 6

cdef enum ThpPolicy:
    THP_NEVER = 0
    THP_MADVISE = 1
    THP_ALWAYS = 2

# per-access costs of one access pattern by node: the compute time of a
# cache-hitting access, and what a miss to each node adds on average
cdef struct CostTable:
    double compute_ns
    double stall_ns[MAX_NODES]

cdef struct MmData

cdef struct VmaData:
    int gid                     # machine-wide id, used by the reverse map
    bint dead                   # unmapped; page tables freed
    uint64_t start, end         # [start, end), page aligned
    bint anon
    bint hugepage               # VM_HUGEPAGE (MADV_HUGEPAGE)
    bint nohugepage             # VM_NOHUGEPAGE
    MmData *mm
    int64_t origin_page         # absolute page number where chunk 0 starts
    int64_t first_li, end_li    # local page indexes of the VMA's pages
    int64_t nchunks
    int32_t *vc_pchunk          # identity-mapped physical chunk, or -1
    uint32_t **vc_ptes          # per-page frames (ptes mode), or NULL
    uint16_t *vc_present        # present pages per chunk
    uint8_t *vc_huge            # chunk mapped by a 2 MiB THP
    uint8_t *vc_thp_hint        # MADV_HUGEPAGE (1) / MADV_NOHUGEPAGE (2) on the chunk
    pagebits present
    pagebits young              # Accessed bits (a THP's is its chunk summary bit)
    pagebits dirty
    uint64_t *bm_swapped
    uint64_t *bm_zpool          # swapped out into the compressed pool (zswap, zram)
    uint64_t *bm_active         # on the active LRU list (a THP: all of its pages)
    uint64_t *bm_workingset     # PG_workingset: deactivated by reclaim, or refaulted
                                # as such (a THP's at its first page)
    uint64_t *shadow            # each swapped-out page's shadow entry (workingset
                                # detection, see memory.pyx): host memory only where
                                # pages were swapped out (a big array is mapped lazily)
    # Two "accessed since" views beside the PTE Accessed bit (young), as the
    # kernel keeps them with the folio's Young and Idle flags, so that DAMON
    # and reclaim never hide accesses from each other (a folio's bit is kept
    # at its first page):
    uint64_t *bm_lru_ref        # PG_young: reclaim still sees it referenced
    uint64_t *bm_damon_ref      # !PG_idle: DAMON still sees it accessed
    uint64_t *damon_ref_chunks  # one bit per chunk: it may have bm_damon_ref bits, so
                                # DAMON's per-sample checks skip the big bitmap
    uint64_t *gt_counts         # exact accesses per page, or NULL
    uint32_t *gt_stamp          # the sampling epoch (MmData.gt_epoch) of its last access
    uint32_t *gt_samples        # sampling intervals it was accessed in (cumulative)
    # Ground truth not yet folded into the pages (gt_flush() folds it before
    # they are read), so that masim's passes cost O(1) each, not O(pages):
    int64_t *gt_cdiff           # accesses to page ranges, as differences (+k at lo, -k at hi)
    int32_t *gt_sdiff           # sampling intervals of page ranges, as differences
    bint gt_diff_dirty
    uint64_t gt_whole_k         # accesses to every page of the VMA
    uint32_t gt_whole_samples   # sampling intervals every page of the VMA was accessed in
    uint32_t gt_whole_epoch     # the last interval the whole VMA was accessed in
    uint32_t gt_part_epoch      # an interval whose pages are counted one by one (gt_stamp)
    uint32_t gt_rng_epoch       # the interval of the pending ranges below
    int gt_nrng                 # pending disjoint page ranges accessed in gt_rng_epoch
    int64_t gt_rng_lo[8]
    int64_t gt_rng_hi[8]
    uint64_t gt_mods            # ground-truth updates so far (a reader's "changed since")
    # incremental summaries: "whole VMA present on one node" in O(nodes)
    int64_t nr_present, nr_swapped, nr_ptes_chunks, nr_huge
    int64_t nr_hugepage_hints       # chunks with MADV_HUGEPAGE: khugepaged scans them
    int64_t node_pages[MAX_NODES]

cdef struct MmData:
    int pid
    bint alive
    bint track_ground_truth
    uint32_t gt_epoch           # sampling intervals of the truth's kdamond so far (from 1)
    int memcg_id                # 0: the root memory cgroup
    VmaData **vmas              # live VMAs sorted by start
    int nr_vmas
    VmaData *last_found         # lookup cache: DAMON walks regions in order
    # where the process's time went (simulated ns) and what it did
    double compute_ns, fault_ns, swapin_ns, migrate_ns
    double reclaim_ns           # direct reclaim stalls
    double async_ns             # costs others put on the process (its pages migrated),
                                # not yet on its clock
    double stall_ns[MAX_NODES]
    uint64_t node_accesses[MAX_NODES]
    uint64_t minor_faults, major_faults, thp_faults


cdef inline int64_t vma_li(const VmaData *v, uint64_t addr) noexcept nogil:
    return <int64_t>(addr >> PAGE_SHIFT) - v.origin_page

cdef inline uint64_t vma_addr(const VmaData *v, int64_t li) noexcept nogil:
    return <uint64_t>(li + v.origin_page) << PAGE_SHIFT

cdef inline void vma_split_huge(VmaData *v, int64_t c) noexcept nogil:
    """A THP becomes 512 small pages (they stay where they are and inherit
    the folio's flags)."""
    cdef int64_t h = c << CHUNK_SHIFT
    if v.vc_huge[c]:
        v.vc_huge[c] = 0
        v.nr_huge -= 1
        if bm_test(v.bm_lru_ref, h):
            bm_set_range(v.bm_lru_ref, h, h + CHUNK_PAGES)
        if bm_test(v.damon_ref_chunks, c) and bm_test(v.bm_damon_ref, h):
            bm_set_range(v.bm_damon_ref, h, h + CHUNK_PAGES)
        if bm_test(v.bm_workingset, h):
            bm_set_range(v.bm_workingset, h, h + CHUNK_PAGES)

cdef void gt_flush(VmaData *v) noexcept nogil
cdef void gt_add_range(VmaData *v, int64_t lo, int64_t hi, uint64_t k) noexcept nogil

cdef inline VmaData *mm_find_vma(MmData *mm, uint64_t addr) noexcept nogil:
    cdef VmaData *v = mm.last_found
    cdef int lo = 0, hi = mm.nr_vmas, mid
    if v != NULL and v.start <= addr < v.end:
        return v
    while lo < hi:
        mid = (lo + hi) >> 1
        v = mm.vmas[mid]
        if addr < v.start:
            hi = mid
        elif addr >= v.end:
            lo = mid + 1
        else:
            mm.last_found = v
            return v
    return NULL

cdef int vma_uniform_node(const VmaData *v) noexcept nogil
cdef inline int64_t vma_frame(const VmaData *v, int64_t li) noexcept nogil:
    """The frame of page li, or -1 if it is not present (inline: every
    fault, swap-out and reclaim step asks it)."""
    cdef int64_t c = li >> CHUNK_SHIFT
    if not pb_test(&v.present, li):
        return -1
    if v.vc_ptes[c] != NULL:
        return v.vc_ptes[c][li & (CHUNK_PAGES - 1)]
    return (<int64_t>v.vc_pchunk[c] << CHUNK_SHIFT) + (li & (CHUNK_PAGES - 1))
cdef inline bint vma_young(const VmaData *v, int64_t li, uint64_t *folio_sz) noexcept nogil:
    """DAMON's access check of a present page: its Accessed bit (the PMD bit
    for a THP), or a reference reclaim took from it since DAMON's last mkold
    (the folio is not idle).  Like the kernel's page walk, the folio size is
    reported only for present pages."""
    cdef bint huge
    if not pb_test(&v.present, li):
        return False
    huge = v.vc_huge[li >> CHUNK_SHIFT]
    folio_sz[0] = HPAGE_SIZE if huge else PAGE_SIZE
    if pb_test(&v.young, li):
        return True
    return bm_test(v.damon_ref_chunks, li >> CHUNK_SHIFT) and \
        bm_test(v.bm_damon_ref, ((li >> CHUNK_SHIFT) << CHUNK_SHIFT) if huge else li)

cdef inline void vma_mkold(VmaData *v, int64_t li) noexcept nogil:
    """damon_ptep_mkold(): clear the Accessed bit, keeping the reference for
    reclaim (PG_young), and mark the folio idle."""
    cdef int64_t c = li >> CHUNK_SHIFT, h = li
    if not pb_test(&v.present, li):
        return
    if v.vc_huge[c]:
        h = c << CHUNK_SHIFT
        if pb_test(&v.young, li):
            bm_set(v.bm_lru_ref, h)
            pb_clear_chunk(&v.young, c)
    elif pb_test_clear(&v.young, li):
        bm_set(v.bm_lru_ref, li)
    if bm_test(v.damon_ref_chunks, c):
        bm_clear(v.bm_damon_ref, h)


cdef inline int64_t folio_head(const VmaData *v, int64_t li) noexcept nogil:
    """First page of the folio holding page li (a THP's head page)."""
    return (li >> CHUNK_SHIFT) << CHUNK_SHIFT if v.vc_huge[li >> CHUNK_SHIFT] else li


cdef class Machine


cdef class AddressSpace:
    cdef MmData *mm
    cdef readonly Machine machine
    cdef list _dead                     # unmapped VmaData kept until dealloc
    cdef dict _names                    # VmaData address -> mapping name


cdef class Vma:
    cdef VmaData *v
    cdef readonly AddressSpace mm
    cdef readonly str name


# final: no subclass, so its cdef methods are called directly, not through
# the vtable, and the C compiler may inline the small ones (node_free(),
# first_touch_node(), workingset_age(), ...) into the fault and reclaim paths
@cython.final
cdef class Machine:
    cdef readonly int nr_nodes
    cdef int64_t node_base_pfn[MAX_NODES]
    cdef int64_t node_npages[MAX_NODES]
    cdef int64_t node_used[MAX_NODES]
    cdef double node_latency_ns[MAX_NODES]
    cdef double node_bandwidth_gbps[MAX_NODES]      # reads
    cdef double node_write_bw[MAX_NODES]
    cdef int node_order[MAX_NODES]      # fastest first: first-touch order
    cdef readonly list node_names
    cdef readonly list node_kinds
    cdef readonly uint64_t phys_base    # physical address of pfn 0
    # physical chunks (global index = pfn >> CHUNK_SHIFT)
    cdef int64_t nr_pchunks
    cdef int32_t *pc_owner              # VMA gid (identity), PC_FREE or PC_RMAP
    cdef int32_t *pc_vchunk             # owner's virtual chunk (identity mode)
    cdef int32_t *pc_used               # frames in use
    cdef uint64_t **pc_rmap             # per-frame owner (gid << 32 | li) or RMAP_EMPTY
    cdef uint8_t *pc_node
    cdef uint8_t *pc_in_partial
    cdef int32_t *free_chunks[MAX_NODES]    # stack of freed chunks
    cdef int64_t nr_stacked[MAX_NODES]
    cdef int64_t fresh_next[MAX_NODES]      # never-used chunks: [fresh_next, fresh_end)
    cdef int64_t fresh_end[MAX_NODES]
    cdef int64_t nr_free_chunks[MAX_NODES]
    cdef int32_t *partial[MAX_NODES]    # rmap-mode chunks that may have free frames
    cdef int64_t nr_partial[MAX_NODES]
    cdef int64_t cap_partial[MAX_NODES]
    cdef int64_t break_cursor[MAX_NODES]
    cdef VmaData **vmas_by_gid
    cdef int nr_gids, cap_gids
    # swap: a device (slots), and for zswap/zram a pool of compressed pages
    # in memory (frames taken from the nodes like any other)
    cdef readonly str swap_kind
    cdef readonly int64_t swap_capacity_pages
    cdef readonly int64_t swap_used
    cdef public double swap_fault_ns, swap_out_ns      # the device (zram: the pool)
    cdef readonly bint swap_pool                # compressed pool in memory
    cdef readonly bint swap_pool_only           # zram: the pool is the device
    cdef readonly double pool_ratio             # uncompressed / compressed bytes
    cdef public double pool_fault_ns, pool_out_ns
    cdef readonly int64_t pool_limit_frames     # max_pool_percent of memory (zswap)
    cdef readonly int64_t pool_stored           # pages held compressed
    cdef readonly int64_t nr_pool_frames        # frames the pool occupies
    cdef int64_t *pool_pfns
    cdef int64_t cap_pool_pfns
    cdef public uint64_t pool_limit_hit         # stores the full pool sent to the device
    cdef public double last_swap_out_ns         # CPU cost of the last swap-out
    cdef public double last_swap_in_ns          # cost of the last swap-in
    # costs
    cdef public double minor_fault_ns, thp_fault_ns, migrate_page_ns
    # the CPU: compute time of cache-hitting accesses by kind, memory-level
    # parallelism by kind, the last-level cache (and its part a page-stride
    # pattern can use)
    cdef double cpu_compute_ns[NR_AK]
    cdef double cpu_mlp[NR_AK]                  # misses in flight (not for streams)
    cdef public double llc_bytes, llc_page_bytes
    # the reference memory a workload's nominal speed is defined on
    cdef public double ref_latency_ns, ref_read_bw, ref_write_bw
    cdef public int thp_policy
    # vmstat-like counters
    cdef public uint64_t pgfault, pgmajfault, pswpin, pswpout, pgmigrate, thp_fault_alloc
    cdef public uint64_t pgpromote, pgdemote, pgactivate, pgdeactivate
    cdef public uint64_t zswpin, zswpout         # zswap loads and stores (not in pswp*)
    cdef public uint64_t pgscan_kswapd, pgscan_direct, pgsteal_kswapd, pgsteal_direct
    cdef public uint64_t thp_collapse_alloc
    cdef int next_pid
    # LRU and reclaim (kswapd, direct reclaim)
    cdef int64_t nr_active                  # pages on the active LRU lists
    # each node's lruvec, as inactive_is_low() reads it: its active pages,
    # and the compressed pool's frames on it (in use, but on no LRU list)
    cdef int64_t node_active[MAX_NODES]
    cdef int64_t node_pool[MAX_NODES]
    cdef uint64_t lru_gb[MAX_NODES]         # the GiB the ratio below is for
    cdef uint64_t lru_ratio[MAX_NODES]      # int_sqrt(10 * gb)
    # workingset detection (mm/workingset.c), per node's lruvec: the
    # nonresident_age clock (evictions and activations), the workingset_*
    # event counters, and the WORKINGSET_ACTIVATE_ANON reading reclaim last
    # took (snapshot_refaults(): lruvec->refaults[WORKINGSET_ANON])
    cdef uint64_t ws_age[MAX_NODES]
    cdef uint64_t ws_refault_anon[MAX_NODES]
    cdef uint64_t ws_activate_anon[MAX_NODES]
    cdef uint64_t ws_restore_anon[MAX_NODES]
    cdef uint64_t ws_refaults_snap[MAX_NODES]
    cdef readonly unsigned int ws_bucket_order  # low stamp bits dropped (0 below 2^36 pages)
    cdef int64_t wmark_min[MAX_NODES], wmark_low[MAX_NODES], wmark_high[MAX_NODES]
    cdef int64_t reclaim_hand[MAX_NODES]    # CLOCK hand: next pfn to scan
    cdef int64_t kswapd_backoff             # allocations to let pass after a failed pass
    cdef public double kswapd_ns            # simulated CPU time of kswapd and khugepaged
    cdef public double reclaim_scan_ns      # cost of looking at one page while reclaiming
    cdef public bint reclaim_frame_walk     # the CLOCK visits every frame: the reference
                                            # the batched walk is tested against
    cdef readonly uint64_t clock_batched_frames     # frames the CLOCK passed in batches
    # khugepaged
    cdef public int64_t khugepaged_pages_to_scan
    cdef public int64_t khugepaged_max_ptes_none, khugepaged_max_ptes_swap
    cdef public double khugepaged_sleep_ns
    cdef int khugepaged_gid                 # scan cursor: VMA and chunk
    cdef int64_t khugepaged_chunk

    cdef int64_t node_free(self, int node) noexcept nogil
    cdef int64_t nr_used_pages(self) noexcept nogil
    cdef int first_touch_node(self) noexcept nogil
    cdef double miss_ns(self, int kind, double latency, double read_bw, double write_bw,
                        double bytes) noexcept nogil
    cdef void pattern_cost(self, int kind, double footprint, double bytes, CostTable *ct,
                           double *nominal_ns) noexcept
    cdef int register_vma(self, VmaData *v) except -1
    # frames and page tables
    cdef int64_t pop_free_chunk(self, int node) noexcept nogil
    cdef int64_t take_frame(self, int node) except -2
    cdef int64_t take_frame_fast(self, int node) except -2
    cdef void _add_partial(self, int64_t pc) noexcept
    cdef void _free_chunk(self, int64_t pc) noexcept
    cdef void release_frame(self, int64_t pfn) noexcept
    cdef void vc_to_ptes(self, VmaData *v, int64_t c) noexcept
    cdef bint thp_allowed(self, const VmaData *v, int64_t c) noexcept nogil
    cdef bint khugepaged_scans(self, const VmaData *v) noexcept nogil
    cdef bint try_thp_fault(self, VmaData *v, int64_t c) noexcept
    cdef int64_t alloc_run(self, VmaData *v, int64_t li, int64_t n, int node) except -1
    cdef int alloc_page(self, VmaData *v, int64_t li, int node) except -1
    cdef void _page_gone(self, VmaData *v, int64_t li, int64_t c, int node) noexcept
    cdef void free_page(self, VmaData *v, int64_t li) noexcept
    cdef void drop_vma(self, VmaData *v) noexcept
    # what DAMOS actions do to pages
    cdef bint swap_out_page(self, VmaData *v, int64_t li) noexcept
    cdef bint swap_out_frame(self, VmaData *v, int64_t li, int64_t pc, int64_t j) noexcept
    cdef bint _pool_add(self) noexcept
    cdef void _pool_remove(self) noexcept
    cdef void swap_forget(self, VmaData *v, int64_t li) noexcept
    cdef double swap_in_cost(self, VmaData *v, int64_t li) noexcept
    cdef bint swap_in_page(self, VmaData *v, int64_t li) except -1
    cdef bint migrate_page(self, VmaData *v, int64_t li, int node) except -1
    cdef int64_t migrate_chunk(self, VmaData *v, int64_t c, int node) except -2
    cdef void set_thp_hint(self, VmaData *v, int64_t c, bint hugepage) noexcept
    # LRU lists
    cdef void set_active(self, VmaData *v, int64_t li, bint active) noexcept
    cdef bint inactive_is_low(self, int node) noexcept nogil
    cdef int64_t _lru_move(self, VmaData *v, int64_t li, bint active) noexcept
    # workingset detection
    cdef void workingset_age(self, int node, int64_t nr) noexcept nogil
    cdef void workingset_activation(self, VmaData *v, int64_t h) noexcept
    cdef void workingset_eviction(self, VmaData *v, int64_t li, int node) noexcept
    cdef void workingset_refault(self, VmaData *v, int64_t li, int node, bint to_lru) noexcept
    cdef void snapshot_refaults(self, int node) noexcept nogil
    cdef bint may_deactivate_anon(self, int node) noexcept nogil
    cdef void _drop_active(self, VmaData *v, int64_t lo, int64_t hi) noexcept
    cdef void clear_folio_refs(self, VmaData *v, int64_t li) noexcept
    cdef bint _folio_referenced(self, VmaData *v, int64_t li) noexcept
    cdef void _count_migration(self, int old, int node, int64_t n) noexcept
    # reclaim
    cdef bint can_evict(self) noexcept nogil
    cdef int64_t reclaim_node(self, int node, int64_t nr_to_reclaim, bint direct,
                              VmaData *stalled) except -1
    cdef int64_t direct_reclaim(self, VmaData *stalled) except -1
    cdef void balance(self) except *
    cdef bint collapse_chunk(self, VmaData *v, int64_t c) except -1
    # accesses
    cdef double touch_seq(self, VmaData *v, int64_t li, int64_t n, uint32_t k, bint write,
                          const CostTable *ct, double budget, int64_t *done) except -1.0
    cdef double touch_page(self, VmaData *v, int64_t li, uint32_t k, bint write,
                           const CostTable *ct) except -1.0
    cdef bint span_node_pages(self, const VmaData *v, int64_t lo, int64_t hi,
                              int64_t *counts) noexcept nogil
    cdef int64_t fault_mask(self, VmaData *v, int64_t c, const uint64_t *mask,
                            unsigned int words, bint write) except -1
    cdef int64_t fault_fresh_chunks(self, VmaData *v, int64_t pos, int64_t end, uint32_t k,
                                    bint write, const CostTable *ct, double budget,
                                    double *cost) noexcept
    # reverse map, for physical-address monitoring
    cdef VmaData *owner_of_pfn(self, int64_t pfn, int64_t *li) noexcept nogil
    cdef inline int node_of_pfn(self, int64_t pfn) noexcept nogil:
        return self.pc_node[pfn >> CHUNK_SHIFT]
