"""Evaluations on a dask.distributed cluster.

The scheduler runs a task again on another worker when its worker dies (up
to its ``distributed.scheduler.allowed-failures``); ``retries`` covers
exceptions escaping the task (a worker-side import problem, say).  Each
dask future is mirrored by a concurrent.futures.Future, so that callers
see the same futures as with local processes."""
import concurrent.futures
import itertools

from damo.errors import DamoError
from damo.evaluation import EvaluationError, _outcome

_COUNTER = itertools.count()


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise DamoError("--scheduler: dask.distributed is not installed (pip install "
                        "'damo-sim[autotune]' or 'dask[distributed]')", exit_code=2)
    return distributed


class DaskPool:
    def __init__(self, address, retries, timeout=10):
        distributed = _import_distributed()
        try:
            self._client = distributed.Client(address, timeout=timeout,
                                              set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise DamoError("--scheduler: cannot reach the dask scheduler at %s: %s"
                            % (address, e), exit_code=2)
        self._retries = retries
        self._futures = {}
        self.retried = None         # the scheduler's business
        # every worker imports what evaluations need now, all at once, not
        # in its first task (a worker that joins later does it then)
        from damo.evaluation import _run
        try:
            self._client.run(_run.preload)
        except Exception:           # noqa: BLE001 - a task would say why
            pass

    def nr_workers(self):
        return sum(w.get("nthreads", 1) for w in
                   self._client.scheduler_info()["workers"].values()) or 1

    def worker_pids(self, busy=False):
        return []

    def submit(self, evaluation):
        from damo.evaluation import _run
        mirror = concurrent.futures.Future()
        mirror.set_running_or_notify_cancel()
        key = "damo-evaluation-%d-%d" % (id(self), next(_COUNTER))
        fut = self._client.submit(_run.run_safely, evaluation, key=key, pure=False,
                                  retries=self._retries)
        self._futures[key] = fut

        def done(f):
            self._futures.pop(f.key, None)
            try:
                if f.cancelled():
                    mirror.set_exception(EvaluationError("the evaluation was cancelled"))
                    return
                error = f.exception()
                if error is not None:
                    mirror.set_exception(EvaluationError(
                        "the dask cluster could not run the evaluation: %s: %s"
                        % (type(error).__name__, error)))
                    return
                mirror.set_result(_outcome(f.result()))
            except EvaluationError as e:
                mirror.set_exception(e)
            except Exception as e:      # never leave the mirror pending
                if not mirror.done():
                    mirror.set_exception(EvaluationError("%s: %s" % (type(e).__name__, e)))
        fut.add_done_callback(done)
        return mirror

    def close(self, cancel=False):
        futures = list(self._futures.values())
        if cancel and futures:
            self._client.cancel(futures)
        elif futures:
            distributed = _import_distributed()
            distributed.wait(futures)
        self._client.close()
