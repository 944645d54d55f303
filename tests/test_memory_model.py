"""The simulated memory: first-touch placement down the tiers, frames and
reverse maps, THP, per-tier costs."""
import pytest

from damo_engine import SimulationError, costs
from damo_engine.machines import MachineSpecError, make_machine, parse_spec

MiB = 1 << 20
BASE = 0x7f0000000000


def test_first_touch_fills_the_fastest_node_then_falls_back():
    m = make_machine("cxl:1G,dram:64M")         # the order given does not matter
    mm = m.new_address_space()
    v = mm.map(BASE, 100 * MiB, "buf")
    mm.access(v.start, v.size, write=True)
    dram, cxl = m.nodes[1], m.nodes[0]
    assert dram["kind"] == "dram" and dram["used"] == 64 * MiB
    assert cxl["used"] == 36 * MiB
    assert mm.rss == 100 * MiB
    assert mm.rss_by_node() == [36 * MiB, 64 * MiB]
    assert v.page_state(v.start)["node"] == 1 and v.page_state(v.end - 4096)["node"] == 0


def test_reserved_frames_go_to_others_when_a_node_runs_out():
    m = make_machine("dram:64M,cxl:64M")
    mm = m.new_address_space()
    small = mm.map(BASE, 4096 * 3, "small")     # takes (reserves) a whole 2 MiB chunk
    mm.access(small.start, small.size)
    big = mm.map(BASE + 0x10000000, 63 * MiB, "big")
    mm.access(big.start, big.size)
    # only 31 free chunks were left: the last 256 pages of big got frames
    # from the small mapping's reserved chunk, so all of it is on DRAM
    assert mm.rss == 63 * MiB + 3 * 4096
    assert mm.rss_by_node() == [mm.rss, 0]
    assert big.page_state(big.end - 4096)["node"] == 0


def test_out_of_memory_without_swap_is_a_clear_error():
    m = make_machine("dram:16M")
    mm = m.new_address_space()
    v = mm.map(BASE, 32 * MiB, "too big")
    with pytest.raises(SimulationError, match="ran out of memory"):
        mm.access(v.start, v.size)


def test_unmap_and_exit_free_frames():
    m = make_machine("dram:64M")
    mm = m.new_address_space()
    a = mm.map(BASE, 8 * MiB, "a")
    b = mm.map(BASE + 16 * MiB, 8 * MiB, "b")
    mm.access(a.start, a.size)
    mm.access(b.start, b.size)
    assert m.nodes[0]["used"] == 16 * MiB
    mm.unmap(a)
    assert m.nodes[0]["used"] == 8 * MiB and not a.alive
    mm.exit()
    assert m.nodes[0]["used"] == 0 and not mm.alive


def test_reverse_map_finds_the_owner_of_a_frame():
    m = make_machine("dram:64M")
    mm = m.new_address_space()
    v = mm.map(BASE + 0x5000, 4 * MiB, "buf")
    mm.access(v.start + 123 * 4096, 1)
    state = v.page_state(v.start + 123 * 4096)
    paddr = m.phys_range[0] + state["pfn"] * 4096
    assert m.page_owner(paddr + 17) == (mm.pid, v.start + 123 * 4096 + 17)
    assert m.page_owner(paddr + 4096) is None        # never touched: not mapped


def test_thp_always_faults_2mib_at_once_with_one_accessed_bit():
    m = make_machine("dram:64M,thp:always")
    mm = m.new_address_space()
    v = mm.map(BASE, 8 * MiB, "buf")                # 2 MiB aligned
    mm.access(v.start + 4096, 1)
    assert mm.rss == 2 * MiB                        # the whole huge page
    s = v.page_state(v.start + 300 * 4096)
    assert s["huge"] and s["present"] and s["young"]
    assert m.vmstat()["thp_fault_alloc"] == 1


def test_thp_madvise_needs_the_hint():
    m = make_machine("dram:64M,thp:madvise")
    mm = m.new_address_space()
    v = mm.map(BASE, 8 * MiB, "buf")
    mm.access(v.start, 1)
    assert mm.rss == 4096
    v.hugepage = True
    mm.access(v.start + 2 * MiB, 1)
    assert mm.rss == 4096 + 2 * MiB


def miss(kind, latency, bandwidth):
    """A cache-missing access of a kind, by hand from the defaults: the
    slowest of its compute time, latency over misses in flight, and 64 B
    over the bandwidth (GB/s = B/ns)."""
    t = costs.CPU["compute_ns"][kind]
    if not kind.startswith("stream"):
        t = max(t, latency / costs.CPU["mlp"][kind])
    return max(t, 64 / bandwidth)


def test_a_tier_costs_its_absolute_latency_and_bandwidth():
    """A region far larger than the cache misses it nearly always: random
    reads (latency-bound) on CXL take the latency ratio longer than on
    DRAM, streaming reads (bandwidth-bound) the bandwidth ratio; the same
    DRAM with 400 ns instead of 90 costs more, on its own too."""
    big = 64 << 30
    dram_lat, dram_bw = costs.TIERS["dram"][:2]
    cxl_lat, cxl_bw = costs.TIERS["cxl"][:2]
    hit = costs.CPU["llc_bytes"] / big
    for spec, lat, bw in (("dram:1G", dram_lat, dram_bw), ("cxl:1G", cxl_lat, cxl_bw),
                          ("dram:1G:latency=400", 400, dram_bw),
                          ("dram:1G:bandwidth=3.2", dram_lat, 3.2)):
        m = make_machine(spec)
        for kind in ("random_r", "stream_r"):
            c = m.access_cost(kind, big)
            compute = costs.CPU["compute_ns"][kind]
            assert c["compute_ns"] == pytest.approx(compute)
            assert c["stall_ns"][0] == pytest.approx((1 - hit) * (miss(kind, lat, bw) - compute))
    rand = [make_machine(s).access_cost("random_r", big) for s in ("dram:1G", "cxl:1G")]
    per = [r["compute_ns"] + r["stall_ns"][0] for r in rand]
    assert per[1] / per[0] == pytest.approx(cxl_lat / dram_lat, rel=0.05)
    stream = [make_machine(s).access_cost("stream_r", big) for s in ("dram:1G", "cxl:1G")]
    per = [r["compute_ns"] + r["stall_ns"][0] for r in stream]
    assert per[1] / per[0] == pytest.approx(dram_bw / cxl_bw, rel=0.05)


def test_patterns_that_fit_the_cache_cost_their_compute_time():
    m = make_machine("dram:1G,cxl:1G")
    c = m.access_cost("random_r", costs.CPU["llc_bytes"] / 2)
    assert c["stall_ns"] == [0, 0]
    assert c["nominal_ns"] == pytest.approx(costs.CPU["compute_ns"]["random_r"])
    # twice the cache: half the accesses miss
    c = m.access_cost("random_r", 2 * costs.CPU["llc_bytes"])
    assert c["stall_ns"][1] == pytest.approx(
        0.5 * (miss("random_r", costs.TIERS["cxl"][0], costs.TIERS["cxl"][1])
               - costs.CPU["compute_ns"]["random_r"]))


def test_accesses_are_charged_to_the_tier_of_their_page():
    m = make_machine("dram:16M,cxl:64M")
    mm = m.new_address_space()
    v = mm.map(BASE, 32 * MiB, "buf")
    mm.access(v.start, v.size)                      # faults: half DRAM, half CXL
    before = mm.runtime_breakdown()
    on_dram = mm.access(v.start, 4096, count=1000)
    on_cxl = mm.access(v.end - 4096, 4096, count=1000)
    # one page, 1000 times: it fits the cache, so the tier does not matter
    assert on_cxl == pytest.approx(on_dram) == pytest.approx(
        1000 * costs.CPU["compute_ns"]["page_r"])
    after = mm.runtime_breakdown()
    assert after["accesses"][0] - before["accesses"][0] == 1000
    assert after["accesses"][1] - before["accesses"][1] == 1000


def test_bandwidth_bounds_the_access_rate():
    m = make_machine("dram:16M:bandwidth=6.4")
    c = m.access_cost("stream_r", 1 << 40)
    assert c["compute_ns"] + c["stall_ns"][0] == pytest.approx(10.0, rel=1e-4)  # 64 B at 6.4


@pytest.mark.parametrize("spec, message", [
    ("", "at least one memory node"),
    ("dram", "kind:size"),
    ("dram:lots", "not a size"),
    ("dram:8G,swap:floppy", "unknown swap kind"),
    ("dram:8G,hbm:4G", "unknown machine part"),
    ("dram:8G:latency=-3", "positive"),
    ("dram:8G:speed=3", "unknown setting"),
    ("dram:1M", "at least 2 MiB"),
])
def test_bad_machine_specs(spec, message):
    with pytest.raises(MachineSpecError, match=message):
        parse_spec(spec)


def test_machine_spec_defaults_and_overrides():
    nodes, swap, options = parse_spec("dram:8G,cxl:32G:latency=250,swap:ssd:4G,thp:always")
    assert [(n["kind"], n["capacity"], n["latency_ns"]) for n in nodes] == \
        [("dram", 8 << 30, costs.TIERS["dram"][0]), ("cxl", 32 << 30, 250.0)]
    assert swap["kind"] == "ssd" and swap["capacity"] == 4 << 30
    assert options == {"thp": "always"}
