"""Fuzz targets: every reader of hostile input, run in-process.

A target takes bytes and feeds them to one reader the way a user's file,
option or socket message reaches it: ``run(data)`` returns "ok" (accepted)
or "refused" (a DamoError whose message is one line naming the file and
where in it, or the option), and raises anything else: a bare exception is
a bug (a traceback for the user), and so is a DamoError message that does
not say where (BadError).  Hangs and crashes are caught by the driver
(tests/test_fuzz.py for the short run in the default suite, bench/fuzz.py
for long runs: a worker process per target, a watchdog, optionally atheris).

Mutations (``Mutator``): byte-level (flips, inserts, deletes, splices),
token-level (numbers swapped for hostile ones: NaN, Infinity, 1e400, 2^64,
-1, leading zeros, huge digit strings) and, for JSON, structure-aware (a
node of the parsed tree replaced by a value of another type, keys dropped,
lists duplicated, deep nesting).
"""
import io
import json
import os
import random
import re
import shutil
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

HOSTILE_NUMBERS = [
    b"NaN", b"Infinity", b"-Infinity", b"nan", b"inf", b"-inf", b"1e400", b"-1e400", b"1e308",
    b"-1", b"0", b"-0", b"1.5", b"0.5", b"007", b"00", b"18446744073709551615",
    b"18446744073709551616", b"9223372036854775807", b"9223372036854775808",
    b"-9223372036854775809", b"4294967295", b"4294967296", b"2147483648", b"1" * 40,
    b"9" * 5000, b"true", b"null", b'""', b'"x"', b"[]", b"{}", b"[1]", b'{"a": 1}',
    b"1e19", b"-0.0", b"1E5", b"0x10", b"1_000", b"\xff", b"max", b"min",
]
HOSTILE_WORDS = [b"nan", b"inf", b"-1", b"0", b"max", b"1e400", b"18446744073709551616",
                 b"9223372036854775808", b"4294967296", b"007", b"", b"1.5", b"x", b"-",
                 b"9" * 400, b"1e-400", b"\xff", b"0x", b"1 2"]
_NUMBER = re.compile(rb"-?[0-9][0-9,.eE+]*")


class BadError(AssertionError):
    """A refusal whose message is not one line naming where the fault is."""


class Mutator:
    """Random mutations of seed inputs."""

    def __init__(self, rng, seeds, structured=None, dictionary=()):
        self.rng = rng
        self.seeds = list(seeds)
        self.structured = structured        # bytes -> bytes (structure-aware), or None
        self.dictionary = list(dictionary) + HOSTILE_NUMBERS

    def __call__(self):
        rng = self.rng
        data = rng.choice(self.seeds)
        if self.structured is not None and rng.random() < 0.5:
            try:
                data = self.structured(data, rng)
            except Exception:
                pass
            if rng.random() < 0.5:
                return data
        for _ in range(rng.choice((1, 1, 1, 2, 3, 5))):
            data = self.byte_mutation(data)
        return data

    def byte_mutation(self, data):
        rng = self.rng
        n = len(data)
        op = rng.randrange(10)
        if n == 0:
            return rng.choice(self.dictionary)
        i = rng.randrange(n)
        if op == 0:                                   # flip a bit
            b = bytearray(data)
            b[i] ^= 1 << rng.randrange(8)
            return bytes(b)
        if op == 1:                                   # a random byte
            return data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
        if op == 2:                                   # delete a range
            return data[:i] + data[i + rng.randrange(1, 64):]
        if op == 3:                                   # duplicate a range
            j = min(n, i + rng.randrange(1, 256))
            return data[:j] + data[i:j] + data[j:]
        if op == 4:                                   # truncate
            return data[:i]
        if op == 5:                                   # splice another seed
            other = rng.choice(self.seeds)
            j = rng.randrange(len(other) + 1)
            return data[:i] + other[j:]
        if op in (6, 7, 8):                           # a number -> a hostile token
            numbers = list(_NUMBER.finditer(data))
            if numbers:
                m = rng.choice(numbers)
                return data[:m.start()] + rng.choice(self.dictionary) + data[m.end():]
        token = rng.choice(self.dictionary)           # insert a token
        return data[:i] + token + data[i:]


# ---------------------------------------------------------- JSON structures

def _hostile_value(rng):
    return rng.choice([
        float("nan"), float("inf"), -float("inf"), 1e308, -1, 0, 2 ** 64, 2 ** 63, -2 ** 63 - 1,
        2 ** 32, 1.5, True, None, "", "x", "nan", "inf", "1e400", "18446744073709551616",
        "-1", "1,2,3", "5 ms", "max", [], {}, [1, 2], {"a": None}, "9" * 50,
        [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    ])


def _nodes(tree, path=()):
    yield path, tree
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _nodes(v, path + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _nodes(v, path + (i,))


def mutate_tree(tree, rng):
    """A copy of a JSON tree with one node changed."""
    tree = json.loads(json.dumps(tree))
    nodes = list(_nodes(tree))
    path, node = rng.choice(nodes)
    op = rng.randrange(6)
    if not path:
        return _hostile_value(rng) if op == 0 else tree
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if op <= 2:
        parent[key] = _hostile_value(rng)
    elif op == 3:
        del parent[key]
    elif op == 4 and isinstance(parent, list):
        parent.insert(key, json.loads(json.dumps(node)))
    elif op == 4 and isinstance(node, dict) and node:
        other_path, other = rng.choice(nodes)
        parent[key] = json.loads(json.dumps(other))
    else:
        # swap with a sibling value (regions' start with end, and the like)
        siblings = list(parent.values()) if isinstance(parent, dict) else parent
        parent[key] = rng.choice(siblings)
    return tree


def json_structured(data, rng):
    tree = json.loads(data)
    for _ in range(rng.choice((1, 1, 2, 3))):
        tree = mutate_tree(tree, rng)
    if rng.random() < 0.3:
        return json.dumps(tree).encode()
    return json.dumps(tree, indent=4).encode()


# ---------------------------------------------------------------- targets

class Target:
    name = None
    description = ""

    def __init__(self, workdir):
        self.workdir = workdir

    def seeds(self):
        raise NotImplementedError

    def structured(self, data, rng):
        return json_structured(data, rng)

    def mutator(self, rng):
        return Mutator(rng, self.seeds(), self.structured)

    def run(self, data):
        raise NotImplementedError

    def refused(self, error, must_name=None):
        """Check a DamoError is a proper refusal: one line, naming where."""
        message = str(error)
        if not message or "\n" in message or "\r" in message:
            raise BadError("refusal is not one line: %r" % message[:300])
        if "Traceback" in message:
            raise BadError("refusal shows a traceback: %r" % message[:300])
        if must_name is not None and must_name not in message:
            raise BadError("refusal does not name %s: %r" % (must_name, message[:300]))
        return "refused"

    def close(self):
        pass


class _FileTarget(Target):
    """Inputs are files: the refusal must name the file."""
    suffix = ".data"

    def path(self):
        return os.path.join(self.workdir, "input" + self.suffix)

    def write(self, data):
        path = self.path()
        with open(path, "wb") as f:
            f.write(data)
        return path


# ------------------------------------------------------------ recordings

def _small_recordings(workdir):
    """(json text, perf_script text, native bytes) seeds from synthetic and
    upstream recordings."""
    import synth
    from damo import records

    out = {"json": [], "perf_script": [], "native": []}
    d = tempfile.mkdtemp(dir=workdir)
    shapes = [dict(nr_snapshots=3, nr_regions=3), dict(nr_snapshots=2, nr_regions=4, nr_targets=2,
                                                       gaps=True),
              dict(nr_snapshots=3, nr_regions=2, intervals=None, ages=False),
              dict(nr_snapshots=4, nr_regions=3, tuned=True),
              dict(nr_snapshots=1, nr_regions=2)]
    for i, kw in enumerate(shapes):
        for kind in ("json", "perf_script", "native"):
            p = os.path.join(d, "%d.%s" % (i, kind))
            synth.stairs(p, output_type=kind, **kw)
            with open(p, "rb") as f:
                out[kind].append(f.read())
    # damo's own file, cut to a few snapshots (its number strings, its layout)
    up = records.load(os.path.join(HERE, "data", "damo-upstream", "damon.data"))
    with open(up.path, "rb") as f:
        tree = json.loads(zlib.decompress(f.read()))
    for rec in tree:
        rec["snapshots"] = rec["snapshots"][:2]
        for s in rec["snapshots"]:
            s["regions"] = s["regions"][:3]
    out["json"].append(json.dumps(tree, indent=4).encode())
    out["json"].append(json.dumps(tree).encode())
    # hand-made forms damo reads: human numbers, percent, usec ages, sz_filter_passed
    out["json"].append(json.dumps([{
        "target_id": None, "kdamond_idx": 0, "context_idx": 0, "scheme_idx": None,
        "intervals": {"sample_us": "5 ms", "aggr_us": "100 ms", "ops_update_us": "1 s"},
        "snapshots": [{"start_time": "16 m 40 s", "end_time": "16 m 40 s 100 ms",
                       "regions": [{"start": "4,096", "end": "8 KiB",
                                    "nr_accesses": {"samples": None, "percent": "50 %"},
                                    "age": {"usec": "300 ms", "aggr_intervals": None},
                                    "sz_filter_passed": "1.5 KiB"}],
                       "total_bytes": None, "damos_stats": None}]}]).encode())
    shutil.rmtree(d)
    return out


_SEEDS = {}


def recording_seeds(workdir):
    if not _SEEDS:
        _SEEDS.update(_small_recordings(workdir))
    return _SEEDS


REPORTS = [("report", "access"), ("report", "access", "--raw_form"),
           ("report", "heatmap", "--resol", "8", "16"), ("report", "wss"),
           ("report", "nr_regions"), ("report", "record_info"),
           ("report", "heatmap", "--guide")]


def run_cli(args, must_name=None):
    """``damo ARGS`` in-process, as a user runs it: "ok", "refused" (exit
    status not 0 with one ``damo: error:`` line, or click's usage error), or
    an exception (a traceback the user would see)."""
    from click.testing import CliRunner
    from damo.cli import main

    result = CliRunner().invoke(main, list(args), env={"NO_COLOR": "1", "COLUMNS": "80"})
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        raise exc.with_traceback(result.exc_info[2])
    if result.exit_code == 0:
        return "ok"
    err = result.stderr
    if err.startswith("Usage:") or "\nError: " in err:
        return "refused"                    # click's own: names the option
    if not err.startswith("damo: error: ") or err.count("\n") != 1:
        raise BadError("exit %d without one 'damo: error:' line: %r"
                       % (result.exit_code, err[:300]))
    if must_name is not None and must_name not in err:
        raise BadError("error does not name %s: %r" % (must_name, err[:300]))
    return "refused"


_REPORT_CALLS = {}


def _report_calls(path):
    """(command, its parsed parameters) of each report on ``path``: parsed
    once, as click parses them, then called directly (click's parsing would
    cost more than the reports)."""
    if path not in _REPORT_CALLS:
        from damo.cli import main
        calls = []
        for args in REPORTS:
            group = main
            ctx = main.make_context("damo", list(args) + ["-i", path])
            words = list(args)
            while words:
                cmd = group.get_command(ctx, words.pop(0))
                if not hasattr(cmd, "get_command"):
                    break
                group = cmd
            sub = cmd.make_context(args[-1], [w for w in args[2:]] + ["-i", path])
            calls.append((cmd, sub))
        _REPORT_CALLS[path] = calls
    return _REPORT_CALLS[path]


def _run_reports(path):
    """The reports that read loaded data, on a recording that loaded: each
    ends with output or one DamoError line, and writes no warning."""
    import contextlib
    import warnings

    from damo.errors import DamoError

    for cmd, ctx in _report_calls(path):
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("always")
            try:
                ctx.invoke(cmd.callback, **ctx.params)
            except DamoError as e:
                if not str(e) or "\n" in str(e):
                    raise BadError("report refusal is not one line: %r" % str(e)[:300])
        if caught:
            raise BadError("%s: warning on stderr: %s" % (cmd.name, caught[0].message))


class RecordTarget(_FileTarget):
    """records.load() of one format, then the reports that read the records."""
    kind = None
    reports = True

    def seeds(self):
        return recording_seeds(self.workdir)[self.kind]

    def encode(self, data):
        return data

    def run(self, data):
        from damo import records
        from damo.errors import DamoError

        path = self.write(self.encode(data))
        try:
            recording = records.load(path)
        except DamoError as e:
            return self.refused(e, path)
        if self.reports:
            _run_reports(path)
        return "ok"


class JsonRecordTarget(RecordTarget):
    name = "records_json"
    description = "damo's json recordings: records.load() and the reports"
    kind = "json"


class JsonCompressedRecordTarget(RecordTarget):
    name = "records_json_compressed"
    description = "damo's json_compressed recordings (mutated JSON, zlib-compressed; a " \
                  "tenth raw mutated zlib streams)"
    kind = "json"

    def encode(self, data):
        if data[:1] == b"x":                    # mutated compressed bytes
            return data
        return zlib.compress(data)

    def mutator(self, rng):
        base = Mutator(rng, self.seeds(), self.structured)
        compressed = Mutator(rng, [zlib.compress(s) for s in self.seeds()])

        def mutate():
            return compressed() if rng.random() < 0.1 else base()
        return mutate


class PerfScriptRecordTarget(RecordTarget):
    name = "records_perf_script"
    description = "perf script / trace-cmd text of DAMON's tracepoints"
    kind = "perf_script"

    def structured(self, data, rng):
        lines = data.split(b"\n")
        op = rng.randrange(4)
        i = rng.randrange(len(lines))
        if op == 0:                         # interleave: move a line elsewhere
            line = lines.pop(i)
            lines.insert(rng.randrange(len(lines) + 1), line)
        elif op == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op == 2:
            fields = lines[i].split(b" ")
            j = rng.randrange(len(fields))
            fields[j] = rng.choice(HOSTILE_WORDS + [b"target_id=" + rng.choice(HOSTILE_WORDS),
                                                    b"nr_regions=" + rng.choice(HOSTILE_WORDS)])
            lines[i] = b" ".join(fields)
        else:
            del lines[i]
        return b"\n".join(lines)


class NativeRecordTarget(RecordTarget):
    name = "records_native"
    description = "our native columnar recordings (header JSON and columns)"
    kind = "native"

    def structured(self, data, rng):
        import struct
        (n,) = struct.unpack_from("<Q", data, 8)
        header = data[16:16 + n]
        new = json_structured(header, rng) if rng.random() < 0.8 else header
        rest = data[16 + n:]
        if rng.random() < 0.3 and rest:
            i = rng.randrange(len(rest))
            rest = rest[:i] + bytes([rng.randrange(256)]) + rest[i + 1:]
        length = len(new) if rng.random() < 0.9 else rng.choice((0, 2 ** 63, len(new) + 1))
        pad = b"\0" * (-(16 + len(new)) % 64) if len(new) != n else b""
        # keep the columns where they were (offsets count from the data start)
        return data[:8] + struct.pack("<Q", length % 2 ** 64) + new + pad + rest


# ------------------------------------------------------------ masim configs

MASIM_SEED = b"""\
# regions
a, 8m
b, 4m, none
c, 64k

initial phase
20
a, 0, 4096, 1
b, 1, 64, 3, rw

second
30
b, 0, 4k, 2, ro
c, 1, 8, 1
"""


class MasimTarget(_FileTarget):
    name = "masim_configs"
    description = "masim workload configs: parse, then a short simulation of those " \
                  "that fit 64 MiB"
    suffix = ".cfg"
    RUN_BELOW = 64 << 20

    def seeds(self):
        from damo.workloads import masim as workload_mod
        seeds = [MASIM_SEED]
        cfgdir = os.path.join(os.path.dirname(workload_mod.__file__), "masim_configs")
        for name in sorted(os.listdir(cfgdir))[:4]:
            with open(os.path.join(cfgdir, name), "rb") as f:
                seeds.append(f.read())
        return seeds

    def structured(self, data, rng):
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        fields = lines[i].split(b",")
        j = rng.randrange(len(fields))
        fields[j] = b" " + rng.choice(HOSTILE_WORDS + [b"1024t", b"16t", b"17t", b"1t",
                                                        b"9223372036854775807", b"1000000000000",
                                                        b"99999999999999", b"2147483648"])
        lines[i] = b",".join(fields)
        return b"\n".join(lines)

    def run(self, data):
        from damo.errors import DamoError
        from damo.workloads import masim as workload_mod

        path = self.write(data)
        try:
            w = workload_mod.resolve(path)
        except DamoError as e:
            return self.refused(e, path)
        cfg = w.config
        if cfg.total_size <= self.RUN_BELOW:
            try:
                _short_run(w, memory="dram:32M,swap:zswap", ns=3_000_000)
            except DamoError as e:
                return self.refused(e)
        return "ok"


def _short_run(workload, memory, ns, kdamonds=None):
    """A few simulated ms of the workload under a default kdamond."""
    from damo import runner
    from damo.errors import DamoError
    from damo.params import damon as params_mod

    if kdamonds is None:
        ctx = params_mod.ContextParams(sample_us=100, aggr_us=1000, update_us=2000)
        ctx.targets = [params_mod.TargetParams()]
        kdamonds = [params_mod.KdamondParams([ctx])]
    run = runner.Run(kdamonds, [workload], memory=memory)
    run.run(ns, progress=False)     # a DamoError is the caller's refusal


# ------------------------------------------------------------------ traces

LACKEY_SEED = b"""\
==12345== Lackey, an example Valgrind tool
I  04009c0,3
 S 1ffefffd48,8
I  04009c3,7
 L 1ffefffd40,8
 M 0601040,4
I  04009ca,2
 L 0601048,8
==12345==
"""


class LackeyTraceTarget(_FileTarget):
    name = "traces_lackey"
    description = "valgrind lackey --trace-mem=yes logs: parse and run a few ms"
    suffix = ".log"

    def seeds(self):
        seeds = [LACKEY_SEED]
        with open(os.path.join(HERE, "data", "traces", "lackey_touch_1MiB.head3000.txt"),
                  "rb") as f:
            seeds.append(f.read()[:4000])
        return seeds

    def structured(self, data, rng):
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        lines[i] = rng.choice([
            b" L ffffffffffffffff,8", b" S fffffffffffff000,4096", b" L 0,8", b"I  0,0",
            b" M 7fffffffffff,9999999999", b" L " + b"f" * 40 + b",8", b"I  ffffffffffffffff,1",
            b" X 1000,8", b" L 1000", b" L 1000,", b" L ,8", b"I  1000,-1",
            b" L 1ffefffd40,0"]) if rng.random() < 0.7 else lines[rng.randrange(len(lines))]
        return b"\n".join(lines)

    def run(self, data):
        return _trace_run(self, self.write(data))


def _trace_run(target, path):
    from damo.errors import DamoError
    from damo.workloads import tracing

    from damo_engine.traces import TraceWorkload

    try:
        source = tracing.open_trace(path)
        w = TraceWorkload(source, ns_per_instruction=1.0, name="fuzz")
        _short_run(w, memory="dram:64M", ns=5_000_000)
    except DamoError as e:
        return target.refused(e, path)
    finally:
        close = getattr(locals().get("source"), "close", None)
        if close is not None:
            close()
    return "ok"


class BinaryTraceTarget(_FileTarget):
    name = "traces_binary"
    description = "our binary traces (--save-trace): decode and run a few ms"
    suffix = ".trace"
    _seeds = None

    def seeds(self):
        if BinaryTraceTarget._seeds is None:
            BinaryTraceTarget._seeds = make_binary_trace_seeds(self.workdir)
        return BinaryTraceTarget._seeds

    def structured(self, data, rng):
        """Mutate one record's payload (decoded: JSON trees for the header,
        events and end records, varint bytes for access blocks) and store it
        again with valid lengths and checksum, so that mutations get past
        the checksum to the decoders."""
        import struct
        from damo.workloads import tracing

        rec = tracing._REC
        magic = tracing.MAGIC
        if not data.startswith(magic):
            return data
        records, at = [], len(magic)
        while at + rec.size <= len(data):
            kind, flags, pad, n, raw_len, stored_len, crc = rec.unpack_from(data, at)
            stored = data[at + rec.size:at + rec.size + stored_len]
            at += rec.size + stored_len
            try:
                if flags & tracing._COLUMNS:
                    raw = tracing._join_columns(stored)
                elif flags & tracing._ZLIB:
                    raw = zlib.decompress(stored)
                else:
                    raw = stored
            except Exception:
                raw = stored
            records.append([kind, n, raw])
        if not records:
            return data
        i = rng.randrange(len(records))
        kind, n, raw = records[i]
        op = rng.randrange(6)
        if kind in (b"H", b"V", b"E") and op < 4:
            try:
                raw = json_structured(raw, rng)
            except ValueError:
                pass
        elif kind == b"A" and op < 3 and len(raw) > 16:
            lens = struct.unpack_from("<4I", raw)
            col = rng.randrange(4)
            start = 16 + sum(lens[:col])
            if lens[col]:
                j = start + rng.randrange(lens[col])
                # a varint byte: huge deltas (0xff continuation bytes), zeros, random
                repl = rng.choice([b"\xff" * rng.randrange(1, 10) + b"\x01", b"\x00",
                                   bytes([rng.randrange(256)]), b"\x80\x80\x80\x80\x10"])
                raw = raw[:j] + repl + raw[j + 1:]
                lens = list(lens)
                lens[col] += len(repl) - 1
                raw = struct.pack("<4I", *lens) + raw[16:]
        elif op == 4:
            n = rng.choice([0, 1, n + 1, n - 1 if n else 0, 65536, 65537, 2 ** 32 - 1])
        else:
            records.insert(rng.randrange(len(records) + 1), list(records[i]))
        records[i] = [kind, n, raw]
        out = [magic]
        for kind, n, raw in records:
            out.append(rec.pack(kind, 0, 0, n % 2 ** 32, len(raw), len(raw), zlib.crc32(raw)))
            out.append(raw)
        return b"".join(out)

    def run(self, data):
        return _trace_run(self, self.write(data))


def make_binary_trace_seeds(workdir):
    """Binary traces saved from the lackey seeds (what --save-trace writes)."""
    from damo.commands.record import record
    from damo.params import damon as params_mod
    from damo.workloads import tracing
    from damo_engine.traces import TraceWorkload

    seeds = []
    texts = [LACKEY_SEED]
    with open(os.path.join(HERE, "data", "traces", "lackey_touch_1MiB.head3000.txt"),
              "rb") as f:
        texts.append(f.read())
    for i, text in enumerate(texts):
        src = os.path.join(workdir, "seed%d.log" % i)
        with open(src, "wb") as f:
            f.write(text)
        dst = os.path.join(workdir, "seed%d.trace" % i)
        source = tracing.open_trace(src)
        saver = tracing.BinaryTraceWriter(dst, {"source": source.kind,
                                                "ns_per_instruction": 1.0})
        source.saver = saver
        w = TraceWorkload(source, ns_per_instruction=1.0, name="seed")
        ctx = params_mod.ContextParams(sample_us=10, aggr_us=100, update_us=1000)
        ctx.targets = [params_mod.TargetParams()]
        from damo import runner
        run = runner.Run([params_mod.KdamondParams([ctx])], [w], memory="dram:64M")
        run.run(None, progress=False)
        saver.commit(w.icount)
        with open(dst, "rb") as f:
            seeds.append(f.read())
    return seeds


# ------------------------------------------------------------ kdamonds files

KDAMONDS_SEED = {"kdamonds": [{"state": None, "pid": None, "contexts": [{
    "ops": "vaddr", "addr_unit": "1",
    "targets": [{"pid": None, "obsolete": False, "regions": []}],
    "intervals": {"sample_us": "5 ms", "aggr_us": "100 ms", "ops_update_us": "1 s",
                  "intervals_goal": {"access_bp": "4 %", "aggrs": "3",
                                     "min_sample_us": "5 ms", "max_sample_us": "10 s"}},
    "nr_regions": {"min": "10", "max": "1,000"},
    "schemes": [{
        "action": "pageout", "apply_interval_us": "0 ns",
        "access_pattern": {"sz_bytes": {"min": "4.000 KiB", "max": "max"},
                           "nr_accesses": {"min": "0 %", "max": "0 %"},
                           "age": {"min": "5 s", "max": "max"}},
        "quotas": {"time_ms": "0 ns", "sz_bytes": "64 MiB", "reset_interval_ms": "1 s",
                   "goals": [{"metric": "user_input", "target_value": "10,000",
                              "current_value": "5,000", "nid": None}],
                   "effective_sz_bytes": "0 B",
                   "weights": {"sz_permil": "0 %", "nr_accesses_permil": "100 %",
                               "age_permil": "100 %"}},
        "watermarks": {"metric": "free_mem_rate", "interval_us": "5 s", "high_permil": "50 %",
                       "mid_permil": "40 %", "low_permil": "10 %"},
        "filters": [{"filter_type": "addr", "matching": True, "allow": False,
                     "addr_start": "4096", "addr_end": "8192"}],
        "stats": None, "tried_regions": []}]}]}]}


class KdamondsTarget(_FileTarget):
    name = "kdamonds_files"
    description = "damo kdamonds JSON/YAML files (--kdamonds): load, validate, build " \
                  "the engine contexts"
    suffix = ".json"

    def seeds(self):
        import yaml
        from damo.params import presets

        seeds = [json.dumps(KDAMONDS_SEED, indent=4).encode(),
                 yaml.safe_dump(KDAMONDS_SEED).encode()]
        return seeds

    def structured(self, data, rng):
        try:
            return json_structured(data, rng)
        except ValueError:
            import yaml
            tree = mutate_tree(yaml.safe_load(data), rng)
            return yaml.safe_dump(tree).encode()

    def run(self, data):
        from damo.errors import DamoError
        from damo.params import damon as params_mod

        path = self.write(data)
        try:
            kdamonds = params_mod.load_kdamonds(path)
        except DamoError as e:
            return self.refused(e)
        machine = _machine()
        for kd in kdamonds:
            for ctx in kd.contexts:
                try:
                    params_mod.build_context(ctx, pids=[1], machine=machine)
                except DamoError as e:
                    self.refused(e)
        return "ok"


_MACHINE = []


def _machine():
    if not _MACHINE:
        from damo_engine import machines
        _MACHINE.append(machines.make_machine("dram:256M,cxl:256M,swap:zswap"))
    return _MACHINE[0]


# --------------------------------------------------------------- options

def _option_words():
    return {
        "--monitoring_intervals": 3, "--monitoring_intervals_goal": 4,
        "--monitoring_nr_regions_range": 2, "--regions": 1, "--ops": 1, "--timeout": 1,
        "--seed": 1, "--memory": 1, "--sequential_access_rate": 1, "--damos_action": (1, 2, 3, 5),
        "--damos_sz_region": 2, "--damos_access_rate": 2, "--damos_age": 2,
        "--damos_apply_interval": 1, "--damos_quotas": (1, 2, 3, 6),
        "--damos_quota_goal": (2, 3, 4), "--damos_quota_goal_tuner": 1,
        "--damos_filter": (3, 4, 5), "--damos_wmarks": 5, "--damos_max_nr_snapshots": 1,
        "--preset": 1, "--preset_param": 1, "--random_access_rate": 1,
        "--damos_nr_quota_goals": 1, "--damos_nr_filters": 1,
    }


OPTION_VALUES = {
    "--ops": [b"vaddr", b"paddr", b"fvaddr", b"x"],
    "--damos_action": [b"stat", b"pageout", b"migrate_hot", b"migrate_cold", b"hugepage",
                       b"nohugepage", b"lru_prio", b"lru_deprio", b"collapse", b"0", b"1"],
    "--memory": [b"dram:64M", b"dram:64M,cxl:64M,swap:zswap", b"dram:1e400", b"dram:-1",
                 b"dram:nan", b"dram:17T", b"dram:1024T", b"cxl:1G", b"dram:64M,swap:nan",
                 b"dram:0", b"", b"dram:64M,dram:64M"],
    "--preset": [b"reclaim", b"lru_sort", b"mtier", b"prcl", b"ethp", b"x"],
    "--preset_param": [b"min_age=5s", b"wmarks_high=nan", b"quota_sz=1e400", b"x=1",
                       b"min_age=inf", b"quota_reset_interval_ms=0"],
    "--damos_quota_goal": [b"user_input", b"some_mem_psi_us", b"node_mem_used_bp",
                           b"active_mem_bp"],
    "--damos_filter": [b"addr", b"anon", b"memcg", b"young", b"hugepage_size", b"target",
                       b"unmapped", b"active", b"matching", b"allow", b"reject", b"nomatching"],
    "--damos_wmarks": [b"free_mem_rate", b"none"],
    "--damos_quota_goal_tuner": [b"consist", b"temporal", b"x"],
}
OPTION_WORDS = [b"5ms", b"100ms", b"1s", b"0", b"1", b"10", b"1000", b"4K", b"max", b"min",
                b"50%", b"5 s", b"0x1000-0x2000", b"4096-8192"] + HOSTILE_WORDS


class OptionsTarget(Target):
    """damo record's options: parsed as click parses them, then every
    parameter parser, the kernel's checks and the engine objects built (the
    machine, kdamonds and workload), then a few simulated ms."""
    name = "options"
    description = "every option of damo record/start (monitoring, DAMOS, presets, " \
                  "machine): parse, validate, build, run 2 ms"

    def seeds(self):
        if not getattr(self, "_warm", False):
            # the first run imports the engine and the commands: untimed (at
            # nice 19 on a loaded machine it took more than the hang limit)
            self._warm = True
            self.run(b"--monitoring_intervals 5ms 100ms 1s")
        return [b"--monitoring_intervals 5ms 100ms 1s",
                b"--damos_action pageout --damos_access_rate 0 0 --damos_age 1s max",
                b"--damos_action migrate_hot 1 --memory dram:64M,cxl:64M",
                b"--damos_action migrate_hot 0 1 1 1 --memory dram:64M,cxl:64M",
                b"--preset reclaim --preset_param min_age=5s --memory dram:64M,swap:zswap",
                b"--damos_action stat --damos_quotas 10ms 4M 1s 1 2 3 "
                b"--damos_quota_goal user_input 10000 5000",
                b"--damos_action stat --damos_filter addr matching 4096 8192 "
                b"--damos_wmarks free_mem_rate 1s 500 400 100",
                b"--monitoring_intervals_goal 4% 3 5ms 10s --monitoring_nr_regions_range 3 100",
                b"--ops paddr --regions 0x100000-0x200000",
                b"--damos_action stat --damos_apply_interval 1s --damos_max_nr_snapshots 3"]

    def structured(self, data, rng):
        words = data.split(b" ")
        op = rng.randrange(5)
        table = _option_words()
        if op == 0:                                  # a value -> a hostile word
            i = rng.randrange(len(words))
            if not words[i].startswith(b"--"):
                words[i] = rng.choice(OPTION_WORDS)
        elif op == 1:                                # add an option with values
            name = rng.choice(sorted(table))
            count = table[name]
            count = rng.choice(count) if isinstance(count, tuple) else count
            values = OPTION_VALUES.get(name, OPTION_WORDS)
            words += [name.encode()] + [rng.choice(values) if i == 0 else
                                        rng.choice(OPTION_WORDS) for i in range(count)]
        elif op == 2 and len(words) > 1:             # drop a word
            del words[rng.randrange(len(words))]
        elif op == 3:
            i = rng.randrange(len(words))
            words.insert(i, rng.choice(OPTION_WORDS))
        else:
            words[rng.randrange(len(words))] = rng.choice(OPTION_VALUES.get(
                rng.choice(sorted(OPTION_VALUES)), OPTION_WORDS))
        return b" ".join(w for w in words if w is not None)

    def run(self, data):
        import click
        from damo.commands import record as record_cmd
        from damo.errors import DamoError

        try:
            args = data.decode("utf-8").split(" ")
        except UnicodeDecodeError:
            return "refused"                 # a shell gives bytes; click wants text
        args = [a for a in args if a]
        import contextlib
        try:
            with contextlib.redirect_stdout(io.StringIO()):     # --help prints
                ctx = record_cmd.record.make_context("record", list(args),
                                                     resilient_parsing=False)
        except click.exceptions.Exit:
            return "ok"
        except click.UsageError as e:
            # click's own refusal: names the option, exit 2
            if not e.format_message():
                raise BadError("usage error without a message")
            return "refused"
        except DamoError as e:
            # record's own usage errors (one damo: error: line, exit 2)
            return self.refused(e)
        try:
            return _record_setup_and_run(ctx.params, self.workdir)
        except DamoError as e:
            return self.refused(e)


def _record_setup_and_run(opts, workdir):
    """What damo record does up to and including a short run, without writing."""
    from damo import runner
    from damo.commands import record as record_cmd
    from damo.errors import DamoError
    from damo.params import presets as presets_mod
    from damo.workloads import masim as workload_mod

    ctx = record_cmd.context_from_options(opts)
    w = workload_mod.resolve(_options_workload_path(workdir), access_rate=opts["sequential_access_rate"],
                             random_access_rate=opts["random_access_rate"])
    kdamonds = presets_mod.kdamonds_from_options(opts, ctx, [w], explicit=[])
    memory = opts.get("memory") or "dram:64M"
    run = runner.Run(kdamonds, [w], memory=memory, seed=opts.get("seed") or 0)
    timeout = opts.get("timeout")
    # as record passes it (timeout * 1e9), cut to 2 simulated ms
    ns = 2e6 if timeout is None else timeout * 1e9
    if ns > 2e6:
        ns = 2e6
    try:
        run.run(ns, progress=False)
    except DamoError as e:
        if "\n" in str(e):
            raise BadError("refusal is not one line: %r" % str(e)[:300])
    return "ok"


def _options_workload_path(workdir):
    path = os.path.join(workdir, "options.cfg")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(MASIM_SEED)
    return path


# --------------------------------------------------------- report options

IMAGE_EVERY = 8         # report_options: one image input in this many is drawn

# each report's options with a value, and how many values they take
REPORT_OPTIONS = {
    "heatmap": {"--resol": 2, "--time_range": (2, 3), "--address_range": (2, 3),
                "--draw_range": 1, "--tid": 1, "--kdamond_idx": 1, "--context_idx": 1,
                "--scheme_idx": 1, "--size": 2, "--stdout_colorset": 1, "--output": 1,
                "--guide": 0, "--abs_time": 0, "--abs_addr": 0},
    "wss": {"--range": 3, "--exclude_samples": 1, "--acc_thres": 1, "--sz_thres": 1,
            "--work_time": 1, "--size": 2, "--nr_cols_bar": 1, "--sortby": 1, "--plot": 1,
            "--all_wss": 0, "--per_target": 0},
    "nr_regions": {"--range": 3, "--size": 2, "--sortby": 1, "--plot": 1},
    "access": {"--raw_form": 0, "--raw_number": 0},
    "record_info": {"--raw_numbers": 0},
    "profile": {"--nr_rows": 1, "--size": 2, "--hottest": 1, "--nr_functions": 1,
                "--plot": 1, "--access_rate": 2, "--sz_region": 2, "--age": 2,
                "--address": 2, "--sections": 1, "--sz_snapshot": 2, "--snapshot_time": 2,
                "--snapshot_idx": 2, "--temperature": 2},
}
REPORT_VALUES = {
    "--draw_range": [b"hottest", b"all", b"x"],
    "--stdout_colorset": [b"gray", b"flame", b"emotion", b"x"],
    "--sections": [b"all", b"memory", b"runtime", b"damos", b"x"],
    "--sortby": [b"time", b"size", b"x"],
    "--output": [b"stdout", b"raw", b"out.png", b"out.svg", b"out.x", b"/", b""],
    "--plot": [b"out.png", b"out.svg", b"out.pdf", b"out.x", b"/"],
    "--time_range": [b"guided", b"guided_end", b"0", b"1s", b"100 ms"],
    "--address_range": [b"guided", b"4096", b"4K", b"0x1000"],
}
REPORT_WORDS = [b"0", b"1", b"2", b"3", b"8", b"16", b"25", b"50", b"100", b"101", b"200",
                b"640", b"480", b"1000", b"4096", b"1s", b"5 ms", b"50%", b"1e3",
                b"10000", b"10001", b"100000", b"8193"] + HOSTILE_WORDS


class ReportOptionsTarget(Target):
    """The reports' options (issue 17: the option target drove damo record's
    only): parsed as click parses them (bounds where they enter), then the
    report run on a small recording.  An image is drawn only when its size
    is small (a bounded 10000 x 6710 image costs a minute, as asked)."""
    name = "report_options"
    description = "every option of the reports (heatmap, wss, nr_regions, access, " \
                  "record_info, profile): parse, validate, report"

    def seeds(self):
        # set up before any input is timed: the recording, and matplotlib's
        # first figure (its import and font cache took more than the 10 s
        # hang limit on a loaded machine)
        self._recording()
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib.figure import Figure
        for kind in ("png", "svg", "pdf"):
            fig = Figure(figsize=(1, 1))
            fig.subplots().plot([0, 1])
            fig.savefig(io.BytesIO(), format=kind)
        return [b"heatmap --resol 8 16", b"heatmap --time_range 0 1s --address_range guided",
                b"heatmap --output raw --resol 4 4", b"heatmap --output out.png --size 64 48",
                b"heatmap --tid 0 --draw_range all --stdout_colorset emotion",
                b"wss --range 0 101 25 --acc_thres 1 --sz_thres 1 --work_time 1",
                b"wss --plot out.png --size 64 48 --sortby time",
                b"wss --exclude_samples 0 --nr_cols_bar 20",
                b"nr_regions --range 0 101 50 --plot out.svg --size 64 48",
                b"access", b"record_info", b"profile --nr_rows 3 --hottest 50"]

    def _recording(self):
        path = os.path.join(self.workdir, "report-options.data")
        if not os.path.exists(path):
            import synth
            synth.stairs(path, nr_snapshots=4, nr_regions=3)
        return path

    def structured(self, data, rng):
        words = data.split(b" ")
        command = words[0].decode("utf-8", "replace")
        table = REPORT_OPTIONS.get(command) or REPORT_OPTIONS["heatmap"]
        op = rng.randrange(6)
        if op == 0 and len(words) > 1:               # a value -> a hostile word
            i = rng.randrange(1, len(words))
            if not words[i].startswith(b"--"):
                words[i] = rng.choice(REPORT_WORDS)
        elif op in (1, 2) and table:                 # add an option with values
            name = rng.choice(sorted(table))
            count = table[name]
            count = rng.choice(count) if isinstance(count, tuple) else count
            values = REPORT_VALUES.get(name, REPORT_WORDS)
            words += [name.encode()] + [rng.choice(values) if i == 0 else
                                        rng.choice(REPORT_WORDS) for i in range(count)]
        elif op == 3 and len(words) > 2:             # drop a word
            del words[rng.randrange(1, len(words))]
        elif op == 4:
            words.insert(rng.randrange(1, len(words) + 1), rng.choice(REPORT_WORDS))
        else:                                        # another report
            words[0] = rng.choice(sorted(REPORT_OPTIONS)).encode()
        return b" ".join(words)

    def run(self, data):
        import contextlib

        import click
        from damo.cli import main
        from damo.errors import DamoError

        try:
            args = [a for a in data.decode("utf-8").split(" ") if a]
        except UnicodeDecodeError:
            return "refused"
        if not args:
            return "refused"
        report = main.get_command(click.Context(main), "report")
        cmd = report.get_command(click.Context(report), args[0])
        if cmd is None:
            return "refused"
        args = args[1:] + ["--inputs" if cmd.name == "profile" else "-i", self._recording()]
        # image paths inside the work directory
        for i, a in enumerate(args[:-1]):
            if a in ("--output", "--plot", "-p") and args[i + 1] not in ("stdout", "raw"):
                args[i + 1] = os.path.join(self.workdir, os.path.basename(args[i + 1]) or "x")
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                ctx = cmd.make_context(cmd.name, args)
        except click.exceptions.Exit:
            return "ok"
        except click.UsageError as e:
            if not e.format_message() or "\n" in e.format_message().strip():
                raise BadError("usage error not one line: %r" % e.format_message()[:300])
            return "refused"
        except DamoError as e:                      # the reports' own parsing
            return self.refused(e)
        size = ctx.params.get("size")
        if size and size[0] * size[1] > 2 ** 20:
            return "ok"                              # parsed and bounded; too slow to draw
        from damo.reports.heatmap_reporter import MAX_CELLS
        resol = ctx.params.get("resol")
        if resol and 2 ** 20 < resol[0] * resol[1] <= MAX_CELLS:
            # allowed and bounded (~160 bytes a cell), but a 2^22-cell raw
            # output is 14 s: past the hang limit.  More than MAX_CELLS goes
            # on, to be refused
            return "ok"
        image = any(isinstance(ctx.params.get(k), str) and
                    ctx.params[k].startswith(self.workdir) for k in ("output", "plot"))
        if image and zlib.crc32(data) % IMAGE_EVERY:
            # matplotlib's layout and rendering is ~80 ms an image, 40% of the
            # whole target's time for 3% of its inputs: every IMAGE_EVERY-th
            # image input (by the input's own hash, so a rerun of a saved
            # input draws it or not alike) is drawn, the others stop parsed
            # and validated, as the oversized ones above do
            return "ok"
        import warnings
        try:
            with warnings.catch_warnings(record=True) as caught, \
                    contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("always")
                ctx.invoke(cmd.callback, **ctx.params)
        except DamoError as e:
            return self.refused(e)
        if caught:
            raise BadError("%s: warning on stderr: %s" % (cmd.name, caught[0].message))
        return "ok"


# ---------------------------------------------------------------- daemon

class DaemonTarget(Target):
    """The live daemon's protocol, in-process: a real Daemon (machine,
    kdamond, socket bound in a private directory), fed requests through the
    same function that answers its socket.  Any reply must be a dict; an
    internal error is a bug."""
    name = "daemon_protocol"
    description = "the live daemon's socket requests (state, tune, snapshots, stop)"

    def __init__(self, workdir):
        super().__init__(workdir)
        self.daemon = None

    def seeds(self):
        tune = {"cmd": "tune", "kdamond_idx": 0, "quota_goals_only": False, "speed": 2,
                "kdamond": KDAMONDS_SEED["kdamonds"][0]}
        return [b'{"cmd": "state"}', b'{"cmd": "snapshots", "since": 0}',
                b'{"cmd": "stop", "kdamond_idx": 0}', b'{"cmd": "tune", "speed": 3}',
                json.dumps(tune).encode(),
                json.dumps(dict(tune, quota_goals_only=True)).encode()]

    def _daemon(self):
        if self.daemon is None:
            from damo.live import daemon as daemon_mod
            from damo.live import rundir as rundir_mod
            from damo.params import damon as params_mod

            slot = os.path.join(self.workdir, "kdamond.0")
            shutil.rmtree(slot, ignore_errors=True)
            os.makedirs(slot)
            ctx = params_mod.ContextParams(sample_us=1000, aggr_us=10000, update_us=20000)
            ctx.targets = [params_mod.TargetParams()]
            spec = {"kdamonds": params_mod.kdamonds_to_kvpairs(
                [params_mod.KdamondParams([ctx])])["kdamonds"],
                "workload": None, "memory": "dram:64M", "seed": 0, "speed": 1}
            rundir_mod.write_json(os.path.join(slot, "spec.json"), spec)
            daemon_mod.log = lambda msg: None     # no log lines on the fuzzer's stderr
            d = daemon_mod.Daemon(slot, -1, -1)
            d.setup()
            self.daemon = d
        return self.daemon

    def run(self, data):
        d = self._daemon()
        before = d.internal_errors
        reply, fatal = d.reply_to(data)
        if d.internal_errors != before:
            raise AssertionError("internal error answering %r: %s" % (data[:200], reply))
        if fatal is not None:
            raise AssertionError("simulation error: %s" % fatal)
        if not isinstance(reply, dict):
            raise AssertionError("reply is not an object: %r" % (reply,))
        json.dumps(reply)
        changed = "error" not in reply and b'"state"' not in data[:40]
        if d.stopping is not None or not d.running or changed:
            self.close()                         # a fresh daemon for the next input
        return "refused" if "error" in reply else "ok"

    def close(self):
        if self.daemon is not None:
            self.daemon.sock.close()
            self.daemon = None


TARGETS = [JsonRecordTarget, JsonCompressedRecordTarget, PerfScriptRecordTarget,
           NativeRecordTarget, MasimTarget, LackeyTraceTarget, BinaryTraceTarget,
           KdamondsTarget, OptionsTarget, ReportOptionsTarget, DaemonTarget]
BY_NAME = {t.name: t for t in TARGETS}


def make_workdir():
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) \
        else None
    return tempfile.mkdtemp(prefix="damo-fuzz-", dir=base)
