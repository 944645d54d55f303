"""Typed surface of damo_engine.traces."""
from typing import Any, Callable, List, Optional, Tuple, Union

import numpy as np

from damo_engine.memory import Machine
from damo_engine.workloads import Workload

KIND_LOAD: int
KIND_STORE: int
KIND_MODIFY: int
KIND_NAMES: Tuple[str, str, str]
DEFAULT_BATCH: int

class AccessBatch:
    n: int
    capacity: int
    def __init__(self, capacity: int = ...) -> None: ...
    def __len__(self) -> int: ...
    def set(self, icount: Any, addr: Any, kind: Any, ip: Any = ...) -> None: ...
    def icount_range(self) -> Tuple[int, int]: ...
    def arrays(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...

def kind_bytes(kinds: Any, sizes: Any) -> np.ndarray: ...

class LackeyParser:
    icount: int
    lines: int
    data_lines: int
    pid: Optional[str]
    command: Optional[str]
    exec_pending: bool
    nr_commands: int
    error: Optional[str]
    def feed(self, data: Union[bytes, bytearray, memoryview], start: int, end: int,
             out: AccessBatch) -> int: ...

def encode_accesses(b: AccessBatch, lo: int = ..., hi: Optional[int] = ...,
                    with_ip: bool = ...) -> bytes: ...
MAX_ICOUNT_GAP: int
def decode_accesses(payload: bytes, n: int, out: AccessBatch) -> int: ...

class IpFunctions:
    names: List[str]
    objects: List[str]
    def __call__(self, ip: int) -> int: ...

class TraceWorkload(Workload):
    source: Any
    symbolizer: Callable[[int], int]
    pos: int
    base_index: int
    ns_per_instruction: float
    extra_ns: float
    source_done: bool
    end_icount: int
    icount: int
    nr_accesses: int
    nr_page_visits: int
    nr_dropped: int
    bucket_ns: float
    def __init__(self, source: Any, *, ns_per_instruction: float = ..., bucket_ns: float = ...,
                 symbolizer: Optional[Callable[[int], int]] = ..., batch_size: int = ...,
                 name: str = ...) -> None: ...
    def attach(self, machine: Machine, seed: int = ...,
               track_ground_truth: bool = ...) -> int: ...
    @property
    def instructions(self) -> int: ...
    def set_bucket(self, bucket_ns: float) -> None: ...
    def forget_functions(self) -> None: ...
    def stop(self) -> None: ...
    def attribution(self) -> Optional[Tuple[float, np.ndarray, np.ndarray, np.ndarray,
                                            np.ndarray]]: ...
    def stats(self) -> dict: ...
