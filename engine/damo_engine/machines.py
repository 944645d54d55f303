"""Simulated machines: memory tiers, swap devices and their default numbers.

Defaults come from ../shared/spec/workloads-and-tiers.md §4 and §7: local DRAM
about 90 ns and 38.4 GB/s a channel, CXL about 200 ns and 25 GB/s, a minor
fault 1.5 us, a zswap refault about 6 us, an SSD swap-in 50-100 us, a 4 KiB
page migration about 7.5 us.  Every number can be overridden.

A machine spec is a comma-separated list of parts, as on the command line:
``dram:8G,cxl:32G,swap:zswap`` or, with overrides,
``dram:8G:latency=80,cxl:32G:latency=250:bandwidth=20,swap:ssd:16G``;
``thp:always``, ``fault:<ns>``, ``migrate:<ns>``, ``thp_fault:<ns>`` and
``khugepaged:<pages per wake-up>[:<sleep ms>]`` set the THP policy and costs.
"""
import re

from damo_engine.memory import Machine

GiB = 1 << 30

TIER_DEFAULTS = {
    # kind: (load latency ns, bandwidth GB/s)
    "dram": (90.0, 38.4),
    "cxl": (200.0, 25.0),
    "pmem": (350.0, 8.0),
}

SWAP_DEFAULTS = {
    # kind: (swap-in ns, swap-out ns, default capacity)
    "zswap": (6000.0, 6000.0, 16 * GiB),
    "zram": (6000.0, 6000.0, 16 * GiB),
    "ssd": (80000.0, 20000.0, 64 * GiB),
    "hdd": (5000000.0, 1000000.0, 256 * GiB),
}

MACHINE_DEFAULTS = {
    "minor_fault_ns": 1500.0,
    "thp_fault_ns": 100000.0,
    "migrate_page_ns": 7500.0,
    "compute_share": 0.1,
}

_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
               "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
               "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
               "t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40}


class MachineSpecError(ValueError):
    """A malformed machine spec; the message names the part at fault."""


# Bounds where values enter (hostile specs): the simulated memory of one
# machine (its page metadata lives in host memory), and per-event costs that
# keep simulated nanoseconds within int64.
MAX_MACHINE_BYTES = 16 << 40
MAX_COST_NS = 1e10
MAX_BANDWIDTH_GBPS = 1e6


def parse_size(text, what="size"):
    """'8G', '512MiB', '4096' -> bytes."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _SIZE_UNITS:
        raise MachineSpecError("%s %r is not a size like 8G or 512MiB" % (what, text))
    size = float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()]
    if size > MAX_MACHINE_BYTES:
        raise MachineSpecError("%s %r is more than a simulated machine holds (%d TiB)"
                               % (what, text, MAX_MACHINE_BYTES >> 40))
    return int(size)


def _float(text, what, maximum=MAX_COST_NS):
    try:
        v = float(text)
    except ValueError:
        raise MachineSpecError("%s must be a number, not %r" % (what, text))
    if not v > 0:                   # NaN too
        raise MachineSpecError("%s must be positive" % what)
    if v > maximum:                 # infinities too
        raise MachineSpecError("%s must be at most %g" % (what, maximum))
    return v


def parse_spec(spec):
    """Parse a machine spec into (nodes, swap, options) for Machine()."""
    nodes, swap, options = [], None, {}
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        fields = part.split(":")
        kind = fields[0].lower()
        kv = dict(f.split("=", 1) for f in fields[1:] if "=" in f)
        plain = [f for f in fields[1:] if "=" not in f]
        if kind == "swap":
            if not plain:
                raise MachineSpecError("swap needs a kind: swap:zswap, swap:ssd, ...")
            skind = plain[0].lower()
            if skind not in SWAP_DEFAULTS:
                raise MachineSpecError("unknown swap kind %r (one of: %s)"
                                       % (plain[0], ", ".join(SWAP_DEFAULTS)))
            if swap is not None:
                raise MachineSpecError("only one swap device is supported")
            fault_ns, out_ns, cap = SWAP_DEFAULTS[skind]
            if len(plain) > 1:
                cap = parse_size(plain[1], "swap capacity")
            swap = {"kind": skind, "capacity": cap,
                    "fault_ns": _float(kv.pop("fault_ns", fault_ns), "swap fault_ns"),
                    "out_ns": _float(kv.pop("out_ns", out_ns), "swap out_ns")}
        elif kind in TIER_DEFAULTS:
            if len(plain) != 1:
                raise MachineSpecError("%r: a memory node is kind:size, e.g. %s:8G"
                                       % (part, kind))
            lat, bw = TIER_DEFAULTS[kind]
            name = "%s%d" % (kind, sum(1 for n in nodes if n["kind"] == kind))
            nodes.append({"name": name, "kind": kind,
                          "capacity": parse_size(plain[0], "%s capacity" % kind),
                          "latency_ns": _float(kv.pop("latency", lat), "%s latency" % kind),
                          "bandwidth_gbps": _float(kv.pop("bandwidth", bw),
                                                   "%s bandwidth" % kind,
                                                   MAX_BANDWIDTH_GBPS)})
            if nodes[-1]["capacity"] < 2 << 20:
                raise MachineSpecError("%r: a node needs at least 2 MiB" % part)
        elif kind == "thp":
            if plain not in (["never"], ["madvise"], ["always"]):
                raise MachineSpecError("thp must be thp:never, thp:madvise or thp:always")
            options["thp"] = plain[0]
            continue
        elif kind == "khugepaged":
            # khugepaged:<pages to scan per wake-up>[:<sleep ms>]
            if len(plain) not in (1, 2):
                raise MachineSpecError("khugepaged takes pages to scan and optionally the "
                                       "sleep time in ms, e.g. khugepaged:4096:10000")
            options["khugepaged_pages_to_scan"] = int(_float(plain[0], "khugepaged pages",
                                                             2 ** 31 - 1))
            if len(plain) == 2:
                options["khugepaged_sleep_ms"] = _float(plain[1], "khugepaged sleep")
            continue
        elif kind in ("fault", "migrate", "thp_fault"):
            key = {"fault": "minor_fault_ns", "migrate": "migrate_page_ns",
                   "thp_fault": "thp_fault_ns"}[kind]
            if len(plain) != 1:
                raise MachineSpecError("%s takes one value in ns, e.g. %s:1500" % (kind, kind))
            options[key] = _float(plain[0], kind)
            continue
        else:
            raise MachineSpecError("unknown machine part %r (dram, cxl, pmem, swap, thp, "
                                   "fault, migrate, khugepaged)" % fields[0])
        if kv:
            raise MachineSpecError("%r: unknown setting(s) %s" % (part, ", ".join(kv)))
    if not nodes:
        raise MachineSpecError("the machine needs at least one memory node, e.g. dram:8G")
    if sum(n["capacity"] for n in nodes) > MAX_MACHINE_BYTES:
        raise MachineSpecError("the nodes add up to more than a simulated machine holds "
                               "(%d TiB)" % (MAX_MACHINE_BYTES >> 40))
    return nodes, swap, options


def make_machine(spec=None, *, fits=0):
    """A Machine from a spec string; without one, a single DRAM node big
    enough for `fits` bytes of workload (at least 16 GiB) and no swap."""
    if not spec:
        need = min(max(16 * GiB, -(-2 * fits // GiB) * GiB), MAX_MACHINE_BYTES)
        spec = "dram:%d" % need
    nodes, swap, options = parse_spec(spec)
    kwargs = dict(MACHINE_DEFAULTS)
    kwargs.update(options)
    try:
        return Machine(nodes, swap=swap, **kwargs)
    except MemoryError as e:
        raise MachineSpecError("this host cannot hold the simulated machine's page "
                               "metadata (%s)" % (e or "out of memory")) from None


def describe(machine):
    """One line per node and the swap device, for reports."""
    lines = ["%-6s %-5s %10.1f GiB  %6.0f ns  %5.1f GB/s" % (
        n["name"], n["kind"], n["capacity"] / GiB, n["latency_ns"], n["bandwidth_gbps"])
        for n in machine.nodes]
    if machine.swap_kind:
        lines.append("swap   %-5s %10.1f GiB  %6.0f ns in, %.0f ns out" % (
            machine.swap_kind, machine.swap_capacity_pages * 4096 / GiB,
            machine.swap_fault_ns, machine.swap_out_ns))
    return lines
