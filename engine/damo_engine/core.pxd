# DAMON's monitoring core and DAMOS, after the kernel's mm/damon/core.c.
#
# The core knows nothing about address spaces: it keeps targets, regions and
# schemes, runs the kdamond loop (sampling, aggregation, merge/split, interval
# tuning, scheme application) and asks an Operations set (ops.pyx: vaddr,
# fvaddr, paddr) to pick sampling addresses, check accesses and apply actions.
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from damo_engine.memory cimport sim_rng

cdef enum:
    DAMOS_MAX_SCORE = 99
    DAMON_MAX_PROBES = 4            # include/linux/damon.h

cdef struct Region:
    uint64_t start
    uint64_t end
    uint64_t sampling_addr
    uint32_t nr_accesses            # samples found accessed in this window so far
    uint32_t last_nr_accesses       # nr_accesses of the last complete window
    uint32_t age
    # data attributes monitoring: per probe, the samples that passed the
    # probe's filters in this window and in the last one (unsigned char in
    # the kernel: they wrap at 256)
    uint8_t probe_hits[DAMON_MAX_PROBES]
    uint8_t last_probe_hits[DAMON_MAX_PROBES]
    Region *prev
    Region *next

cdef struct Attrs:
    uint64_t sample_interval        # us
    uint64_t aggr_interval          # us
    uint64_t ops_update_interval    # us
    uint64_t min_nr_regions
    uint64_t max_nr_regions
    uint64_t aggr_samples           # aggr / sample, kept across interval tuning
    uint64_t goal_access_bp         # intervals_goal; goal_aggrs == 0 disables tuning
    uint64_t goal_aggrs
    uint64_t goal_min_sample_us
    uint64_t goal_max_sample_us

cpdef enum DamosAction:
    WILLNEED = 0
    COLD = 1
    PAGEOUT = 2
    HUGEPAGE = 3
    NOHUGEPAGE = 4
    COLLAPSE = 5
    LRU_PRIO = 6
    LRU_DEPRIO = 7
    MIGRATE_HOT = 8
    MIGRATE_COLD = 9
    STAT = 10

cpdef enum FilterType:
    FILTER_ANON = 0
    FILTER_ACTIVE = 1
    FILTER_MEMCG = 2
    FILTER_YOUNG = 3
    FILTER_HUGEPAGE_SIZE = 4
    FILTER_UNMAPPED = 5
    FILTER_ADDR = 6
    FILTER_TARGET = 7

cpdef enum DamonFilterType:
    # enum damon_filter_type: the filters of a data attributes probe
    DAMON_FILTER_ANON = 0
    DAMON_FILTER_MEMCG = 1

cpdef enum GoalMetric:
    USER_INPUT = 0
    SOME_MEM_PSI_US = 1
    NODE_MEM_USED_BP = 2
    NODE_MEM_FREE_BP = 3
    NODE_MEMCG_USED_BP = 4
    NODE_MEMCG_FREE_BP = 5
    ACTIVE_MEM_BP = 6
    INACTIVE_MEM_BP = 7
    NODE_ELIGIBLE_MEM_BP = 8

cpdef enum WmarkMetric:
    WMARK_NONE = 0
    WMARK_FREE_MEM_RATE = 1

cpdef enum GoalTuner:
    TUNER_CONSIST = 0
    TUNER_TEMPORAL = 1


cdef Region *region_new(uint64_t start, uint64_t end) except NULL
cdef uint32_t nr_samples_per_aggr(const Attrs *a) noexcept nogil
cdef uint64_t feed_loop_next_input(uint64_t last_input, uint64_t score) noexcept nogil


cdef inline void update_region_access_rate(Region *r, bint accessed) noexcept nogil:
    """damon_update_region_access_rate(): one more sample found accessed."""
    if accessed:
        r.nr_accesses += 1


cdef class Target:
    cdef Region *head
    cdef Region *tail
    cdef readonly uint32_t nr_regions
    cdef public object pid              # the process (vaddr, fvaddr) or None (paddr)
    cdef public object obj              # what the ops set resolved pid to
    cdef list init_ranges               # user-given monitoring ranges
    # the regions in list order, for the per-sample loops: walking an array
    # lets the CPU load many regions at once where the list's next pointers
    # make every load wait for the one before; rebuilt after the list changes
    cdef Region **rarr
    cdef uint32_t rarr_cap
    cdef bint rarr_valid

    cdef void add_region(self, Region *r) noexcept
    cdef void insert_region(self, Region *r, Region *prev, Region *next) noexcept
    cdef void destroy_region(self, Region *r) noexcept
    cdef void destroy_all(self) noexcept
    cdef int split_region_at(self, Region *r, uint64_t sz_r) except -1
    cdef void merge_two_regions(self, Region *l, Region *r) noexcept
    cdef void merge_regions_of(self, uint32_t thres, uint64_t sz_limit, bint count_age,
                               const uint32_t *weights, int nr_weights) noexcept
    cdef int split_regions_of(self, int nr_subs, uint64_t min_region, sim_rng *rng) except -1
    cdef int set_regions(self, list ranges, uint64_t min_region) except -1
    cdef Region *_nth(self, int idx) except NULL
    cdef Region **regions_array(self) except NULL


cdef class Filter:
    cdef public int type
    cdef public bint matching
    cdef public bint allow
    cdef public uint64_t addr_start, addr_end   # addr
    cdef public int target_idx                  # target
    cdef public object memcg                    # memcg path (str) or None
    cdef public uint64_t sz_min, sz_max         # hugepage_size


cdef class DamonFilter:
    """A filter of a data attributes probe (struct damon_filter)."""
    cdef public int type
    cdef public bint matching
    cdef public bint allow
    cdef public object memcg                    # memcg id (int) or None


cdef class Probe:
    """A data attributes probe (struct damon_probe): its filters decide
    whether a sample counts as a hit; a non-zero weight on any probe turns
    the context into attributes-only monitoring."""
    cdef public uint32_t weight
    cdef public list filters                    # [DamonFilter], in order


cdef class QuotaGoal:
    cdef public int metric
    cdef public uint64_t target_value
    cdef public uint64_t current_value
    cdef public uint64_t last_psi_total
    cdef public int nid
    cdef public object memcg


cdef class Scheme:
    # access pattern (inclusive ranges)
    cdef public uint64_t min_sz_region, max_sz_region
    cdef public uint32_t min_nr_accesses, max_nr_accesses
    cdef public uint32_t min_age_region, max_age_region
    cdef public int action
    cdef public uint64_t apply_interval_us
    cdef public int target_nid
    cdef public list migrate_dests             # [(node id, weight)]
    # quota
    cdef public uint64_t quota_ms, quota_sz, quota_reset_interval_ms
    cdef public uint32_t weight_sz, weight_nr_accesses, weight_age
    cdef public list goals
    cdef public int goal_tuner
    cdef public uint32_t fail_charge_num, fail_charge_denom     # charge ratio of failed bytes
    cdef readonly uint64_t esz, esz_bp, total_charged_sz, total_charged_ns, charged_sz
    cdef readonly uint64_t charged_from
    cdef Target charge_target_from
    cdef uint64_t charge_addr_from
    cdef readonly uint32_t min_score
    # watermarks (per mille of free memory; interval in us)
    cdef public int wmarks_metric
    cdef public uint64_t wmarks_interval, wmarks_high, wmarks_mid, wmarks_low
    cdef public bint wmarks_activated
    # filters: core (addr, target) and ops (the rest), each in installation order
    cdef public list core_filters
    cdef public list ops_filters
    cdef public bint core_filters_default_reject
    cdef public bint ops_filters_default_reject
    cdef public bint core_filters_allowed
    # stats
    cdef public uint64_t nr_tried, sz_tried, nr_applied, sz_applied
    cdef public uint64_t sz_ops_filter_passed, qt_exceeds
    cdef public uint64_t nr_snapshots, max_nr_snapshots     # [newer] apply intervals done, cap
    cdef uint64_t next_apply_sis
    # (sim) damon_set_attrs() re-arms next_apply_sis: how often it postponed
    # a pending apply, and how many times in a row since the last one
    cdef readonly uint64_t nr_apply_postponed, apply_postponed_in_row
    # (sim) regions whose madvise()-based action met an unmapped gap inside
    # them: madvise() advised the mapped parts, then failed with ENOMEM, so
    # DAMON counted none of the region applied (damos_madvise())
    cdef readonly uint64_t nr_madvise_holes, sz_madvise_holes
    cdef public object last_applied             # ops-private (paddr folio dedup)
    cdef bint walk_completed
    cdef public object tried_regions_sink       # callable(scheme, regions) or None;
                                                # regions: [start, end, nr_accesses, age,
                                                # sz_filter_passed, Target, probe hits]
    cdef list tried_buf

    cdef void set_filters_default_reject(self)


cdef class Context


cdef class Operations:
    """An operation set (the kernel's struct damon_operations)."""
    cdef readonly str name
    cdef void init(self, Context ctx) except *
    cdef void update(self, Context ctx) except *
    cdef void prepare_access_checks(self, Context ctx) except *
    cdef uint32_t check_accesses(self, Context ctx) except? 0xFFFFFFFF
    cdef bint target_valid(self, Target t) except -1
    cdef bint has_target_valid(self)
    cdef bint has_scheme_score(self)
    cdef int get_scheme_score(self, Context ctx, Target t, Region *r, Scheme s) except -1
    cdef uint64_t apply_scheme(self, Context ctx, Target t, Region *r, Scheme s,
                               uint64_t *sz_filter_passed) except? 0xFFFFFFFFFFFFFFFF
    cdef bint is_paddr(self)
    cdef bint has_apply_probes(self)
    cdef uint32_t apply_probes(self, Context ctx, bint set_samples,
                               bint return_max_wsum) except? 0xFFFFFFFF
    cdef int eligible_bytes(self, Context ctx, Region *r, int nid, uint64_t *node_bytes,
                            uint64_t *total) except -1
    cdef void cleanup(self, Context ctx) except *


cdef class KernelState:
    """Kernel-wide state shared by every context of one simulated machine:
    function-local statics of the kernel code."""
    cdef public uint64_t last_nr_regions        # kdamond_split_regions()
    cdef public uint64_t split_rotation         # damon_split_some_regions()
    cdef uint64_t va_last_addr, va_last_folio_sz    # __damon_va_check_access()
    cdef bint va_last_accessed
    cdef uint64_t pa_last_addr, pa_last_folio_sz    # __damon_pa_check_access()
    cdef bint pa_last_accessed
    cdef public object machine                  # the simulated Machine
    cdef public dict processes                  # pid -> AddressSpace
    cdef public double clock_ns                 # simulated time, for damos quotas
    cdef public uint64_t psi_some_us            # memory pressure stall total


cdef class Context:
    cdef Attrs attrs
    cdef public uint64_t min_region_sz
    cdef public uint64_t addr_unit              # bytes per core address unit (paddr)
    cdef public bint pause                      # ctx->pause: sampling stops after kdamond_call()
    cdef readonly uint64_t passed_sample_intervals
    cdef readonly uint64_t next_aggregation_sis
    cdef readonly uint64_t next_ops_update_sis
    cdef readonly uint64_t next_intervals_tune_sis
    cdef public list targets
    cdef public list schemes
    cdef public list probes                     # [Probe], at most DAMON_MAX_PROBES
    cdef public Operations ops
    cdef sim_rng rng
    cdef public KernelState kstate
    cdef public object on_aggregated            # callable(ctx, end_ns, snapshot) or None
    cdef list call_requests                     # damon_call(): fns run in the loop
    cdef public object walk_control             # damos_walk(): (walk_fn, done_fn) or None
    cdef public bint walk_control_obsolete      # the kdamond has exited: no more walks
    # the kdamond loop as a resumable state machine
    cdef readonly int state
    cdef readonly int64_t next_event_ns
    cdef readonly int64_t last_aggregation_ns
    cdef readonly int64_t started_ns
    cdef bint stop_requested
    cdef uint64_t sz_limit
    cdef uint64_t snap_next_aggregation_sis, snap_next_ops_update_sis, snap_sample_interval
    cdef bint snap_access_check_disabled        # probe weights set at the loop top
    cdef uint32_t max_nr_accesses_seen
    cdef readonly uint64_t nr_access_checks     # the monitor's own work
    cdef public uint64_t nr_probe_checks        # folios apply_probes() looked at
    cdef readonly uint64_t nr_aggregations
    cdef uint64_t *score_hist
    cdef public double apply_ns                 # simulated time ops spent applying actions
    cdef public double total_apply_ns           # ... over the whole run
    cdef public double access_check_ns          # kdamond CPU time of one access check (sim)
    cdef readonly double total_work_ns          # checks and DAMOS work: the kdamond's CPU
    cdef readonly int64_t busy_until_ns         # the work in progress ends then

    cdef int set_attrs_struct(self, Attrs *a) except -1
    cdef void update_monitoring_results(self, Attrs *new_attrs, bint aggregating) noexcept
    cdef uint64_t region_sz_limit(self) noexcept
    cdef uint64_t apply_min_nr_regions(self) except? 0
    cdef uint32_t nr_accesses_mvsum(self, const Region *r) noexcept
    cdef uint8_t probe_hits_mvsum(self, int probe_idx, const Region *r) noexcept
    cdef uint32_t probe_hits_wsum(self, const Region *r, bint last) noexcept
    cdef bint has_probe_weights(self) noexcept
    cdef void merge_regions(self, uint32_t threshold, uint64_t sz_limit) noexcept
    cdef int split_some_regions(self, uint64_t split_step) except -1
    cdef int split_regions(self) except -1
    cdef void reset_aggregated(self, int64_t now_ns) except *
    cdef void tune_intervals(self) except *
    cdef bint need_stop(self) except -1
    cdef uint64_t wait_activation_us(self) except? 0xFFFFFFFFFFFFFFFF
    cdef void kdamond_call(self) except *
    cdef void init_ctx(self) noexcept
    cdef int64_t step(self, int64_t now_ns) except? -2
    cdef int64_t _wait_or_prepare(self, int64_t now_ns) except? -2
    cdef int64_t _stop(self) except? -2
    cdef bint _after_sampling(self, int64_t now_ns) except -1
    cdef double _after_call(self, int64_t now_ns) except? -1.0
    cdef void walk_cancel(self)
    cdef void _set_next_apply_sis(self, Scheme s)
    # DAMOS
    cdef void apply_schemes(self) except *
    cdef void apply_target(self, Target t, uint64_t max_region_sz) except *
    cdef bint pattern_matches(self, Scheme s, const Region *r) noexcept
    cdef bint valid_target(self, Target t, Region *r, Scheme s) except -1
    cdef void adjust_quota(self, Scheme s) except *
    cdef void set_effective_quota(self, Scheme s) except *
    cdef uint64_t quota_score(self, Scheme s) except? 0xFFFFFFFFFFFFFFFF
    cdef void _set_goal_current_value(self, Scheme s, QuotaGoal g) except *
    cdef uint64_t node_eligible_mem_bp(self, Scheme s, int nid) except? 0xFFFFFFFFFFFFFFFF
    cdef bint skip_charged_region(self, Target t, Region *r, Scheme s) except -1
    cdef bint filter_out(self, Target t, Region *r, Scheme s) except -1
    cdef bint filter_match(self, Target t, Region *r, Filter f) except -1
    cdef void apply_scheme(self, Target t, Region *r, Scheme s) except *
    cdef void do_apply_schemes(self, Target t, Region *r) except *
    cdef void walk_call_walk(self, Target t, Region *r, Scheme s, uint64_t sz_filter_passed)
    cdef void walk_complete(self, Scheme s)
    cdef uint64_t wmark_wait_us(self, Scheme s) except? 0xFFFFFFFFFFFFFFFF
