# The evaluation layer's public surface (see the module docstring).
import concurrent.futures
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Union

from damo.errors import DamoError

class EvaluationError(DamoError):
    traceback: str
    def __init__(self, message: str, traceback: str = ...) -> None: ...

class Evaluation:
    workload: Optional[str]
    memory: Optional[str]
    kdamonds: Optional[dict]
    preset: Optional[str]
    preset_params: tuple
    seed: int
    access_rate: Optional[float]
    random_access_rate: Optional[float]
    ns_per_instruction: Optional[float]
    timeout: Optional[float]
    workload_kind: Optional[str]        # 'masim' | 'trace' | 'replay' | None (by content)
    ground_truth: bool
    keep_recording: bool
    keep_metrics: bool
    measure: Optional[str]              # 'module:function', called with a Run
    key: Any
    time_scale: Optional[int]           # traces: DAMON's times / it (None: 100)
    def __init__(self, workload: Optional[str] = ..., memory: Optional[str] = ...,
                 kdamonds: Optional[dict] = ..., preset: Optional[str] = ...,
                 preset_params: tuple = ..., seed: int = ...,
                 access_rate: Optional[float] = ..., random_access_rate: Optional[float] = ...,
                 ns_per_instruction: Optional[float] = ..., timeout: Optional[float] = ...,
                 workload_kind: Optional[str] = ..., ground_truth: bool = ...,
                 keep_recording: bool = ..., keep_metrics: bool = ...,
                 measure: Optional[str] = ..., key: Any = ...,
                 time_scale: Optional[int] = ...) -> None: ...

class Result:
    evaluation: Evaluation
    summary: dict                       # damo.reports.profile.summary() of the run
    accesses_by_node: List[int]
    vmstat: dict
    schemes: List[dict]                 # kdamond_idx, context_idx, scheme_idx, action, stats
    simulated_ns: int
    finished: bool
    kdamonds: dict                      # damo's kdamonds layout of what ran
    wall_s: float
    extra: dict                         # what the measure function returned
    metrics: Optional[dict]             # keep_metrics
    recording: Any                      # keep_recording: damo.records.Recording
    def same_as(self, other: "Result") -> bool: ...

class Run:
    evaluation: Evaluation
    run: Any                            # damo.runner.Run, after the simulation
    metrics: dict
    recording: Any
    truths: Any                         # ground_truth: damo.records.truth.RecordTruth list

def evaluate(evaluation: Evaluation) -> Result: ...
def overheads(result: Result, baseline: Result) -> dict: ...

class Evaluator:
    def __init__(self, jobs: Optional[int] = ..., scheduler: Optional[str] = ...,
                 retries: int = ..., connect_timeout: float = ...) -> None: ...
    @property
    def nr_workers(self) -> int: ...
    @property
    def nr_retried(self) -> Optional[int]: ...
    def worker_pids(self, busy: bool = ...) -> List[int]: ...
    def submit(self, evaluation: Evaluation) -> "concurrent.futures.Future[Result]": ...
    @staticmethod
    def as_completed(futures: Iterable[concurrent.futures.Future],
                     timeout: Optional[float] = ...) -> Iterator[concurrent.futures.Future]: ...
    def map(self, evaluations: Sequence[Evaluation],
            progress: Optional[Callable[[int, int, Union[Result, EvaluationError]], Any]] = ...
            ) -> List[Result]: ...
    def close(self, cancel: bool = ...) -> None: ...
    def __enter__(self) -> "Evaluator": ...
    def __exit__(self, *exc: Any) -> bool: ...
