"""DAMON operation sets: vaddr, fvaddr and paddr (mm/damon/{vaddr,paddr,ops-common}.c).

They are the only part of DAMON that knows about address spaces: they pick a
sampling address per region, clear and read its page's Accessed bit, build
and update the initial regions (vaddr), score regions for quota priorities,
apply data attributes probes to the sampled folios (paddr only, as in 7.3),
and apply DAMOS actions to the simulated memory.
"""
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t, int32_t
from libc.stdlib cimport calloc, free
from damo_engine.memory cimport (
    Machine, AddressSpace, VmaData, MmData, sim_rng, sim_damon_rand, bm_test, bm_set, bm_clear,
    pagebits,
    bm_count_range, pb_test, pb_clear, pb_clear_chunk, pb_count_range, mm_find_vma,
    vma_li, vma_addr, vma_young, vma_mkold, folio_head, vma_frame,
    PAGE_SIZE, PAGE_SHIFT, HPAGE_SIZE, CHUNK_SHIFT, CHUNK_PAGES, PC_FREE)
from damo_engine.core cimport (
    Context, Target, Region, Scheme, Filter, Operations, KernelState, Probe, DamonFilter,
    region_new, update_region_access_rate, nr_samples_per_aggr, DAMOS_MAX_SCORE, DAMON_MAX_PROBES,
    DAMON_FILTER_ANON, DAMON_FILTER_MEMCG,
    WILLNEED, COLD, PAGEOUT, HUGEPAGE, NOHUGEPAGE, COLLAPSE, LRU_PRIO, LRU_DEPRIO,
    MIGRATE_HOT, MIGRATE_COLD, STAT,
    FILTER_ANON, FILTER_ACTIVE, FILTER_MEMCG, FILTER_YOUNG, FILTER_HUGEPAGE_SIZE,
    FILTER_UNMAPPED)

# simulated CPU time of one page's worth of work in an action (ns)
cdef double MADVISE_PAGE_NS = 100.0
cdef double SCAN_PAGE_NS = 50.0
# what a migration costs the process whose page moves (unmap, TLB shootdown)
cdef double MIGRATE_PROCESS_NS = 1000.0


cdef extern from *:
    void __builtin_prefetch(const void *p) nogil

cdef extern from "sim_vaddr.h":
    ctypedef struct sim_va_pages:
        pagebits *present
        pagebits *young
        const uint8_t *huge
        uint64_t *lru_ref
        const uint64_t *damon_ref_chunks
        uint64_t *damon_ref
    void sim_va_mkold(const sim_va_pages *p, int64_t li) nogil
    bint sim_va_young(const sim_va_pages *p, int64_t li, uint64_t *folio_sz) nogil


cdef inline void va_pages_of(sim_va_pages *p, VmaData *v) noexcept nogil:
    p.present = &v.present
    p.young = &v.young
    p.huge = v.vc_huge
    p.lru_ref = v.bm_lru_ref
    p.damon_ref_chunks = v.damon_ref_chunks
    p.damon_ref = v.bm_damon_ref


# regions prefetched this far ahead in the sampling loops
cdef enum:
    PREFETCH_AHEAD = 8


cdef inline uint64_t align_down(uint64_t x, uint64_t a) noexcept nogil:
    return x - x % a


cdef inline uint64_t align_up(uint64_t x, uint64_t a) noexcept nogil:
    return align_down(x + a - 1, a)


cdef inline bint same_folio(uint64_t a, uint64_t b, uint64_t folio_sz) noexcept nogil:
    """align_down(a, sz) == align_down(b, sz) for a power-of-two folio size
    (4 KiB or 2 MiB), without a division."""
    return ((a ^ b) & ~(folio_sz - 1)) == 0


# ---------------------------------------------------------------------------
# ops-common: region priority scores for quotas

cdef int hot_score(Context ctx, Region *r, Scheme s) noexcept:
    """damon_hot_score(): weighted access frequency and age, 0..99, in the
    kernel's integer types: unsigned int products and sums, an int hotness
    (the kernel builds with -fno-strict-overflow: it wraps), clamped to
    [0, DAMOS_MAX_SCORE] last (the same hotfix as damon_max_nr_accesses()'s
    at least 1: huge weights cannot index outside the score histogram)."""
    cdef uint32_t freq_subscore, age_in_sec, u
    cdef int age_in_log = 0, age_subscore
    cdef int32_t hotness
    cdef uint32_t fw = s.weight_nr_accesses, aw = s.weight_age
    freq_subscore = <uint32_t>(r.nr_accesses * 100) / nr_samples_per_aggr(&ctx.attrs)
    age_in_sec = <uint32_t>(<uint64_t>r.age * ctx.attrs.aggr_interval / 1000000)
    while age_in_log < 32 and age_in_sec:       # floor(log2) + 1, up to 32
        age_in_log += 1
        age_in_sec >>= 1
    if freq_subscore == 0:                      # idle: older means colder
        age_in_log = -age_in_log
    age_subscore = (age_in_log + 32) * 100 // 32 // 2
    u = fw * freq_subscore + aw * <uint32_t>age_subscore
    if <uint32_t>(fw + aw):
        u = u // <uint32_t>(fw + aw)            # int /= unsigned int: unsigned division
    hotness = <int32_t>u
    hotness = <int32_t>(<uint32_t>hotness * <uint32_t>DAMOS_MAX_SCORE) // 100
    if hotness > DAMOS_MAX_SCORE:
        return DAMOS_MAX_SCORE
    if hotness < 0:
        return 0
    return hotness


cdef inline int cold_score(Context ctx, Region *r, Scheme s) noexcept:
    return DAMOS_MAX_SCORE - hot_score(ctx, r, s)


def kunit_hot_score(Context ctx, uint32_t nr_accesses, uint32_t age, Scheme s):
    cdef Region r
    r.nr_accesses = nr_accesses
    r.age = age
    return hot_score(ctx, &r, s)


# ---------------------------------------------------------------------------
# ops filters, per page (folio)

cdef bint page_filter_match(VmaData *v, int64_t li, Filter f, bint huge) noexcept:
    """damos_folio_filter_match() on the folio holding page li."""
    cdef bint matched = False
    cdef uint64_t folio_sz = HPAGE_SIZE if huge else PAGE_SIZE
    if f.type == FILTER_ANON:
        matched = v.anon
    elif f.type == FILTER_ACTIVE:
        matched = bm_test(v.bm_active, li)
    elif f.type == FILTER_MEMCG:
        matched = f.memcg is not None and f.memcg == v.mm.memcg_id
    elif f.type == FILTER_YOUNG:
        # DAMON's own view of the folio's access (young or not idle); a
        # young folio is made old, as the kernel's filter does
        matched = vma_young(v, li, &folio_sz)
        if matched:
            vma_mkold(v, li)
    elif f.type == FILTER_HUGEPAGE_SIZE:
        matched = f.sz_min <= folio_sz <= f.sz_max
    elif f.type == FILTER_UNMAPPED:
        matched = False                 # every page of the model is mapped
    return matched == f.matching


cdef bint page_filtered_out(VmaData *v, int64_t li, Scheme s, list extra) noexcept:
    """damos_*_filter_out(): ops filters in order, the first match decides;
    extra filters (paddr pageout's temporary young rejecter) come after
    them; no match means the default decision of the scheme's own filters."""
    cdef Filter f
    cdef bint huge = v.vc_huge[li >> CHUNK_SHIFT]
    if s.core_filters_allowed:
        return False
    for f in s.ops_filters:
        if page_filter_match(v, li, f, huge):
            return not f.allow
    for f in extra:
        if page_filter_match(v, li, f, huge):
            return not f.allow
    return s.ops_filters_default_reject


cdef int pick_dest_node(Scheme s, VmaData *v, uint64_t addr, int order, int cur) noexcept:
    """Where vaddr migrates a folio: the weighted interleave over the
    scheme's migrate_dests (-1: stay, when the total weight is 0 or the folio
    is already on its node), or the scheme's target_nid."""
    cdef uint64_t ilx, total = 0, slot
    cdef int nid = -1
    if not s.migrate_dests:
        return s.target_nid
    for d, w in s.migrate_dests:
        total += w
    if total == 0:
        return -1
    # an anonymous VMA's pgoff is its start page
    ilx = ((v.start >> PAGE_SHIFT) >> order) + ((addr - v.start) >> (PAGE_SHIFT + order))
    slot = ilx % total
    for d, w in s.migrate_dests:
        if slot < <uint64_t>w:
            nid = d
            break
        slot -= w
    return -1 if nid == cur else nid


# ---------------------------------------------------------------------------
# virtual address spaces

cdef class VaddrOps(Operations):
    """vaddr: a process's virtual address space, initial regions built from
    its three biggest mapped areas and updated every ops update interval."""

    def __init__(self, name="vaddr"):
        self.name = name

    cdef MmData *get_mm(self, Context ctx, Target t):
        """damon_get_mm(): the target process's mm, NULL once it has exited."""
        cdef AddressSpace a
        if t.obj is None:
            t.obj = ctx.kstate.processes.get(t.pid)
            if t.obj is None:
                return NULL
        a = <AddressSpace>t.obj
        if not a.mm.alive:
            return NULL
        return a.mm

    cdef bint target_valid(self, Target t) except -1:
        cdef AddressSpace a = t.obj
        return a is not None and a.mm.alive

    cdef bint has_target_valid(self):
        return True

    def three_regions(self, AddressSpace a, uint64_t min_region=PAGE_SIZE):
        """__damon_va_three_regions() of an address space, or None."""
        return three_regions_of(a.mm, min_region)

    cdef void init(self, Context ctx) except *:
        cdef Target t
        for t in ctx.targets:
            if self.get_mm(ctx, t) == NULL and t.obj is None:
                raise ValueError("no process with pid %r to monitor" % (t.pid,))
            if not t.nr_regions:        # the user may have set the regions
                self.init_regions(ctx, t)

    cdef void init_regions(self, Context ctx, Target t) except *:
        """__damon_va_init_regions(): the three regions, as they are (the
        core splits them for min_nr_regions, damon_apply_min_nr_regions())."""
        cdef MmData *mm = self.get_mm(ctx, t)
        if mm == NULL:
            return
        regions = three_regions_of(mm, ctx.min_region_sz)
        if regions is None:
            return
        t.set_regions(regions, ctx.min_region_sz)

    cdef void update(self, Context ctx) except *:
        cdef Target t
        cdef MmData *mm
        for t in ctx.targets:
            mm = self.get_mm(ctx, t)
            if mm == NULL:
                continue
            regions = three_regions_of(mm, ctx.min_region_sz)
            if regions is None:
                continue
            t.set_regions(regions, ctx.min_region_sz)

    cdef void prepare_access_checks(self, Context ctx) except *:
        # the hot loop of DAMON's sampling: regions walked as an array (their
        # loads overlap), the RNG state and the last VMA in locals
        cdef Target t
        cdef Region *r
        cdef Region **arr
        cdef MmData *mm
        cdef VmaData *v
        cdef sim_rng rng = ctx.rng
        cdef uint64_t addr, vs = 0, ve = 0
        cdef int64_t origin = 0
        cdef sim_va_pages pg
        cdef uint32_t i, n
        for t in ctx.targets:
            mm = self.get_mm(ctx, t)
            if mm == NULL:
                continue
            arr = t.regions_array()
            n = t.nr_regions
            v = NULL
            for i in range(n):
                if i + PREFETCH_AHEAD < n:
                    __builtin_prefetch(arr[i + PREFETCH_AHEAD])
                r = arr[i]
                addr = sim_damon_rand(&rng, r.start, r.end)
                r.sampling_addr = addr
                if v == NULL or addr < vs or addr >= ve:
                    v = mm_find_vma(mm, addr)
                    if v == NULL:
                        continue
                    vs = v.start
                    ve = v.end
                    origin = v.origin_page
                    va_pages_of(&pg, v)
                sim_va_mkold(&pg, <int64_t>(addr >> PAGE_SHIFT) - origin)
        ctx.rng = rng

    cdef uint32_t check_accesses(self, Context ctx) except? 0xFFFFFFFF:
        cdef Target t
        cdef Region *r
        cdef Region **arr
        cdef MmData *mm
        cdef VmaData *v
        cdef KernelState ks = ctx.kstate
        cdef uint32_t max_nr = 0, i, n
        cdef uint64_t checks = 0, addr, vs = 0, ve = 0
        cdef int64_t origin = 0
        cdef sim_va_pages pg
        # __damon_va_check_access()'s "last checked folio", in locals
        cdef uint64_t last_addr = ks.va_last_addr, last_sz = ks.va_last_folio_sz
        cdef bint last_acc = ks.va_last_accessed
        for t in ctx.targets:
            mm = self.get_mm(ctx, t)
            arr = t.regions_array()
            n = t.nr_regions
            v = NULL
            for i in range(n):
                if i + PREFETCH_AHEAD < n:
                    __builtin_prefetch(arr[i + PREFETCH_AHEAD])
                r = arr[i]
                if mm != NULL:
                    addr = r.sampling_addr
                    if i and same_folio(last_addr, addr, last_sz):
                        # the region's sample is in the folio checked last: reuse
                        r.nr_accesses += last_acc
                    else:
                        if v == NULL or addr < vs or addr >= ve:
                            v = mm_find_vma(mm, addr)
                            if v != NULL:
                                vs = v.start
                                ve = v.end
                                origin = v.origin_page
                                va_pages_of(&pg, v)
                        last_acc = v != NULL and sim_va_young(
                            &pg, <int64_t>(addr >> PAGE_SHIFT) - origin, &last_sz)
                        r.nr_accesses += last_acc
                        last_addr = addr
                        checks += 1
                if r.nr_accesses > max_nr:
                    max_nr = r.nr_accesses
        ks.va_last_addr = last_addr
        ks.va_last_folio_sz = last_sz
        ks.va_last_accessed = last_acc
        ctx.nr_access_checks += checks
        return max_nr

    cdef bint has_scheme_score(self):
        return True

    cdef int get_scheme_score(self, Context ctx, Target t, Region *r, Scheme s) except -1:
        if s.action == PAGEOUT or s.action == MIGRATE_COLD:
            return cold_score(ctx, r, s)
        if s.action == MIGRATE_HOT:
            return hot_score(ctx, r, s)
        return DAMOS_MAX_SCORE

    cdef uint64_t apply_scheme(self, Context ctx, Target t, Region *r, Scheme s,
                               uint64_t *sz_filter_passed) except? 0xFFFFFFFFFFFFFFFF:
        cdef MmData *mm = self.get_mm(ctx, t)
        cdef Machine m = ctx.kstate.machine
        cdef uint64_t start = align_up(r.start, PAGE_SIZE)
        cdef uint64_t end = start + align_up(r.end - r.start, PAGE_SIZE)
        if mm == NULL:
            return 0
        if s.action == STAT or s.action == MIGRATE_HOT or s.action == MIGRATE_COLD:
            return va_walk(ctx, m, mm, r.start, r.end, s, sz_filter_passed)
        if s.action in (WILLNEED, COLD, PAGEOUT, HUGEPAGE, NOHUGEPAGE, COLLAPSE):
            return va_madvise(ctx, m, mm, start, end, s)
        return 0                        # lru_(de)prio: not supported on vaddr


cdef class FvaddrOps(VaddrOps):
    """fvaddr: fixed virtual address ranges given by the user; no init, no update."""

    def __init__(self, name="fvaddr"):
        self.name = name

    cdef void init(self, Context ctx) except *:
        cdef Target t
        for t in ctx.targets:
            if self.get_mm(ctx, t) == NULL and t.obj is None:
                raise ValueError("no process with pid %r to monitor" % (t.pid,))

    cdef void update(self, Context ctx) except *:
        pass


cdef object three_regions_of(MmData *mm, uint64_t min_region):
    """The three regions split by the two biggest gaps between mappings."""
    cdef uint64_t gs1 = 0, ge1 = 0, gs2 = 0, ge2 = 0, gap, start = 0, t
    cdef VmaData *prev = NULL
    cdef VmaData *v
    cdef int i
    for i in range(mm.nr_vmas):
        v = mm.vmas[i]
        if prev == NULL:
            start = v.start
        else:
            gap = v.start - prev.end
            if gap > ge1 - gs1:
                gs2, ge2 = gs1, ge1
                gs1, ge1 = prev.end, v.start
            elif gap > ge2 - gs2:
                gs2, ge2 = prev.end, v.start
        prev = v
    if ge2 - gs2 == 0 or ge1 - gs1 == 0:
        return None
    if gs1 > gs2:
        t = gs1; gs1 = gs2; gs2 = t
        t = ge1; ge1 = ge2; ge2 = t
    return [(align_up(start, min_region), align_up(gs1, min_region)),
            (align_up(ge1, min_region), align_up(gs2, min_region)),
            (align_up(ge2, min_region), align_up(prev.end, min_region))]


def kunit_three_regions(list vmas, uint64_t min_region=1):
    """__damon_va_three_regions() over [(start, end)] mappings (page units
    not required: kunit uses MIN_REGION 1)."""
    cdef MmData mm
    cdef VmaData *arr
    cdef VmaData **ptrs = <VmaData **>calloc(len(vmas), sizeof(VmaData *))
    arr = <VmaData *>calloc(len(vmas), sizeof(VmaData))
    for i, (s, e) in enumerate(vmas):
        arr[i].start = s
        arr[i].end = e
        ptrs[i] = &arr[i]
    mm.vmas = ptrs
    mm.nr_vmas = len(vmas)
    try:
        return three_regions_of(&mm, min_region)
    finally:
        free(ptrs)
        free(arr)


cdef uint64_t va_madvise(Context ctx, Machine m, MmData *mm, uint64_t start, uint64_t end,
                         Scheme s) except? 0xFFFFFFFFFFFFFFFF:
    """damos_madvise(): madvise() on [start, end).  Like madvise(), the
    mapped parts are all advised even when the range has holes, but then the
    call fails with ENOMEM and nothing counts as applied (the scheme keeps
    count of such regions, for damo diagnose to say why); on success the
    whole length counts."""
    cdef int action = s.action
    cdef uint64_t addr = start, stop
    cdef VmaData *v
    cdef int64_t li, li_end, c, c_lo, c_hi
    cdef double work = 0, before
    cdef bint hole = False, failed = False, stop_all = False
    while addr < end:
        v = mm_find_vma(mm, addr)
        if v == NULL:
            hole = True
            v = _next_vma(mm, addr)
            if v == NULL or v.start >= end:
                break
            addr = v.start
        stop = end if end < v.end else v.end
        li_end = vma_li(v, stop - 1) + 1
        li = vma_li(v, addr)
        if action == COLLAPSE:
            # MADV_COLLAPSE: synchronously collapse every 2 MiB chunk wholly
            # inside the range; a VMA THP may not back fails the call, a chunk
            # with nothing to collapse makes it fail after the others were
            # tried, no free huge page ends it (-ENOMEM)
            if not v.anon or v.nohugepage:
                failed = True
                break
            c_lo = (li + CHUNK_PAGES - 1) >> CHUNK_SHIFT
            c_hi = li_end >> CHUNK_SHIFT
            for c in range(c_lo, c_hi):
                if v.vc_huge[c]:
                    continue                    # already PMD-mapped: counts as done
                if v.vc_thp_hint[c] == 2 or (v.vc_present[c] == 0 and not bm_count_range(
                        v.bm_swapped, c << CHUNK_SHIFT, (c + 1) << CHUNK_SHIFT)):
                    failed = True               # VM_NOHUGEPAGE, or no page table
                    continue
                before = m.kswapd_ns
                if not m.collapse_chunk(v, c):
                    failed = True
                    stop_all = True
                    break
                # the copy is the caller's (kdamond's) work, not khugepaged's
                work += m.kswapd_ns - before
                m.kswapd_ns = before
            if stop_all:
                break
            addr = stop
            continue
        if action == HUGEPAGE or action == NOHUGEPAGE:
            # MADV_HUGEPAGE splits the VMA at the range's ends: only 2 MiB
            # chunks wholly inside the range may get a THP; MADV_NOHUGEPAGE
            # rules THP out of every chunk it touches
            if action == HUGEPAGE:
                c_lo = (li + CHUNK_PAGES - 1) >> CHUNK_SHIFT
                c_hi = li_end >> CHUNK_SHIFT
            else:
                c_lo = li >> CHUNK_SHIFT
                c_hi = ((li_end - 1) >> CHUNK_SHIFT) + 1
            for c in range(c_lo, c_hi):
                m.set_thp_hint(v, c, action == HUGEPAGE)
                work += MADVISE_PAGE_NS
            addr = stop
            continue
        while li < li_end:
            if action == PAGEOUT:
                # MADV_PAGEOUT reclaims regardless of references
                if pb_test(&v.present, li):
                    if m.swap_out_page(v, li):
                        work += m.last_swap_out_ns
                    else:
                        work += SCAN_PAGE_NS
            elif action == WILLNEED:
                if m.swap_in_page(v, li):
                    work += m.last_swap_in_ns
            elif action == COLD:
                # MADV_COLD: old and referenced bits cleared, deactivated
                if pb_test(&v.present, li):
                    c = li >> CHUNK_SHIFT
                    if pb_test(&v.young, li):
                        if v.vc_huge[c]:
                            pb_clear_chunk(&v.young, c)
                        else:
                            pb_clear(&v.young, li)
                    bm_clear(v.bm_lru_ref, folio_head(v, li))
                    m.set_active(v, li, False)
                    work += SCAN_PAGE_NS
            li += 1
        addr = stop
    ctx.apply_ns += work
    if hole and not failed:
        s.nr_madvise_holes += 1
        s.sz_madvise_holes += end - start
    return 0 if hole or failed else end - start


cdef VmaData *_next_vma(MmData *mm, uint64_t addr) noexcept nogil:
    """The first VMA starting at or after addr, or NULL."""
    cdef int i
    for i in range(mm.nr_vmas):
        if mm.vmas[i].start >= addr:
            return mm.vmas[i]
    return NULL


cdef int64_t migrate_folio(Machine m, VmaData *v, int64_t h, int node) except -1:
    """Move the folio headed by page h to node: a THP moves whole into a
    free 2 MiB chunk, or, when the node has none, is split and moves page by
    page, as migrate_pages() falls back.  Returns the pages moved."""
    cdef int64_t c = h >> CHUNK_SHIFT, moved, j
    if v.vc_huge[c]:
        moved = m.migrate_chunk(v, c, node)
        if moved >= 0:
            return moved
        moved = 0
        for j in range(h, h + CHUNK_PAGES):
            if pb_test(&v.present, j) and m.migrate_page(v, j, node):
                moved += 1
        return moved
    return 1 if m.migrate_page(v, h, node) else 0


cdef bint ops_has_filter(Scheme s):
    return len(s.ops_filters) > 0


cdef uint64_t va_walk(Context ctx, Machine m, MmData *mm, uint64_t start, uint64_t end,
                      Scheme s, uint64_t *sz_filter_passed) except? 0xFFFFFFFFFFFFFFFF:
    """damos_va_migrate() and damos_va_stat(): walk the present folios of
    the range and apply the ops filters.  stat counts the bytes that pass
    (only when the scheme has ops filters; it skips the folio it saw last);
    migrate moves the passing ones to target_nid or, with migrate_dests, by
    weighted interleave, and counts no filter-passed bytes."""
    cdef uint64_t addr = start, stop, applied = 0, passed = 0
    cdef VmaData *v
    cdef int64_t li, li_end, c, moved, h
    cdef int node, cur
    cdef bint migrate = s.action != STAT
    cdef bint plain = not s.ops_filters and not s.migrate_dests
    cdef double work = 0
    cdef list no_extra = []
    cdef int64_t last_gid = -1, last_h = -1
    if not migrate and not ops_has_filter(s):
        return 0
    if s.last_applied is not None:
        last_gid, last_h = s.last_applied
    while addr < end:
        v = mm_find_vma(mm, addr)
        if v == NULL:
            v = _next_vma(mm, addr)
            if v == NULL or v.start >= end:
                break
            addr = v.start
        stop = end if end < v.end else v.end
        li = vma_li(v, addr)
        li_end = vma_li(v, stop - 1) + 1
        while li < li_end:
            c = li >> CHUNK_SHIFT
            if not pb_test(&v.present, li):
                li += 1
                continue
            if migrate and plain and not v.vc_huge[c] and (li & (CHUNK_PAGES - 1)) == 0 \
                    and li + CHUNK_PAGES <= li_end and s.target_nid >= 0:
                # a whole chunk-mapped chunk in range moves at once
                moved = m.migrate_chunk(v, c, s.target_nid)
                if moved >= 0:
                    applied += <uint64_t>moved * PAGE_SIZE
                    work += moved * m.migrate_page_ns
                    v.mm.migrate_ns += moved * MIGRATE_PROCESS_NS
                    v.mm.async_ns += moved * MIGRATE_PROCESS_NS
                    li += CHUNK_PAGES
                    continue
            h = folio_head(v, li)
            if v.vc_huge[c]:
                li = (c + 1) << CHUNK_SHIFT     # one 2 MiB folio
            else:
                li += 1
            if not migrate:
                if v.gid == last_gid and h == last_h:
                    continue
                if not page_filtered_out(v, h, s, no_extra):
                    passed += HPAGE_SIZE if v.vc_huge[c] else PAGE_SIZE
                last_gid = v.gid
                last_h = h
                continue
            if page_filtered_out(v, h, s, no_extra):
                continue
            cur = m.node_of_pfn(vma_frame(v, h))
            node = pick_dest_node(s, v, vma_addr(v, h), 9 if v.vc_huge[c] else 0, cur)
            if node < 0 or node == cur or node >= m.nr_nodes:
                continue
            moved = migrate_folio(m, v, h, node)
            applied += <uint64_t>moved * PAGE_SIZE
            work += moved * m.migrate_page_ns
            v.mm.migrate_ns += moved * MIGRATE_PROCESS_NS
            v.mm.async_ns += moved * MIGRATE_PROCESS_NS
        addr = stop
    if not migrate:
        s.last_applied = (last_gid, last_h) if last_gid >= 0 else None
    sz_filter_passed[0] = passed
    ctx.apply_ns += work
    return applied


# ---------------------------------------------------------------------------
# physical address space

cdef class PaddrOps(Operations):
    """paddr: the physical address space; pages are found through the
    reverse map and their Accessed bits read in every mapping.  Region
    addresses are in the context's address units (addr_unit bytes each)."""
    cdef Filter young_rejecter

    def __init__(self, name="paddr"):
        self.name = name
        self.young_rejecter = Filter("young", True, False)

    cdef VmaData *owner(self, Machine m, uint64_t paddr, int64_t *li) noexcept:
        cdef int64_t pfn
        if paddr < m.phys_base:
            return NULL
        pfn = <int64_t>((paddr - m.phys_base) >> PAGE_SHIFT)
        if pfn >= m.nr_pchunks * CHUNK_PAGES:
            return NULL
        return m.owner_of_pfn(pfn, li)

    cdef bint is_paddr(self):
        return True

    cdef void prepare_access_checks(self, Context ctx) except *:
        cdef Machine m = ctx.kstate.machine
        cdef Target t
        cdef Region *r
        cdef VmaData *v
        cdef int64_t li
        cdef uint64_t au = ctx.addr_unit
        for t in ctx.targets:
            r = t.head
            while r != NULL:
                r.sampling_addr = sim_damon_rand(&ctx.rng, r.start, r.end)
                v = self.owner(m, r.sampling_addr * au, &li)     # damon_pa_phys_addr()
                if v != NULL:
                    vma_mkold(v, li)
                r = r.next

    cdef uint32_t check_accesses(self, Context ctx) except? 0xFFFFFFFF:
        cdef Machine m = ctx.kstate.machine
        cdef KernelState ks = ctx.kstate
        cdef Target t
        cdef Region *r
        cdef VmaData *v
        cdef int64_t li
        cdef uint32_t max_nr = 0
        cdef uint64_t checks = 0, au = ctx.addr_unit, paddr
        for t in ctx.targets:
            r = t.head
            while r != NULL:
                paddr = r.sampling_addr * au
                if same_folio(ks.pa_last_addr, paddr, ks.pa_last_folio_sz):
                    update_region_access_rate(r, ks.pa_last_accessed)
                else:
                    v = self.owner(m, paddr, &li)
                    # a free frame has no folio: not accessed, folio size kept
                    ks.pa_last_accessed = v != NULL and vma_young(v, li, &ks.pa_last_folio_sz)
                    update_region_access_rate(r, ks.pa_last_accessed)
                    ks.pa_last_addr = paddr
                    checks += 1
                if r.nr_accesses > max_nr:
                    max_nr = r.nr_accesses
                r = r.next
        ctx.nr_access_checks += checks
        return max_nr

    cdef bint has_apply_probes(self):
        return True

    cdef uint32_t apply_probes(self, Context ctx, bint set_samples,
                               bint return_max_wsum) except? 0xFFFFFFFF:
        """damon_pa_apply_probes(): for each region, the folio at its
        sampling address (picked here when set_samples: access checks are
        off) goes through each probe's filters; a pass is a hit.  Returns the
        highest weighted sum of this window's hits if asked."""
        cdef Machine m = ctx.kstate.machine
        cdef Target t
        cdef Region *r
        cdef VmaData *v
        cdef int64_t li
        cdef uint64_t au = ctx.addr_unit, checks = 0
        cdef uint32_t max_wsum = 0, wsum
        cdef int nr_probes = 0, i, j, k
        cdef bint matched, passed
        # the probes' filters in C arrays, in order: type, matching, allow, memcg
        cdef int nr_filters[DAMON_MAX_PROBES]
        cdef int first[DAMON_MAX_PROBES]
        cdef uint32_t weights[DAMON_MAX_PROBES]
        cdef int ftype[64]
        cdef bint fmatching[64]
        cdef bint fallow[64]
        cdef int fmemcg[64]
        cdef bint fmemcg_set[64]
        cdef int nf = 0
        cdef Probe p
        cdef DamonFilter f
        # without probes there is nothing to count: the kernel's walk over
        # the regions changes nothing then
        if not ctx.probes:
            return 0
        for p in ctx.probes:
            if nr_probes == DAMON_MAX_PROBES:
                break
            weights[nr_probes] = p.weight
            first[nr_probes] = nf
            nr_filters[nr_probes] = 0
            for f in p.filters:
                if nf == 64:
                    raise ValueError("too many probe filters (at most 64 in all)")
                ftype[nf] = f.type
                fmatching[nf] = f.matching
                fallow[nf] = f.allow
                fmemcg_set[nf] = f.memcg is not None
                fmemcg[nf] = f.memcg if f.memcg is not None else 0
                nf += 1
                nr_filters[nr_probes] += 1
            nr_probes += 1
        for t in ctx.targets:
            r = t.head
            while r != NULL:
                if set_samples:
                    r.sampling_addr = sim_damon_rand(&ctx.rng, r.start, r.end)
                v = self.owner(m, r.sampling_addr * au, &li)    # damon_get_folio()
                checks += 1
                for i in range(nr_probes):
                    # damon_pa_filter_pass(): the first matching filter
                    # decides; past a filter that did not match, the default
                    # is the opposite of its allow
                    passed = True
                    for k in range(first[i], first[i] + nr_filters[i]):
                        # damon_pa_filter_match(): no folio matches nothing
                        matched = False
                        if v != NULL:
                            if ftype[k] == DAMON_FILTER_ANON:
                                matched = v.anon
                            elif ftype[k] == DAMON_FILTER_MEMCG:
                                matched = fmemcg_set[k] and fmemcg[k] == v.mm.memcg_id
                        if matched == fmatching[k]:
                            passed = fallow[k]
                            break
                        passed = not fallow[k]
                    if passed:
                        r.probe_hits[i] = <uint8_t>(r.probe_hits[i] + 1)
                if return_max_wsum:
                    wsum = 0
                    for j in range(nr_probes):
                        wsum += r.probe_hits[j] * weights[j]
                    if wsum > max_wsum:
                        max_wsum = wsum
                r = r.next
        ctx.nr_probe_checks += checks
        return max_wsum

    cdef bint has_scheme_score(self):
        return True

    cdef int get_scheme_score(self, Context ctx, Target t, Region *r, Scheme s) except -1:
        if s.action == PAGEOUT or s.action == LRU_DEPRIO or s.action == MIGRATE_COLD:
            return cold_score(ctx, r, s)
        if s.action == LRU_PRIO or s.action == MIGRATE_HOT:
            return hot_score(ctx, r, s)
        return DAMOS_MAX_SCORE

    cdef int eligible_bytes(self, Context ctx, Region *r, int nid, uint64_t *node_bytes,
                            uint64_t *total) except -1:
        """damos_calc_eligible_bytes() for one region: the bytes of the
        region's folios (their overlap with it) in total and on node nid."""
        cdef Machine m = ctx.kstate.machine
        cdef uint64_t addr = r.start * ctx.addr_unit, end = r.end * ctx.addr_unit
        cdef uint64_t fstart, fend, lo, hi
        cdef VmaData *v
        cdef int64_t li, h, pfn
        while addr < end:
            v = self.owner(m, addr, &li)
            if v == NULL:
                addr = align_down(addr + PAGE_SIZE, PAGE_SIZE)
                continue
            h = folio_head(v, li)
            pfn = vma_frame(v, h)
            fstart = m.phys_base + (<uint64_t>pfn << PAGE_SHIFT)
            fend = fstart + (HPAGE_SIZE if v.vc_huge[li >> CHUNK_SHIFT] else PAGE_SIZE)
            lo = addr if addr > fstart else fstart
            hi = end if end < fend else fend
            if hi > lo:
                total[0] += hi - lo
                if m.node_of_pfn(pfn) == nid:
                    node_bytes[0] += hi - lo
            addr = fend
        return 0

    cdef uint64_t apply_scheme(self, Context ctx, Target t, Region *r, Scheme s,
                               uint64_t *sz_filter_passed) except? 0xFFFFFFFFFFFFFFFF:
        """damon_pa_apply_scheme(): walk the folios of the region, skipping
        the one this scheme handled last (a large folio spanning regions),
        apply the ops filters, and act on the folios that pass.  pageout
        installs a temporary "reject young" filter unless the scheme has a
        young filter of its own; stat walks only if the scheme has ops
        filters.  Sizes reported back are in address units."""
        cdef Machine m = ctx.kstate.machine
        cdef uint64_t au = ctx.addr_unit
        cdef uint64_t addr = r.start * au, end = r.end * au, applied = 0, passed = 0, folio_sz
        cdef VmaData *v
        cdef int64_t li, c, moved, j, h
        cdef bint huge
        cdef double work = 0
        cdef list extra = []
        cdef int64_t skip_gid = -1, skip_h = -1, last_gid = -1, last_h = -1, pfn
        cdef int node
        cdef Filter f
        if s.action == WILLNEED or s.action == COLD or s.action == HUGEPAGE \
                or s.action == NOHUGEPAGE or s.action == COLLAPSE:
            return 0                    # not supported on paddr
        if s.action == STAT and not s.ops_filters:
            return 0
        if s.action == PAGEOUT:
            for f in s.ops_filters:
                if f.type == FILTER_YOUNG:
                    break
            else:
                extra = [self.young_rejecter]
        if s.last_applied is not None:
            skip_gid, skip_h = s.last_applied
        while addr < end:
            pfn = <int64_t>((addr - m.phys_base) >> PAGE_SHIFT) if addr >= m.phys_base else -1
            if pfn >= 0 and pfn < m.nr_pchunks * CHUNK_PAGES and \
                    m.pc_owner[pfn >> CHUNK_SHIFT] == PC_FREE:
                addr = m.phys_base + (((pfn >> CHUNK_SHIFT) + 1) << (CHUNK_SHIFT + PAGE_SHIFT))
                last_gid = -1
                continue
            v = self.owner(m, addr, &li)
            if v == NULL:               # a free frame: no folio
                addr += PAGE_SIZE
                last_gid = -1
                continue
            c = li >> CHUNK_SHIFT
            huge = v.vc_huge[c]
            folio_sz = HPAGE_SIZE if huge else PAGE_SIZE
            h = folio_head(v, li)
            last_gid = v.gid            # s->last_applied ends as the last folio seen
            last_h = h
            if v.gid == skip_gid and h == skip_h:
                addr += PAGE_SIZE
                continue
            work += SCAN_PAGE_NS
            addr += folio_sz            # from addr, as the kernel steps
            if page_filtered_out(v, h, s, extra):
                continue
            passed += folio_sz
            if s.action == PAGEOUT:
                bm_clear(v.bm_lru_ref, h)
                m.set_active(v, h, False)
                for j in range(h, h + (CHUNK_PAGES if huge else 1)):
                    if m.swap_out_page(v, j):
                        applied += PAGE_SIZE
                        work += m.last_swap_out_ns
            elif s.action == LRU_PRIO:
                folio_mark_accessed(m, v, h)
                applied += folio_sz
            elif s.action == LRU_DEPRIO:
                m.set_active(v, h, False)
                applied += folio_sz
            elif s.action == MIGRATE_HOT or s.action == MIGRATE_COLD:
                node = s.target_nid
                if node < 0 or node >= m.nr_nodes or node == m.node_of_pfn(vma_frame(v, h)):
                    continue
                moved = migrate_folio(m, v, h, node)
                applied += <uint64_t>moved * PAGE_SIZE
                work += moved * m.migrate_page_ns
                v.mm.migrate_ns += moved * MIGRATE_PROCESS_NS
                v.mm.async_ns += moved * MIGRATE_PROCESS_NS
        s.last_applied = (last_gid, last_h) if last_gid >= 0 else None
        sz_filter_passed[0] = passed / au       # damon_pa_core_addr()
        ctx.apply_ns += work
        return applied / au


cdef void folio_mark_accessed(Machine m, VmaData *v, int64_t h) noexcept:
    """mm/swap.c folio_mark_accessed(): a first call marks the folio
    referenced; a second, on a referenced inactive folio, activates it (and
    clears referenced; workingset_activation() ages the node's nonresident_age).  Either way the folio stops being idle, which
    DAMON's next access check sees."""
    if not bm_test(v.bm_lru_ref, h):
        bm_set(v.bm_lru_ref, h)
    elif not bm_test(v.bm_active, h):
        m.set_active(v, h, True)
        bm_clear(v.bm_lru_ref, h)
        m.workingset_activation(v, h)
    bm_set(v.bm_damon_ref, h)
    bm_set(v.damon_ref_chunks, h >> CHUNK_SHIFT)


OPS = {"vaddr": VaddrOps, "fvaddr": FvaddrOps, "paddr": PaddrOps}


def make_ops(name):
    """The operation set called `name` (vaddr, fvaddr or paddr)."""
    try:
        return OPS[name]()
    except KeyError:
        raise ValueError("unknown operation set %r (vaddr, fvaddr or paddr)" % (name,))


# The registry of operation sets (damon_register_ops / damon_select_ops).
def register_ops(name, factory):
    """Register an operation set; a name can be registered only once."""
    if name in OPS:
        raise ValueError("operation set %r is already registered" % (name,))
    OPS[name] = factory


def unregister_ops(name):
    OPS.pop(name, None)
