"""This host's memory, measured from compiled code (`damo calibrate`,
bench/validate.py): dependent-load latency, page-stride, random and
streaming accesses (reads and writes), first-touch faults, and masim-like
workloads run natively (bursts of accesses on weighted patterns).

Nothing here is simulated: every call touches real memory of this process
and returns seconds of this thread's CPU time (so that other processes
sharing the CPUs do not count; memory contention from them does).
"""
from libc.stdint cimport uint32_t, uint64_t, int64_t
from libc.stdlib cimport malloc, free
from posix.mman cimport mmap, munmap, madvise, PROT_READ, PROT_WRITE, MAP_PRIVATE, \
    MAP_ANONYMOUS, MAP_FAILED

cdef extern from "hostperf.h":
    int HP_PAGE, HP_RANDOM, HP_STREAM, HP_POOL
    int MADV_HUGEPAGE, MADV_NOHUGEPAGE
    double hp_now() nogil
    void hp_fill_pool(uint32_t *pool, uint64_t seed) nogil
    void hp_build_chain(unsigned char *buf, uint64_t nlines, uint32_t *perm,
                        uint64_t seed) nogil
    double hp_chase(const unsigned char *buf, uint64_t steps, uint64_t *sink) nogil
    double hp_access(unsigned char *buf, uint64_t size, int kind, uint64_t stride, int write,
                     uint64_t n, uint64_t *offset, const uint32_t *pool, uint64_t *k,
                     uint64_t *sink) nogil
    double hp_first_touch(uint64_t bytes, int huge) nogil

KINDS = {"page": HP_PAGE, "random": HP_RANDOM, "stream": HP_STREAM}
BURST = 131072          # masim's accesses per pattern pick


def now():
    """The clock the loops use: this thread's CPU time (seconds)."""
    return hp_now()


cdef class Buffer:
    """``size`` bytes of anonymous memory, every page written once (so all
    are resident before anything is timed), with or without THP."""
    cdef unsigned char *base
    cdef readonly uint64_t size
    cdef readonly bint huge
    cdef uint32_t pool[4096]
    cdef uint64_t offset, k
    cdef readonly uint64_t sink

    def __cinit__(self, uint64_t size, bint huge=False, uint64_t seed=1):
        cdef void *p
        cdef uint64_t o
        if size < 4096 or size % 4096:
            raise ValueError("the buffer size must be a positive multiple of 4 KiB")
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        if p == MAP_FAILED:
            raise MemoryError("cannot map %d MiB to measure" % (size >> 20))
        madvise(p, size, MADV_HUGEPAGE if huge else MADV_NOHUGEPAGE)
        self.base = <unsigned char *>p
        self.size = size
        self.huge = huge
        with nogil:
            o = 0
            while o < size:
                self.base[o] = 1
                o += 4096
        hp_fill_pool(self.pool, seed)
        self.offset = 0
        self.k = 0

    def __dealloc__(self):
        if self.base != NULL:
            munmap(self.base, self.size)

    def chase(self, uint64_t steps, uint64_t seed=7):
        """Seconds per load of a chain of dependent loads through every
        64-byte line of the buffer in random order."""
        cdef uint64_t nlines = self.size // 64
        cdef uint32_t *perm
        cdef double t
        if nlines >= (1 << 32):
            raise ValueError("the buffer is too big for a chain")
        perm = <uint32_t *>malloc(nlines * sizeof(uint32_t))
        if perm == NULL:
            raise MemoryError()
        with nogil:
            hp_build_chain(self.base, nlines, perm, seed)
        free(perm)
        with nogil:
            hp_chase(self.base, min(steps // 8 + 1, nlines), &self.sink)    # warm up
            t = hp_chase(self.base, steps, &self.sink)
        return t / steps

    def access(self, str kind, uint64_t n, bint write=False, uint64_t stride=4096):
        """Seconds per access of n one-byte accesses of a kind ('page':
        sequential with a stride of 4 KiB or more, 'stream': sequential with
        a smaller stride, 'random') continuing where the last call stopped."""
        cdef int kd = KINDS[kind]
        cdef double t
        if n == 0:
            return 0.0
        with nogil:
            t = hp_access(self.base, self.size, kd, stride, write, n, &self.offset, self.pool,
                          &self.k, &self.sink)
        return t / n


def first_touch(uint64_t nbytes, bint huge=False):
    """Seconds to fault in nbytes of fresh anonymous memory by writing each
    page (each 2 MiB with huge: one THP fault each if THP is allowed), or
    None if the memory could not be mapped."""
    cdef double t
    with nogil:
        t = hp_first_touch(nbytes, huge)
    return None if t < 0 else t


def run_masim(regions, phases, uint64_t seed=3, bint huge=False):
    """A masim-like workload run natively: ``regions`` are sizes in bytes
    (each its own mapping, faulted in when first touched, as malloc'ed
    memory is); ``phases`` are [(accesses, [(region, kind, stride, weight,
    write), ...])]: per burst of 131,072 accesses one pattern is picked by
    weight, sequential ones continue from their saved offset.  Returns the
    seconds each phase took (first touches included)."""
    cdef list bufs = []
    cdef uint64_t s = seed | 1, total, done, n, r, acc
    cdef double t, t0
    cdef int i
    for size in regions:
        bufs.append(_LazyRegion(size, huge))
    times = []
    offsets = {}
    for accesses, patterns in phases:
        weights = [p[3] for p in patterns]
        total = sum(weights)
        if total <= 0:
            raise ValueError("a phase needs a pattern with a positive weight")
        t0 = hp_now()
        done = 0
        while done < accesses:
            s ^= s >> 12
            s ^= s << 25
            s ^= s >> 27
            r = (s * <uint64_t>0x2545F4914F6CDD1DULL) % total
            for i, w in enumerate(weights):
                if r < w:
                    break
                r -= w
            region, kind, stride, _, write = patterns[i]
            n = min(BURST, accesses - done)
            (<_LazyRegion>bufs[region]).burst(i, KINDS[kind], stride, write, n)
            done += n
        times.append(hp_now() - t0)
    return times


cdef class _LazyRegion:
    """A region that is mapped but not touched: the first accesses fault
    its pages in, as a masim region's do."""
    cdef unsigned char *base
    cdef uint64_t size
    cdef uint32_t pool[4096]
    cdef dict offsets
    cdef uint64_t k, sink

    def __cinit__(self, uint64_t size, bint huge=False):
        cdef void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0)
        if p == MAP_FAILED:
            raise MemoryError("cannot map %d MiB" % (size >> 20))
        madvise(p, size, MADV_HUGEPAGE if huge else MADV_NOHUGEPAGE)
        self.base = <unsigned char *>p
        self.size = size
        self.offsets = {}
        hp_fill_pool(self.pool, size)
        self.k = 0

    def __dealloc__(self):
        if self.base != NULL:
            munmap(self.base, self.size)

    cdef void burst(self, int pattern, int kind, uint64_t stride, bint write, uint64_t n):
        cdef uint64_t off = self.offsets.get(pattern, 0)
        with nogil:
            hp_access(self.base, self.size, kind, stride, write, n, &off, self.pool, &self.k,
                      &self.sink)
        self.offsets[pattern] = off
