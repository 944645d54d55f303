"""Typed surface of damo_engine.workloads."""
from typing import List, Optional, Tuple, Union

from damo_engine.masim import MasimConfig
from damo_engine.memory import AddressSpace, Machine

MASIM_BURST: int
DEFAULT_ACCESS_RATE: float
DEFAULT_RANDOM_ACCESS_RATE: float

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
    access_rate: float
    random_access_rate: float
    burst: int
    phase: int
    nr_bursts: int
    def __init__(self, config: Union[str, MasimConfig], *, access_rate: float = ...,
                 random_access_rate: float = ..., burst: int = ...,
                 name: Optional[str] = ...) -> None: ...
    def attach(self, machine: Machine, seed: int = ...,
               track_ground_truth: bool = ...) -> int: ...
    @property
    def phase_name(self) -> Optional[str]: ...
    def region_addresses(self) -> List[Tuple[str, int, int]]: ...
