"""C-speed lines of ``damo report trace`` for decoded perf.data batches.

Optional: damo.reports.trace joins the same lines in Python when this module
is not built (tests/test_tools_writers.py compares the two).

``join_lines`` only concatenates: each column's distinct texts are made (and
kept) by trace.py's formatters, as in the Python path; here each line is its
separators and its columns' texts, copied.
"""
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy


def join_lines(list seps, list columns, Py_ssize_t n):
    """(n lines joined by newlines, the longest line's length in characters).

    ``seps``: ncols + 1 separators (UTF-8 bytes): line i is seps[0] +
    column 0's text of i + seps[1] + ... + seps[ncols].  ``columns``: per
    column (its distinct texts as UTF-8 bytes, their lengths in characters,
    each line's text index: int64 array of n)."""
    cdef Py_ssize_t ncols = len(columns)
    cdef Py_ssize_t c, i, k, pos = 0, total = 0, longest = 0, chars, sep_chars = 0
    cdef Py_ssize_t nptrs = 0
    cdef bytes b
    if len(seps) != ncols + 1:
        raise ValueError("join_lines: %d separators for %d columns" % (len(seps), ncols))
    cdef list texts_of = [col[0] for col in columns]
    cdef list chars_of = [col[1] for col in columns]
    cdef list index_of = [col[2] for col in columns]
    for c in range(ncols):
        nptrs += len(texts_of[c])
    cdef const char **ptr = <const char **>malloc((nptrs + ncols + 1) * sizeof(char *))
    cdef Py_ssize_t *blen = <Py_ssize_t *>malloc((nptrs + ncols + 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t *clen = <Py_ssize_t *>malloc((nptrs + 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t *first = <Py_ssize_t *>malloc((ncols + 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t *maxlen = <Py_ssize_t *>malloc((ncols + 1) * sizeof(Py_ssize_t))
    cdef const int64_t **idx = <const int64_t **>malloc((ncols + 1) * sizeof(int64_t *))
    cdef const int64_t[::1] view
    cdef list keep = []      # the index arrays, alive while their pointers are used
    cdef char *buf = NULL
    if not (ptr and blen and clen and first and maxlen and idx):
        free(ptr); free(blen); free(clen); free(first); free(maxlen); free(idx)
        raise MemoryError()
    try:
        k = 0
        for c in range(ncols):
            first[c] = k
            maxlen[c] = 0
            texts = texts_of[c]
            lens = chars_of[c]
            for t in range(len(texts)):
                b = texts[t]
                ptr[k] = b
                blen[k] = len(b)
                clen[k] = lens[t]
                if blen[k] > maxlen[c]:
                    maxlen[c] = blen[k]
                k += 1
            view = index_of[c]
            if view.shape[0] != n:
                raise ValueError("join_lines: column %d has %d rows, not %d"
                                 % (c, view.shape[0], n))
            keep.append(view)
            idx[c] = &view[0] if n else NULL
            for i in range(n):
                if view[i] < 0 or view[i] >= len(texts):
                    raise IndexError("join_lines: column %d, row %d: no text %d"
                                     % (c, i, view[i]))
        for c in range(ncols + 1):
            b = seps[c]
            ptr[nptrs + c] = b
            blen[nptrs + c] = len(b)
            sep_chars += len(b.decode("utf-8"))
            total += len(b)
        for c in range(ncols):
            total += maxlen[c]
        buf = <char *>malloc(n * (total + 1) + 1)
        if buf == NULL:
            raise MemoryError()
        for i in range(n):
            if i:
                buf[pos] = 10
                pos += 1
            chars = sep_chars
            for c in range(ncols):
                memcpy(buf + pos, ptr[nptrs + c], blen[nptrs + c])
                pos += blen[nptrs + c]
                k = first[c] + idx[c][i]
                memcpy(buf + pos, ptr[k], blen[k])
                pos += blen[k]
                chars += clen[k]
            memcpy(buf + pos, ptr[nptrs + ncols], blen[nptrs + ncols])
            pos += blen[nptrs + ncols]
            if chars > longest:
                longest = chars
        return buf[:pos].decode("utf-8"), longest
    finally:
        free(buf); free(ptr); free(blen); free(clen); free(first); free(maxlen); free(idx)
