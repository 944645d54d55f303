"""Typed surface of damo_engine.workloads."""
from typing import List, Optional, Tuple, Union

from damo_engine.masim import MasimConfig
from damo_engine.memory import AddressSpace, Machine

MASIM_BURST: int

class Workload:
    name: str
    clock_ns: float
    finished: bool
    mm: Optional[AddressSpace]
    machine: Optional[Machine]
    def advance(self, t_ns: float) -> None: ...
    @property
    def pid(self) -> Optional[int]: ...

class ProcessLayout:
    def __init__(self, mm: AddressSpace) -> None: ...
    def malloc(self, size: int) -> int: ...

class MasimWorkload(Workload):
    config: MasimConfig
    exact_accesses: bool
    access_rate: Optional[float]
    random_access_rate: Optional[float]
    burst: int
    phase: int
    nr_bursts: int
    def __init__(self, config: Union[str, MasimConfig], *,
                 access_rate: Optional[float] = ...,
                 random_access_rate: Optional[float] = ..., burst: int = ...,
                 name: Optional[str] = ..., exact_accesses: bool = ...) -> None: ...
    def pattern_costs(self) -> List[Tuple[str, float, List[float], float]]: ...
    def attach(self, machine: Machine, seed: int = ...,
               track_ground_truth: bool = ...) -> int: ...
    @property
    def phase_name(self) -> Optional[str]: ...
    @property
    def work_done(self) -> float: ...
    def region_addresses(self) -> List[Tuple[str, int, int]]: ...
