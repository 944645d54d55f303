"""Workloads that access simulated memory: masim configs (and the built-ins
written in masim's format), laid out in a process the way glibc would.

masim's loop: pick a pattern by weight, do a burst of 131,072 accesses on its
region (sequential ones continue from the pattern's saved offset and wrap;
random ones hit uniformly random offsets), repeat until the phase's time is
up.  A phase's length is work, not wall time: its accesses are what the
pattern does in the configured duration on the reference memory (the
default DRAM tier, or --access_rate accesses per ms); on other memory they
take what the cost model says (costs.py), faults and swap-ins included.
"""
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy, memset
from libc.math cimport ceil, floor, log, exp, sqrt, cos, M_PI
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from damo_engine.memory cimport (
    AddressSpace, Machine, VmaData, MmData, CostTable, sim_rng, sim_rng_seed, sim_rng_below,
    AK_PAGE_R, AK_PAGE_W, AK_RANDOM_R, AK_RANDOM_W, AK_STREAM_R, AK_STREAM_W,
    sim_rng_double, bm_count_range, pb_test, pb_set, pb_set_range, pb_set_chunk, pb_count_range,
    vma_uniform_node, vma_li, vma_frame, pagebits, pb_resummarize,
    mm_find_vma, gt_add_range,
    PAGE_SIZE, PAGE_SHIFT, CHUNK_SHIFT, CHUNK_PAGES, CHUNK_WORDS, MAX_NODES)

from damo_engine import masim as _masim

cdef extern from "sim_sample.h":
    ctypedef struct pb_sampler:
        pass
    enum:
        SMP_CLEAR
        SMP_ABSENT
    void smp_init(pb_sampler *s, const pagebits *present, pagebits *young,
                  pagebits *dirty, const uint16_t *chunk_present, int mode,
                  uint64_t lo, uint64_t hi, double p, sim_rng *rng) noexcept nogil
    int64_t smp_next(pb_sampler *s) noexcept nogil
    void smp_skip_chunk(pb_sampler *s, uint64_t i) noexcept nogil
    void smp_set_sparse(pb_sampler *s) noexcept nogil
    void smp_draw_clear(pb_sampler *s, const uint8_t *huge) noexcept nogil

cdef extern from *:
    int _ctz "__builtin_ctzll"(unsigned long long) nogil

# a random burst over at least this many chunks may have its pages
# drawn sparsely (_sparse_draw)
cdef enum:
    SPARSE_MIN_CHUNKS = 2048


cdef inline bint _sparse_draw(int64_t P, double pick) noexcept nogil:
    """Draw a burst's pages of a region of P pages, each picked with
    probability pick, by gaps over the pages rather than over the candidates
    (the same distribution; see sim_sample.h): for a region of many chunks
    where fewer pages than chunks are expected to be picked, so that the
    draw costs its picks, not a pass over every chunk.  Regions under 4 GiB
    keep the pass (their recordings stay as they were)."""
    return P >= SPARSE_MIN_CHUNKS * CHUNK_PAGES and pick * P < P / CHUNK_PAGES

cdef enum:
    AGG_MIN_BURSTS = 4          # whole bursts in a window worth doing at once
    AGG_PICKS_MAX = 256         # up to this many, picked one by one as masim does

MASIM_BURST = 131072            # masim's nr_accesses_per_region
MMAP_THRESHOLD = 128 * 1024     # glibc: larger allocations get their own mmap
MALLOC_HEADER = 16


cdef inline int64_t _min64(int64_t a, int64_t b) noexcept nogil:
    return a if a < b else b


cdef class Workload:
    """Base class: something that runs in a simulated process."""

    cdef int run_until(self, double t_ns) except -1:
        return 0

    cdef void finish(self) except *:
        """The process exits: its memory goes away."""
        self.finished = True
        if self.mm is not None and self.mm.alive:
            self.mm.exit()

    def advance(self, double t_ns):
        """Run until the simulated clock reaches t_ns (or the work ends)."""
        self.run_until(t_ns)

    @property
    def pid(self):
        return self.mm.pid if self.mm is not None else None


class ProcessLayout:
    """Virtual address space layout of a small dynamically linked x86-64
    program: PIE text/data, a brk heap for small allocations, libc and ld.so
    at the top of the mmap area, big allocations mmap'ed top-down below them
    (one guard page apart, so each is its own VMA), and the stack."""
    TEXT = 0x555555554000
    HEAP_GAP = 0x1000           # between bss and the heap (no randomisation)
    HEAP_INITIAL = 0x21000      # glibc's first brk extension (132 KiB)
    LIBC = 0x7ffff7d80000
    LDSO = 0x7ffff7fc5000
    STACK_TOP = 0x7ffffffff000
    STACK_SIZE = 0x21000

    def __init__(self, AddressSpace mm):
        self.mm = mm
        self.text = mm.map(self.TEXT, 0x2000, "[text]", anon=False)
        self.data = mm.map(self.TEXT + 0x4000, 0x2000, "[data]")
        mm.map(self.LIBC, 0x28000, "libc.so.6", anon=False)
        mm.map(self.LIBC + 0x28000, 0x175000, "libc.so.6", anon=False)
        mm.map(self.LIBC + 0x19d000, 0x6000, "libc.so.6")
        mm.map(self.LDSO, 0x2a000, "ld-linux-x86-64.so.2", anon=False)
        mm.map(self.LDSO + 0x2a000, 0x3000, "ld-linux-x86-64.so.2")
        self.stack = mm.map(self.STACK_TOP - self.STACK_SIZE, self.STACK_SIZE, "[stack]")
        self.heap_start = self.TEXT + 0x6000 + self.HEAP_GAP
        self.heap_used = 0
        self.heap_size = 0
        self.heap = None
        self.mmap_low = self.LIBC

    def malloc(self, size):
        """Address of a new allocation of `size` bytes, mapping what it needs.
        Growing the heap maps it anew (the layout is built before anything
        runs): VMAs looked up before then are gone, so callers look theirs up
        once every allocation is made."""
        if size >= MMAP_THRESHOLD:
            length = (size + MALLOC_HEADER + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE
            start = self.mmap_low - PAGE_SIZE - length   # one guard page below
            self.mm.map(start, length, "[anon]")
            self.mmap_low = start
            return start + MALLOC_HEADER
        addr = self.heap_start + self.heap_used + MALLOC_HEADER
        self.heap_used += (size + MALLOC_HEADER + 15) // 16 * 16
        if self.heap_used > self.heap_size:
            grow = max(self.HEAP_INITIAL,
                       (self.heap_used - self.heap_size + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE)
            if self.heap is not None:
                self.mm.unmap(self.heap)
            self.heap_size += grow
            self.heap = self.mm.map(self.heap_start, self.heap_size, "[heap]")
        return addr


cdef class MasimWorkload(Workload):
    """A masim config run in a simulated process."""

    def __cinit__(self):
        self.regions = NULL
        self.patterns = NULL
        self.phase_first = NULL
        self.phase_count = NULL
        self.phase_weight = NULL
        self.phase_ns = NULL
        self.pend_random = NULL

    def __init__(self, config, *, access_rate=None, random_access_rate=None,
                 uint32_t burst=MASIM_BURST, str name=None, bint exact_accesses=False):
        """access_rate, random_access_rate: accesses per ms that define a
        phase's work (default: what each pattern does on the reference
        memory, from the cost model).  exact_accesses: perform every random
        access one by one instead of drawing the pages a batch of them
        touches (the same distribution; tests/test_fast_equivalence.py
        compares the two)."""
        if isinstance(config, str):
            config = _masim.builtin(config) if config in _masim.BUILTINS \
                else _masim.load(config)
        if (access_rate is not None and not access_rate > 0) or \
                (random_access_rate is not None and not random_access_rate > 0):
            raise ValueError("access rates must be positive")
        if burst == 0:
            raise ValueError("the burst size must be positive")
        self.config = config
        self.name = name or config.source
        self.access_rate = access_rate
        self.random_access_rate = random_access_rate
        self.burst = burst
        self.cur = -1
        self.mm = None
        self.exact_accesses = exact_accesses

    def __dealloc__(self):
        free(self.regions)
        free(self.patterns)
        free(self.phase_first)
        free(self.phase_count)
        free(self.phase_weight)
        free(self.phase_ns)
        free(self.pend_random)

    def attach(self, Machine machine, uint64_t seed=0, bint track_ground_truth=False):
        """Start the process on `machine`: lay out its memory, allocate the
        regions (malloc writes their headers), and be ready to run."""
        cdef int i, j, k = 0
        cdef MPattern *p
        cdef uint64_t a
        cdef VmaData *v
        cfg = self.config
        self.machine = machine
        self.mm = machine.new_address_space(track_ground_truth)
        sim_rng_seed(&self.rng, seed)
        layout = ProcessLayout(self.mm)
        self.text = (<AddressSpace>self.mm).mm.vmas[0]
        self.nr_regions = len(cfg.regions)
        self.regions = <MRegion *>calloc(self.nr_regions, sizeof(MRegion))
        starts = [layout.malloc(region.size) for region in cfg.regions]
        # each region's VMA once all are allocated: an allocation that grows
        # the heap maps it anew, and the heap regions before it were in the
        # VMA it replaced (its page tables freed)
        for i, region in enumerate(cfg.regions):
            a = starts[i]
            v = _vma_of(self.mm, a)
            self.regions[i].v = v
            self.regions[i].li0 = vma_li(v, a)
            self.regions[i].npages = vma_li(v, a + region.size - 1) - self.regions[i].li0 + 1
        self.stack = _vma_of(self.mm, layout.stack.start)
        self.nr_phases = len(cfg.phases)
        n = sum(len(ph.patterns) for ph in cfg.phases)
        self.patterns = <MPattern *>calloc(max(n, 1), sizeof(MPattern))
        self.phase_first = <int *>calloc(max(self.nr_phases, 1), sizeof(int))
        self.phase_count = <int *>calloc(max(self.nr_phases, 1), sizeof(int))
        self.phase_weight = <uint64_t *>calloc(max(self.nr_phases, 1), sizeof(uint64_t))
        self.phase_ns = <double *>calloc(max(self.nr_phases, 1), sizeof(double))
        self.pend_random = <uint64_t *>calloc(max(n, 1), sizeof(uint64_t))
        if self.pend_random == NULL or self.regions == NULL or self.patterns == NULL or self.phase_first == NULL \
                or self.phase_count == NULL or self.phase_weight == NULL or self.phase_ns == NULL:
            raise MemoryError()
        for i, ph in enumerate(cfg.phases):
            self.phase_first[i] = k
            self.phase_count[i] = len(ph.patterns)
            self.phase_ns[i] = ph.duration_ms * 1e6
            for pat in ph.patterns:
                p = &self.patterns[k]
                p.region = pat.region
                p.random = pat.random
                p.stride = pat.stride
                p.weight = pat.weight
                p.write = pat.rw_mode != "ro"
                p.offset = 0
                if pat.stride <= PAGE_SIZE:
                    p.per_page = <uint32_t>(PAGE_SIZE // pat.stride)
                    p.page_step = 1
                else:
                    p.per_page = 1
                    p.page_step = pat.stride // PAGE_SIZE
                self._pattern_cost(p, self.regions[p.region].npages * PAGE_SIZE)
                self.phase_weight[i] += pat.weight
                k += 1
        # the loop's code and stack: a few lines, always cached
        machine.pattern_cost(AK_PAGE_R, 64.0, 64.0, &self.code_ct, NULL)
        # start-up: the loader and libc touch the program image and the stack;
        # malloc writes a header at the start of every allocation
        for vma in self.mm.vmas:
            if vma.name in ("[text]", "[data]"):
                self.mm.access(vma.start, vma.size, write=vma.name == "[data]")
        self.mm.access(layout.stack.end - PAGE_SIZE, PAGE_SIZE, write=True)
        for i in range(self.nr_regions):
            v = self.regions[i].v
            self.mm.access((self.regions[i].li0 + v.origin_page) << PAGE_SHIFT, 1, write=True)
        # masim reads an init_data_file (e.g. /dev/zero) into its region:
        # every page is written before the first phase; that takes time
        init_ns = 0.0
        for name, start, end in self.region_addresses():
            region = cfg.regions[[r.name for r in cfg.regions].index(name)]
            if region.init_data_file not in ("none", ""):
                init_ns += self.mm.access(start, end - start, write=True)
        self.phase = 0
        self.phase_nominal_ns = 0
        self.clock_ns = init_ns
        self.finished = self.nr_phases == 0
        return self.mm.pid

    cdef void _pattern_cost(self, MPattern *p, double region_bytes) except *:
        """The pattern's access kind, per-access costs by node and nominal
        time: random accesses spread over the whole region; sequential ones
        touch one cache line per stride (strides from 4 KiB up visit a new
        page each time, smaller ones stream and are prefetched)."""
        cdef double footprint, nbytes = 64.0, scale
        cdef int i
        if p.random:
            p.kind = AK_RANDOM_W if p.write else AK_RANDOM_R
            footprint = region_bytes
        else:
            footprint = region_bytes / max(p.stride, 64) * 64.0
            if p.stride >= PAGE_SIZE:
                p.kind = AK_PAGE_W if p.write else AK_PAGE_R
            else:
                p.kind = AK_STREAM_W if p.write else AK_STREAM_R
                nbytes = min(p.stride, 64)
        self.machine.pattern_cost(p.kind, footprint, nbytes, &p.ct, &p.nominal_ns)
        rate = self.random_access_rate if p.random else self.access_rate
        if rate is not None:
            # the CPU does `rate` accesses per ms on the reference memory:
            # the pattern's costs scale to that
            scale = 1e6 / rate / p.nominal_ns
            p.ct.compute_ns *= scale
            for i in range(MAX_NODES):
                p.ct.stall_ns[i] *= scale
            p.nominal_ns = 1e6 / rate

    def pattern_costs(self):
        """[(kind, compute ns, [stall ns by node], nominal ns)] per pattern,
        in config order."""
        from damo_engine.costs import ACCESS_KINDS
        cdef int k
        cdef MPattern *p
        out = []
        n = sum(len(ph.patterns) for ph in self.config.phases)
        if self.patterns == NULL:
            return out
        for k in range(n):
            p = &self.patterns[k]
            out.append((ACCESS_KINDS[p.kind], p.ct.compute_ns,
                        [p.ct.stall_ns[i] for i in range(self.machine.nr_nodes)],
                        p.nominal_ns))
        return out

    @property
    def work_done(self):
        """The share of the phases' work done (their accesses at the nominal
        speed), 0 to 1: what progress reports, however slow the memory."""
        cdef double total = 0, done = 0
        cdef int i
        for i in range(self.nr_phases):
            total += self.phase_ns[i]
            if i < self.phase:
                done += self.phase_ns[i]
        if self.finished or total <= 0:
            return 1.0
        done += min(self.phase_nominal_ns, self.phase_ns[self.phase]) \
            if self.phase < self.nr_phases else 0
        return min(done / total, 1.0)

    @property
    def phase_name(self):
        if self.finished or self.phase >= self.nr_phases:
            return None
        return self.config.phases[self.phase].name

    def region_addresses(self):
        """[(name, start, end)] of the config's regions in this process."""
        cdef VmaData *v
        out = []
        for i, region in enumerate(self.config.regions):
            v = self.regions[i].v
            start = ((self.regions[i].li0 + v.origin_page) << PAGE_SHIFT)
            out.append((region.name, start, start + self.regions[i].npages * PAGE_SIZE))
        return out

    cdef int run_until(self, double t_ns) except -1:
        if self.exact_accesses or self.mm.track_ground_truth:
            # exact per-page counts need every access made
            return self._run_exact(t_ns)
        return self._run_fast(t_ns)

    cdef int _run_fast(self, double t_ns) except -1:
        """masim's loop with its accesses drawn, not made, where that gives
        the same page bits: whole bursts between two wake-ups are picked at
        once (a multinomial draw over the phase's weights), sequential ones
        set their page range, random ones on present memory are drawn into
        the page bits once, when the window ends (nothing reads the bits
        meanwhile; see _flush), and only faults and swap-ins are made one by
        one.  The cost is per pattern and window, not per access."""
        cdef MPattern *p
        try:
            while not self.finished and self.clock_ns < t_ns:
                if self.cur < 0:
                    while self.phase < self.nr_phases and \
                            self.phase_nominal_ns >= self.phase_ns[self.phase]:
                        self.phase += 1
                        self.phase_nominal_ns = 0
                    if self.phase >= self.nr_phases:
                        self._flush()
                        self.finish()
                        return 0
                    if self._aggregate(t_ns):
                        continue
                    self.pick_pattern()
                    self.touch_code()
                p = &self.patterns[self.cur]
                while self.burst_left > 0 and self.clock_ns < t_ns:
                    if p.random:
                        self._random_fast(p, t_ns)
                    else:
                        if self.pending and (p.page_step > 1 or
                                             _span_uniform_node(self.machine, self.regions[p.region].v,
                                                                self.regions[p.region].li0,
                                                                self.regions[p.region].npages) < 0):
                            self._flush()       # it may fault and reclaim
                        self.seq_step(p, t_ns)
                if self.burst_left == 0:
                    self.cur = -1
        finally:
            self._flush()
        return 0

    cdef double _pattern_access_ns(self, MPattern *p, int64_t *counts,
                                   int64_t present) noexcept:
        """Mean cost of one of p's accesses over the present pages."""
        cdef const CostTable *ct = _ct(self, p)
        cdef double c = ct.compute_ns
        cdef int nd
        if present <= 0:
            nd = self.machine.first_touch_node()
            return c + ct.stall_ns[nd if nd >= 0 else 0]
        for nd in range(self.machine.nr_nodes):
            if counts[nd]:
                c += ct.stall_ns[nd] * counts[nd] / present
        return c

    cdef void _account_shares(self, MPattern *p, uint64_t n, int64_t *counts,
                              int64_t present) noexcept:
        """n accesses of p spread over the present pages, by node."""
        cdef const CostTable *ct = _ct(self, p)
        cdef MmData *mm = self.regions[p.region].v.mm
        cdef double share
        cdef int nd
        if n == 0 or present <= 0:
            return
        mm.compute_ns += n * ct.compute_ns
        for nd in range(self.machine.nr_nodes):
            if counts[nd] == present:
                mm.stall_ns[nd] += n * ct.stall_ns[nd]
                mm.node_accesses[nd] += n
            elif counts[nd]:
                share = <double>n * counts[nd] / present
                mm.stall_ns[nd] += share * ct.stall_ns[nd]
                mm.node_accesses[nd] += <uint64_t>(share + 0.5)

    cdef bint _aggregate(self, double t_ns) except -1:
        """Between bursts: if several whole bursts of the phase fit before
        t_ns and every region they use is present, draw how many bursts
        each pattern gets (masim picks each burst by weight: together, a
        multinomial draw) and do them at once.  False if not worth it."""
        cdef int first = self.phase_first[self.phase], cnt = self.phase_count[self.phase]
        cdef int i
        cdef MPattern *p
        cdef MRegion *reg
        cdef int64_t counts[MAX_NODES]
        cdef int64_t present
        cdef double c, per_burst, worst_ns = 0, worst_nominal = 0, code, budget, k_f
        cdef uint64_t K, left, k, visits, wleft, acc, r, j
        cdef uint64_t *kk
        if t_ns - self.clock_ns <= 0:
            return False
        for i in range(first, first + cnt):
            p = &self.patterns[i]
            reg = &self.regions[p.region]
            if p.weight == 0:
                continue
            if not p.random and p.page_step > 1:
                return False
            present = _region_present(self.machine, reg, counts)
            if present != reg.npages:
                return False
            c = self._pattern_access_ns(p, counts, present) * self.burst
            if c > worst_ns:
                worst_ns = c
            c = _nominal(self, p) * self.burst
            if c > worst_nominal:
                worst_nominal = c
        # (the last burst's code cost: touching the code now would count it
        # in the runtime before knowing whether the bursts go this way)
        code = self.code_est_ns
        # the most whole bursts that cannot overrun the window or the phase
        budget = t_ns - self.clock_ns - code
        k_f = floor(budget / (worst_ns + code))
        c = floor((self.phase_ns[self.phase] - self.phase_nominal_ns) / worst_nominal)
        if c < k_f:
            k_f = c
        if k_f < AGG_MIN_BURSTS:
            return False
        K = <uint64_t>k_f
        # the first touch may have faulted (or swapped) the pages in: the
        # second is what each further burst pays
        code = self.code_cost()
        self.clock_ns += code + self.code_cost() * (K - 1)
        self._account_code(K - 2)       # code_cost() made two of them
        self.nr_bursts += K
        kk = <uint64_t *>calloc(cnt, sizeof(uint64_t))
        if kk == NULL:
            raise MemoryError()
        if K <= AGG_PICKS_MAX:
            # masim's own picks, one random number per burst as pick_pattern
            # draws it: the same bursts as one at a time
            for j in range(K):
                r = sim_rng_below(&self.rng, self.phase_weight[self.phase])
                i = 0
                while i < cnt - 1 and r >= self.patterns[first + i].weight:
                    r -= self.patterns[first + i].weight
                    i += 1
                kk[i] += 1
        else:
            # so many that their split is one multinomial draw
            left = K
            wleft = self.phase_weight[self.phase]
            for i in range(cnt):
                p = &self.patterns[first + i]
                if left == 0 or wleft == 0:
                    break
                kk[i] = _binomial(&self.rng, left, <double>p.weight / wleft) \
                    if p.weight < wleft else left
                left -= kk[i]
                wleft -= p.weight
        for i in range(first, first + cnt):
            p = &self.patterns[i]
            k = kk[i - first]
            if k == 0:
                continue
            reg = &self.regions[p.region]
            present = _region_present(self.machine, reg, counts)
            acc = k * self.burst
            if p.random:
                self.pend_random[i] += acc
                self.pending = True
            else:
                visits = k * ((self.burst + p.per_page - 1) // p.per_page)
                _mark_visits(reg.v, reg.li0, reg.npages, p.offset, <int64_t>visits,
                             p.per_page, p.write)
                p.offset = <int64_t>((<uint64_t>p.offset + visits) % <uint64_t>reg.npages)
            self._account_shares(p, acc, counts, present)
            self.clock_ns += acc * self._pattern_access_ns(p, counts, present)
            self.phase_nominal_ns += acc * _nominal(self, p)
        free(kk)
        return True

    cdef int _random_fast(self, MPattern *p, double t_ns) except -1:
        """Some of a random burst: accesses to present pages are counted and
        left for _flush to draw; pages not present that the accesses hit
        (each with the same probability) are faulted or swapped in one by
        one, through touch_page."""
        cdef MRegion *reg = &self.regions[p.region]
        cdef VmaData *v = reg.v
        cdef const CostTable *ct = _ct(self, p)
        cdef int64_t P = reg.npages, absent, li
        cdef int64_t counts[MAX_NODES]
        cdef int64_t present = _region_present(self.machine, reg, counts)
        cdef uint64_t n = self.burst_left, fit, faulted = 0
        cdef double c = self._pattern_access_ns(p, counts, present), per, cost = 0, fault_ns
        cdef double pick
        cdef pb_sampler smp
        cdef uint64_t mask[CHUNK_WORDS]
        cdef int64_t ch, nxt, got
        cdef int nd, w
        cdef unsigned int words         # the words of mask with a pick
        absent = P - present
        per = c
        if absent:
            fault_ns = self.machine.swap_fault_ns if v.nr_swapped else self.machine.minor_fault_ns
            per = c + (<double>absent / P) * (fault_ns + c)
        if (t_ns - self.clock_ns) < per * n:
            fit = <uint64_t>ceil((t_ns - self.clock_ns) / per)
            n = fit if 1 <= fit < n else (1 if fit < 1 else n)
        if absent:
            self._flush()       # faults may reclaim: they see every access so far
            pick = 1.0 - exp(-(<double>n) / P)
            smp_init(&smp, &v.present, &v.young, NULL, v.vc_present, SMP_ABSENT,
                     reg.li0, reg.li0 + P, pick, &self.rng)
            if _sparse_draw(P, pick):
                smp_set_sparse(&smp)
            li = smp_next(&smp)
            while li >= 0 and faulted < n:
                # the picks of one chunk: plain first touches in one go
                ch = li >> CHUNK_SHIFT
                memset(mask, 0, sizeof(mask))
                words = 0
                nxt = li
                while nxt >= 0 and (nxt >> CHUNK_SHIFT) == ch:
                    mask[(nxt >> 6) & (CHUNK_WORDS - 1)] |= (<uint64_t>1) << (nxt & 63)
                    words |= 1u << ((nxt >> 6) & (CHUNK_WORDS - 1))
                    nxt = smp_next(&smp)
                got = self.machine.fault_mask(v, ch, mask, words, p.write)

                if got:
                    nd = self.machine.node_of_pfn(<int64_t>v.vc_pchunk[ch] << CHUNK_SHIFT)
                    cost += got * (self.machine.minor_fault_ns + ct.compute_ns + ct.stall_ns[nd])
                    v.mm.compute_ns += got * ct.compute_ns
                    v.mm.stall_ns[nd] += got * ct.stall_ns[nd]
                    v.mm.node_accesses[nd] += got
                    faulted += got
                else:
                    # the words with picks only, in address order (a thrashing
                    # chunk's burst usually picks one page of it)
                    while words:
                        w = _ctz(words)
                        words &= words - 1
                        while mask[w] and faulted < n:
                            cost += self.machine.touch_page(
                                v, (ch << CHUNK_SHIFT) + w * 64 + _ctz(mask[w]), 1, p.write, ct)
                            mask[w] &= mask[w] - 1
                            faulted += 1
                li = nxt
            if faulted > n:
                faulted = n
            self.machine.balance()      # kswapd's, not this process's, time
            present = _region_present(self.machine, reg, counts)
            c = self._pattern_access_ns(p, counts, present)
        self._account_shares(p, n - faulted, counts, present)
        cost += (n - faulted) * c
        self.pend_random[self.cur] += n
        self.pending = True
        self._progress(n, cost, _nominal(self, p))
        return 0

    cdef int _flush(self) except -1:
        """Draw the pending random accesses into the page bits: each page of
        the region not yet young (or dirty, for writes) is touched with
        probability 1 - exp(-n/P)."""
        cdef int k, n
        cdef MPattern *p
        cdef MRegion *reg
        cdef VmaData *v
        cdef pb_sampler smp
        cdef int64_t li, c
        cdef uint64_t P
        cdef double pick
        cdef bint sparse
        if not self.pending:
            return 0
        self.pending = False
        # every phase's patterns (counted in C: a flush comes with every fault batch)
        n = self.phase_first[self.nr_phases - 1] + self.phase_count[self.nr_phases - 1] \
            if self.nr_phases else 0
        for k in range(n):
            if not self.pend_random[k]:
                continue
            p = &self.patterns[k]
            reg = &self.regions[p.region]
            v = reg.v
            P = reg.npages
            pick = 1.0 - exp(-(<double>self.pend_random[k]) / P)
            smp_init(&smp, &v.present, &v.young, &v.dirty if p.write else NULL, NULL,
                     SMP_CLEAR, reg.li0, reg.li0 + P, pick, &self.rng)
            sparse = _sparse_draw(P, pick)
            self.pend_random[k] = 0
            if not sparse:
                # the pass over the words, with the picks set on the way
                smp_draw_clear(&smp, v.vc_huge)
                continue
            smp_set_sparse(&smp)
            while True:
                li = smp_next(&smp)
                if li < 0:
                    break
                c = li >> CHUNK_SHIFT
                if v.vc_huge[c]:
                    # one Accessed bit for the THP
                    pb_set_chunk(&v.young, c)
                    if p.write:
                        pb_set_chunk(&v.dirty, c)
                    smp_skip_chunk(&smp, li)
                    continue
                pb_set(&v.young, li)
                if p.write:
                    pb_set(&v.dirty, li)
                # as the pass over the words does on leaving a chunk
                pb_resummarize(&v.young, c)
                if p.write:
                    pb_resummarize(&v.dirty, c)
        return 0

    cdef int _run_exact(self, double t_ns) except -1:
        while not self.finished and self.clock_ns < t_ns:
            if self.cur < 0:
                # between bursts: is the phase over?  pick the next pattern
                while self.phase < self.nr_phases and \
                        self.phase_nominal_ns >= self.phase_ns[self.phase]:
                    self.phase += 1
                    self.phase_nominal_ns = 0
                if self.phase >= self.nr_phases:
                    self.finish()
                    return 0
                self.pick_pattern()
                self.touch_code()
            self.advance_burst(t_ns)
        return 0

    cdef void pick_pattern(self) noexcept:
        cdef uint64_t r = sim_rng_below(&self.rng, self.phase_weight[self.phase])
        cdef int i = self.phase_first[self.phase]
        cdef int end = i + self.phase_count[self.phase]
        while i < end:
            if r < self.patterns[i].weight:
                break
            r -= self.patterns[i].weight
            i += 1
        self.cur = i
        self.burst_left = self.burst
        self.nr_bursts += 1

    cdef void touch_code(self) except *:
        self.clock_ns += self.code_cost()

    cdef void _account_code(self, uint64_t n) noexcept:
        """n more touches of the loop's code and stack pages (present: the
        first touch faulted them in), in the process's runtime breakdown."""
        cdef VmaData *v
        cdef int64_t li, pfn
        cdef int nd, k
        if n == 0:
            return
        for k in range(2):
            v = self.text if k == 0 else self.stack
            li = v.first_li if k == 0 else v.end_li - 1
            pfn = vma_frame(v, li)
            if pfn < 0:
                continue
            nd = self.machine.node_of_pfn(pfn)
            v.mm.compute_ns += n * self.code_ct.compute_ns
            v.mm.stall_ns[nd] += n * self.code_ct.stall_ns[nd]
            v.mm.node_accesses[nd] += n

    cdef double code_cost(self) except -1.0:
        """The loop's own instructions and stack frame are touched every
        burst; returns what that costs."""
        cdef double cost
        cost = self.machine.touch_page(self.text, self.text.first_li, 1, False, &self.code_ct)
        cost += self.machine.touch_page(self.stack, self.stack.end_li - 1, 1, True, &self.code_ct)
        self.code_est_ns = cost
        return cost

    cdef int advance_burst(self, double t_ns) except -1:
        cdef MPattern *p = &self.patterns[self.cur]
        while self.burst_left > 0 and self.clock_ns < t_ns:
            if p.random:
                self.random_step(p, t_ns)
            else:
                self.seq_step(p, t_ns)
        if self.burst_left == 0:
            self.cur = -1
        return 0

    cdef int seq_step(self, MPattern *p, double t_ns) except -1:
        """Some of a sequential burst: page visits from the saved offset."""
        cdef MRegion *reg = &self.regions[p.region]
        cdef VmaData *v = reg.v
        cdef int64_t P = reg.npages, visits, f, done, piece, i
        cdef int node
        cdef double per_visit, cost
        cdef uint64_t accesses
        visits = <int64_t>((self.burst_left + p.per_page - 1) / p.per_page)
        if p.page_step > 1:
            # strides over 4 KiB skip pages: one visit at a time
            cost = self.machine.touch_page(v, reg.li0 + p.offset, 1, p.write, &p.ct)
            p.offset = (p.offset + p.page_step) % P
            self._progress(1, cost, p.nominal_ns)
            return 0
        node = _span_uniform_node(self.machine, v, reg.li0, P)
        if node >= 0:
            # every page present on one node: whole passes cost O(words)
            per_visit = p.per_page * (p.ct.compute_ns + p.ct.stall_ns[node])
            f = visits
            if (t_ns - self.clock_ns) < per_visit * visits:
                f = <int64_t>ceil((t_ns - self.clock_ns) / per_visit)
                if f < 1:
                    f = 1
                if f > visits:
                    f = visits
            _mark_visits(v, reg.li0, P, p.offset, f, p.per_page, p.write)
            accesses = _accesses_of(self, f, p.per_page)
            v.mm.compute_ns += accesses * p.ct.compute_ns
            v.mm.stall_ns[node] += accesses * p.ct.stall_ns[node]
            v.mm.node_accesses[node] += accesses
            p.offset = (p.offset + f) % P
            self._progress(accesses, f * per_visit, p.nominal_ns)
            return 0
        piece = _min64(visits, P - p.offset)
        cost = self.machine.touch_seq(v, reg.li0 + p.offset, piece, p.per_page, p.write,
                                      &p.ct, t_ns - self.clock_ns, &done)
        p.offset = (p.offset + done) % P
        self._progress(_accesses_of(self, done, p.per_page), cost, p.nominal_ns)
        return 0

    cdef int random_step(self, MPattern *p, double t_ns) except -1:
        """Some of a random burst."""
        if self.exact_accesses or self.regions[p.region].v.gt_counts != NULL:
            return _random_exact(self, p, t_ns)
        cdef MRegion *reg = &self.regions[p.region]
        cdef VmaData *v = reg.v
        cdef int64_t P = reg.npages, li
        cdef uint64_t n = self.burst_left, fit, i
        cdef int node = _span_uniform_node(self.machine, v, reg.li0, P)
        cdef double per_access, cost, share
        cdef int64_t counts[MAX_NODES]
        if node >= 0 and v.gt_counts == NULL:
            per_access = p.ct.compute_ns + p.ct.stall_ns[node]
            if (t_ns - self.clock_ns) < per_access * n:
                fit = <uint64_t>ceil((t_ns - self.clock_ns) / per_access)
                n = fit if 1 <= fit < n else (1 if fit < 1 else n)
            _mark_random(&self.rng, v, reg.li0, P, n, p.write)
            v.mm.compute_ns += n * p.ct.compute_ns
            v.mm.stall_ns[node] += n * p.ct.stall_ns[node]
            v.mm.node_accesses[node] += n
            self._progress(n, n * per_access, p.nominal_ns)
            return 0
        if v.gt_counts == NULL and self.machine.span_node_pages(v, reg.li0, reg.li0 + P, counts):
            # present on several nodes: each takes its share of the accesses
            per_access = p.ct.compute_ns
            for node in range(self.machine.nr_nodes):
                per_access += p.ct.stall_ns[node] * counts[node] / P
            if (t_ns - self.clock_ns) < per_access * n:
                fit = <uint64_t>ceil((t_ns - self.clock_ns) / per_access)
                n = fit if 1 <= fit < n else (1 if fit < 1 else n)
            _mark_random(&self.rng, v, reg.li0, P, n, p.write)
            v.mm.compute_ns += n * p.ct.compute_ns
            for node in range(self.machine.nr_nodes):
                if counts[node]:
                    share = <double>n * counts[node] / P
                    v.mm.stall_ns[node] += share * p.ct.stall_ns[node]
                    v.mm.node_accesses[node] += <uint64_t>(share + 0.5)
            self._progress(n, n * per_access, p.nominal_ns)
            return 0
        # faults pending (or exact counts wanted): access by access, a batch
        # at a time
        cost = 0
        i = 0
        while i < n and self.clock_ns + cost < t_ns and i < 4096:
            li = reg.li0 + <int64_t>sim_rng_below(&self.rng, P)
            cost += self.machine.touch_page(v, li, 1, p.write, &p.ct)
            i += 1
        self._progress(i, cost, p.nominal_ns)
        return 0

    cdef void _progress(self, uint64_t accesses, double cost, double nominal_ns) noexcept:
        if accesses > self.burst_left:
            accesses = self.burst_left
        self.burst_left -= accesses
        self.clock_ns += cost
        self.phase_nominal_ns += accesses * nominal_ns


cdef inline uint64_t _accesses_of(MasimWorkload w, int64_t visits, uint32_t per_page):
    cdef uint64_t a = <uint64_t>visits * per_page
    return a if a < w.burst_left else w.burst_left


cdef VmaData *_vma_of(AddressSpace mm, uint64_t addr) except NULL:
    cdef VmaData *v = mm_find_vma(mm.mm, addr)
    if v == NULL:
        raise ValueError("no mapping at %#x" % addr)
    return v


cdef int _span_uniform_node(Machine m, VmaData *v, int64_t li0, int64_t n) noexcept:
    """The node holding every page of [li0, li0+n) if all are present and
    chunk-mapped on one node; -1 otherwise."""
    cdef int64_t c, c_end, lo, hi
    cdef int node = -1, nd
    if li0 == v.first_li and n == v.end_li - v.first_li:
        return vma_uniform_node(v)
    if n > 64 * CHUNK_PAGES:
        return -1               # not worth scanning: take the general path
    c_end = (li0 + n - 1) >> CHUNK_SHIFT
    for c in range(li0 >> CHUNK_SHIFT, c_end + 1):
        if v.vc_ptes[c] != NULL or v.vc_pchunk[c] < 0:
            return -1
        lo = li0 if li0 > (c << CHUNK_SHIFT) else (c << CHUNK_SHIFT)
        hi = li0 + n if li0 + n < ((c + 1) << CHUNK_SHIFT) else ((c + 1) << CHUNK_SHIFT)
        if <int64_t>pb_count_range(&v.present, lo, hi) != hi - lo:
            return -1
        nd = m.node_of_pfn(<int64_t>v.vc_pchunk[c] << CHUNK_SHIFT)
        if node < 0:
            node = nd
        elif nd != node:
            return -1
    return node


cdef void _mark_visits(VmaData *v, int64_t li0, int64_t P, int64_t offset, int64_t f,
                       uint32_t per_page, bint write) noexcept:
    """Accessed/dirty bits and exact counts for f sequential page visits of
    the region [li0, li0+P) starting at offset, wrapping."""
    cdef int64_t full = f / P, rest = f % P, i, j
    if full:
        pb_set_range(&v.young, li0, li0 + P)
        if write:
            pb_set_range(&v.dirty, li0, li0 + P)
    else:
        if offset + rest <= P:
            pb_set_range(&v.young, li0 + offset, li0 + offset + rest)
            if write:
                pb_set_range(&v.dirty, li0 + offset, li0 + offset + rest)
        else:
            pb_set_range(&v.young, li0 + offset, li0 + P)
            pb_set_range(&v.young, li0, li0 + offset + rest - P)
            if write:
                pb_set_range(&v.dirty, li0 + offset, li0 + P)
                pb_set_range(&v.dirty, li0, li0 + offset + rest - P)
    _mark_huge_young(v, li0, P)
    if v.gt_counts != NULL:
        if full:
            # a page visited in each pass: one sampling interval, counted once
            gt_add_range(v, li0, li0 + P, full * per_page)
        if offset + rest <= P:
            gt_add_range(v, li0 + offset, li0 + offset + rest, per_page)
        else:
            gt_add_range(v, li0 + offset, li0 + P, per_page)
            gt_add_range(v, li0, li0 + offset + rest - P, per_page)


cdef void _mark_huge_young(VmaData *v, int64_t li0, int64_t P) noexcept:
    """A THP has one Accessed bit: a touch anywhere marks all of its pages."""
    cdef int64_t c
    cdef int64_t c_end = (li0 + P - 1) >> CHUNK_SHIFT
    if not v.nr_huge:
        return
    for c in range(li0 >> CHUNK_SHIFT, c_end + 1):
        if v.vc_huge[c] and pb_count_range(&v.young, c << CHUNK_SHIFT,
                                           (c + 1) << CHUNK_SHIFT):
            pb_set_chunk(&v.young, c)


cdef void _mark_random(sim_rng *rng, VmaData *v, int64_t li0, int64_t P, uint64_t n,
                       bint write) noexcept:
    """n uniformly random accesses to [li0, li0+P): each page is touched with
    probability 1 - exp(-n/P) (Poisson), independently.  The touched set is
    drawn by geometric skipping, so the cost is about min(n, untouched
    pages) instead of n."""
    cdef double p = 1.0 - exp(-(<double>n) / P), lq
    cdef int64_t pos, gap, prev
    if p <= 0:
        return
    if p < 0.5:
        # skip over untouched pages to each touched one
        lq = log(1.0 - p)
        pos = <int64_t>(log(1.0 - sim_rng_double(rng)) / lq)
        while pos < P:
            pb_set(&v.young, li0 + pos)
            if write:
                pb_set(&v.dirty, li0 + pos)
            pos += 1 + <int64_t>(log(1.0 - sim_rng_double(rng)) / lq)
    else:
        # touch runs between the (few) untouched pages
        prev = 0
        if p >= 1.0:
            pos = P
        else:
            lq = log(p)
            pos = <int64_t>(log(1.0 - sim_rng_double(rng)) / lq)
        while True:
            if pos > P:
                pos = P
            pb_set_range(&v.young, li0 + prev, li0 + pos)
            if write:
                pb_set_range(&v.dirty, li0 + prev, li0 + pos)
            if pos >= P:
                break
            prev = pos + 1
            pos = prev + <int64_t>(log(1.0 - sim_rng_double(rng)) / lq)
    _mark_huge_young(v, li0, P)


# The pattern's costs and nominal time per access (one place to follow the
# cost model).
cdef inline const CostTable *_ct(MasimWorkload w, MPattern *p) noexcept:
    return &p.ct


cdef inline double _nominal(MasimWorkload w, MPattern *p) noexcept:
    return p.nominal_ns


cdef int _random_exact(MasimWorkload w, MPattern *p, double t_ns) except -1:
    """Some of a random burst, access by access (exact_accesses, or exact
    per-page counts wanted): a present, chunk-mapped small page is marked
    in place, anything else goes through touch_page."""
    cdef MRegion *reg = &w.regions[p.region]
    cdef VmaData *v = reg.v
    cdef int64_t li, c, pc
    cdef uint64_t i = 0, n = w.burst_left
    cdef double cost = 0
    cdef const CostTable *ct = _ct(w, p)
    cdef Machine m = w.machine
    cdef uint64_t counts[MAX_NODES]
    cdef double per[MAX_NODES]
    cdef int nd
    for nd in range(MAX_NODES):
        counts[nd] = 0
        per[nd] = ct.compute_ns + ct.stall_ns[nd]
    while i < n and w.clock_ns + cost < t_ns:
        li = reg.li0 + <int64_t>sim_rng_below(&w.rng, reg.npages)
        c = li >> CHUNK_SHIFT
        pc = v.vc_pchunk[c]
        if pc >= 0 and v.vc_ptes[c] == NULL and not v.vc_huge[c] and pb_test(&v.present, li):
            pb_set(&v.young, li)
            if p.write:
                pb_set(&v.dirty, li)
            if v.gt_counts != NULL:
                # counts and the sampling interval's stamp, as every truth update
                gt_add_range(v, li, li + 1, 1)
            nd = m.node_of_pfn(pc << CHUNK_SHIFT)
            counts[nd] += 1
            cost += per[nd]
        else:
            cost += m.touch_page(v, li, 1, p.write, ct)
        i += 1
    for nd in range(m.nr_nodes):
        if counts[nd]:
            v.mm.compute_ns += counts[nd] * ct.compute_ns
            v.mm.stall_ns[nd] += counts[nd] * ct.stall_ns[nd]
            v.mm.node_accesses[nd] += counts[nd]
    w._progress(i, cost, _nominal(w, p))
    return 0


cdef int64_t _region_present(Machine m, MRegion *reg, int64_t *counts) noexcept:
    """Present pages of the region, and by node in counts[MAX_NODES]: O(1)
    for a region that is its whole VMA (every mmap'ed one), O(chunks)
    otherwise."""
    cdef VmaData *v = reg.v
    cdef int64_t c, a, b, j, nr, total = 0
    cdef int64_t lo = reg.li0, hi = reg.li0 + reg.npages
    cdef uint32_t *ptes
    if lo == v.first_li and hi == v.end_li:
        memcpy(counts, v.node_pages, MAX_NODES * sizeof(int64_t))
        return v.nr_present
    memset(counts, 0, MAX_NODES * sizeof(int64_t))
    for c in range(lo >> CHUNK_SHIFT, ((hi - 1) >> CHUNK_SHIFT) + 1):
        a = lo if lo > (c << CHUNK_SHIFT) else (c << CHUNK_SHIFT)
        b = hi if hi < ((c + 1) << CHUNK_SHIFT) else ((c + 1) << CHUNK_SHIFT)
        nr = pb_count_range(&v.present, a, b)
        if nr == 0:
            continue
        total += nr
        ptes = v.vc_ptes[c]
        if ptes == NULL:
            counts[m.node_of_pfn(<int64_t>v.vc_pchunk[c] << CHUNK_SHIFT)] += nr
        else:
            for j in range(a, b):
                if pb_test(&v.present, j):
                    counts[m.node_of_pfn(ptes[j & (CHUNK_PAGES - 1)])] += 1
    return total


cdef uint64_t _binomial(sim_rng *rng, uint64_t n, double p) noexcept:
    """A Binomial(n, p) draw: by geometric gaps when few successes (or
    failures) are expected, else by the normal approximation."""
    cdef double q, lq, z, u1
    cdef uint64_t k = 0, pos
    if p <= 0 or n == 0:
        return 0
    if p >= 1:
        return n
    if p > 0.5:
        return n - _binomial(rng, n, 1.0 - p)
    if n * p < 32:
        lq = log(1.0 - p)
        z = log(1.0 - sim_rng_double(rng)) / lq
        while z < n:
            k += 1
            z += 1.0 + log(1.0 - sim_rng_double(rng)) / lq
        return k
    u1 = sim_rng_double(rng)
    z = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * sim_rng_double(rng))
    q = floor(n * p + z * sqrt(n * p * (1.0 - p)) + 0.5)
    if q < 0:
        return 0
    if q > n:
        return n
    return <uint64_t>q

