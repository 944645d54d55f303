"""Typed surface of damo_engine.core (DAMON's monitoring core and DAMOS)."""
from typing import Callable, List, Optional, Sequence, Tuple

RegionTuple = Tuple[int, int, int, int, int, int]  # start, end, nr, nr_bp, last_nr, age

class Target:
    pid: Optional[int]
    obj: object
    nr_regions: int
    def __init__(self, pid: Optional[int] = ...,
                 regions: Optional[Sequence[Tuple[int, int]]] = ...) -> None: ...
    @property
    def init_regions(self) -> List[Tuple[int, int]]: ...
    def regions(self) -> List[RegionTuple]: ...
    def ranges(self) -> List[Tuple[int, int]]: ...
    def append_region(self, start: int, end: int, nr_accesses: int = ...,
                      nr_accesses_bp: Optional[int] = ..., last_nr_accesses: int = ...,
                      age: int = ...) -> None: ...
    def split_at(self, idx: int, sz_r: int) -> None: ...
    def merge_pair(self, idx: int) -> None: ...
    def merge(self, thres: int, sz_limit: int) -> None: ...
    def split(self, nr_subs: int, min_region: int = ..., seed: int = ...) -> None: ...
    def set_ranges(self, ranges: Sequence[Tuple[int, int]], min_region: int = ...) -> None: ...
    def reset_aggregated(self) -> None: ...
    def __len__(self) -> int: ...

class Filter:
    type: int
    matching: bool
    allow: bool
    addr_start: int
    addr_end: int
    target_idx: int
    memcg: object
    sz_min: int
    sz_max: int
    def __init__(self, type: object, matching: bool = ..., allow: bool = ...,
                 addr_range: Optional[Tuple[int, int]] = ..., target_idx: int = ...,
                 memcg: object = ..., hugepage_size: Optional[Tuple[int, int]] = ...) -> None: ...
    @property
    def type_name(self) -> str: ...
    @property
    def for_ops(self) -> bool: ...

class QuotaGoal:
    metric: int
    target_value: int
    current_value: int
    last_psi_total: int
    nid: int
    memcg: object
    def __init__(self, metric: object, target_value: int, current_value: int = ...,
                 nid: int = ..., memcg: object = ...) -> None: ...
    @property
    def metric_name(self) -> str: ...

class Scheme:
    action: int
    apply_interval_us: int
    target_nid: int
    migrate_dests: List[Tuple[int, int]]
    quota_ms: int
    quota_sz: int
    quota_reset_interval_ms: int
    weight_sz: int
    weight_nr_accesses: int
    weight_age: int
    goals: List[QuotaGoal]
    core_filters: List[Filter]
    ops_filters: List[Filter]
    nr_tried: int
    sz_tried: int
    nr_applied: int
    sz_applied: int
    sz_ops_filter_passed: int
    qt_exceeds: int
    tried_regions_sink: Optional[Callable[["Scheme", list], None]]
    def __init__(self, action: object = ..., **kwargs: object) -> None: ...
    @property
    def action_name(self) -> str: ...
    @property
    def filters(self) -> List[Filter]: ...
    def stats(self) -> dict: ...
    def quota_state(self) -> dict: ...

class Operations:
    name: str
    def __init__(self, name: str = ...) -> None: ...

class KernelState:
    machine: object
    processes: dict
    last_nr_regions: int
    clock_ns: float
    psi_some_us: int
    def __init__(self, machine: object = ...) -> None: ...
    @property
    def jiffies(self) -> int: ...

class Context:
    min_region_sz: int
    passed_sample_intervals: int
    next_aggregation_sis: int
    next_ops_update_sis: int
    next_intervals_tune_sis: int
    targets: List[Target]
    schemes: List[Scheme]
    ops: Operations
    kstate: KernelState
    on_aggregated: Optional[Callable[..., None]]
    state: int
    nr_access_checks: int
    nr_aggregations: int
    apply_ns: float
    def __init__(self, ops: Optional[Operations] = ..., *, sample_us: int = ...,
                 aggr_us: int = ..., update_us: int = ..., min_nr_regions: int = ...,
                 max_nr_regions: int = ...,
                 intervals_goal: Optional[Tuple[int, int, int, int]] = ...,
                 seed: int = ..., min_region_sz: int = ...,
                 kstate: Optional[KernelState] = ...) -> None: ...
    def set_attrs(self, sample_us: int, aggr_us: int, update_us: int, min_nr_regions: int,
                  max_nr_regions: int,
                  intervals_goal: Optional[Tuple[int, int, int, int]] = ...) -> None: ...
    @property
    def sample_us(self) -> int: ...
    @property
    def aggr_us(self) -> int: ...
    @property
    def update_us(self) -> int: ...
    @property
    def nr_regions_range(self) -> Tuple[int, int]: ...
    @property
    def intervals_goal(self) -> Optional[Tuple[int, int, int, int]]: ...
    @property
    def aggr_samples(self) -> int: ...
    @property
    def max_nr_accesses(self) -> int: ...
    @property
    def state_name(self) -> str: ...
    @property
    def running(self) -> bool: ...
    def add_target(self, t: Target) -> Target: ...
    def add_scheme(self, s: Scheme) -> Scheme: ...
    def call(self, fn: Callable[["Context"], object]) -> None: ...
    def request_stop(self) -> None: ...
    def seed_rng(self, seed: int) -> None: ...

def mvsum(cur: int, last: int, left_window_bp: int) -> int: ...
def nr_accesses_mvsum(passed: int, next_aggregation: int, nr: int, last_nr: int,
                      aggr_samples: int) -> int: ...
def apply_min_nr_regions(t: Target, min_region_sz: int, min_nr_regions: int) -> int: ...
