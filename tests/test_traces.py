"""Memory traces without valgrind: the lackey parser, our binary format, the
TraceWorkload that performs a trace in a simulated process, the code
attribution it keeps, and one clear error for every bad trace."""
import gzip
import os
import random
import zlib

import numpy as np
import pytest

from conftest import run_ours
from damo.workloads import tracing
from damo.errors import DamoError
from damo_engine.traces import (AccessBatch, LackeyParser, TraceWorkload, decode_accesses,
                                encode_accesses, kind_bytes)

TRACES = os.path.join(os.path.dirname(__file__), "data", "traces")
HEAD = os.path.join(TRACES, "lackey_touch_1MiB.head3000.txt")


def python_parse(text):
    """A plain-Python lackey parser: (icount, addr, kind, size, ip) per access."""
    out, icount, ip = [], 0, 0
    for line in text.splitlines():
        if line.startswith("I  "):
            icount += 1
            ip = int(line[3:].split(",")[0], 16)
        elif line[:1] == " " and line[1:2] in ("L", "S", "M"):
            addr, size = line[3:].split(",")
            out.append((icount, int(addr, 16), "LSM".index(line[1]), int(size), ip))
    return out


def parse_all(data, chunk):
    """Our parser fed `chunk` bytes at a time, partial lines carried over."""
    parser = LackeyParser()
    batch = AccessBatch(1 << 20)
    buf = b""
    for i in range(0, len(data), chunk):
        buf += data[i:i + chunk]
        pos = parser.feed(buf, 0, len(buf), batch)
        assert pos >= 0, parser.error
        buf = buf[pos:]
    assert buf == b""
    return parser, batch


@pytest.mark.parametrize("chunk", [7, 64, 1000, 1 << 20])
def test_lackey_parser_matches_a_plain_python_parse(chunk):
    data = open(HEAD, "rb").read()
    expected = python_parse(data.decode())
    parser, batch = parse_all(data, chunk)
    icount, addr, kind, ip = batch.arrays()
    assert len(addr) == len(expected) > 500
    assert icount.tolist() == [e[0] for e in expected]
    assert addr.tolist() == [e[1] for e in expected]
    assert (kind >> 6).tolist() == [e[2] for e in expected]
    assert ((kind & 63) + 1).tolist() == [min(e[3], 64) for e in expected]
    assert ip.tolist() == [e[4] for e in expected]
    assert parser.icount == sum(1 for l in data.decode().splitlines() if l.startswith("I  "))
    assert parser.pid == "10928" and parser.command == "./touch 1 1"


def test_lackey_parser_stops_when_the_batch_is_full():
    data = open(HEAD, "rb").read()
    parser = LackeyParser()
    small = AccessBatch(100)
    pos, seen = 0, []
    while True:
        small.n = 0
        pos = parser.feed(data, pos, len(data), small)
        seen.extend(small.arrays()[1].tolist())
        if small.n < 100:
            break
    assert seen == [e[1] for e in python_parse(data.decode())]


@pytest.mark.parametrize("line, what", [
    (b"I  0401ab70,3\n X 1fff000758,8\n", "line 2: not a lackey trace line"),
    (b" S 1fff00zz58,8\n", "line 1: malformed S access"),
    (b" L 1fff000758 8\n", "line 1: malformed L access"),
    (b"hello world\n", "line 1: not a lackey trace line"),
])
def test_lackey_parser_names_the_bad_line(line, what):
    parser = LackeyParser()
    assert parser.feed(line, 0, len(line), AccessBatch(16)) == -1
    assert parser.error == what


def test_exec_banner_stops_the_feed_for_a_new_address_space():
    text = (b"==5== Command: /bin/sh x\nI  1000,1\n L 2000,8\n"
            b"==5== Command: /usr/bin/python3\nI  3000,2\n S 4000,4\n")
    parser = LackeyParser()
    batch = AccessBatch(16)
    pos = parser.feed(text, 0, len(text), batch)
    assert parser.exec_pending and batch.n == 1
    assert parser.command == "/usr/bin/python3"
    pos = parser.feed(text, pos, len(text), batch)
    assert pos == len(text) and batch.n == 2 and not parser.exec_pending


def random_batch(n, seed=0, first_icount=0):
    rng = np.random.default_rng(seed)
    icount = (first_icount + np.cumsum(rng.integers(0, 30, n))).astype(np.uint64)
    addr = rng.choice([rng.integers(0, 1 << 47, n), np.arange(n) * 64 + 0x7f0000000000,
                       np.full(n, 0xffffffffffff0000)], 1)[0].astype(np.uint64)
    addr[::7] = rng.integers(0, 1 << 64, len(addr[::7]), dtype=np.uint64)     # huge jumps
    kind = kind_bytes(rng.integers(0, 3, n), rng.choice([1, 2, 4, 8, 16, 32, 64], n))
    ip = (0x400000 + rng.integers(0, 1 << 20, n)).astype(np.uint64)
    b = AccessBatch(max(n, 1))
    b.set(icount, addr, kind, ip)
    return b


@pytest.mark.parametrize("n", [0, 1, 1000, 65536])
def test_access_blocks_round_trip(n):
    b = random_batch(n, seed=n)
    for with_ip in (True, False):
        payload = encode_accesses(b, with_ip=with_ip)
        out = AccessBatch(max(n, 1))
        decode_accesses(payload, n, out)
        for got, want in zip(out.arrays()[:3], b.arrays()[:3]):
            assert np.array_equal(got, want)
        assert np.array_equal(out.arrays()[3], b.arrays()[3] if with_ip else np.zeros(n))


def test_corrupt_access_blocks_are_refused():
    b = random_batch(500)
    payload = bytearray(encode_accesses(b))
    out = AccessBatch(500)
    with pytest.raises(ValueError):
        decode_accesses(bytes(payload[:-3]), 500, out)
    with pytest.raises(ValueError):
        decode_accesses(bytes(payload), 499, out)
    payload[20] |= 0x80                 # a varint that runs on
    with pytest.raises(ValueError):
        decode_accesses(bytes(payload), 500, out)


# ---------------------------------------------------------------------------
# the workload

class ListSource(tracing.TraceSource):
    """Accesses from arrays, in batches of `per`."""

    def __init__(self, icount, addr, kind, ip=None, per=1000, end_icount=None):
        super().__init__()
        self.cols = [np.asarray(icount, np.uint64), np.asarray(addr, np.uint64),
                     np.asarray(kind, np.uint8),
                     np.zeros(len(addr), np.uint64) if ip is None else np.asarray(ip, np.uint64)]
        self.per = per
        self.at = 0
        self.end = int(self.cols[0][-1]) if end_icount is None else end_icount

    def fill(self, batch):
        if self.at >= len(self.cols[0]):
            self.end_icount = self.end
            return False
        hi = min(self.at + self.per, len(self.cols[0]), self.at + batch.capacity)
        batch.set(*(c[self.at:hi] for c in self.cols))
        self.at = hi
        return True


def simulate(source, machine="dram:1G", nspi=1.0, bucket_ns=0, gt=True, until=None):
    from damo_engine.machines import make_machine
    from damo_engine.sim import Simulation
    sim = Simulation(make_machine(machine), seed=1)
    w = TraceWorkload(source, ns_per_instruction=nspi, bucket_ns=bucket_ns)
    sim.add_workload(w, track_ground_truth=gt)
    sim.run(until)
    return sim, w


def test_workload_performs_every_access_and_runs_on_instruction_time():
    rng = np.random.default_rng(3)
    n = 20000
    base = 0x10000000
    addr = np.r_[base + np.arange(n // 2) * 64, base + (8 << 20) + rng.integers(0, 1 << 20, n // 2)]
    icount = np.arange(1, n + 1) * 5
    kind = kind_bytes(np.r_[np.ones(n // 2), np.zeros(n // 2)], np.full(n, 8))
    counts = {}
    for a in addr.tolist():
        counts[a >> 12] = counts.get(a >> 12, 0) + 1
    src = ListSource(icount, addr, kind, per=777, end_icount=n * 5 + 1000)
    from damo_engine.machines import make_machine
    from damo_engine.sim import Simulation
    sim = Simulation(make_machine("dram:1G"), seed=1)
    w = TraceWorkload(src, ns_per_instruction=2.0)
    sim.add_workload(w, track_ground_truth=True)
    sim.run(50000)                  # part way: instruction time plus faults
    # the last access started before 50 us (its fault may end after), the
    # next one would start after
    from damo_engine import costs
    fault = costs.FAULTS["minor_fault_ns"][0]
    assert w.icount * 2.0 + w.extra_ns - fault < 50000 <= (w.icount + 5) * 2.0 + w.extra_ns
    assert w.clock_ns >= 50000
    sim.run(1e12 - 1)
    # the program ran its last instructions after the last access
    assert w.finished
    assert w.nr_accesses == n and w.icount == n * 5 + 1000
    assert w.clock_ns == pytest.approx((n * 5 + 1000) * 2.0 + w.extra_ns)
    # first touches were page faults (the default minor fault each) on top
    # of instruction time; all the pages are on the reference DRAM
    assert w.extra_ns == pytest.approx(len(counts) * fault)


def test_ground_truth_counts_every_access_of_every_page():
    rng = np.random.default_rng(5)
    n = 5000
    addr = 0x20000000 + rng.integers(0, 64, n) * 4096 + rng.integers(0, 4000, n)
    kind = kind_bytes(rng.integers(0, 3, n), np.full(n, 8))
    src = ListSource(np.arange(n) * 3 + 1, addr, kind, per=100)
    from damo_engine.machines import make_machine
    from damo_engine.sim import Simulation
    sim = Simulation(make_machine("dram:1G"), seed=1)
    w = TraceWorkload(src)
    sim.add_workload(w, track_ground_truth=True)
    vma_counts = {}
    # stop just before the end so that the process still exists
    sim.run(n * 3 - 1)
    for v in w.mm.vmas:
        gt = v.ground_truth()
        for i in np.flatnonzero(gt).tolist():
            vma_counts[(v.start >> 12) + i] = int(gt[i])
    done = w.nr_accesses
    want = {}
    for a in addr[:done].tolist():
        want[a >> 12] = want.get(a >> 12, 0) + 1
    assert vma_counts == want
    # every page written to is dirty, the others are not
    written = {a >> 12 for a, k in zip(addr[:done].tolist(), kind[:done].tolist()) if k >= 64}
    for v in w.mm.vmas:
        for page in range(v.start >> 12, v.end >> 12):
            if page in want:
                assert v.page_state(page << 12)["dirty"] == (page in written)


def test_access_straddling_two_pages_touches_both():
    addr = [0x30000ffc, 0x30005000]
    src = ListSource([1, 2], addr, kind_bytes([1, 0], [8, 8]), end_icount=3)
    from damo_engine.machines import make_machine
    from damo_engine.sim import Simulation
    sim = Simulation(make_machine("dram:1G"), seed=1)
    w = TraceWorkload(src)
    sim.add_workload(w)
    sim.run(2.5)
    v = w.mm.vma_at(0x30000000)
    assert v.page_state(0x30000000)["present"] and v.page_state(0x30001000)["present"]
    assert v.page_state(0x30001000)["dirty"]


def test_slow_tier_pages_cost_their_extra_latency():
    n = 4096
    addr = 0x40000000 + np.arange(n) * 4096            # one visit per page
    src = ListSource(np.arange(1, n + 1), addr, kind_bytes(np.zeros(n), np.full(n, 8)))
    _, fast = simulate(src, machine="dram:1G", gt=False)
    src = ListSource(np.arange(1, n + 1), addr, kind_bytes(np.zeros(n), np.full(n, 8)))
    _, slow = simulate(src, machine="cxl:1G", gt=False)
    # the instructions run at the reference DRAM's speed; a visit to a page
    # on CXL adds what a random read miss to CXL takes beyond one to DRAM
    # (by hand from the defaults: latency over the misses in flight)
    from damo_engine import costs
    mlp, compute = costs.CPU["mlp"]["random_r"], costs.CPU["compute_ns"]["random_r"]
    extra = max(compute, costs.TIERS["cxl"][0] / mlp) - max(compute, costs.TIERS["dram"][0] / mlp)
    assert extra > 0
    assert slow.extra_ns == pytest.approx(fast.extra_ns + n * extra)
    src = ListSource(np.arange(1, n + 1), addr, kind_bytes(np.zeros(n), np.full(n, 8)))
    sim, mixed = simulate(src, machine="dram:8M,cxl:1G", gt=False)
    # the pages beyond the 8 MiB of DRAM landed on CXL and cost the difference
    assert mixed.extra_ns == pytest.approx(fast.extra_ns + (n - 2048) * extra)


def test_attribution_counts_accesses_by_function_and_page():
    n = 30000
    rng = np.random.default_rng(2)
    addr = np.where(np.arange(n) % 3 == 0, 0x50000000 + (np.arange(n) % 300) * 100,
                    0x60000000 + rng.integers(0, 1 << 22, n))
    ip = np.where(np.arange(n) < 10000, 0x401000, 0x402000) + rng.integers(0, 3, n) * 4
    src = ListSource(np.arange(1, n + 1) * 10, addr, kind_bytes(np.zeros(n), np.full(n, 4)),
                     ip=ip, per=128)

    def functions(ip):                  # two functions of three instructions each
        return (ip - 0x401000) >> 12
    from damo_engine.machines import make_machine
    from damo_engine.sim import Simulation
    sim = Simulation(make_machine("dram:1G"), seed=1)
    w = TraceWorkload(src, bucket_ns=50000.0, symbolizer=functions)
    sim.add_workload(w)
    sim.run()
    bucket_ns, buckets, funcs, pages, counts = w.attribution()
    assert bucket_ns == 50000.0 and counts.sum() == n
    got, want = {}, {}
    for b, f, p, c in zip(buckets.tolist(), funcs.tolist(), pages.tolist(), counts.tolist()):
        got[(b, f, p)] = got.get((b, f, p), 0) + c
    for a, i in zip(addr.tolist(), ip.tolist()):
        key = ((i - 0x401000) >> 12, a >> 12)
        want[key] = want.get(key, 0) + 1
    summed = {}
    for (b, f, p), c in got.items():
        summed[(f, p)] = summed.get((f, p), 0) + c
    assert summed == want
    # buckets follow time: function 0 only in the first third
    assert max(b for (b, f, p) in got if f == 0) < min(b for (b, f, p) in got if f == 1) + 2
    assert len({b for b, _, _ in got}) > 3


def test_default_symbolizer_names_functions_by_address():
    src = ListSource([1, 2, 3], [0x1000, 0x2000, 0x3000], kind_bytes([0] * 3, [4] * 3),
                     ip=[0x401000, 0x401004, 0x401000])
    _, w = simulate(src, bucket_ns=100.0, gt=False)
    assert w.symbolizer.names == ["0x401000", "0x401004"]
    assert sorted(w.attribution()[2].tolist()) == [0, 0, 1]


def test_unknown_addresses_get_a_mapping_and_events_apply_at_their_access():
    class Src(ListSource):
        def attach(self, workload):
            super().attach(workload)
            self.push_event(2, "map", [0x60000000, 0x60010000, "[buf]", True])
            self.push_event(3, "unmap", [0x60000000, 0x60010000])
    addr = [0x70000123, 0x70001000, 0x60000010, 0x60000020]
    src = Src([10000, 20000, 30000, 40000], addr, kind_bytes([0, 0, 1, 1], [8] * 4),
              end_icount=50000, per=2)
    from damo_engine.machines import make_machine
    from damo_engine.sim import Simulation
    sim = Simulation(make_machine("dram:1G"), seed=1)
    w = TraceWorkload(src)
    sim.add_workload(w)
    names = {v.name: (v.start, v.end) for v in w.mm.vmas}
    # primed before monitoring starts: the first batch's addresses are mapped
    assert names["[anon]"] == (0x70000000, 0x70200000)
    sim.run(35000)
    assert any(v.name == "[buf]" for v in w.mm.vmas)
    sim.run(10000)
    # unmapped before access 3: the access found no mapping and got one
    assert [v.name for v in w.mm.vmas if v.start <= 0x60000020 < v.end] == ["[anon]"]


# ---------------------------------------------------------------------------
# files

def write_binary(path, batches, events=(), end_icount=None):
    w = tracing.BinaryTraceWriter(str(path), {"command": ["x"]})
    for ev in events:
        w.write_events([ev])
    last = 0
    for b in batches:
        w.write_accesses(b)
        last = max(last, int(b.arrays()[0].max(initial=0)))
    w.commit(last if end_icount is None else end_icount)


def read_all(path):
    src = tracing.open_trace(str(path))

    class W:
        base_index = 0
        pos = 0
    src.attach(W())
    out = []
    b = AccessBatch(1 << 16)
    while True:
        r = src.fill(b)
        if r is False:
            break
        got = r if isinstance(r, AccessBatch) else b
        out.append(got.arrays())
        W.base_index += got.n
        if got is not b:
            src.recycle(got)
        b.n = 0
        assert len(out) < 1000
    src.close()
    return src, out


def test_binary_trace_round_trip(tmp_path):
    # blocks continue each other's instruction counts, as a traced program's do
    batches, icount = [], 4 * 10 ** 9
    for n in (10, 65536, 3):
        batches.append(random_batch(n, seed=n, first_icount=icount))
        icount = int(batches[-1].arrays()[0].max())
    path = tmp_path / "t.trace"
    write_binary(path, batches, events=[(0, "map", [4096, 8192, "[x]", True])],
                 end_icount=icount + 2 ** 32)
    src, got = read_all(path)
    assert src.end_icount == icount + 2 ** 32
    assert src.next_event_index() == 0
    for g, b in zip(got, batches):
        for x, y in zip(g, b.arrays()):
            assert np.array_equal(x, y)
    # about two bytes an access for a trace of a real program
    assert os.path.getsize(path) < 40 * sum(b.n for b in batches)


def test_lackey_text_and_gzip_read_the_same(tmp_path):
    data = open(HEAD, "rb").read()
    gz = tmp_path / "t.gz"
    gz.write_bytes(gzip.compress(data))
    _, plain = read_all(HEAD)
    _, packed = read_all(gz)
    assert len(plain) == len(packed) == 1
    for x, y in zip(plain[0], packed[0]):
        assert np.array_equal(x, y)


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "empty file, not a trace"),
    (lambda p: p.write_bytes(b"\x00\x01binary junk\n"), "not a trace"),
    (lambda p: p.write_bytes(b"I  0401ab70,3\n S 1fff00"), "truncated: its last line (2)"),
    (lambda p: p.write_bytes(b"I  0401ab70,3\n Q 1fff0,8\n"), "line 2: not a lackey trace line"),
    (lambda p: p.write_bytes(gzip.compress(b"I  0401ab70,3\n S 10,8\n" * 5000)[:300]),
     "truncated or corrupt gzip data"),
    (lambda p: p.write_bytes(tracing.MAGIC + b"\x00" * 5), "truncated trace"),
    (lambda p: p.write_bytes(b"DAMOTRC1"), "truncated trace"),
])
def test_bad_trace_files_give_one_clear_error(tmp_path, make, message):
    path = tmp_path / "bad.trace"
    make(path)
    with pytest.raises(DamoError) as e:
        read_all(path)
    assert message in str(e.value) and str(path) in str(e.value)


def test_damaged_binary_traces_are_refused(tmp_path):
    path = tmp_path / "t.trace"
    write_binary(path, [random_batch(5000)])
    data = path.read_bytes()
    cut = tmp_path / "cut.trace"
    cut.write_bytes(data[:len(data) - 30])
    with pytest.raises(DamoError, match="truncated trace"):
        read_all(cut)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x40
    bad = tmp_path / "flip.trace"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(DamoError, match="fails its checksum"):
        read_all(bad)
    noend = tmp_path / "noend.trace"
    end_record = 20 + len(zlib.compress(b'{"end_icount": 0, "exit_status": null}', 1))
    noend.write_bytes(data[:len(data) - end_record])
    with pytest.raises(DamoError, match="truncated"):
        read_all(noend)


@pytest.mark.parametrize("content", [b"garbage\n", b""])
def test_record_of_a_bad_trace_is_one_error_line_and_no_output(tmp_path, monkeypatch, content):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.txt").write_bytes(content)
    code, out, err = run_ours("record", "--trace", "bad.txt")
    assert code != 0
    assert err.strip().splitlines()[-1].startswith("damo: error: bad.txt:")
    assert "Traceback" not in err
    assert not os.path.exists("damon.data")


def synthetic_lackey(path, passes=40):
    """Lackey text of a loop in code at 0x401000 sweeping a 1 MiB buffer at
    0x4a00000, with stack accesses at 0x1ffefff000 and a global at 0x404010
    (gzip if path ends .gz)."""
    lines = ["==77== Lackey, an example Valgrind tool", "==77== Command: ./synthetic"]
    for p in range(passes):
        for off in range(0, 1 << 20, 256):
            lines.append("I  00401000,4")
            lines.append(" S %x,8" % (0x4a00000 + off))
            lines.append("I  00401004,3")
            lines.append(" L 1ffefff%03x,8" % (off % 0x800))
            lines.append("I  00401007,2")
            lines.append(" L 00404010,8")
    data = ("\n".join(lines) + "\n").encode()
    with (gzip.open(path, "wb") if str(path).endswith(".gz") else open(path, "wb")) as f:
        f.write(data)


@pytest.mark.parametrize("name", ["t.txt", "t.txt.gz"])
def test_record_of_a_saved_lackey_trace(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    synthetic_lackey(tmp_path / name)
    code, out, err = run_ours("record", "--trace", name,
                              "--monitoring_intervals", "10us", "100us", "1ms")
    assert code == 0, err
    from damo import records
    rec = records.load("damon.data").records[0]
    assert rec.nr_snapshots >= 4
    # regions of the swept buffer (in an inferred 2 MiB mapping) are hot
    hot = rec.nr_accesses > rec.nr_accesses.max() // 2
    assert any(0x4a00000 <= s and e <= 0x4b00000
               for s, e in zip(rec.starts[hot].tolist(), rec.ends[hot].tolist()))
    from damo.reports import code_attribution
    code = code_attribution.load("damon.data.code")
    assert code.names == ["0x401000", "0x401004", "0x401007"] and int(code.count.sum()) > 0


def test_recordings_with_empty_snapshots_read_back(tmp_path):
    from damo import records
    w = records.RecordingWriter(str(tmp_path / "r.data"))
    z = np.zeros(0, np.uint64)
    w.add_snapshot(0, 0, 0, 0, 1000, z, z, z.astype(np.int64), z.astype(np.int64),
                   intervals={"sample_us": 10, "aggr_us": 1, "ops_update_us": 1})
    w.commit()
    rec = records.load(str(tmp_path / "r.data"))
    assert rec.records[0].nr_snapshots == 1 and rec.records[0].nr_regions == 0


def test_trace_options_are_checked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_ours("record", "--save-trace", "x.trace")
    assert code == 2 and "--save-trace: needs -- CMD" in err
    code, _, err = run_ours("record", "stairs", "--trace", HEAD)
    assert code == 2 and "not several" in err
    code, _, err = run_ours("record", "--trace", HEAD, "--save-trace", HEAD)
    assert code == 2 and "is the trace being read" in err
    code, _, err = run_ours("record", "--", "no-such-program-here")
    assert code == 2 and "no-such-program-here: command not found" in err
    code, _, err = run_ours("record", "--")
    assert code == 2 and "no command given after --" in err
