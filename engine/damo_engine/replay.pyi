"""Typed surface of damo_engine.replay."""
from typing import Any, List, Optional, Sequence, Tuple

from damo_engine.memory import Machine
from damo_engine.workloads import Workload

class RealBuffer:
    size: int
    sink: int
    def __init__(self, size: int) -> None: ...
    def touch(self, offsets: Any, npages: Any, samples: Any = ..., slice: int = ...) -> int: ...
    def play_snapshot(self, offsets: Any, npages: Any, samples: Any, nr_slices: int,
                      slice_s: float, start_s: float, paced: bool) -> Tuple[int, float]: ...
    @property
    def resident_pages(self) -> int: ...

def monotonic() -> float: ...

class ReplayWorkload(Workload):
    nr_snapshots: int
    nr_regions: int
    ranges: List[Tuple[int, int]]
    access_rate: Optional[float]
    snapshot: int
    slice_idx: int
    lag_ns: float
    busy_ns: float
    nominal_ns: float
    pages_touched: int
    def __init__(self, ranges: Sequence[Tuple[int, int]], snap_start_ns: Any, snap_end_ns: Any,
                 region_offsets: Any, starts: Any, ends: Any, samples: Any, nr_slices: Any, *,
                 access_rate: Optional[float] = ..., name: str = ...) -> None: ...
    @property
    def expected_ns(self) -> float: ...
    @property
    def work_done(self) -> float: ...
    @property
    def footprint_bytes(self) -> int: ...
    def attach(self, machine: Machine, seed: int = ...,
               track_ground_truth: bool = ...) -> int: ...
