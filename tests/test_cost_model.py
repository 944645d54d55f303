"""The cost model's machine: compressed swap pools taking DRAM, swap sizes
that fit the machine, the --memory grammar (host, cpu, files), workloads
whose work is defined on the reference memory, and kdamonds whose CPU time
is the time their loop was busy."""
import pytest

from damo_engine import MasimWorkload, Simulation, costs, machines
from damo_engine.machines import MachineSpecError, make_machine, parse_spec
from damo_engine.masim import MasimConfig, Pattern, Phase, Region

MiB, GiB = 1 << 20, 1 << 30
BASE = 0x7f0000000000


def paged_out(spec, size=64 * MiB):
    """A machine with `size` bytes written by a process, then paged out in
    address order (a DAMOS pageout over the range: MADV_PAGEOUT)."""
    from damo_engine import Context, KernelState, Scheme, Target, core, make_ops
    m = make_machine(spec)
    mm = m.new_address_space()
    v = mm.map(BASE, size)
    mm.access(BASE, size, write=True)
    ks = KernelState(m)
    ks.processes[mm.pid] = mm
    ctx = Context(make_ops("vaddr"), kstate=ks)
    t = ctx.add_target(Target(mm.pid))
    t.append_region(BASE, BASE + size)
    core.kunit_apply_scheme(ctx, t, 0, Scheme("pageout"))
    return m, mm, v


def test_zswap_keeps_swapped_pages_compressed_in_dram():
    """64 MiB paged out to zswap (ratio 3) leaves a third of it in DRAM,
    in the pool, and the stores count as zswpout, not pswpout."""
    m, mm, _ = paged_out("dram:1G,swap:zswap")
    vm = m.vmstat()
    assert mm.rss == 0 and mm.swapped == 64 * MiB
    assert vm["zswpout"] == 64 * MiB // 4096 and vm["pswpout"] == 0
    pool = -(-64 * MiB // 4096 // 3) * 4096             # ceil(pages / 3) frames
    assert vm["zswap_pool"] == pool and vm["zswapped"] == 64 * MiB
    assert m.nodes[0]["used"] == pool
    # the pool's frames are on no LRU list
    assert sum(m.lru_sizes()) == 0


def test_zswap_pool_stops_at_max_pool_percent_then_uses_the_device():
    """A 100 MiB machine's zswap pool may take 20 MiB (max_pool_percent
    20): at ratio 2 that is 40 MiB of pages; the rest of 60 MiB goes to
    the backing SSD."""
    m, mm, _ = paged_out("dram:100M,swap:zswap:1G:ratio=2", size=60 * MiB)
    vm = m.vmstat()
    limit = int(100 * MiB // 4096 * 20 / 100)
    assert vm["zswap_pool"] == limit * 4096
    assert vm["zswapped"] == 2 * limit * 4096
    assert vm["zswpout"] == 2 * limit and vm["pswpout"] == 60 * MiB // 4096 - 2 * limit
    assert vm["zswap_pool_limit_hit"] == vm["pswpout"]


def test_swap_ins_cost_where_the_page_is():
    """A page from the pool decompresses (zswap's 6 us); one from the
    backing SSD is a device read (150 us); each frees its pool share."""
    m, mm, v = paged_out("dram:100M,swap:zswap:1G:ratio=2", size=60 * MiB)
    rb0 = mm.runtime_breakdown()["swapin_ns"]
    mm.access(BASE, 4096)                               # paged out first: in the pool
    rb1 = mm.runtime_breakdown()["swapin_ns"]
    assert rb1 - rb0 == pytest.approx(costs.SWAP["zswap"][0])
    mm.access(BASE + 60 * MiB - 4096, 4096)             # paged out last: on the SSD
    assert mm.runtime_breakdown()["swapin_ns"] - rb1 == pytest.approx(costs.SWAP["ssd"][0])
    vm = m.vmstat()
    assert vm["zswpin"] == 1 and vm["pswpin"] == 1 and vm["pgmajfault"] == 2
    mm.exit()
    vm = m.vmstat()
    assert vm["zswap_pool"] == 0 and vm["zswapped"] == 0 and vm["swap_used"] == 0
    assert m.nodes[0]["used"] == 0


def test_zram_is_a_compressed_ram_disk():
    m, mm, _ = paged_out("dram:1G,swap:zram")
    vm = m.vmstat()
    assert vm["pswpout"] == 64 * MiB // 4096 and vm["zswpout"] == 0    # a block device
    assert vm["zswapped"] == 64 * MiB
    assert m.nodes[0]["used"] == vm["zswap_pool"] == -(-64 * MiB // 4096 // 3) * 4096
    # zram-generator's default size: min(RAM / 2, 4 GiB)
    assert m.describe_swap()["capacity"] == 512 * MiB
    assert make_machine("dram:64G,swap:zram").describe_swap()["capacity"] == 4 * GiB


def test_zram_full_means_no_swap_out():
    m, mm, _ = paged_out("dram:64M,swap:zram:8M", size=32 * MiB)
    assert mm.swapped == 8 * MiB and m.vmstat()["pswpout"] == 2048


@pytest.mark.parametrize("ram, expected", [
    (1 * GiB, 2 * GiB), (2 * GiB, 4 * GiB), (4 * GiB, 4 * GiB), (8 * GiB, 8 * GiB),
    (16 * GiB, 4 * GiB), (256 * GiB, 4 * GiB)])
def test_swap_devices_are_sized_for_the_machine(ram, expected):
    """Red Hat's recommendation: twice the RAM up to 2 GB, the RAM up to
    8 GB, then 4 GB (the old default was 16-256 GiB on any machine)."""
    for kind in ("ssd", "hdd", "zswap"):
        _, swap, _ = parse_spec("dram:%d,swap:%s" % (ram, kind))
        assert swap["capacity"] == expected


def test_bandwidth_sets_reads_and_writes():
    nodes, _, _ = parse_spec("cxl:1G:bandwidth=4,dram:1G:write_bandwidth=5")
    assert (nodes[0]["bandwidth_gbps"], nodes[0]["write_bandwidth_gbps"]) == (4, 4)
    dram = costs.TIERS["dram"]
    assert (nodes[1]["bandwidth_gbps"], nodes[1]["write_bandwidth_gbps"]) == (dram[1], 5)


def test_cpu_part_sets_the_cpu_model():
    m = make_machine("dram:1G,cpu:random_r=3:mlp_random_r=20:llc=8M:llc_page=512K")
    cpu = m.describe_cpu()
    assert cpu["compute_ns"]["random_r"] == 3 and cpu["mlp"]["random_r"] == 20
    assert cpu["llc_bytes"] == 8 * MiB and cpu["llc_page_bytes"] == 512 * 1024
    # defaults elsewhere
    assert cpu["compute_ns"]["page_w"] == costs.CPU["compute_ns"]["page_w"]


def test_a_spec_file_and_the_host_tier(tmp_path, monkeypatch):
    """A machine file (as damo calibrate writes) is a spec; host:SIZE takes
    its DRAM figures, CPU and faults, and makes it the reference memory."""
    f = tmp_path / "host.machine"
    f.write_text("# measured\ndram:23G:latency=150:bandwidth=20:write_bandwidth=18\n"
                 "cpu:page_r=4:mlp_page_r=12\nfault:1400\n")
    m = make_machine(str(f))
    assert m.nodes[0]["latency_ns"] == 150 and m.minor_fault_ns == 1400
    monkeypatch.setenv("DAMO_SIM_HOST_MACHINE", str(f))
    m = make_machine("host:1G,cxl:4G")
    host, cxl = m.nodes
    assert host["name"] == "host0" and host["kind"] == "dram"
    assert (host["capacity"], host["latency_ns"], host["bandwidth_gbps"],
            host["write_bandwidth_gbps"]) == (GiB, 150, 20, 18)
    assert cxl["latency_ns"] == costs.TIERS["cxl"][0]
    assert m.describe_cpu()["compute_ns"]["page_r"] == 4 and m.minor_fault_ns == 1400
    assert m.describe_cpu()["reference"]["latency_ns"] == 150
    # the user's parts still win
    assert make_machine("host:1G,fault:900").minor_fault_ns == 900


def test_host_without_calibration_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setenv("DAMO_SIM_HOST_MACHINE", str(tmp_path / "none"))
    with pytest.raises(MachineSpecError, match="run `damo calibrate`"):
        parse_spec("host:1G")


@pytest.mark.parametrize("spec, message", [
    ("dram:17T", "more than a simulated machine holds \\(16 TiB\\)"),
    ("dram:9T,cxl:9T", "add up to more than"),
    ("dram:1G,swap:zswap:ratio=0.5", "at least 1"),
    ("dram:1G,swap:zswap:max_pool_percent=300", "at most 100"),
    ("dram:1G,swap:ssd:ratio=2", "unknown setting"),
    ("dram:1G,cpu:mlp_random_r=0.5", "at least 1"),
    ("dram:1G,cpu:8", "settings only"),
    ("dram:1G:latency=inf", "at most"),
])
def test_bad_specs_name_the_part(spec, message):
    with pytest.raises(MachineSpecError, match=message):
        parse_spec(spec)


def test_grammar_lists_every_part_with_defaults():
    text = machines.grammar()
    for word in ("dram:SIZE", "cxl:SIZE", "pmem:SIZE", "host:SIZE", "swap:zswap",
                 "swap:zram", "swap:ssd", "swap:hdd", "cpu:", "thp:", "fault:NS",
                 "thp_fault:NS", "migrate:NS", "khugepaged:", "latency=", "bandwidth=",
                 "write_bandwidth=", "ratio=", "max_pool_percent=", "fault_ns=", "out_ns="):
        assert word in text, word
    assert "cxl %g ns" % costs.TIERS["cxl"][0] in text
    assert max(len(line) for line in text.splitlines()) <= 76


def latency_bound(mb):
    """Random reads over `mb` MiB, 2 s on the reference memory."""
    return MasimConfig([Region("r", mb * MiB)], [Phase("p", 2000, [Pattern(0, True, 64, 1,
                                                                             "ro")])], "t")


def run_workload(cfg, spec):
    sim = Simulation(make_machine(spec), seed=1)
    w = MasimWorkload(cfg)
    sim.add_workload(w)
    sim.run()
    return w, sim


def test_work_is_defined_on_the_reference_memory():
    """A phase lasts its duration on the default DRAM (plus its faults),
    and as much longer on slower memory as its accesses' misses cost."""
    cfg = latency_bound(1024)
    w, sim = run_workload(cfg, "dram:2G")
    rb = w.mm.runtime_breakdown()
    assert rb["compute_ns"] + sum(rb["stall_ns"]) == pytest.approx(2e9, rel=1e-3)
    w2, _ = run_workload(cfg, "cxl:2G")
    rb2 = w2.mm.runtime_breakdown()
    assert sum(rb2["accesses"]) == pytest.approx(sum(rb["accesses"]), rel=1e-3)
    ratio = (rb2["compute_ns"] + sum(rb2["stall_ns"])) / (rb["compute_ns"] + sum(rb["stall_ns"]))
    # latency-bound: close to the latency ratio (the cache hits are the same)
    hit = costs.CPU["llc_bytes"] / (1024 * MiB)
    mlp, compute = costs.CPU["mlp"]["random_r"], costs.CPU["compute_ns"]["random_r"]
    per = [hit * compute + (1 - hit) * max(compute, lat / mlp)
           for lat in (costs.TIERS["dram"][0], costs.TIERS["cxl"][0])]
    assert ratio == pytest.approx(per[1] / per[0], rel=1e-3)
    assert ratio > 1.5


def test_kdamond_cpu_is_its_busy_time_and_at_most_the_run():
    """Sampling every 10 us with up to 1000 regions is more work than the
    time allows: the kdamond's loop falls behind instead of using more than
    all of a CPU."""
    from damo_engine import Context, Target, make_ops
    cfg = MasimConfig([Region("r", 64 * MiB)], [Phase("p", 300, [Pattern(0, True, 64, 1)])],
                      "t")
    sim = Simulation(make_machine("dram:1G"), seed=1)
    pid = sim.add_workload(MasimWorkload(cfg))
    ctx = Context(make_ops("vaddr"))
    ctx.set_attrs(10, 1000, 1000000, 900, 1000)
    ctx.access_check_ns = costs.ACCESS_CHECK_NS
    ctx.add_target(Target(pid))
    sim.add_kdamond([ctx])
    sim.run()
    k, = sim.metrics()["kdamonds"]
    assert k["work_ns"] <= sim.now_ns
    assert k["work_ns"] >= 0.9 * sim.now_ns             # it was busy nearly all the time
    assert k["nr_access_checks"] * costs.ACCESS_CHECK_NS <= sim.now_ns
