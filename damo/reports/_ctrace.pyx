"""C-speed lines of ``damo report trace`` for decoded perf.data batches.

Optional: damo.reports.trace joins the same lines in Python when this module
is not built (tests/test_tools_writers.py compares the two).

``join_lines`` only concatenates: each column's distinct texts are made (and
kept) by trace.py's formatters, as in the Python path; here each line is its
separators and its columns' texts, copied once, into the bytes that are
written to stdout as they are (no str made of them, no encoding on the way).
Each distinct text is kept with the separator before it, so that a line is
one copy per column (plus its end), and a short piece is copied as a fixed
32 bytes (a few moves, no call; the copy's tail is overwritten by the next).
"""
# cython: boundscheck=False, wraparound=False
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_FromStringAndSize
from cpython.bytearray cimport PyByteArray_Resize
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset

include "../_cbuffers.pxi"


DEF SHORT = 32      # pieces of up to SHORT bytes are copied as SHORT bytes


def join_lines(list seps, list columns, Py_ssize_t n):
    """(n lines, each ended by a newline, as a bytearray of UTF-8; the
    longest line's length in characters).

    ``seps``: ncols + 1 separators (UTF-8 bytes): line i is seps[0] +
    column 0's text of i + seps[1] + ... + seps[ncols].  ``columns``: per
    column (its distinct texts as UTF-8 bytes, their lengths in characters,
    each line's text index: int64 array of n)."""
    cdef Py_ssize_t ncols = len(columns)
    cdef Py_ssize_t c, i, k, t, nt, pos = 0, total = 0, longest = 0, chars
    cdef Py_ssize_t npieces = 0, arena_size = 0, sep_len, sep_chars
    cdef int64_t j
    cdef bytes b, sep
    if len(seps) != ncols + 1:
        raise ValueError("join_lines: %d separators for %d columns" % (len(seps), ncols))
    cdef list texts_of = [col[0] for col in columns]
    cdef list chars_of = [col[1] for col in columns]
    cdef list index_of = [col[2] for col in columns]
    for c in range(ncols):
        npieces += len(texts_of[c])
        arena_size += len(texts_of[c]) * len(seps[c])
        for b in texts_of[c]:
            arena_size += len(b)
    # the pieces: each column's distinct texts with the separator before
    # them, then the last separator and the newline, in one arena (padded so
    # that a fixed-size copy never reads past it)
    arena_size += len(seps[ncols]) + 1 + SHORT
    cdef char *arena = <char *>malloc(arena_size)
    cdef const char **ptr = <const char **>malloc((npieces + 1) * sizeof(char *))
    cdef Py_ssize_t *blen = <Py_ssize_t *>malloc((npieces + 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t *clen = <Py_ssize_t *>malloc((npieces + 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t *first = <Py_ssize_t *>malloc((ncols + 1) * sizeof(Py_ssize_t))
    cdef const int64_t **idx = <const int64_t **>malloc((ncols + 1) * sizeof(int64_t *))
    cdef _Buffers held = _Buffers()     # the index arrays, held while their pointers are used
    cdef Py_buffer *view
    cdef const int64_t *rows
    cdef char *buf = NULL
    cdef char *a
    cdef const char *src
    cdef Py_ssize_t end_len, end_chars, maxlen
    cdef bytearray out = None
    if not (arena and ptr and blen and clen and first and idx):
        free(arena); free(ptr); free(blen); free(clen); free(first); free(idx)
        raise MemoryError()
    try:
        memset(arena, 0, arena_size)
        a = arena
        k = 0
        for c in range(ncols):
            first[c] = k
            maxlen = 0
            sep = seps[c]
            sep_len = len(sep)
            sep_chars = len(sep.decode("utf-8"))
            texts = texts_of[c]
            lens = chars_of[c]
            nt = len(texts)
            if len(lens) != nt:
                raise ValueError("join_lines: column %d has %d texts and %d lengths"
                                 % (c, nt, len(lens)))
            for t in range(nt):
                b = texts[t]
                ptr[k] = a
                memcpy(a, <const char *>sep, sep_len)
                memcpy(a + sep_len, <const char *>b, len(b))
                blen[k] = sep_len + len(b)
                clen[k] = sep_chars + lens[t]
                a += blen[k]
                if blen[k] > maxlen:
                    maxlen = blen[k]
                k += 1
            total += maxlen
            view = held.take(index_of[c], _I64, 8, 1, False, True, "join_lines index")
            if view.shape[0] != n:
                raise ValueError("join_lines: column %d has %d rows, not %d"
                                 % (c, view.shape[0], n))
            rows = <const int64_t *>view.buf
            idx[c] = rows if n else NULL
            for i in range(n):
                j = rows[i]
                if j < 0 or j >= nt:
                    raise IndexError("join_lines: column %d, row %d: no text %d" % (c, i, j))
        sep = seps[ncols]
        end_len = len(sep) + 1
        end_chars = len(sep.decode("utf-8"))
        ptr[npieces] = a
        memcpy(a, <const char *>sep, len(sep))
        a[len(sep)] = 10
        total += end_len
        # room for the longest piece of each column on every line (and a
        # fixed-size copy's tail); pages a shorter line leaves untouched are
        # never made resident, and the resize at the end gives them back
        out = PyByteArray_FromStringAndSize(NULL, n * total + SHORT + 1)
        buf = PyByteArray_AS_STRING(out)
        with nogil:
            for i in range(n):
                chars = end_chars
                for c in range(ncols):
                    k = first[c] + idx[c][i]
                    src = ptr[k]
                    if blen[k] <= SHORT:
                        memcpy(buf + pos, src, SHORT)
                    else:
                        memcpy(buf + pos, src, blen[k])
                    pos += blen[k]
                    chars += clen[k]
                memcpy(buf + pos, ptr[npieces], end_len)
                pos += end_len
                if chars > longest:
                    longest = chars
        PyByteArray_Resize(out, pos)
        return out, longest
    finally:
        free(arena); free(ptr); free(blen); free(clen); free(first); free(idx)
