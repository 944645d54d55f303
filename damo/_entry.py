"""The ``damo`` command's entry point (bin/damo), importing nothing before
it can turn a ^C (or SIGTERM, SIGHUP) into one line instead of a
traceback: importing click, numpy and the engine takes a while.

Outside a command's own run (while options are parsed, or after the
command returned) a signal ends the process at once with "damo:
interrupted" and exit code 130: there is nothing to save then, and click
would otherwise print "Aborted!" for a KeyboardInterrupt it sees.  While a
command runs (damo.cli.DamoGroup.invoke) the signals raise
KeyboardInterrupt, which commands catch to save what they did."""
import _signal


def _interrupted(signum, frame):
    """Outside a command's run: say so and end now.  os._exit, not an
    exception: a signal that lands in a weakref callback or a __del__ (an
    import's module-lock callback, under load) would have its exception
    printed as "Exception ignored ..." with a traceback, and be lost."""
    import os
    import sys
    for stream, text in ((sys.stdout, None), (sys.stderr, "damo: interrupted\n")):
        try:
            if text:
                stream.write(text)
            stream.flush()          # what a finished command printed stays printed
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(130)


def _resend_after(thread_id, code):
    """SIGINT to this process once thread ``thread_id`` is out of ``code``
    (the hook below): a fixed delay was not enough on a loaded machine,
    where the signal came while the hook still ran and was lost again."""
    import os
    import sys
    import time
    for _ in range(20000):          # at most about 10 s
        frame = sys._current_frames().get(thread_id)
        while frame is not None and frame.f_code is not code:
            frame = frame.f_back
        if frame is None:
            break
        time.sleep(0.0005)
    os.kill(os.getpid(), _signal.SIGINT)


def _unraisable(hook):
    """sys.unraisablehook for a command's run: a KeyboardInterrupt raised
    where it cannot propagate (a weakref callback, __del__) is delivered
    again (SIGINT once more) instead of printed and lost, so that the
    command still stops and saves its work."""
    def unraisable(unraisable_info):
        if isinstance(unraisable_info.exc_value, KeyboardInterrupt):
            # sent again from a thread once this hook has returned: raised in
            # here (as raise_signal or interrupt_main would, at this hook's
            # next bytecode) it would be one more unraisable exception
            import threading
            try:
                again = threading.Thread(target=_resend_after, daemon=True,
                                         args=(threading.get_ident(), unraisable.__code__))
                again.start()
            except RuntimeError:        # at interpreter shutdown: the run is over
                pass
            return
        hook(unraisable_info)
    return unraisable


_SIGNALS = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP)


def _signals_deferred_in(exec_module):
    """ExtensionFileLoader.exec_module with SIGINT, SIGTERM and SIGHUP held
    until the module is initialised.  Cython's memoryview code registers its
    types with collections.abc inside a bare ``try/except: pass`` in every
    extension module's initialisation (the engine's, records' _cscan): a ^C
    landing there raised KeyboardInterrupt into it and was swallowed, so
    about 1 ^C in 100 during a recording's start-up was ignored and the
    recording went on.  Held, it acts once the import is done."""
    def exec_deferred(loader, module):
        received = []
        previous = {}
        try:
            for signum in _SIGNALS:
                handler = _signal.getsignal(signum)
                if callable(handler):       # ignored stays ignored; default stays default
                    previous[signum] = _signal.signal(signum,
                                                      lambda n, frame: received.append(n))
        except ValueError:                  # not the main thread: signals do not land here
            pass
        try:
            return exec_module(loader, module)
        finally:
            if getattr(module, "__name__", "").endswith("._multiarray_umath"):
                blas_threads_restore()
            for signum, handler in previous.items():
                _signal.signal(signum, handler)
            if received:
                previous[received[0]](received[0], None)
    return exec_deferred


_BLAS_THREADS = "OPENBLAS_NUM_THREADS"
_blas_threads_set = False


def _blas_threads_one():
    """One OpenBLAS thread while numpy loads, unless the user chose: numpy's
    OpenBLAS starts a thread per CPU at load, which here was 45 of numpy's
    120 ms of start-up CPU, and damo makes no BLAS call (no dot, matmul or
    linalg) for threads to help with."""
    global _blas_threads_set
    import os
    if _BLAS_THREADS not in os.environ:
        os.environ[_BLAS_THREADS] = "1"
        _blas_threads_set = True


def blas_threads_restore():
    """Once OpenBLAS has read it (it does so when numpy's core loads), the
    variable goes: the programs damo runs (a traced workload, a command)
    get the environment the user gave damo."""
    global _blas_threads_set
    if _blas_threads_set:
        import os
        os.environ.pop(_BLAS_THREADS, None)
        _blas_threads_set = False


def main():
    import sys
    import importlib.machinery      # (already imported by site: costs nothing)
    _blas_threads_one()
    for signum in _SIGNALS:
        if _signal.getsignal(signum) is not _signal.SIG_IGN:
            _signal.signal(signum, _interrupted)
    sys.unraisablehook = _unraisable(sys.unraisablehook)
    loader = importlib.machinery.ExtensionFileLoader
    loader.exec_module = _signals_deferred_in(loader.exec_module)
    try:
        import gc
        import damo.cli
        from damo.cli import main as cli
        # as damo.cli.import_command does after a command's modules
        gc.collect()
        gc.freeze()
        damo.cli.freeze_imports = True
    except KeyboardInterrupt:
        # only from a SIGINT that came before the handler above was set
        _interrupted(None, None)
    return cli()


if __name__ == "__main__":
    raise SystemExit(main())
