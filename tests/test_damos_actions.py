"""Each DAMOS action's effect on the simulated machine, applied to one
region through the operation sets as kdamond_apply_schemes() would:
madvise()-based vaddr actions (pageout, willneed, cold, hugepage,
nohugepage), vaddr migrate with weighted destinations and stat with ops
filters, and the paddr folio walks (pageout's young rejecter, lru_prio,
lru_deprio, migrate)."""
import pytest

from damo_engine import core
from damo_engine.core import Context, Filter, KernelState, Scheme, Target
from damo_engine.machines import make_machine
from damo_engine.ops import make_ops

MiB = 1 << 20
BASE = 1 << 32          # a 2 MiB-aligned virtual address


def setup(memory="dram:256M,swap:zswap", ops="vaddr", size=8 * MiB, hole=False):
    """A machine, a process with `size` bytes mapped and written at BASE
    (and, with hole, a second mapping after a one-page gap), and a context
    monitoring it with one region over everything."""
    machine = make_machine(memory)
    mm = machine.new_address_space()
    mm.map(BASE, size)
    mm.access(BASE, size, write=True)
    end = BASE + size
    if hole:
        mm.map(end + 4096, size)
        mm.access(end + 4096, size, write=True)
        end = end + 4096 + size
    ks = KernelState(machine)
    ks.processes[mm.pid] = mm
    ctx = Context(make_ops(ops), kstate=ks)
    if ops == "paddr":
        t = ctx.add_target(Target(None))
        t.append_region(*machine.phys_range)
    else:
        t = ctx.add_target(Target(mm.pid))
        t.append_region(BASE, end)
    return machine, mm, ctx, t


def pages(mm, start, size, key):
    return [mm.vma_at(a).page_state(a)[key] for a in range(start, start + size, 4096)]


def apply(ctx, t, s):
    core.kunit_apply_scheme(ctx, t, 0, s)
    return s.stats()


def test_pageout_swaps_out_the_range():
    machine, mm, ctx, t = setup()
    st = apply(ctx, t, Scheme("pageout"))
    assert st["sz_applied"] == 8 * MiB and st["nr_applied"] == 1
    assert not any(pages(mm, BASE, 8 * MiB, "present"))
    # zswap stores count as zswpout, not pswpout (no device I/O), as in the kernel
    assert machine.vmstat()["zswpout"] == 2048 and mm.rss == 0
    assert machine.vmstat()["pswpout"] == 0


def test_pageout_over_a_hole_works_but_counts_nothing_applied():
    """madvise() advises the mapped parts, then fails with ENOMEM."""
    machine, mm, ctx, t = setup(hole=True)
    s = Scheme("pageout")
    st = apply(ctx, t, s)
    assert st["sz_applied"] == 0 and st["nr_tried"] == 1
    assert machine.vmstat()["zswpout"] == 4096
    # the scheme keeps count, for damo diagnose to say why
    assert s.apply_state()["nr_madvise_holes"] == 1
    assert s.apply_state()["sz_madvise_holes"] == 16 * MiB + 4096
    # a region without a gap counts whole, and adds no hole
    machine, mm, ctx, t = setup()
    s = Scheme("pageout")
    assert apply(ctx, t, s)["sz_applied"] == 8 * MiB
    assert s.apply_state()["nr_madvise_holes"] == 0 == s.apply_state()["sz_madvise_holes"]


def test_pageout_without_swap_does_nothing_to_anonymous_memory():
    machine, mm, ctx, t = setup(memory="dram:256M")
    apply(ctx, t, Scheme("pageout"))
    assert all(pages(mm, BASE, 8 * MiB, "present"))


def test_willneed_reads_swapped_pages_back_without_faults():
    machine, mm, ctx, t = setup()
    apply(ctx, t, Scheme("pageout"))
    apply(ctx, t, Scheme("willneed"))
    assert all(pages(mm, BASE, 8 * MiB, "present"))
    vm = machine.vmstat()
    assert vm["zswpin"] == 2048 and vm["pgmajfault"] == 0


def test_cold_deactivates_and_clears_references():
    machine, mm, ctx, t = setup(ops="paddr")
    apply(ctx, t, Scheme("lru_prio"))
    apply(ctx, t, Scheme("lru_prio"))       # folio_mark_accessed() twice: active
    assert all(pages(mm, BASE, 8 * MiB, "active"))
    vctx = Context(make_ops("vaddr"), kstate=ctx.kstate)
    vt = vctx.add_target(Target(mm.pid))
    vt.append_region(BASE, BASE + 8 * MiB)
    apply(vctx, vt, Scheme("cold"))
    assert not any(pages(mm, BASE, 8 * MiB, "active"))
    assert not any(pages(mm, BASE, 8 * MiB, "young"))
    assert machine.lru_sizes()[0] == 0


def test_hugepage_hints_whole_chunks_and_khugepaged_collapses_them():
    machine, mm, ctx, t = setup(memory="dram:256M,thp:madvise")
    t.set_ranges([(BASE + 4096, BASE + 8 * MiB)])      # the first chunk is partial
    apply(ctx, t, Scheme("hugepage"))
    made = machine.khugepaged_scan()
    assert made == 3                                   # chunks 1-3; not the partial one
    huge = [mm.vma_at(a).page_state(a)["huge"] for a in range(BASE, BASE + 8 * MiB, 2 * MiB)]
    assert huge == [False, True, True, True]
    assert machine.vmstat()["thp_collapse_alloc"] == 3


def test_nohugepage_keeps_existing_thps_and_stops_new_ones():
    machine = make_machine("dram:256M,thp:always")
    mm = machine.new_address_space()
    mm.map(BASE, 8 * MiB)
    mm.access(BASE, 2 * MiB, write=True)           # one THP fault
    ks = KernelState(machine)
    ks.processes[mm.pid] = mm
    ctx = Context(make_ops("vaddr"), kstate=ks)
    t = ctx.add_target(Target(mm.pid))
    t.append_region(BASE, BASE + 8 * MiB)
    apply(ctx, t, Scheme("nohugepage"))
    mm.access(BASE + 2 * MiB, 2 * MiB, write=True)
    states = [mm.vma_at(a).page_state(a)["huge"] for a in (BASE, BASE + 2 * MiB)]
    assert states == [True, False]
    assert machine.vmstat()["thp_fault_alloc"] == 1


def test_vaddr_migrate_with_weighted_destinations():
    """dests 0:1 1:3: pages are interleaved by their index, a quarter
    staying on node 0 and three quarters going to node 1."""
    machine, mm, ctx, t = setup(memory="dram:256M,cxl:256M")
    s = Scheme("migrate_cold", migrate_dests=[(0, 1), (1, 3)])
    st = apply(ctx, t, s)
    nodes = pages(mm, BASE, 8 * MiB, "node")
    assert nodes.count(1) == 3 * 512 and nodes.count(0) == 512
    assert all(nodes[i] == (0 if ((BASE >> 12) + i) % 4 == 0 else 1) for i in range(2048))
    assert st["sz_applied"] == 6 * MiB and st["sz_ops_filter_passed"] == 0
    assert machine.vmstat()["pgdemote"] == 1536


def test_vaddr_migrate_to_target_nid_and_a_full_node():
    machine, mm, ctx, t = setup(memory="dram:256M,cxl:4M")
    st = apply(ctx, t, Scheme("migrate_cold", target_nid=1))
    assert st["sz_applied"] == 4 * MiB                  # what fits
    assert pages(mm, BASE, 8 * MiB, "node").count(1) == 1024


def test_stat_counts_filter_passed_bytes_only_with_ops_filters():
    machine, mm, ctx, t = setup()
    assert apply(ctx, t, Scheme("stat"))["sz_ops_filter_passed"] == 0
    st = apply(ctx, t, Scheme("stat", filters=[Filter("anon", True, True)]))
    assert st["sz_ops_filter_passed"] == 8 * MiB and st["sz_applied"] == 0
    st = apply(ctx, t, Scheme("stat", filters=[Filter("anon", False, True)]))
    assert st["sz_ops_filter_passed"] == 0


def test_paddr_pageout_skips_young_pages():
    """paddr pageout installs a 'reject young' filter: pages accessed since
    the last look stay; the check makes them old, so a second pass pages
    them out."""
    machine, mm, ctx, t = setup(ops="paddr")
    first = apply(ctx, t, Scheme("pageout"))
    assert first["sz_applied"] == 0 and all(pages(mm, BASE, 8 * MiB, "present"))
    s = Scheme("pageout")
    second = apply(ctx, t, s)
    assert second["sz_applied"] == 8 * MiB
    assert second["sz_ops_filter_passed"] == 8 * MiB
    assert not any(pages(mm, BASE, 8 * MiB, "present"))


def test_paddr_young_filter_of_the_scheme_replaces_the_default_one():
    machine, mm, ctx, t = setup(ops="paddr")
    s = Scheme("pageout", filters=[Filter("young", True, True)])   # only young pages
    assert apply(ctx, t, s)["sz_applied"] == 8 * MiB


def test_paddr_lru_prio_and_deprio():
    """lru_prio is folio_mark_accessed(): the first call marks a folio
    referenced (and not idle, which DAMON's next check sees), the second
    activates it."""
    machine, mm, ctx, t = setup(ops="paddr")
    st = apply(ctx, t, Scheme("lru_prio"))
    assert st["sz_applied"] >= 8 * MiB and machine.lru_sizes()[0] == 0
    assert all(pages(mm, BASE, 8 * MiB, "referenced"))
    assert not any(pages(mm, BASE, 8 * MiB, "active"))
    st = apply(ctx, t, Scheme("lru_prio"))
    assert machine.lru_sizes()[0] >= 8 * MiB
    assert all(pages(mm, BASE, 8 * MiB, "active"))
    assert not any(pages(mm, BASE, 8 * MiB, "referenced"))
    apply(ctx, t, Scheme("lru_deprio", filters=[Filter("anon", True, True)]))
    assert machine.lru_sizes()[0] == 0


def test_paddr_migrate_moves_to_target_nid():
    machine, mm, ctx, t = setup(memory="dram:256M,cxl:256M", ops="paddr")
    st = apply(ctx, t, Scheme("migrate_cold", target_nid=1))
    assert all(n == 1 for n in pages(mm, BASE, 8 * MiB, "node"))
    assert st["sz_applied"] >= 8 * MiB
    # the process pays for each of its 2048 pages moved: the unmap and TLB
    # shootdown, 1 us a page in the cost model (ops.pyx MIGRATE_PROCESS_NS);
    # the kdamond pays the copy (migrate_page_ns)
    assert machine.vmstat()["pgmigrate_success"] == 8 * MiB // 4096
    assert mm.runtime_breakdown()["migrate_ns"] == 8 * MiB // 4096 * 1000.0


@pytest.mark.parametrize("action", ["willneed", "cold", "hugepage", "nohugepage"])
def test_paddr_does_not_support_madvise_actions(action):
    machine, mm, ctx, t = setup(ops="paddr")
    assert apply(ctx, t, Scheme(action))["sz_applied"] == 0
