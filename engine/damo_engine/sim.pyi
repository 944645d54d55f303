"""Typed surface of damo_engine.sim."""
from typing import Callable, List, NamedTuple, Optional, Tuple

from damo_engine.core import Context, KernelState
from damo_engine.memory import AddressSpace, Machine
from damo_engine.workloads import Workload

class TargetSnapshot(NamedTuple):
    target_idx: int
    pid: Optional[int]
    starts: object          # numpy uint64 arrays
    ends: object
    nr_accesses: object     # numpy uint32
    ages: object            # numpy uint32
    ground_truth: Optional[List[Tuple[int, object]]]          # accesses per page
    ground_truth_samples: Optional[List[Tuple[int, object]]] = ...  # sampling intervals per page
    probe_hits: object = ...    # numpy uint8, regions x probes, or None

class Snapshot(NamedTuple):
    kdamond_idx: int
    context_idx: int
    start_ns: int
    end_ns: int
    sample_us: int
    aggr_us: int
    targets: List[TargetSnapshot]

def derive_seed(seed: int, *keys: int) -> int: ...

class Simulation:
    machine: Machine
    kstate: KernelState
    workloads: List[Workload]
    kdamonds: List[List[Context]]
    now_ns: int
    seed: int
    on_snapshot: Optional[Callable[[Snapshot], None]]
    ground_truth_snapshots: bool    # False: snapshots leave ground_truth* None (read it
                                    # with AddressSpace.ground_truth_pages())
    def __init__(self, machine: Machine, seed: int = ...) -> None: ...
    def add_workload(self, w: Workload, track_ground_truth: bool = ...) -> int: ...
    def add_kdamond(self, contexts: List[Context]) -> int: ...
    def process(self, pid: int) -> Optional[AddressSpace]: ...
    @property
    def running(self) -> bool: ...
    def run(self, duration_ns: Optional[float] = ..., *, stop_with_workloads: bool = ...,
            on_progress: Optional[Callable[[int], None]] = ...,
            progress_every_ns: int = ...) -> int: ...
    def stop(self) -> None: ...
