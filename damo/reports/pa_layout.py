"""``damo report pa_layout``: the physical address layout of the simulated
machine, in damo 3.4.3's layout (damo reads /proc/iomem and the memory
blocks of /sys/devices/system/memory; the simulated machine's physical
memory is its nodes, each one "System RAM" range, online, in node order
from the physical base address).

damo bug kept out: ``--numa_node 0`` shows every node in damo (it tests the
node id for truth); here it shows node 0.
"""
from damo import units


def ranges(machine):
    """[(start, end, nid, state, name)] of the machine's physical memory."""
    out = []
    for node in sorted(machine["nodes"], key=lambda n: n["phys_start"]):
        out.append((node["phys_start"], node["phys_end"], node["id"], "online", "System RAM"))
    return out


def node_ranges(machine, nid):
    """damo's numa_addr_ranges() of one node: its System RAM, joined where contiguous."""
    merged = []
    for start, end, node, _, name in ranges(machine):
        if node != nid or not name.startswith("System RAM"):
            continue
        if merged and merged[-1][1] == start:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return merged


def default_paddr_range(machine):
    """[first System RAM start, last System RAM end): what DAMON's paddr
    monitors by default."""
    rs = ranges(machine)
    return rs[0][0], rs[-1][1]


def text(machine, numa_node=None, numa_addr=None, raw=False):
    sz = units.format_sz
    if numa_addr is not None:
        return "\n".join("[%s, %s) (size %s)" % (sz(s, raw), sz(e, raw), sz(e - s, raw))
                         for s, e in node_ranges(machine, numa_addr))
    lines = ["#%14s %14s\tnode\tstate\tresource\tsize" % ("start", "end")]
    for start, end, nid, state, name in ranges(machine):
        if numa_node is not None and nid != numa_node:
            continue
        lines.append("%15s %15s\t%s\t%s\t%s\t%s" % (sz(start, raw), sz(end, raw),
                                                    units.format_nr(nid, raw), state, name,
                                                    sz(end - start, raw)))
    start, end = default_paddr_range(machine)
    lines.append("Default paddr monitoring range: [%s, %s) (size %s)" % (
        sz(start, raw), sz(end, raw), sz(end - start, raw)))
    return "\n".join(lines)
