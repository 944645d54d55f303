# Workloads: programs that access the simulated memory as simulated time
# passes.  The simulation advances each one to the time of the next DAMON
# event with run_until().
from libc.stdint cimport uint32_t, uint64_t, int64_t
from damo_engine.memory cimport AddressSpace, Machine, VmaData, CostTable, sim_rng

cdef class Workload:
    cdef public str name
    cdef public double clock_ns         # this process's simulated time
    cdef public bint finished
    cdef public AddressSpace mm
    cdef public Machine machine
    cdef sim_rng rng
    cdef int run_until(self, double t_ns) except -1
    cdef void finish(self) except *


cdef struct MRegion:
    VmaData *v
    int64_t li0                 # first page of the region, in v's local index
    int64_t npages


cdef struct MPattern:
    int region
    bint random
    uint64_t stride
    uint64_t weight
    bint write
    int64_t offset              # sequential position: page within the region
    uint32_t per_page           # accesses per page visit (stride <= 4 KiB)
    int64_t page_step           # pages between visits (stride > 4 KiB)
    int kind                    # AK_* of memory.pxd
    CostTable ct                # per-access costs by node
    double nominal_ns           # per-access time that defines the phase's work


cdef class MasimWorkload(Workload):
    cdef readonly object config
    cdef readonly object access_rate            # sequential accesses per ms, or None
    cdef readonly object random_access_rate     # random accesses per ms, or None
    cdef readonly uint32_t burst                # accesses per pattern pick
    cdef MRegion *regions
    cdef int nr_regions
    cdef MPattern *patterns
    cdef int *phase_first
    cdef int *phase_count
    cdef uint64_t *phase_weight
    cdef double *phase_ns
    cdef int nr_phases
    cdef readonly int phase                     # current phase index
    cdef double phase_nominal_ns                # progress in the phase at nominal speed
    cdef int cur                                # pattern of the burst in flight, or -1
    cdef uint64_t burst_left
    cdef CostTable code_ct                      # the loop's own code and stack
    cdef VmaData *text
    cdef VmaData *stack
    cdef readonly uint64_t nr_bursts
    # fast path (not exact_accesses): random accesses made but not yet drawn
    # into the page bits, per pattern; drawn before anyone reads the bits
    cdef readonly bint exact_accesses
    cdef uint64_t *pend_random
    cdef bint pending
    cdef double code_est_ns                     # the last burst's code and stack touches
    cdef int _run_exact(self, double t_ns) except -1
    cdef int _run_fast(self, double t_ns) except -1
    cdef bint _aggregate(self, double t_ns) except -1
    cdef int _random_fast(self, MPattern *p, double t_ns) except -1
    cdef int _flush(self) except -1
    cdef double _pattern_access_ns(self, MPattern *p, int64_t *counts, int64_t present) noexcept
    cdef void _account_shares(self, MPattern *p, uint64_t n, int64_t *counts,
                              int64_t present) noexcept
    cdef void pick_pattern(self) noexcept
    cdef void _pattern_cost(self, MPattern *p, double region_bytes) except *
    cdef void touch_code(self) except *
    cdef double code_cost(self) except -1.0
    cdef void _account_code(self, uint64_t n) noexcept
    cdef void _progress(self, uint64_t accesses, double cost, double nominal_ns) noexcept
    cdef int advance_burst(self, double t_ns) except -1
    cdef int seq_step(self, MPattern *p, double t_ns) except -1
    cdef int random_step(self, MPattern *p, double t_ns) except -1
