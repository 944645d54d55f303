"""Simulated machines: memory tiers, swap devices, the CPU model, and the
``--memory`` grammar.

A machine spec is a comma-separated list of parts (or the path of a file
holding one, as ``damo calibrate`` writes; ``#`` starts a comment there):

``dram:SIZE``, ``cxl:SIZE``, ``pmem:SIZE``
    a memory node (tier) of that kind; ``:latency=NS``, ``:bandwidth=GBPS``
    (reads and writes) and ``:write_bandwidth=GBPS`` override its defaults.  Nodes are
    filled fastest first on first touch.
``host:SIZE``
    a DRAM node with this host's measured latency and bandwidths, and the
    host's CPU model and fault costs (from ``damo calibrate``'s file, by
    default ~/.cache/damo-sim/host.machine or $DAMO_SIM_HOST_MACHINE);
    workloads' nominal speeds are then defined on it.
``swap:KIND[:SIZE]``
    a swap device: ``zswap`` (a compressed pool in memory, at most
    ``max_pool_percent`` of it, in front of an SSD; SIZE is the SSD's),
    ``zram`` (a compressed RAM disk of SIZE), ``ssd`` or ``hdd``;
    ``:ratio=R`` (compression), ``:max_pool_percent=P`` (zswap),
    ``:fault_ns=NS`` (swap-in) and ``:out_ns=NS`` (swap-out CPU cost).
``cpu:KEY=VALUE:...``
    the CPU model: the compute ns of cache-hitting accesses by kind
    (``page_r``, ``page_w``, ``random_r``, ``random_w``, ``stream_r``,
    ``stream_w``), their misses in flight (``mlp_page_r``, ...,
    ``mlp_random_w``), ``llc`` and ``llc_page`` (cache sizes).
``thp:never|madvise|always``, ``fault:NS``, ``thp_fault:NS``, ``migrate:NS``,
``khugepaged:PAGES[:SLEEP_MS]``
    the THP policy, the costs of a minor fault, a THP fault and a page
    migration, and khugepaged's scan size and sleep.

Every default and its source is in costs.py; ``grammar()`` gives this text
for --help.
"""
import os
import re

from damo_engine import costs
from damo_engine.memory import Machine

GiB = 1 << 30
MiB = 1 << 20

_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
               "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
               "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
               "t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40}

SWAP_KINDS = tuple(costs.SWAP)
NODE_KINDS = tuple(costs.TIERS) + ("host",)


class MachineSpecError(ValueError):
    """A malformed machine spec; the message names the part at fault."""


# Bounds where values enter (hostile specs): the simulated memory of one
# machine (its page metadata lives in host memory), and per-event costs that
# keep simulated nanoseconds within int64.
MAX_MACHINE_BYTES = 16 << 40
MAX_COST_NS = 1e10
MAX_BANDWIDTH_GBPS = 1e6


def grammar():
    """The --memory grammar with its defaults, for --help and the man page
    (lines of at most 76 columns)."""
    t = costs.TIERS
    f = {k: v[0] for k, v in costs.FAULTS.items()}
    return "\n".join([
        "Comma-separated parts, or a file of them (damo calibrate writes one):",
        "  dram:SIZE, cxl:SIZE, pmem:SIZE   a memory node; :latency=NS,",
        "      :bandwidth=GBPS (reads and writes), :write_bandwidth=GBPS.",
        "      Defaults: dram %g ns %g GB/s, cxl %g ns %g GB/s," % (
            t["dram"][0], t["dram"][1], t["cxl"][0], t["cxl"][1]),
        "      pmem %g ns %g/%g GB/s" % t["pmem"][:3],
        "  host:SIZE   DRAM with this host's figures and CPU (damo calibrate)",
        "  swap:zswap[:SIZE]   a compressed pool in DRAM (:ratio=%g, at most" % (
            costs.ZSWAP_RATIO),
        "      :max_pool_percent=%d of memory) before an SSD of SIZE" % (
            costs.ZSWAP_MAX_POOL_PERCENT),
        "  swap:zram[:SIZE]    a compressed RAM disk (min(RAM/2, 4 GiB), :ratio=%g)" % (
            costs.ZSWAP_RATIO),
        "  swap:ssd[:SIZE], swap:hdd[:SIZE]   a swap device (SIZE: 2x RAM up to",
        "      2 GiB, RAM up to 8 GiB, then 4 GiB); swap parts take :fault_ns=NS",
        "      (swap-in, %g/%g/%g/%g) and :out_ns=NS (swap-out CPU)" % tuple(
            costs.SWAP[k][0] for k in ("zswap", "zram", "ssd", "hdd")),
        "  cpu:KEY=VALUE:...   the CPU model: compute ns of cached accesses",
        "      (page_r, page_w, random_r, random_w, stream_r, stream_w), misses",
        "      in flight (mlp_page_r, mlp_page_w, mlp_random_r, mlp_random_w),",
        "      llc=SIZE, llc_page=SIZE (the cache page strides can use)",
        "  thp:never|madvise|always   the THP policy (madvise)",
        "  fault:NS, thp_fault:NS, migrate:NS   a minor fault (%g), a THP fault" % (
            f["minor_fault_ns"]),
        "      (%g), a page migration (%g)" % (f["thp_fault_ns"], f["migrate_page_ns"]),
        "  khugepaged:PAGES[:SLEEP_MS]   khugepaged's scan (4096 every 10000 ms)",
    ])


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


def _float(text, what, maximum=MAX_COST_NS, minimum=None):
    try:
        v = float(text)
    except ValueError:
        raise MachineSpecError("%s must be a number, not %r" % (what, text))
    if not v > 0:                   # NaN too
        raise MachineSpecError("%s must be positive" % what)
    if v > maximum:                 # infinities too
        raise MachineSpecError("%s must be at most %g" % (what, maximum))
    if minimum is not None and v < minimum:
        raise MachineSpecError("%s must be at least %g" % (what, minimum))
    return v


def host_machine_path():
    """Where damo calibrate keeps this host's machine spec."""
    env = os.environ.get("DAMO_SIM_HOST_MACHINE")
    if env:
        return env
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "damo-sim", "host.machine")


def read_spec_file(path):
    """The spec in a machine file: its parts, without comments."""
    try:
        with open(path) as f:
            text = f.read(1 << 20)
    except OSError as e:
        raise MachineSpecError("%s: cannot read (%s)" % (path, e.strerror or e))
    parts = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            parts.append(line)
    if not parts:
        raise MachineSpecError("%s: no machine spec in it" % path)
    return ",".join(parts)


def _host():
    """(node settings, cpu, options) of this host, from its calibration."""
    path = host_machine_path()
    if not os.path.exists(path):
        raise MachineSpecError("host: this host is not calibrated yet: run `damo calibrate` "
                               "(it writes %s)" % path)
    nodes, _, options = parse_spec(read_spec_file(path), _in_host=True)
    if not nodes:
        raise MachineSpecError("%s: no memory node in it" % path)
    return nodes[0], options


def parse_spec(spec, _in_host=False):
    """Parse a machine spec into (nodes, swap, options) for Machine()."""
    if os.path.isfile(spec):
        spec = read_spec_file(spec)
    nodes, swap, options = [], None, {}
    swap_part = None
    cpu = {}
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        fields = part.split(":")
        kind = fields[0].lower()
        try:
            kv = dict(f.split("=", 1) for f in fields[1:] if "=" in f)
        except ValueError:
            raise MachineSpecError("%r: a setting is key=value" % part)
        kv = {k.strip().lower(): v.strip() for k, v in kv.items()}
        plain = [f for f in fields[1:] if "=" not in f]
        if kind == "swap":
            if not plain:
                raise MachineSpecError("swap needs a kind: swap:zswap, swap:zram, swap:ssd "
                                       "or swap:hdd")
            if plain[0].lower() not in costs.SWAP:
                raise MachineSpecError("unknown swap kind %r (one of: %s)"
                                       % (plain[0], ", ".join(SWAP_KINDS)))
            if swap_part is not None:
                raise MachineSpecError("only one swap device is supported")
            if len(plain) > 2:
                raise MachineSpecError("%r: swap is swap:KIND[:SIZE]" % part)
            swap_part = (plain[0].lower(), plain[1] if len(plain) > 1 else None, kv)
            continue
        elif kind in NODE_KINDS:
            if len(plain) != 1:
                raise MachineSpecError("%r: a memory node is kind:size, e.g. %s:8G"
                                       % (part, kind))
            if kind == "host":
                if _in_host:
                    raise MachineSpecError("%r: a host machine file cannot use host" % part)
                hnode, hoptions = _host()
                lat, rbw, wbw = (hnode["latency_ns"], hnode["bandwidth_gbps"],
                                 hnode["write_bandwidth_gbps"])
                for k, v in hoptions.items():
                    options.setdefault(k, v)
                options["reference"] = {"latency_ns": lat, "bandwidth_gbps": rbw,
                                        "write_bandwidth_gbps": wbw}
                node_kind = "dram"
            else:
                lat, rbw, wbw = costs.TIERS[kind][:3]
                node_kind = kind
            name = "%s%d" % (kind, sum(1 for n in nodes if n["name"].startswith(kind)))
            if "bandwidth" in kv:       # the memory's bandwidth: reads and writes
                rbw = wbw = _float(kv.pop("bandwidth"), "%s bandwidth" % kind,
                                   MAX_BANDWIDTH_GBPS)
            nodes.append({"name": name, "kind": node_kind,
                          "capacity": parse_size(plain[0], "%s capacity" % kind),
                          "latency_ns": _float(kv.pop("latency", lat), "%s latency" % kind),
                          "bandwidth_gbps": rbw,
                          "write_bandwidth_gbps": _float(kv.pop("write_bandwidth", wbw),
                                                         "%s write_bandwidth" % kind,
                                                         MAX_BANDWIDTH_GBPS)})
            if nodes[-1]["capacity"] < 2 << 20:
                raise MachineSpecError("%r: a node needs at least 2 MiB" % part)
        elif kind == "cpu":
            if plain:
                raise MachineSpecError("%r: cpu takes settings only, e.g. cpu:mlp_random_r=10" % part)
            for k, v in list(kv.items()):
                if k.startswith("mlp_") and k[4:] in costs.CPU["mlp"]:
                    cpu.setdefault("mlp", {})[k[4:]] = _float(v, "cpu %s" % k, minimum=1)
                elif k in ("llc", "llc_page"):
                    cpu[k + "_bytes"] = parse_size(v, "cpu %s" % k)
                elif k in costs.ACCESS_KINDS:
                    cpu.setdefault("compute_ns", {})[k] = _float(v, "cpu %s" % k)
                else:
                    continue
                del kv[k]
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
                                                             2 ** 31 - 1, minimum=1))
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
            raise MachineSpecError("unknown machine part %r (dram, cxl, pmem, host, swap, cpu, "
                                   "thp, fault, thp_fault, migrate, khugepaged)" % fields[0])
        if kv:
            raise MachineSpecError("%r: unknown setting(s) %s" % (part, ", ".join(kv)))
    if not nodes and not _in_host:
        raise MachineSpecError("the machine needs at least one memory node, e.g. dram:8G")
    if sum(n["capacity"] for n in nodes) > MAX_MACHINE_BYTES:
        raise MachineSpecError("the nodes add up to more than a simulated machine holds "
                               "(%d TiB)" % (MAX_MACHINE_BYTES >> 40))
    if len(nodes) > 8:
        raise MachineSpecError("at most 8 memory nodes are supported")
    if cpu:
        merged = dict(options.get("cpu") or {})
        merged.update({k: v for k, v in cpu.items() if k not in ("compute_ns", "mlp")})
        for key in ("compute_ns", "mlp"):
            if key in cpu:
                merged[key] = dict(merged.get(key) or {}, **cpu[key])
        options["cpu"] = merged
    if swap_part is not None:
        swap = _swap(swap_part, sum(n["capacity"] for n in nodes))
    return nodes, swap, options


def _swap(swap_part, ram):
    skind, size, kv = swap_part
    kv = dict(kv)
    fault_ns, out_ns, compressed, _ = costs.SWAP[skind]
    if skind == "zram":
        capacity = costs.zram_size(ram)
    else:
        capacity = costs.rhel_swap_size(ram)
    if size is not None:
        capacity = parse_size(size, "swap size")
    if capacity < 4096:
        raise MachineSpecError("the swap device needs at least 4 KiB")
    swap = {"kind": skind, "capacity": capacity}
    if skind == "zswap":
        # the pool in front of an SSD: pool costs from zswap, the device's from ssd
        dev_fault, dev_out = costs.SWAP["ssd"][:2]
        swap.update({"pool": True, "pool_only": False,
                     "pool_fault_ns": _float(kv.pop("fault_ns", fault_ns), "swap fault_ns"),
                     "pool_out_ns": _float(kv.pop("out_ns", out_ns), "swap out_ns"),
                     "fault_ns": dev_fault, "out_ns": dev_out,
                     "max_pool_percent": _float(kv.pop("max_pool_percent",
                                                       costs.ZSWAP_MAX_POOL_PERCENT),
                                                "max_pool_percent")})
        if swap["max_pool_percent"] > 100:
            raise MachineSpecError("max_pool_percent must be at most 100")
    else:
        swap.update({"fault_ns": _float(kv.pop("fault_ns", fault_ns), "swap fault_ns"),
                     "out_ns": _float(kv.pop("out_ns", out_ns), "swap out_ns")})
        if skind == "zram":
            swap.update({"pool": True, "pool_only": True, "max_pool_percent": 0,
                         "pool_fault_ns": swap["fault_ns"], "pool_out_ns": swap["out_ns"]})
    if compressed:
        swap["ratio"] = _float(kv.pop("ratio", costs.ZSWAP_RATIO), "compression ratio",
                               minimum=1)
    if kv:
        raise MachineSpecError("swap:%s: unknown setting(s) %s" % (skind, ", ".join(kv)))
    return swap


def make_machine(spec=None, *, fits=0):
    """A Machine from a spec string; without one, a single DRAM node big
    enough for `fits` bytes of workload (at least 16 GiB) and no swap."""
    if not spec:
        need = min(max(16 * GiB, -(-2 * fits // GiB) * GiB), MAX_MACHINE_BYTES)
        spec = "dram:%d" % need
    nodes, swap, options = parse_spec(spec)
    kwargs = {k: costs.FAULTS[k][0] for k in ("minor_fault_ns", "thp_fault_ns",
                                               "migrate_page_ns")}
    kwargs.update(options)
    try:
        return Machine(nodes, swap=swap, **kwargs)
    except MemoryError as e:
        raise MachineSpecError("this host cannot hold the simulated machine's page "
                               "metadata (%s)" % (e or "out of memory")) from None


def describe_dict(machine, spec=None):
    """The machine as plain values: its nodes, swap device and pool, the CPU
    model and the costs (what `damo report sysinfo` and profiles show)."""
    nodes = [{k: n[k] for k in ("id", "name", "kind", "capacity", "latency_ns",
                                 "bandwidth_gbps", "write_bandwidth_gbps", "phys_start",
                                 "phys_end")}
             for n in machine.nodes]
    return {"spec": spec, "nodes": nodes, "swap": machine.describe_swap(),
            "thp": {0: "never", 1: "madvise", 2: "always"}.get(machine.thp_policy),
            "cpu": machine.describe_cpu(),
            "costs": {"minor_fault_ns": machine.minor_fault_ns,
                      "thp_fault_ns": machine.thp_fault_ns,
                      "migrate_page_ns": machine.migrate_page_ns,
                      "access_check_ns": costs.ACCESS_CHECK_NS}}


def describe(machine):
    """One line per node and the swap device, for reports."""
    lines = ["%-6s %-5s %10.1f GiB  %6.0f ns  %5.1f/%.1f GB/s" % (
        n["name"], n["kind"], n["capacity"] / GiB, n["latency_ns"], n["bandwidth_gbps"],
        n["write_bandwidth_gbps"]) for n in machine.nodes]
    sw = machine.describe_swap()
    if sw:
        line = "swap   %-5s %10.1f GiB  %6.0f ns in, %.0f ns out" % (
            sw["kind"], sw["capacity"] / GiB, sw["fault_ns"], sw["out_ns"])
        if sw["pool"]:
            line += "; pool ratio %g, %s" % (sw["ratio"], "no limit" if sw["pool_only"]
                                              else "at most %.1f GiB" % (sw["pool_limit"] / GiB))
        lines.append(line)
    return lines
