"""Writing outputs so that a failure never leaves a half-written file."""
import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_output(path, mode="wb", permission=None):
    """Open a temporary file beside ``path``; rename it over ``path`` on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path),
                               suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if permission is not None:
            os.chmod(tmp, permission)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def backup_existing(path):
    """Keep an existing output as ``path.old``, as damo does."""
    if os.path.exists(path):
        os.replace(path, path + ".old")
