"""Evaluations in local worker processes.

concurrent.futures.ProcessPoolExecutor gives up on all of its work when one
worker dies; here a dead worker's evaluation is queued again (front) and the
worker replaced, so that a killed worker loses nothing.

The first workers are forked from this process once it has imported what
evaluations need (a few ms each, nothing to import again), when no other
thread runs here (a fork then copies no lock another thread holds);
otherwise, and for replacements (made from the pool's own thread), they
fork from a forkserver that has imported the same (a fresh interpreter:
about half a second before the first evaluation)."""
import collections
import concurrent.futures
import gc
import multiprocessing
import multiprocessing.connection
import signal
import threading

from damo.evaluation import EvaluationError, _outcome
from damo.evaluation._run import PRELOAD as _PRELOAD


def _worker_main(conn, inherited=()):
    # ^C reaches the whole process group: the parent decides what stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # a forked worker has the command's SIGTERM/SIGHUP handlers, which turn
    # the signal into KeyboardInterrupt (a traceback here): the pool's
    # terminate() of a busy worker must end it quietly
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
    for c in inherited:
        # a forked worker's copies of the pool's other pipes: closed, so that
        # the others see their pool's end close when it does
        c.close()
    # what the worker inherited stays out of its garbage collections (which
    # would write to, and so copy, every page of it)
    gc.freeze()
    from damo.evaluation import _run
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        task_id, evaluation = msg
        conn.send((task_id, _run.run_safely(evaluation)))


class _Task:
    def __init__(self, evaluation):
        self.evaluation = evaluation
        self.future = concurrent.futures.Future()
        self.attempts = 0
        self.started = False


class _Worker:
    def __init__(self, mp, inherited=()):
        self.conn, child = mp.Pipe()
        self.process = mp.Process(target=_worker_main, args=(child, inherited), daemon=True)
        self.process.start()
        child.close()
        self.task = None


class LocalPool:
    def __init__(self, nr, retries):
        self._mp = multiprocessing.get_context("forkserver")
        # workers fork from a server that has imported the engine already
        self._mp.set_forkserver_preload(["damo.evaluation._run"] + list(_PRELOAD))
        self._nr = nr
        self._retries = retries
        self._queue = collections.deque()
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = self._mp.Pipe(duplex=False)
        self._closing = False
        self._workers = []
        self._next_id = 0
        self.retried = 0
        if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
            from damo.evaluation import _run
            _run.preload()
            fork = multiprocessing.get_context("fork")
            # what exists now is left out of the workers' garbage collections,
            # which would otherwise write to (and so copy) every page of it
            gc.freeze()
            try:
                for _ in range(nr):
                    self._workers.append(_Worker(fork, [self._wake_r, self._wake_w] +
                                                 [w.conn for w in self._workers]))
            finally:
                gc.unfreeze()
        self._thread = threading.Thread(target=self._manage, name="damo-evaluation",
                                        daemon=True)
        self._thread.start()

    def nr_workers(self):
        return self._nr

    def worker_pids(self, busy=False):
        with self._lock:
            return [w.process.pid for w in self._workers
                    if w.process.pid and (not busy or w.task is not None)]

    def _wake(self):
        try:
            self._wake_w.send(None)
        except OSError:
            pass

    def submit(self, evaluation):
        task = _Task(evaluation)
        with self._lock:
            if self._closing:
                raise RuntimeError("the evaluator is closed")
            self._queue.append(task)
        self._wake()
        return task.future

    def _manage(self):
        while True:
            with self._lock:
                closing = self._closing
                if not closing:
                    while len(self._workers) < self._nr:
                        self._workers.append(_Worker(self._mp))
                    for w in self._workers:
                        if w.task is None and self._queue:
                            task = self._queue.popleft()
                            if not task.started:
                                if not task.future.set_running_or_notify_cancel():
                                    continue        # cancelled while queued
                                task.started = True
                            w.task = task
                            self._next_id += 1
                            try:
                                w.conn.send((self._next_id, task.evaluation))
                            except OSError:
                                pass        # dead: seen below
            if closing:
                return
            waitables = [self._wake_r] + [w.conn for w in self._workers] + \
                [w.process.sentinel for w in self._workers]
            ready = multiprocessing.connection.wait(waitables)
            if self._wake_r in ready:
                while self._wake_r.poll():
                    self._wake_r.recv()
            for w in list(self._workers):
                if w.conn in ready:
                    try:
                        _, message = w.conn.recv()
                    except (EOFError, OSError):
                        self._lost(w)
                        continue
                    task, w.task = w.task, None
                    try:
                        task.future.set_result(_outcome(message))
                    except EvaluationError as e:
                        task.future.set_exception(e)
                elif w.process.sentinel in ready:
                    self._lost(w)

    def _lost(self, w):
        """A worker died: its evaluation goes back to the queue's front."""
        w.process.join(1)
        w.conn.close()
        with self._lock:
            self._workers.remove(w)
            task = w.task
            if task is not None:
                task.attempts += 1
                if task.attempts > self._retries:
                    task.future.set_exception(EvaluationError(
                        "a worker died %d times running this evaluation (exit code %s)"
                        % (task.attempts, w.process.exitcode)))
                else:
                    self.retried += 1
                    self._queue.appendleft(task)

    def close(self, cancel=False):
        """Stop the workers; without cancel, after what was submitted ran."""
        with self._lock:
            if cancel:
                for task in self._queue:
                    task.future.cancel()
                self._queue.clear()
            pending = [t.future for t in self._queue] + \
                [w.task.future for w in self._workers if w.task is not None]
        if not cancel:
            concurrent.futures.wait(pending)
        with self._lock:
            self._closing = True
        self._wake()
        self._thread.join()
        for w in self._workers:
            if w.task is not None:
                w.process.terminate()       # cancel: a running evaluation is dropped
            else:
                try:
                    w.conn.send(None)
                except OSError:
                    pass
        for w in self._workers:
            w.process.join(5)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            if w.task is not None and not w.task.future.done():
                w.task.future.set_exception(EvaluationError(
                    "the evaluator was closed before this evaluation ended"))
            w.conn.close()
        self._workers = []
        self._wake_r.close()
        self._wake_w.close()
