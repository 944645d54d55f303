"""Typed surface of damo_engine.hostperf (this host's memory, measured)."""
from typing import List, Optional, Sequence, Tuple

KINDS: dict
BURST: int

def now() -> float: ...

class Buffer:
    size: int
    huge: bool
    sink: int
    def __init__(self, size: int, huge: bool = ..., seed: int = ...) -> None: ...
    def chase(self, steps: int, seed: int = ...) -> float: ...
    def access(self, kind: str, n: int, write: bool = ..., stride: int = ...) -> float: ...

def first_touch(nbytes: int, huge: bool = ...) -> Optional[float]: ...
def run_masim(regions: Sequence[int],
              phases: Sequence[Tuple[int, Sequence[Tuple[int, str, int, int, bool]]]],
              seed: int = ..., huge: bool = ...) -> List[float]: ...
