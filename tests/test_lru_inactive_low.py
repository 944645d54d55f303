"""When reclaim ages the active list: mm/vmscan.c inactive_is_low() on the
node's lruvec.  It reads the node's LRU pages only (the zswap/zram pool's
zsmalloc pages are on no LRU list), per node (kswapd and direct reclaim
shrink one node's lruvec at a time), and wants inactive * inactive_ratio >=
active, inactive_ratio = int_sqrt(10 * gb) with gb the lists' size shifted
right by 30 - PAGE_SHIFT (1 below 1 GiB).  Expected values are worked out by
hand from that formula and from the CLOCK's rules (a referenced inactive page
is activated, an active one deactivated while the list is low, an
unreferenced inactive one swapped out)."""
import math

import pytest

from damo_engine import memory
from damo_engine.machines import make_machine

MiB = 1 << 20
PAGE = 4096
BASE = 1 << 30
GIB_PAGES = 1 << 18            # 1 GiB of 4 KiB pages


@pytest.mark.parametrize("x, root", [
    (0, 0), (1, 1), (3, 1), (4, 2), (8, 2), (9, 3), (99, 9), (100, 10), (1000, 31),
    (10240, 101), (102400, 320), (2**62, 2**31), ((2**32 - 1)**2, 2**32 - 1),
    ((2**32 - 1)**2 - 1, 2**32 - 2), (2**64 - 1, 2**32 - 1)])
def test_int_sqrt_is_the_floor_of_the_square_root(x, root):
    assert memory.lru_int_sqrt(x) == root
    assert root == math.isqrt(x)


@pytest.mark.parametrize("gb, ratio", [
    # vmscan.c's table: 1GB 3, 10GB 10, 100GB 31, 1TB 101, 10TB 320; below 1 GiB 1
    (0, 1), (1, 3), (10, 10), (100, 31), (1024, 101), (10240, 320)])
def test_inactive_ratio_grows_as_int_sqrt_of_ten_gib(gb, ratio):
    assert memory.lru_inactive_ratio(gb) == ratio


@pytest.mark.parametrize("inactive, active, low", [
    # below 1 GiB: ratio 1, low when inactive < active
    (131071, 131072, True), (131072, 131071, False), (100, 100, False), (0, 1, True),
    (0, 0, False),
    # exactly 1 GiB: gb 1, ratio int_sqrt(10) = 3
    (65536, 196608, False),     # 65536 * 3 == 196608, not below
    (65535, 196609, True),      # 196605 < 196609
    # 10 GiB: ratio 10
    (238312, 2383128, True),    # 2383120 < 2383128
    (238313, 2383127, False),   # 2383130 >= 2383127
    # 100 GiB: ratio 31
    (819200, 25395200, False),  # 819200 * 31 == 25395200
    (819199, 25395201, True),   # 25395169 < 25395201
    # one page short of 1 GiB is gb 0 (ratio 1): low; one more page makes
    # gb 1 (ratio 3): 70000 * 3 = 210000 >= 192144, not low
    (70000, GIB_PAGES - 1 - 70000, True), (70000, GIB_PAGES - 70000, False)])
def test_inactive_is_low_formula(inactive, active, low):
    gb = (inactive + active) >> 18
    assert memory.lru_inactive_is_low(inactive, active) is low
    # the same by hand, for the record
    assert (inactive * (math.isqrt(10 * gb) if gb else 1) < active) is low


def fill(m, size):
    """A process that faulted in `size` bytes, each page touched once (on
    the inactive list, referenced)."""
    a = m.new_address_space()
    a.map(BASE, size)
    for off in range(0, size, PAGE):
        a.access(BASE + off)
    return a


def test_pool_frames_are_not_on_the_lru_lists():
    """One node of 2048 frames, 1536 pages faulted in, zswap.  reclaim(1):
    the first lap activates the 1536 referenced pages; the second deactivates
    while inactive < active, i.e. k pages with k >= 1536 - k: 768; then the
    first deactivated (unreferenced) page is swapped out into the pool (one
    frame: ratio 3).  Now 768 active, 767 inactive, 1 pool frame: the kernel's
    list is low (767 < 768); counting the pool frame as inactive would say not
    low (768 >= 768)."""
    m = make_machine("dram:8M,swap:zswap")
    a = fill(m, 6 * MiB)
    assert m.reclaim(1) == 1
    vs = m.vmstat()
    assert (vs["pgactivate"], vs["pgdeactivate"]) == (1536, 768)
    assert vs["pgscan_kswapd"] == 1536 + 768 + 1
    assert vs["zswap_pool"] == PAGE and vs["zswpout"] == 1
    assert m.node_lru_sizes(0) == (768, 767)
    assert (vs["nr_active"], vs["nr_inactive"]) == (768 * PAGE, 767 * PAGE)
    assert m.node_inactive_is_low(0) is True
    # the pages the hand meets next (767 deactivated ones) are touched again:
    # reclaim(1) activates them (active 1535, inactive 0), then deactivates k
    # active pages until k >= 1535 - k: 768 (with the pool frame counted as
    # inactive it would stop at 767: 1 + k >= 1535 - k), then swaps one out
    for off in range(PAGE, 768 * PAGE, PAGE):
        a.access(BASE + off)
    assert m.reclaim(1) == 1
    vs = m.vmstat()
    assert (vs["pgactivate"], vs["pgdeactivate"]) == (1536 + 767, 768 + 768)
    assert vs["pgscan_kswapd"] == (1536 + 768 + 1) + (767 + 768 + 1)
    assert m.node_lru_sizes(0) == (767, 767)
    assert vs["zswap_pool"] == PAGE               # 2 pages stored, ceil(2 / 3) frames
    counted, kept = m.check_lru_counts()
    assert counted == kept == ([767], [1])


def test_each_node_decides_on_its_own_lists():
    """Two nodes of 2048 frames; 3072 pages faulted in: node 0 full (2048),
    node 1 holds 1024.  reclaim(1) of node 0 activates its 2048 pages, then
    deactivates while node 0's inactive < active: k >= 2048 - k, 1024 pages
    (machine-wide lists, with node 1's 1024 inactive pages, would stop at
    512), and swaps one out; the pool's frame goes to node 1 (node 0 full)."""
    m = make_machine("dram:8M,cxl:8M,swap:zswap")
    a = fill(m, 12 * MiB)
    assert a.rss_by_node() == [8 * MiB, 4 * MiB]
    assert m.node_lru_sizes(0) == (0, 2048) and m.node_lru_sizes(1) == (0, 1024)
    assert m.reclaim(1, node=0) == 1
    vs = m.vmstat()
    assert (vs["pgactivate"], vs["pgdeactivate"]) == (2048, 1024)
    assert vs["pgscan_kswapd"] == 2048 + 1024 + 1
    assert m.node_lru_sizes(0) == (1024, 1023)
    assert m.node_lru_sizes(1) == (0, 1024)
    counted, kept = m.check_lru_counts()
    assert counted == kept == ([1024, 0], [0, 1])
    assert m.node_inactive_is_low(0) is True      # 1023 < 1024
    assert m.node_inactive_is_low(1) is False


def test_an_unmapped_vmas_active_pages_leave_their_lruvec():
    """(Migrations, THP collapses and DAMOS moves are checked the same way
    all along test_reclaim_batch.py's scenarios.)"""
    m = make_machine("dram:8M,cxl:8M,swap:zswap")
    a = fill(m, 12 * MiB)
    m.reclaim(1, node=0)
    assert m.node_lru_sizes(0)[0] == 1024
    vma = a.vma_at(BASE)
    a.unmap(vma)
    counted, kept = m.check_lru_counts()
    assert counted == kept
    assert m.node_lru_sizes(0) == (0, 0) and m.node_lru_sizes(1) == (0, 0)


@pytest.mark.parametrize("spec, pages, ratio", [
    ("dram:2G,swap:zswap", 393216, 3),          # 1.5 GiB of pages: gb 1
    ("dram:12G,swap:zswap", 2621440, 10),       # 10 GiB: gb 10
    ("dram:101G,swap:zswap", 26214400, 31),     # 100 GiB: gb 100
])
def test_the_ratio_at_1_10_100_gib(spec, pages, ratio):
    """`pages` small pages faulted in on one node.  reclaim(1): the first lap
    activates them all; then active pages are deactivated while
    inactive * ratio < active, i.e. until k * ratio >= pages - k:
    k = ceil(pages / (ratio + 1)); then one inactive page is swapped out
    (the list is still low: (k - 1) * ratio < pages - k)."""
    m = make_machine(spec)
    a = m.new_address_space()
    a.map(BASE, pages * PAGE)
    a.access(BASE, pages * PAGE)
    assert m.node_lru_sizes(0) == (0, pages)
    assert memory.lru_inactive_ratio(pages >> 18) == ratio
    assert m.reclaim(1) == 1
    k = -(-pages // (ratio + 1))
    assert k == {3: 98304, 10: 238313, 31: 819200}[ratio]      # by hand
    vs = m.vmstat()
    assert (vs["pgactivate"], vs["pgdeactivate"], vs["pgsteal_kswapd"]) == (pages, k, 1)
    assert vs["pgscan_kswapd"] == pages + k + 1
    assert m.node_lru_sizes(0) == (pages - k, k - 1)
    assert m.node_inactive_is_low(0) is True


def test_a_collapsed_thp_starts_on_the_inactive_list_of_its_node():
    """The two-node state above (node 0: 1024 active, 1023 inactive, one page
    in the pool on node 1), then MADV_HUGEPAGE and a khugepaged pass: the 6
    chunks (12 MiB) collapse in place, the swapped-out page read back first,
    and every new THP starts inactive: node 0 holds 2048 inactive pages,
    node 1 1024, the pool is empty."""
    m = make_machine("dram:8M,cxl:8M,swap:zswap")
    a = fill(m, 12 * MiB)
    m.reclaim(1, node=0)
    assert m.node_lru_sizes(0) == (1024, 1023)
    a.vma_at(BASE).hugepage = True
    assert m.khugepaged_scan() == 6
    assert m.node_lru_sizes(0) == (0, 2048) and m.node_lru_sizes(1) == (0, 1024)
    counted, kept = m.check_lru_counts()
    assert counted == kept == ([0, 0], [0, 0])
