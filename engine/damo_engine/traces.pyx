"""Memory-access traces of real programs, and the workload that runs them.

- ``AccessBatch``: columns of accesses (instruction count, address, kind and
  size, instruction address), filled by a parser and consumed by
  ``TraceWorkload``; reused batch after batch so that memory stays bounded.
- ``LackeyParser``: valgrind lackey's ``--trace-mem=yes`` text (``I  addr,size``
  instruction lines and `` L|S|M addr,size`` data lines), parsed in a byte
  loop over large buffers.  Instruction lines only advance the instruction
  count (the clock) and name the instruction that the next data accesses
  belong to.
- ``encode_accesses`` / ``decode_accesses``: the access blocks of our compact
  binary trace format (columnar, delta + zigzag + LEB128 varints; the file
  framing and compression live in ``damo.tracing``).
- ``TraceWorkload``: a simulated process that performs a trace's accesses.
  Its clock is the instruction count times a time per instruction, plus what
  the memory adds: page faults, swap-ins, and, for each visit to a page on a
  tier slower than the fastest, the difference of their load latencies.

Where the trace comes from (a pipe from valgrind, a file) and what the
process's mappings are is the business of a *source* object (see
``TraceWorkload``), so that the policy stays in Python and the per-access
work stays here.
"""
from libc.stdint cimport int8_t, uint8_t, int32_t, uint32_t, uint64_t, int64_t
from libc.stdlib cimport malloc, calloc, free
from libc.string cimport memset

from damo_engine.memory cimport (
    AddressSpace, Machine, VmaData, MmData, CostTable, mm_find_vma, vma_li, vma_frame,
    pb_set, pb_set_chunk, gt_add_range, PAGE_SHIFT, PAGE_SIZE, CHUNK_SHIFT, MAX_NODES)
from damo_engine.workloads cimport Workload

import numpy as np

# access kinds, in the top two bits of a kind byte; the low six bits hold
# the access size minus one (sizes above 64 bytes are kept as 64)
KIND_LOAD = 0
KIND_STORE = 1
KIND_MODIFY = 2
KIND_NAMES = ("L", "S", "M")
DEFAULT_BATCH = 1 << 16

cdef enum:
    _K_WRITE_MIN = 0x40         # kind bytes >= this are stores or modifies


cdef inline uint8_t _kind_byte(int kind, uint64_t size) noexcept nogil:
    if size == 0:
        size = 1
    elif size > 64:
        size = 64
    return <uint8_t>((kind << 6) | (size - 1))


# ---------------------------------------------------------------------------

cdef class AccessBatch:
    """Columns of up to ``capacity`` accesses.

    ``icount[i]``: instructions executed up to and including the one that
    made access i; ``addr[i]``: its address; ``kind[i]``: kind << 6 |
    (size - 1); ``ip[i]``: the address of the instruction (0 if unknown)."""
    cdef uint64_t *icount
    cdef uint64_t *addr
    cdef uint64_t *ip
    cdef uint8_t *kind
    cdef public int64_t n
    cdef readonly int64_t capacity

    def __cinit__(self, int64_t capacity=DEFAULT_BATCH):
        if capacity <= 0:
            raise ValueError("a batch needs a positive capacity")
        self.capacity = capacity
        self.n = 0
        self.icount = <uint64_t *>malloc(capacity * sizeof(uint64_t))
        self.addr = <uint64_t *>malloc(capacity * sizeof(uint64_t))
        self.ip = <uint64_t *>malloc(capacity * sizeof(uint64_t))
        self.kind = <uint8_t *>malloc(capacity)
        if self.icount == NULL or self.addr == NULL or self.ip == NULL or self.kind == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.icount)
        free(self.addr)
        free(self.ip)
        free(self.kind)

    def __len__(self):
        return self.n

    def set(self, icount, addr, kind, ip=None):
        """Fill from arrays (kind: kind bytes as made by ``kind_bytes``)."""
        cdef uint64_t[::1] ic = np.ascontiguousarray(icount, dtype=np.uint64)
        cdef uint64_t[::1] ad = np.ascontiguousarray(addr, dtype=np.uint64)
        cdef uint8_t[::1] kd = np.ascontiguousarray(kind, dtype=np.uint8)
        cdef uint64_t[::1] ipv
        cdef int64_t i, n = ic.shape[0]
        if ad.shape[0] != n or kd.shape[0] != n:
            raise ValueError("access columns disagree in length")
        if n > self.capacity:
            raise ValueError("%d accesses do not fit a batch of %d" % (n, self.capacity))
        if ip is not None:
            ipv = np.ascontiguousarray(ip, dtype=np.uint64)
            if ipv.shape[0] != n:
                raise ValueError("access columns disagree in length")
        for i in range(n):
            self.icount[i] = ic[i]
            self.addr[i] = ad[i]
            self.kind[i] = kd[i]
            self.ip[i] = ipv[i] if ip is not None else 0
        self.n = n

    def icount_range(self):
        """(first, last) instruction count of the filled part (0, 0 if empty)."""
        if self.n == 0:
            return 0, 0
        return self.icount[0], self.icount[self.n - 1]

    def arrays(self):
        """(icount, addr, kind, ip) numpy copies of the filled part."""
        n = self.n
        if n == 0:
            return (np.zeros(0, np.uint64), np.zeros(0, np.uint64), np.zeros(0, np.uint8),
                    np.zeros(0, np.uint64))
        return (np.asarray(<uint64_t[:n]>self.icount).copy(),
                np.asarray(<uint64_t[:n]>self.addr).copy(),
                np.asarray(<uint8_t[:n]>self.kind).copy(),
                np.asarray(<uint64_t[:n]>self.ip).copy())


def kind_bytes(kinds, sizes):
    """Kind bytes from kind numbers (KIND_*) and access sizes."""
    kinds = np.asarray(kinds, dtype=np.uint8)
    sizes = np.clip(np.asarray(sizes, dtype=np.int64), 1, 64)
    return ((kinds.astype(np.uint8) << 6) | (sizes - 1).astype(np.uint8)).astype(np.uint8)


# ---------------------------------------------------------------------------
# lackey text

cdef int8_t _HEX[256]
cdef void _init_hex():
    cdef int i
    for i in range(256):
        _HEX[i] = -1
    for i in range(10):
        _HEX[ord('0') + i] = i
    for i in range(6):
        _HEX[ord('a') + i] = 10 + i
        _HEX[ord('A') + i] = 10 + i
_init_hex()


cdef enum:
    _SCAN_DONE = 0
    _SCAN_BANNER = 1
    _SCAN_BAD_LINE = 2
    _SCAN_BAD_ACCESS = 3


cdef class LackeyParser:
    """Incremental parser of lackey's --trace-mem=yes output.

    ``feed`` takes the complete lines of a buffer (the caller carries a
    partial last line over to the next buffer) and appends the data
    accesses to a batch.  Banner lines (``==PID== ...``) are skipped; a
    second ``Command:`` banner (an exec under --trace-children=yes) stops
    the feed with ``exec_pending`` set so that the caller can start a new
    address space at exactly that point."""
    cdef public uint64_t icount         # instruction lines so far
    cdef public int64_t lines           # lines parsed so far
    cdef public int64_t data_lines
    cdef uint64_t cur_ip
    cdef int64_t ip_at                  # offset of the unparsed hex of cur_ip, or -1
    cdef public object pid              # from the first banner line, as text
    cdef public object command          # the latest Command: banner
    cdef public bint exec_pending
    cdef public int nr_commands
    cdef public str error

    def __cinit__(self):
        self.ip_at = -1
        self.pid = None
        self.command = None
        self.error = None

    cdef inline uint64_t _ip(self, const uint8_t *buf, int64_t end) noexcept nogil:
        cdef int64_t p = self.ip_at
        cdef uint64_t v = 0
        cdef int8_t d
        if p >= 0:
            while p < end:
                d = _HEX[buf[p]]
                if d < 0:
                    break
                v = (v << 4) | <uint64_t>d
                p += 1
            self.cur_ip = v
            self.ip_at = -1
        return self.cur_ip

    def feed(self, const uint8_t[::1] data, int64_t start, int64_t end, AccessBatch out):
        """Parse the complete lines of data[start:end] into ``out`` until it
        is full.  Returns the offset after the last line parsed, or -1 for a
        malformed line (``error`` says which)."""
        cdef int64_t p = start, q = 0
        cdef int st
        if end > data.shape[0] or start < 0 or start > end:
            raise ValueError("bad buffer range")
        self.exec_pending = False
        if end == start:
            return start
        while True:
            with nogil:
                st = self._scan(&data[0], &p, end, out, &q)
            if st == _SCAN_BANNER:
                self._banner(bytes(data[p:q]))
                p = q + 1
                if self.exec_pending:
                    break
                continue
            if st == _SCAN_BAD_LINE:
                self.error = "line %d: not a lackey trace line" % self.lines
                return -1
            if st == _SCAN_BAD_ACCESS:
                self.error = "line %d: malformed %s access" % (self.lines, chr(data[p + 1]))
                return -1
            break
        # the instruction's text may not outlive this buffer
        self._ip(&data[0], end)
        return p

    cdef int _scan(self, const uint8_t *buf, int64_t *pp, int64_t end, AccessBatch out,
                   int64_t *qq) noexcept nogil:
        """Parse lines from *pp; stops at a partial line or a full batch
        (DONE, *pp after the last line), at a banner line (BANNER: the line is
        [*pp, *qq)), or at a malformed line (BAD_*, *pp at its start)."""
        cdef int64_t p = pp[0], q, n = out.n, cap = out.capacity
        cdef uint64_t icount = self.icount, a, sz
        cdef int64_t lines = self.lines
        cdef int8_t d
        cdef uint8_t c, k
        cdef int kind, st = _SCAN_DONE
        while p < end and n < cap:
            c = buf[p]
            if c == 73:                     # 'I': an instruction, "I  <hex>,<size>"
                q = p + 3
                while q < end and buf[q] != 10:
                    q += 1
                if q >= end:
                    break                   # partial line
                icount += 1
                self.ip_at = p + 3
                p = q + 1
                lines += 1
                continue
            q = p
            while q < end and buf[q] != 10:
                q += 1
            if q >= end:
                break                       # partial line
            if c == 32 and q - p >= 6:      # " L|S|M <hex>,<size>"
                k = buf[p + 1]
                if k == 76:
                    kind = 0
                elif k == 83:
                    kind = 1
                elif k == 77:
                    kind = 2
                else:
                    st = _SCAN_BAD_LINE
                    lines += 1
                    break
                q = p + 3
                a = 0
                while True:
                    d = _HEX[buf[q]]
                    if d < 0:
                        break
                    a = (a << 4) | <uint64_t>d
                    q += 1
                # more than 16 hex digits would wrap the address silently
                if buf[q] != 44 or q == p + 3 or buf[p + 2] != 32 or q - p - 3 > 16:
                    st = _SCAN_BAD_ACCESS
                    lines += 1
                    break
                q += 1
                sz = 0
                while 48 <= buf[q] <= 57 and sz < 1000000:
                    sz = sz * 10 + (buf[q] - 48)
                    q += 1
                if buf[q] != 10:
                    st = _SCAN_BAD_ACCESS
                    lines += 1
                    break
                out.icount[n] = icount
                out.addr[n] = a
                out.kind[n] = _kind_byte(kind, sz)
                out.ip[n] = self._ip(buf, end)
                n += 1
                self.data_lines += 1
                p = q + 1
                lines += 1
                continue
            lines += 1
            if c == 61:                     # '=': a banner line (==PID== ...)
                st = _SCAN_BANNER
                qq[0] = q
                break
            if c == 83 and buf[p + 1] == 66:    # "SB <hex>": a superblock
                p = q + 1
                continue
            if q == p:                      # an empty line
                p = q + 1
                continue
            st = _SCAN_BAD_LINE
            break
        self.icount = icount
        self.lines = lines
        out.n = n
        pp[0] = p
        return st

    cdef void _banner(self, bytes line) except *:
        cdef int i = line.find(b"==", 2)
        if i < 0:
            return
        if self.pid is None:
            self.pid = line[2:i].decode("ascii", "replace")
        body = line[i + 2:].strip()
        if body.startswith(b"Command:"):
            self.command = body[8:].strip().decode("utf-8", "replace")
            self.nr_commands += 1
            if self.nr_commands > 1:
                self.exec_pending = True


# ---------------------------------------------------------------------------
# binary access blocks

cdef inline uint8_t *_put_varint(uint8_t *p, uint64_t v) noexcept nogil:
    while v >= 0x80:
        p[0] = <uint8_t>(v | 0x80)
        p += 1
        v >>= 7
    p[0] = <uint8_t>v
    return p + 1


cdef inline uint64_t _zigzag(uint64_t cur, uint64_t prev) noexcept nogil:
    cdef int64_t d = <int64_t>(cur - prev)
    return (<uint64_t>d << 1) ^ <uint64_t>(d >> 63)


cdef inline uint64_t _unzigzag(uint64_t z) noexcept nogil:
    return (z >> 1) ^ (<uint64_t>0 - (z & 1))


cdef enum:
    _SLOTS = 4096


cdef inline uint64_t _addr_slot(uint64_t ip) noexcept nogil:
    return ((ip * 0x9E3779B97F4A7C15ull) >> 52) & (_SLOTS - 1)


cdef inline int64_t _get_varint(const uint8_t *p, int64_t len, int64_t q,
                                uint64_t *v) noexcept nogil:
    """Read the LEB128 varint at p[q]; returns the next position, or -1 if
    it runs past len or is longer than 64 bits."""
    cdef uint64_t b
    cdef int shift = 7
    if q >= len:
        return -1
    b = p[q]
    q += 1
    if b < 0x80:
        v[0] = b
        return q
    v[0] = b & 0x7F
    while True:
        if q >= len or shift > 63:
            return -1
        b = p[q]
        q += 1
        v[0] |= (b & 0x7F) << shift
        if b < 0x80:
            return q
        shift += 7


cdef int _get_addrs(const uint8_t *p, int64_t len, uint64_t *out, const uint64_t *ips,
                    int64_t n) noexcept nogil:
    """Decode the address column (see encode_accesses); -1 if corrupt."""
    cdef uint64_t last[_SLOTS]
    cdef int64_t i, q = 0
    cdef uint64_t v, slot
    memset(last, 0, sizeof(last))
    for i in range(n):
        q = _get_varint(p, len, q, &v)
        if q < 0:
            return -1
        slot = _addr_slot(ips[i])
        last[slot] = last[slot] + _unzigzag(v)
        out[i] = last[slot]
    return 0 if q == len else -1


def encode_accesses(AccessBatch b, int64_t lo=0, hi=None, bint with_ip=True):
    """The raw payload of an access block for accesses [lo, hi) of b:
    four little-endian u32 column lengths, then the columns: instruction
    count deltas, address deltas, kind bytes, instruction address deltas
    (empty without ip), as LEB128 varints (zigzag for the signed ones).  An
    address is a delta from the previous address of an instruction hashing
    to the same slot of a 4096-slot table (``_addr_slot``).  Deltas start
    from zero, so every block decodes on its own."""
    cdef int64_t h = b.n if hi is None else hi
    cdef int64_t n, i
    cdef uint8_t *buf
    cdef uint8_t *p
    cdef uint8_t *col[4]
    cdef uint64_t prev
    cdef uint64_t last[_SLOTS]
    cdef uint64_t slot
    if lo < 0 or h > b.n or lo > h:
        raise ValueError("bad access range")
    n = h - lo
    buf = <uint8_t *>malloc(16 + n * (10 + 10 + 1 + 10) + 16)
    if buf == NULL:
        raise MemoryError()
    try:
        with nogil:
            p = buf + 16
            col[0] = p
            prev = 0
            for i in range(lo, h):
                p = _put_varint(p, b.icount[i] - prev)
                prev = b.icount[i]
            col[1] = p
            memset(last, 0, sizeof(last))
            for i in range(lo, h):
                # against the previous address of the same instruction: code
                # walks the stack, arrays and structures instruction by
                # instruction, however its accesses interleave
                slot = _addr_slot(b.ip[i] if with_ip else 0)
                p = _put_varint(p, _zigzag(b.addr[i], last[slot]))
                last[slot] = b.addr[i]
            col[2] = p
            for i in range(lo, h):
                p[0] = b.kind[i]
                p += 1
            col[3] = p
            if with_ip:
                prev = 0
                for i in range(lo, h):
                    p = _put_varint(p, _zigzag(b.ip[i], prev))
                    prev = b.ip[i]
            _put_u32(buf, <uint32_t>(col[1] - col[0]))
            _put_u32(buf + 4, <uint32_t>(col[2] - col[1]))
            _put_u32(buf + 8, <uint32_t>(col[3] - col[2]))
            _put_u32(buf + 12, <uint32_t>(p - col[3]))
        return (<char *>buf)[:p - buf]
    finally:
        free(buf)


cdef inline void _put_u32(uint8_t *p, uint32_t v) noexcept nogil:
    p[0] = v & 0xFF
    p[1] = (v >> 8) & 0xFF
    p[2] = (v >> 16) & 0xFF
    p[3] = (v >> 24) & 0xFF


cdef inline uint32_t _get_u32(const uint8_t *p) noexcept nogil:
    return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)


cdef inline int64_t _get_varints(const uint8_t *p, int64_t len, uint64_t *out, int64_t n,
                                 bint zigzag, uint64_t prev,
                                 uint64_t max_delta=0) noexcept nogil:
    """Decode n delta varints of p[0:len] into out; -1 if they do not fit
    exactly, or (max_delta set) if a delta after the first exceeds it."""
    cdef int64_t i, q = 0
    cdef uint64_t v
    for i in range(n):
        q = _get_varint(p, len, q, &v)
        if q < 0:
            return -1
        if max_delta and i and v > max_delta:
            return -1
        prev = prev + (_unzigzag(v) if zigzag else v)
        out[i] = prev
    return 0 if q == len else -1


# the most instructions between two accesses of a trace: lackey prints a line
# per instruction, so a bigger jump is a corrupt trace, and would ask for hours
# of simulated compute from a few bytes
DEF _MAX_ICOUNT_GAP = 4294967296
MAX_ICOUNT_GAP = _MAX_ICOUNT_GAP


def decode_accesses(const uint8_t[::1] payload, int64_t n, AccessBatch out):
    """Decode an access block of n accesses (see encode_accesses) into out,
    replacing its contents.  Raises ValueError if the block is corrupt (an
    instruction-count jump above MAX_ICOUNT_GAP inside it included)."""
    cdef const uint8_t *p
    cdef int64_t L0, L1, L2, L3, size = payload.shape[0], i
    cdef int r = 0
    if n > out.capacity:
        raise ValueError("a block of %d accesses does not fit a batch of %d"
                         % (n, out.capacity))
    if n < 0 or size < 16:
        raise ValueError("truncated access block")
    p = &payload[0]
    L0 = _get_u32(p)
    L1 = _get_u32(p + 4)
    L2 = _get_u32(p + 8)
    L3 = _get_u32(p + 12)
    if 16 + L0 + L1 + L2 + L3 != size or L2 != n:
        raise ValueError("access block columns do not add up")
    with nogil:
        p += 16
        if _get_varints(p, L0, out.icount, n, False, 0, _MAX_ICOUNT_GAP) < 0:
            r = -1
        else:
            if L3 == 0:
                memset(out.ip, 0, n * sizeof(uint64_t))
            elif _get_varints(p + L0 + L1 + L2, L3, out.ip, n, True, 0) < 0:
                r = -1
            if r == 0 and _get_addrs(p + L0, L1, out.addr, out.ip, n) < 0:
                r = -1
            for i in range(n):
                out.kind[i] = p[L0 + L1 + i]
    if r < 0:
        out.n = 0
        raise ValueError("corrupt access block")
    out.n = n
    return n


# ---------------------------------------------------------------------------
# code attribution: accesses per (function, page), per time bucket

cdef struct AttrTable:          # (func, page) -> count; a zero count is an empty slot
    uint64_t *func
    uint64_t *page
    uint64_t *count
    int64_t cap                 # power of two
    int64_t used


cdef int _attr_init(AttrTable *t, int64_t cap) noexcept nogil:
    t.func = <uint64_t *>calloc(cap, sizeof(uint64_t))
    t.page = <uint64_t *>calloc(cap, sizeof(uint64_t))
    t.count = <uint64_t *>calloc(cap, sizeof(uint64_t))
    t.cap = cap
    t.used = 0
    return 0 if (t.func != NULL and t.page != NULL and t.count != NULL) else -1


cdef void _attr_free(AttrTable *t) noexcept nogil:
    free(t.func)
    free(t.page)
    free(t.count)
    t.func = NULL
    t.page = NULL
    t.count = NULL


cdef inline uint64_t _mix(uint64_t a, uint64_t b) noexcept nogil:
    cdef uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b * 0xBF58476D1CE4E5B9ull)
    x ^= x >> 29
    return x


cdef inline void _attr_add(AttrTable *t, uint64_t func, uint64_t page, uint64_t k) noexcept nogil:
    cdef uint64_t mask = t.cap - 1
    cdef uint64_t h = _mix(func, page) & mask
    while t.count[h] != 0:
        if t.func[h] == func and t.page[h] == page:
            t.count[h] += k
            return
        h = (h + 1) & mask
    t.func[h] = func
    t.page[h] = page
    t.count[h] = k
    t.used += 1


cdef int _grow_table(AttrTable *t) noexcept nogil:
    cdef AttrTable n
    cdef int64_t i
    if _attr_init(&n, t.cap * 2) < 0:
        _attr_free(&n)
        return -1
    for i in range(t.cap):
        if t.count[i]:
            _attr_add(&n, t.func[i], t.page[i], t.count[i])
    _attr_free(t)
    t[0] = n
    return 0


cdef struct IpTable:            # instruction address -> function id (-1: empty slot)
    uint64_t *ip
    int32_t *func
    int64_t cap
    int64_t used


cdef int _ipt_init(IpTable *t, int64_t cap) noexcept nogil:
    cdef int64_t i
    t.ip = <uint64_t *>calloc(cap, sizeof(uint64_t))
    t.func = <int32_t *>malloc(cap * sizeof(int32_t))
    t.cap = cap
    t.used = 0
    if t.ip == NULL or t.func == NULL:
        return -1
    for i in range(cap):
        t.func[i] = -1
    return 0


cdef void _ipt_free(IpTable *t) noexcept nogil:
    free(t.ip)
    free(t.func)
    t.ip = NULL
    t.func = NULL


cdef inline int32_t _ipt_get(const IpTable *t, uint64_t ip) noexcept nogil:
    cdef uint64_t mask = t.cap - 1
    cdef uint64_t h = _mix(ip, 1) & mask
    while t.func[h] >= 0:
        if t.ip[h] == ip:
            return t.func[h]
        h = (h + 1) & mask
    return -1


cdef int _ipt_put(IpTable *t, uint64_t ip, int32_t f) noexcept nogil:
    cdef IpTable n
    cdef int64_t i
    cdef uint64_t mask, h
    if (t.used + 1) * 2 > t.cap:
        if _ipt_init(&n, t.cap * 2) < 0:
            _ipt_free(&n)
            return -1
        for i in range(t.cap):
            if t.func[i] >= 0:
                _ipt_put(&n, t.ip[i], t.func[i])
        _ipt_free(t)
        t[0] = n
    mask = t.cap - 1
    h = _mix(ip, 1) & mask
    while t.func[h] >= 0:
        if t.ip[h] == ip:
            t.func[h] = f
            return 0
        h = (h + 1) & mask
    t.ip[h] = ip
    t.func[h] = f
    t.used += 1
    return 0


class IpFunctions:
    """The default symboliser: each distinct instruction address is its own
    function, named by its address."""

    def __init__(self):
        self.ids = {}
        self.names = []
        self.objects = []

    def __call__(self, ip):
        f = self.ids.get(ip)
        if f is None:
            f = self.ids[ip] = len(self.names)
            self.names.append("0x%x" % ip)
            self.objects.append("?")
        return f


# ---------------------------------------------------------------------------

cdef enum:
    _ST_TIME = 0                # reached t_ns
    _ST_BATCH = 1               # batch done, or a positional event is due
    _ST_UNMAPPED = 2            # the access at pos hits no mapping
    _ST_FLUSH = 3               # the attribution table needs flushing

    _PC = 512                   # pages touched lately (direct mapped)
    _IPC = 4096                 # instruction address -> function (direct mapped)
    _CC = 1024                  # (function, page) counts being combined


cdef class TraceWorkload(Workload):
    """A process that performs the accesses of a trace.

    ``source`` feeds it; it must provide:

    - ``attach(workload)``: the process exists (``workload.mm``);
    - ``fill(batch)``: put the next accesses in ``batch`` (an AccessBatch)
      and return True, or return another AccessBatch holding them (the
      source gets ``batch`` back through ``recycle(batch)``); False at the end
      of the trace;
    - ``end_icount``: instructions executed in all (read at the end);
    - ``next_event_index() -> int``: global index of the access before which
      the next positional event (a mapping change) applies, or -1;
    - ``apply_events(workload, index)``: apply the events due at ``index``;
    - ``unmapped(workload, addr, index) -> bool``: the access ``index`` hits
      no mapping: map what it needs (True) or drop the access (False);
    - ``consumed(batch, base_index, upto)``: accesses [0, upto) of the batch
      (global indexes from base_index) have been performed.

    ``ns_per_instruction`` turns instruction counts into simulated time.
    With ``bucket_ns`` > 0, accesses are also counted per (function, page)
    in time buckets of that length (``attribution()``); ``symbolizer(ip)``
    gives the function id of an instruction address (default: one function
    per address, ``IpFunctions``).
    """
    cdef public object source
    cdef public object symbolizer
    cdef AccessBatch batch
    cdef readonly int64_t pos
    cdef readonly int64_t base_index
    cdef readonly double ns_per_instruction
    cdef readonly double extra_ns
    cdef double start_ns
    cdef CostTable ct
    cdef int64_t next_event
    cdef readonly bint source_done
    cdef readonly uint64_t end_icount
    cdef readonly uint64_t icount
    cdef readonly uint64_t nr_accesses, nr_page_visits, nr_dropped
    # pages touched since DAMON last ran (their bits are set): a hit costs
    # nothing but counting; any page-table change starts a new epoch
    cdef uint64_t epoch
    cdef uint64_t pc_page[_PC]
    cdef uint64_t pc_epoch[_PC]
    cdef VmaData *pc_v[_PC]
    cdef int64_t pc_li[_PC]
    cdef int32_t pc_node[_PC]
    cdef uint8_t pc_written[_PC]
    # attribution
    cdef readonly double bucket_ns
    cdef AttrTable table
    cdef IpTable iptab
    cdef uint64_t ipc_ip[_IPC]
    cdef int32_t ipc_func[_IPC]
    cdef uint64_t cc_func[_CC]
    cdef uint64_t cc_page[_CC]
    cdef uint64_t cc_count[_CC]
    cdef int64_t cur_bucket
    cdef bint need_flush
    cdef list attr_chunks

    def __cinit__(self):
        self.table.func = NULL
        self.table.page = NULL
        self.table.count = NULL
        self.iptab.ip = NULL
        self.iptab.func = NULL

    def __init__(self, source, *, double ns_per_instruction=1.0, double bucket_ns=0,
                 symbolizer=None, int64_t batch_size=DEFAULT_BATCH, str name="trace"):
        cdef int i
        if ns_per_instruction <= 0:
            raise ValueError("the time per instruction must be positive")
        if bucket_ns < 0:
            raise ValueError("the attribution bucket must not be negative")
        self.source = source
        self.name = name
        self.ns_per_instruction = ns_per_instruction
        self.bucket_ns = bucket_ns
        self.symbolizer = symbolizer if symbolizer is not None else IpFunctions()
        self.batch = AccessBatch(batch_size)
        self.attr_chunks = []
        self.cur_bucket = -1
        self.mm = None
        self.epoch = 1
        memset(self.pc_epoch, 0, sizeof(self.pc_epoch))
        for i in range(_IPC):
            self.ipc_func[i] = -1
        memset(self.cc_count, 0, sizeof(self.cc_count))
        if bucket_ns > 0 and (_attr_init(&self.table, 1 << 16) < 0
                              or _ipt_init(&self.iptab, 1 << 12) < 0):
            raise MemoryError()

    def __dealloc__(self):
        _attr_free(&self.table)
        _ipt_free(&self.iptab)

    def attach(self, Machine machine, uint64_t seed=0, bint track_ground_truth=False):
        cdef int n
        self.machine = machine
        self.mm = machine.new_address_space(track_ground_truth)
        # The instructions are timed by the instruction count, as the
        # program ran on the reference memory (the default DRAM tier, or the
        # calibrated host's); a visit to a page (its first access since
        # DAMON last looked) adds what a random read miss to its tier takes
        # beyond one to the reference memory, if more
        ref = machine.access_cost("random_r", 1e30)
        self.ct.compute_ns = 0
        for n in range(MAX_NODES):
            self.ct.stall_ns[n] = max(0.0, ref["stall_ns"][n] + ref["compute_ns"]
                                      - ref["nominal_ns"]) if n < machine.nr_nodes else 0
        self.clock_ns = 0
        self.start_ns = 0
        self.finished = False
        self.next_event = -1
        self._new_epoch()
        self.source.attach(self)
        self.next_event = self.source.next_event_index()
        self._prime()
        return self.mm.pid

    cdef void _prime(self) except *:
        """Map what the first batch of accesses needs before anything runs:
        a program's initial mappings exist when monitoring starts (as when
        damo starts DAMON on a command it has just started)."""
        cdef int64_t i
        cdef uint64_t a
        self._fetch()
        if self.batch.n == 0:
            return
        if 0 <= self.next_event <= self.base_index:
            self.source.apply_events(self, self.base_index)
            self.next_event = self.source.next_event_index()
        for i in range(self.batch.n):
            a = self.batch.addr[i]
            if mm_find_vma(self.mm.mm, a) == NULL:
                self.source.unmapped(self, a, self.base_index)
        self.next_event = self.source.next_event_index()
        self._new_epoch()

    @property
    def instructions(self):
        return self.icount

    cdef inline void _new_epoch(self) noexcept:
        self.epoch += 1

    def set_bucket(self, double bucket_ns):
        """Start code attribution in time buckets of bucket_ns (before the
        process runs)."""
        if bucket_ns <= 0:
            raise ValueError("the attribution bucket must be positive")
        if self.nr_accesses:
            raise ValueError("code attribution must start before the trace does")
        if self.table.func == NULL and (_attr_init(&self.table, 1 << 16) < 0
                                        or _ipt_init(&self.iptab, 1 << 12) < 0):
            raise MemoryError()
        self.bucket_ns = bucket_ns

    def forget_functions(self):
        """Instruction addresses mean other functions from now on (exec)."""
        cdef int i
        if self.bucket_ns > 0:
            self._drain_combined()
            _ipt_free(&self.iptab)
            if _ipt_init(&self.iptab, 1 << 12) < 0:
                raise MemoryError()
        for i in range(_IPC):
            self.ipc_func[i] = -1

    cdef int run_until(self, double t_ns) except -1:
        cdef int st
        cdef double t
        if self.finished:
            return 0
        if self.clock_ns < self.start_ns:
            self.clock_ns = self.start_ns
        self._new_epoch()               # DAMON may have cleared bits since
        while not self.finished and self.clock_ns < t_ns:
            if self.pos >= self.batch.n:
                if self.source_done:
                    self._run_out(t_ns)
                    break
                self._fetch()
                continue
            if 0 <= self.next_event <= self.base_index + self.pos:
                # the event comes with the access at pos: not before its time
                t = self.start_ns + self.batch.icount[self.pos] * self.ns_per_instruction \
                    + self.extra_ns
                if t >= t_ns:
                    if t_ns > self.clock_ns:
                        self.clock_ns = t_ns
                    break
                self.source.apply_events(self, self.base_index + self.pos)
                self.next_event = self.source.next_event_index()
                self._new_epoch()
                continue
            st = self._process(t_ns)
            if st == _ST_UNMAPPED:
                if not self.source.unmapped(self, self.batch.addr[self.pos],
                                            self.base_index + self.pos):
                    self.nr_dropped += 1
                    self.pos += 1
                self.next_event = self.source.next_event_index()
                self._new_epoch()
            elif st == _ST_FLUSH:
                self._flush_table()
        return 0

    cdef void _run_out(self, double t_ns) except *:
        """The trace is over: the program runs its last instructions."""
        cdef double end = self.start_ns + self.end_icount * self.ns_per_instruction \
            + self.extra_ns
        if self.end_icount > self.icount:
            if self.mm is not None:
                (<AddressSpace>self.mm).mm.compute_ns += \
                    (self.end_icount - self.icount) * self.ns_per_instruction
            self.icount = self.end_icount
        if end <= t_ns:
            if end > self.clock_ns:
                self.clock_ns = end
            self.finish()
        else:
            self.clock_ns = t_ns

    cdef void _fetch(self) except *:
        cdef AccessBatch old
        if self.batch.n:
            self.source.consumed(self.batch, self.base_index, self.batch.n)
        self.base_index += self.batch.n
        self.batch.n = 0
        self.pos = 0
        r = self.source.fill(self.batch)
        if isinstance(r, AccessBatch):
            old = self.batch
            self.batch = <AccessBatch>r
            self.source.recycle(old)
        elif not r:
            self.batch.n = 0
            self.source_done = True
            self.end_icount = max(<uint64_t>self.source.end_icount, self.icount)
        self.next_event = self.source.next_event_index()

    cdef inline int32_t _func_of(self, uint64_t ip) except -2:
        cdef uint64_t h = (ip ^ (ip >> 12)) & (_IPC - 1)
        cdef int32_t f
        if self.ipc_func[h] >= 0 and self.ipc_ip[h] == ip:
            return self.ipc_func[h]
        f = _ipt_get(&self.iptab, ip)
        if f < 0:
            f = <int32_t>self.symbolizer(ip)
            if f < 0 or _ipt_put(&self.iptab, ip, f) < 0:
                raise MemoryError() if f >= 0 else ValueError("bad function id")
        self.ipc_ip[h] = ip
        self.ipc_func[h] = f
        return f

    cdef int _count(self, uint64_t f, uint64_t page) except -1:
        """One access of function f to page, combined in a small cache
        before it goes to the table.  Returns 1 when the table must be
        flushed."""
        cdef uint64_t h = _mix(f, page) & (_CC - 1)
        if self.cc_count[h]:
            if self.cc_func[h] == f and self.cc_page[h] == page:
                self.cc_count[h] += 1
                return 0
            _attr_add(&self.table, self.cc_func[h], self.cc_page[h], self.cc_count[h])
        self.cc_func[h] = f
        self.cc_page[h] = page
        self.cc_count[h] = 1
        if self.table.used * 2 >= self.table.cap:
            if self.table.cap < (1 << 22):
                if _grow_table(&self.table) < 0:
                    raise MemoryError()
            else:
                return 1
        return 0

    cdef void _drain_combined(self) noexcept:
        cdef int i
        for i in range(_CC):
            if self.cc_count[i]:
                _attr_add(&self.table, self.cc_func[i], self.cc_page[i], self.cc_count[i])
                self.cc_count[i] = 0
                if self.table.used * 2 >= self.table.cap and self.table.cap < (1 << 22):
                    _grow_table(&self.table)

    cdef int _process(self, double t_ns) except -1:
        """Perform accesses from pos until t_ns, the batch's end, the next
        positional event, an unmapped address or a full attribution table."""
        cdef AccessBatch b = self.batch
        cdef int64_t j = self.pos, stop = b.n
        cdef double t, cost, nspi = self.ns_per_instruction, start = self.start_ns
        cdef uint64_t a, page, h, ip, f, epoch = self.epoch
        cdef bint w, attr = self.bucket_ns > 0
        cdef double bucket_lo = 0, bucket_hi = -1
        cdef VmaData *v
        cdef int64_t li, bucket
        cdef MmData *mm = self.mm.mm
        cdef Machine m = self.machine
        cdef int st = _ST_BATCH
        cdef uint64_t icount0 = self.icount
        if self.next_event >= 0 and self.next_event - self.base_index < stop:
            stop = self.next_event - self.base_index
        while j < stop:
            t = start + b.icount[j] * nspi + self.extra_ns
            if t >= t_ns:
                if t_ns > self.clock_ns:
                    self.clock_ns = t_ns
                st = _ST_TIME
                break
            a = b.addr[j]
            page = a >> PAGE_SHIFT
            w = b.kind[j] >= _K_WRITE_MIN
            if attr and not (bucket_lo <= t < bucket_hi):
                bucket = <int64_t>(t / self.bucket_ns)
                if bucket != self.cur_bucket:
                    self._drain_combined()
                    if self.table.used:
                        st = _ST_FLUSH          # the table holds cur_bucket's counts
                        break
                    self.cur_bucket = bucket
                bucket_lo = bucket * self.bucket_ns
                bucket_hi = (bucket + 1) * self.bucket_ns
            h = page & (_PC - 1)
            if self.pc_page[h] == page and self.pc_epoch[h] == epoch and \
                    (not w or self.pc_written[h]):
                # touched since DAMON last looked: its bits are already set
                mm.node_accesses[self.pc_node[h]] += 1
                v = self.pc_v[h]
                if v.gt_counts != NULL:
                    gt_add_range(v, self.pc_li[h], self.pc_li[h] + 1, 1)
            else:
                if self.pc_page[h] == page and self.pc_epoch[h] == epoch:
                    v = self.pc_v[h]            # read before, written now
                else:
                    v = mm_find_vma(mm, a)
                    if v == NULL:
                        st = _ST_UNMAPPED
                        break
                    self.pc_written[h] = 0
                li = vma_li(v, a)
                cost = m.touch_page(v, li, 1, w, &self.ct)
                self.extra_ns += cost
                t += cost
                self.pc_page[h] = page
                self.pc_epoch[h] = epoch
                self.pc_v[h] = v
                self.pc_li[h] = li
                self.pc_node[h] = m.node_of_pfn(vma_frame(v, li))
                self.pc_written[h] = self.pc_written[h] | w
                self.nr_page_visits += 1
                if (a & (PAGE_SIZE - 1)) + (b.kind[j] & 0x3F) + 1 > PAGE_SIZE:
                    # the access straddles two pages: the second one too
                    t += self._touch_next_page(a, w)
            if attr:
                ip = b.ip[j]
                h = (ip ^ (ip >> 12)) & (_IPC - 1)
                if self.ipc_func[h] >= 0 and self.ipc_ip[h] == ip:
                    f = <uint64_t>self.ipc_func[h]
                else:
                    f = <uint64_t>self._func_of(ip)
                h = _mix(f, page) & (_CC - 1)
                if self.cc_count[h] and self.cc_func[h] == f and self.cc_page[h] == page:
                    self.cc_count[h] += 1
                elif self._count(f, page):
                    self.need_flush = True
            self.icount = b.icount[j]
            self.clock_ns = t
            self.nr_accesses += 1
            j += 1
            if self.need_flush:
                st = _ST_FLUSH
                break
        self.pos = j
        # the instructions are the process's computing time
        mm.compute_ns += (self.icount - icount0) * nspi
        return st

    cdef double _touch_next_page(self, uint64_t a, bint w) except -1.0:
        cdef uint64_t nxt = ((a >> PAGE_SHIFT) + 1) << PAGE_SHIFT
        cdef VmaData *v = mm_find_vma(self.mm.mm, nxt)
        cdef double cost
        if v == NULL:
            return 0            # runs off the mapping: the first page was enough
        cost = self.machine.touch_page(v, vma_li(v, nxt), 1, w, &self.ct)
        self.extra_ns += cost
        self.nr_page_visits += 1
        # the next page's cache entry, if any, may now lack its written bit
        self.pc_epoch[(nxt >> PAGE_SHIFT) & (_PC - 1)] = 0
        return cost

    cdef void _flush_table(self) except *:
        """Move the attribution table's counts (of bucket cur_bucket) out."""
        cdef AttrTable *t = &self.table
        cdef int64_t i, k = 0, n = t.used
        self.need_flush = False
        if n == 0:
            return
        funcs = np.empty(n, np.int32)
        pages = np.empty(n, np.uint64)
        counts = np.empty(n, np.uint64)
        cdef int32_t[::1] vf = funcs
        cdef uint64_t[::1] vp = pages, vc = counts
        for i in range(t.cap):
            if t.count[i]:
                vf[k] = <int32_t>t.func[i]
                vp[k] = t.page[i]
                vc[k] = t.count[i]
                k += 1
        memset(t.count, 0, t.cap * sizeof(uint64_t))
        t.used = 0
        self.attr_chunks.append((self.cur_bucket, funcs, pages, counts))

    cdef void finish(self) except *:
        if self.bucket_ns > 0:
            self._drain_combined()
            self._flush_table()
        if self.batch.n and self.pos:
            self.source.consumed(self.batch, self.base_index, self.pos)
        Workload.finish(self)

    def stop(self):
        """End the process now (e.g. the recording timed out)."""
        if not self.finished:
            self.finish()

    def attribution(self):
        """Accesses per (time bucket, function, page) so far: (bucket_ns,
        buckets, funcs, pages, counts) numpy arrays (function ids come from
        the symboliser); a (bucket, function, page) may appear more than once
        (add them up)."""
        if self.bucket_ns <= 0:
            return None
        chunks = list(self.attr_chunks)
        if not chunks:
            return (self.bucket_ns, np.zeros(0, np.int64), np.zeros(0, np.int32),
                    np.zeros(0, np.uint64), np.zeros(0, np.uint64))
        return (self.bucket_ns,
                np.concatenate([np.full(len(c[1]), c[0], np.int64) for c in chunks]),
                np.concatenate([c[1] for c in chunks]),
                np.concatenate([c[2] for c in chunks]),
                np.concatenate([c[3] for c in chunks]))

    def stats(self):
        return {"accesses": self.nr_accesses, "instructions": self.icount,
                "page_visits": self.nr_page_visits, "dropped": self.nr_dropped,
                "extra_ns": self.extra_ns}
