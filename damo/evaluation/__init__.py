"""The evaluation layer: run simulated evaluations (a workload on a machine
under DAMON/DAMOS parameters -> the metrics ``damo report profile
--baseline`` compares), many at once, in local worker processes or on a
dask.distributed cluster.  ``damo autotune`` and ``damo sweep`` run on it.

One evaluation is deterministic: the same ``Evaluation`` (same seed) gives
the same ``Result`` (but ``wall_s``) in this process, in any local worker
and on any dask worker.

API (see ``__init__.pyi`` for the signatures)::

    from damo.evaluation import Evaluation, Evaluator, evaluate, overheads

    base = Evaluation("hotcold", memory="dram:1G,swap:zswap", seed=0)
    prcl = Evaluation("hotcold", memory="dram:1G,swap:zswap", preset="prcl")
    mine = Evaluation("hotcold", memory="dram:1G,swap:zswap",
                      kdamonds={"kdamonds": [...]})     # damo's kdamonds layout
    r = evaluate(base)                  # here, in this process
    r.summary                           # {'runtime': ns, 'rss.avg': bytes, ...}

    with Evaluator(jobs=2) as pool:     # or Evaluator(scheduler="tcp://host:8786")
        results = pool.map([base, prcl, mine], progress=print_progress)
        fut = pool.submit(mine)         # a concurrent.futures.Future of a Result
        for f in pool.as_completed([fut]):
            f.result()                  # raises EvaluationError on bad parameters
    overheads(results[1], results[0])   # {'runtime': variant / baseline - 1, ...}

``Evaluation`` fields:

- ``workload``: a built-in workload, one of masim's configs by name, a
  masim config file, a saved trace (``damo record --save-trace`` or a
  lackey log) or a recording to replay (``workload_kind`` forces one of
  ``masim``, ``trace``, ``replay``; default: told by the file's contents);
- ``memory`` (``--memory`` spec), ``seed``, ``access_rate``
  (``--sequential_access_rate``), ``random_access_rate``,
  ``ns_per_instruction`` (traces), ``timeout`` (simulated seconds),
  ``time_scale`` (traces: DAMON's times divided by it, as ``damo record
  --trace --time_scale``; default 100, as there);
- the kdamonds: ``kdamonds`` (damo's kdamonds JSON layout, as a dict), or
  ``preset`` and ``preset_params`` (``--preset``/``--preset_param``), or
  neither: the monitoring-only context ``damo record WORKLOAD`` runs (the
  baseline of ``report profile --baseline``);
- ``ground_truth``: keep the exact access counts (the engine's
  ``track_ground_truth``); ``keep_recording``: return the snapshots as a
  ``damo.records.Recording`` (``Result.recording``); ``keep_metrics``:
  return the whole machine-metrics dict (``Result.metrics``);
- ``measure``: ``"module:function"``, called in the worker with a ``Run``
  (``evaluation``, ``run``: the ``damo.runner.Run``, ``metrics``,
  ``recording``) once the simulation ended; the dict it returns is
  ``Result.extra`` (e.g. accuracy against the ground truth);
- ``key``: anything the caller wants back (``Result.evaluation.key``).

``Result``: ``summary`` (``damo.reports.profile.summary``: runtime,
rss.avg, rss.max, memused.avg, pgmajfaults, pswpin, pswpout,
psi_mem_some_us, kdamond_cpu_util), ``accesses_by_node``, ``vmstat`` (final
counters), ``schemes`` (final DAMOS stats per scheme), ``simulated_ns``,
``finished``, ``kdamonds`` (the parameters that ran, damo's layout),
``extra``, ``wall_s``; ``same_as(other)`` compares all but ``wall_s``.

``Evaluator(jobs=N)`` keeps N worker processes (default: the CPUs; they
fork from this process once it has imported what evaluations need, or, if
another thread runs here, and for replacements, from a server that has);
``Evaluator(scheduler=ADDRESS)`` submits to a dask.distributed scheduler
(workers must import this damo: start them with ``dask worker ADDRESS
--nthreads 1`` in its environment; one thread each, the engine holds the
GIL); on connecting, every worker imports what evaluations need at once.
A worker that dies (killed, out of memory) loses nothing: its
evaluation is run again elsewhere, up to ``retries`` times (dask: its
scheduler's ``allowed-failures``); a DamoError of the evaluation itself
is not retried and comes back as an ``EvaluationError``.  ``map`` returns
results in submission order and calls ``progress(done, total, result)``
as each one completes (``result``: a Result or an EvaluationError).
``nr_retried`` counts the evaluations run again (local workers);
``connect_timeout`` bounds the wait for a scheduler (DamoError if none).
"""
import concurrent.futures
import dataclasses
from typing import Any, Optional

from damo.errors import DamoError


class EvaluationError(DamoError):
    """An evaluation that could not run (bad parameters, a worker that died
    too often); ``traceback`` keeps the worker's when it was a bug."""

    def __init__(self, message, traceback=""):
        super().__init__(message)
        self.traceback = traceback


@dataclasses.dataclass
class Evaluation:
    workload: Optional[str] = None
    memory: Optional[str] = None
    kdamonds: Optional[dict] = None
    preset: Optional[str] = None
    preset_params: tuple = ()
    seed: int = 0
    access_rate: Optional[float] = None
    random_access_rate: Optional[float] = None
    ns_per_instruction: Optional[float] = None
    timeout: Optional[float] = None
    workload_kind: Optional[str] = None
    ground_truth: bool = False
    keep_recording: bool = False
    keep_metrics: bool = False
    measure: Optional[str] = None
    key: Any = None
    time_scale: Optional[int] = None


@dataclasses.dataclass
class Result:
    evaluation: Evaluation
    summary: dict
    accesses_by_node: list
    vmstat: dict
    schemes: list
    simulated_ns: int
    finished: bool
    kdamonds: dict
    wall_s: float = 0.0
    extra: dict = dataclasses.field(default_factory=dict)
    metrics: Optional[dict] = None
    recording: Any = None

    def same_as(self, other):
        """The same outcome (everything but the wall time and the recording)."""
        fields = ("summary", "accesses_by_node", "vmstat", "schemes", "simulated_ns",
                  "finished", "kdamonds", "extra", "metrics")
        return all(getattr(self, f) == getattr(other, f) for f in fields)


@dataclasses.dataclass
class Run:
    """What a ``measure`` function gets in the worker."""
    evaluation: Evaluation
    run: Any
    metrics: dict
    recording: Any = None
    truths: Any = None          # ground_truth: damo.records.truth.RecordTruth per record


def evaluate(evaluation):
    """Run one evaluation in this process: its Result (EvaluationError on
    bad parameters, as from the workers)."""
    from damo.evaluation import _run
    try:
        return _run.evaluate(evaluation)
    except EvaluationError:
        raise
    except DamoError as e:
        raise EvaluationError(str(e)) from None


def overheads(result, baseline):
    """{metric: variant / baseline - 1 (None where the baseline is 0)}, the
    comparison of ``report profile --baseline``."""
    from damo.reports import profile
    return {k: over for k, (_, _, over) in
            profile.overheads(result.summary, baseline.summary).items()}


def _outcome(message):
    """A worker's message -> a Result, or raise EvaluationError."""
    from damo.evaluation import _run
    if message[0] == _run.OK:
        return message[1]
    raise EvaluationError(message[1], message[2])


class Evaluator:
    """Runs evaluations in parallel: local processes or a dask cluster."""

    def __init__(self, jobs=None, scheduler=None, retries=3, connect_timeout=10):
        if jobs is not None and jobs < 1:
            raise DamoError("--jobs: must be at least 1", exit_code=2)
        if scheduler:
            from damo.evaluation import _dask
            self._pool = _dask.DaskPool(scheduler, retries, connect_timeout)
        else:
            import os
            from damo.evaluation import _local
            self._pool = _local.LocalPool(jobs or len(os.sched_getaffinity(0)), retries)

    @property
    def nr_workers(self):
        return self._pool.nr_workers()

    @property
    def nr_retried(self):
        """Evaluations run again after their worker died (local workers;
        None on dask, whose scheduler does it)."""
        return self._pool.retried

    def worker_pids(self, busy=False):
        """The local worker processes' pids (busy: those running an
        evaluation); none for a dask cluster."""
        return self._pool.worker_pids(busy)

    def submit(self, evaluation):
        """A concurrent.futures.Future of the evaluation's Result."""
        return self._pool.submit(evaluation)

    @staticmethod
    def as_completed(futures, timeout=None):
        return concurrent.futures.as_completed(futures, timeout)

    def map(self, evaluations, progress=None):
        """The Results in submission order (EvaluationError of the first that
        failed, after all ended); progress(done, total, result) as each ends."""
        futures = [self.submit(e) for e in evaluations]
        done = 0
        for f in concurrent.futures.as_completed(futures):
            done += 1
            if progress is not None:
                progress(done, len(futures), f.exception() or f.result())
        return [f.result() for f in futures]

    def close(self, cancel=False):
        """Stop the workers (local) or disconnect (dask); cancel: drop what
        has not run yet."""
        self._pool.close(cancel)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        self.close(cancel=exc_type is not None)
        return False
