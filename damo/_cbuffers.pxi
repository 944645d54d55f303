# Array arguments of damo's C loops (_cscan, _cpaint, _ctrace), taken through
# the buffer protocol rather than as Cython typed memoryviews: a module that
# uses those carries and sets up at import its own copy of Cython's memoryview
# machinery, 100 KiB of a small report's peak memory for each of them (and
# issue 16 holds a 100 x 100 report to no more memory than damo's).  Included,
# not cimported, so that no module is loaded for it.
from cpython.buffer cimport (PyObject_GetBuffer, PyBuffer_Release, PyBUF_FORMAT,
                             PyBUF_WRITABLE, PyBUF_C_CONTIGUOUS, PyBUF_STRIDES)
from libc.stdlib cimport malloc as _buf_malloc, realloc as _buf_realloc, free as _buf_free


# The item formats (struct codes, native order) of each kind ``take`` accepts:
# int64 is "l" on LP64 and "q" elsewhere, and numpy may give either.
cdef bytes _U8 = b"B"
cdef bytes _I64 = b"lq"
cdef bytes _U64 = b"LQ"
cdef bytes _F64 = b"d"

cdef class _Buffers:
    """The buffers one call holds, each checked (dimensions, item size and
    kind, writability) as a typed memoryview would check it; all released
    when the object goes, whatever way the call ends.  Each Py_buffer has
    its own allocation: the pointers handed out stay valid as more come."""
    cdef Py_buffer **views
    cdef Py_ssize_t n, cap

    def __dealloc__(self):
        cdef Py_ssize_t i
        for i in range(self.n):
            PyBuffer_Release(self.views[i])
            _buf_free(self.views[i])
        _buf_free(self.views)

    cdef Py_buffer *take(self, object obj, const char *kinds, Py_ssize_t itemsize,
                         int ndim, bint writable, bint contiguous, str name) except NULL:
        """``obj``'s buffer: ``ndim`` dimensions of ``itemsize``-byte items
        whose struct format (native order) is one of ``kinds``; C-contiguous
        when ``contiguous``, else strided.  ValueError names ``name``."""
        cdef Py_buffer *v
        cdef Py_buffer **grown
        cdef const char *fmt
        cdef int flags = PyBUF_FORMAT | (PyBUF_C_CONTIGUOUS if contiguous else PyBUF_STRIDES)
        cdef bint ok
        if writable:
            flags |= PyBUF_WRITABLE
        if self.n == self.cap:
            grown = <Py_buffer **>_buf_realloc(self.views, (2 * self.cap + 4) * sizeof(Py_buffer *))
            if grown == NULL:
                raise MemoryError()
            self.views = grown
            self.cap = 2 * self.cap + 4
        v = <Py_buffer *>_buf_malloc(sizeof(Py_buffer))
        if v == NULL:
            raise MemoryError()
        try:
            PyObject_GetBuffer(obj, v, flags)
        except BaseException:
            _buf_free(v)
            raise
        self.views[self.n] = v
        self.n += 1
        fmt = v.format
        if fmt == NULL:
            fmt = "B"           # no format given: unsigned bytes
        if fmt[0] == b'@' or fmt[0] == b'=':
            fmt += 1
        ok = v.ndim == ndim and v.itemsize == itemsize and fmt[0] != 0 and fmt[1] == 0
        if ok:
            ok = False
            while kinds[0] != 0:
                if kinds[0] == fmt[0]:
                    ok = True
                kinds += 1
        if not ok:
            raise ValueError("%s: a buffer of format %r, %d dimension(s), %d-byte items"
                             % (name, (<bytes>fmt).decode("ascii", "replace"), v.ndim,
                                v.itemsize))
        return v
