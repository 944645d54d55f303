"""Typed surface of damo_engine.truth."""
from typing import Tuple

from damo_engine.memory import AddressSpace

class TruthReducer:
    epoch: int
    def __init__(self, mm: AddressSpace) -> None: ...
    # (nr_samples, wss_bytes, accessed_pages[n], samples_sum[n], piece_samples_sum[pieces],
    #  (cell_region, cell_bin, cell_age, cell_pages), cells per region,
    #  some region has a repeated cell)
    def reduce(self, mm: AddressSpace, starts: object, ends: object, piece_starts: object,
               width: int) -> Tuple[int, int, object, object, object,
                                    Tuple[object, object, object, object], object,
                                    bool]: ...
