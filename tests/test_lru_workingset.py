"""Workingset detection for anonymous pages (mm/workingset.c) and the
refault trigger of active-list aging (mm/vmscan.c prepare_scan_control()).

The kernel's rules, per node (lruvec):
- nonresident_age ages by one for every page evicted (workingset_eviction(),
  after its shadow entry took the old value) and every page activated
  (move_folios_to_lru() after reclaim's second chance, a recent refault,
  folio_mark_accessed());
- a swapped-in page is a refault (workingset_refault_anon); its refault
  distance is (nonresident_age - eviction) & EVICTION_MASK, and it is
  activated (workingset_activate_anon; workingset_restore_anon when it was
  PG_workingset at eviction) when the distance is at most the workingset size
  an anon refault competes with: the file lists, plus the active anon list if
  swap has a free slot (get_nr_swap_pages() > 0; the refaulting page's slot is
  still taken then);
- reclaim ages the active anon list when WORKINGSET_ACTIVATE_ANON moved since
  the last snapshot_refaults() (the end of a kswapd or direct reclaim run), or
  the inactive list is low;
- shrink_active_list() sets PG_workingset on every page it deactivates.

Every expected figure below is worked out by hand from those rules and the
engine's CLOCK (as in test_lru_inactive_low.py): one node of 2048 frames
(dram:8M), a 6 MiB VMA whose page i sits in frame i, every page touched once
(inactive, referenced); reclaim's hand starts at frame 0.  The scenarios run
with both reclaim walks (the batched one and reclaim_frame_walk), which must
agree figure for figure.
"""
import pytest

from damo_engine.machines import make_machine

MiB = 1 << 20
PAGE = 4096
BASE = 1 << 30
PAGES = 1536                    # 6 MiB


@pytest.fixture(params=[False, True], ids=["batched", "frame_walk"])
def frame_walk(request):
    return request.param


def machine(frame_walk, spec="dram:8M,swap:zswap"):
    m = make_machine(spec)
    m.reclaim_frame_walk = frame_walk
    a = m.new_address_space()
    v = a.map(BASE, PAGES * PAGE)
    for i in range(PAGES):
        a.access(BASE + i * PAGE)
    return m, a, v


def page(v, i):
    return v.page_state(BASE + i * PAGE)


def ws(m):
    w = m.node_workingset(0)
    return (w["nonresident_age"], w["refault"], w["activate"], w["restore"], w["snapshot"])


def s1(frame_walk, spec="dram:8M,swap:zswap"):
    """reclaim(1) on the filled machine: the first lap activates the 1536
    referenced pages (nonresident_age 1536), the second deactivates pages
    0..767 (k >= 1536 - k: 768, each PG_workingset, references cleared), the
    third swaps page 0 out: its shadow takes 1536, the clock goes to 1537."""
    m, a, v = machine(frame_walk, spec)
    assert m.reclaim(1) == 1
    return m, a, v


def s1_767(frame_walk):
    """S1, then reclaim(767): the hand (at frame 1) meets pages 1..767,
    inactive and unreferenced, and swaps each out: page f's shadow takes
    1536 + f, the clock ends at 2304; the hand stops at frame 768 in front
    of the 768 active pages (768..1535); the inactive list is empty."""
    m, a, v = s1(frame_walk)
    assert m.reclaim(767) == 767
    return m, a, v


def s2(frame_walk):
    """S1 + reclaim(767), then reclaim(1): no refault since the snapshot, so
    only inactive_is_low() lets the hand deactivate: pages 768..1151 (k >=
    768 - k: 384), then the active rest is passed, and page 768 (first
    deactivated, unreferenced) is swapped out with stamp 2304: clock 2305,
    lists 384 active (1152..1535), 383 inactive (769..1151)."""
    m, a, v = s1_767(frame_walk)
    assert m.reclaim(1) == 1
    return m, a, v


def test_evictions_and_activations_age_the_clock_and_stamp_the_shadows(frame_walk):
    m, a, v = s1(frame_walk)
    assert ws(m) == (1537, 0, 0, 0, 0)
    assert page(v, 0)["shadow"] == (1536, 0, True)
    assert page(v, 1)["workingset"] and not page(v, 1)["active"]
    assert not page(v, 768)["workingset"] and page(v, 768)["active"]
    assert m.node_lru_sizes(0) == (768, 767)
    assert m.reclaim(767) == 767
    assert ws(m) == (2304, 0, 0, 0, 0)
    for f in (0, 1, 2, 511, 512, 766, 767):
        assert page(v, f)["shadow"] == (1536 + f, 0, True)
    assert page(v, 768)["shadow"] is None            # resident
    assert m.node_lru_sizes(0) == (768, 0)
    vs = m.vmstat()
    assert (vs["workingset_refault_anon"], vs["workingset_activate_anon"],
            vs["workingset_restore_anon"]) == (0, 0, 0)


def test_a_refault_within_the_workingset_is_activated(frame_walk):
    """S1: page 0 (stamp 1536) refaults at clock 1537: distance 1 <= 768
    active pages: activated (not a pgactivate event), the clock ages to 1538,
    and it was PG_workingset when evicted: a restore too."""
    m, a, v = s1(frame_walk)
    pgactivate = m.vmstat()["pgactivate"]
    a.access(BASE)
    assert ws(m) == (1538, 1, 1, 1, 0)
    p = page(v, 0)
    assert p["active"] and p["workingset"] and p["shadow"] is None
    assert m.node_lru_sizes(0) == (769, 767)
    vs = m.vmstat()
    assert vs["pgactivate"] == pgactivate == 1536
    assert (vs["workingset_refault_anon"], vs["workingset_activate_anon"],
            vs["workingset_restore_anon"]) == (1, 1, 1)
    assert vs["pgmajfault"] == 1


def test_the_refault_distance_boundary(frame_walk):
    """S2: clock 2305, 384 active pages.  Page 385 (stamp 1921): distance
    384 <= 384: activated, the clock ages to 2306, 385 pages are active.
    Page 384 (stamp 1920) then: distance 386 > 385: a refault, not
    activated; it stays inactive and is not PG_workingset (a new folio)."""
    m, a, v = s2(frame_walk)
    assert ws(m) == (2305, 0, 0, 0, 0)
    assert m.node_lru_sizes(0) == (384, 383)
    assert page(v, 385)["shadow"] == (1921, 0, True)
    assert page(v, 384)["shadow"] == (1920, 0, True)
    assert page(v, 768)["shadow"] == (2304, 0, True)
    a.access(BASE + 385 * PAGE)
    assert ws(m) == (2306, 1, 1, 1, 0)
    assert page(v, 385)["active"]
    assert m.node_lru_sizes(0) == (385, 383)
    a.access(BASE + 384 * PAGE)
    assert ws(m) == (2306, 2, 1, 1, 0)
    assert not page(v, 384)["active"] and not page(v, 384)["workingset"]
    assert m.node_lru_sizes(0) == (385, 384)


def test_one_page_beyond_the_workingset_is_not_activated(frame_walk):
    """S2 again, page 384 asked first: distance 2305 - 1920 = 385 > 384
    active pages: a refault, no activation, the clock does not move."""
    m, a, v = s2(frame_walk)
    a.access(BASE + 384 * PAGE)
    assert ws(m) == (2305, 1, 0, 0, 0)
    assert not page(v, 384)["active"]
    assert m.node_lru_sizes(0) == (384, 384)
    # and page 385 (distance 384 <= 384) is still activated after it
    a.access(BASE + 385 * PAGE)
    assert ws(m) == (2306, 2, 1, 1, 0)
    assert page(v, 385)["active"]


@pytest.mark.parametrize("swap, recent", [
    # one slot: it is page 0's until the swap-in completes, so no free slot
    # at the test: the workingset is the file lists only (none): distance
    # 1 > 0, not activated; two slots: one free, 1 <= 768 active pages
    ("4K", False), ("8K", True)])
def test_without_a_free_swap_slot_anon_does_not_compete(frame_walk, swap, recent):
    m, a, v = s1(frame_walk, "dram:8M,swap:zswap:" + swap)
    assert m.vmstat()["swap_used"] == PAGE
    assert ws(m) == (1537, 0, 0, 0, 0)
    a.access(BASE)
    assert ws(m) == ((1538, 1, 1, 1, 0) if recent else (1537, 1, 0, 0, 0))
    assert page(v, 0)["active"] is recent
    assert m.node_lru_sizes(0) == ((769, 767) if recent else (768, 768))


def test_refault_activations_let_reclaim_age_the_active_list(frame_walk):
    """S1 + reclaim(767): clock 2304, 768 active pages, none inactive.  Page
    767 (stamp 2303) refaults: distance 1, activated (769 active).  The next
    reclaim pass sees WORKINGSET_ACTIVATE_ANON (1) != its snapshot (0): it
    may deactivate whatever the ratio says, so the hand deactivates every
    active page it meets, 769 (inactive_is_low() alone would stop at k >= 769
    - k: 385), and swaps page 768 out (stamp 2305, clock 2306).  The pass
    ends with snapshot_refaults(): 1.  The pass after it finds no new
    activation and an inactive list that is not low: it swaps page 769 out
    and deactivates nothing."""
    m, a, v = s1_767(frame_walk)
    a.access(BASE + 767 * PAGE)
    assert ws(m) == (2305, 1, 1, 1, 0)
    assert m.node_workingset(0)["may_deactivate"] is True
    before = m.vmstat()
    assert m.reclaim(1) == 1
    after = m.vmstat()
    assert after["pgdeactivate"] - before["pgdeactivate"] == 769
    assert after["pgscan_kswapd"] - before["pgscan_kswapd"] == 769 + 1
    assert after["pgactivate"] == before["pgactivate"]
    assert ws(m) == (2306, 1, 1, 1, 1)
    assert page(v, 768)["shadow"] == (2305, 0, True)
    assert m.node_lru_sizes(0) == (0, 768)
    assert m.node_workingset(0)["may_deactivate"] is False
    assert m.reclaim(1) == 1
    last = m.vmstat()
    assert last["pgdeactivate"] == after["pgdeactivate"]
    assert page(v, 769)["shadow"] == (2306, 0, True)
    assert ws(m) == (2307, 1, 1, 1, 1)
    assert m.node_lru_sizes(0) == (0, 767)


def test_the_refault_is_judged_where_the_page_was_evicted(frame_walk):
    """dram:8M,cxl:8M: 3072 pages, node 0 full (pages 0..2047), node 1 holds
    1024.  reclaim(1, node 0): node 0's clock ages by 2048 activations, 1024
    pages are deactivated, page 0 is swapped out with stamp 2048 (node 0's
    clock 2049; the pool's frame is taken on node 1 while node 0 is full).
    A new page takes node 0's freed frame; page 0 then refaults onto node 1:
    distance on node 0's clock 2049 - 2048 = 1 <= node 0's 1024 active
    pages: activated.  workingset_refault() counts it, and ages the clock,
    on the new folio's lruvec (node 1); node 0's clock stays at 2049.  Node
    1 now has a WORKINGSET_ACTIVATE_ANON past its snapshot, node 0 not (and
    its lists, 1024 and 1024, are not low)."""
    m = make_machine("dram:8M,cxl:8M,swap:zswap")
    m.reclaim_frame_walk = frame_walk
    a = m.new_address_space()
    v = a.map(BASE, 2 * PAGES * PAGE)
    for i in range(2 * PAGES):
        a.access(BASE + i * PAGE)
    assert a.rss_by_node() == [8 * MiB, 4 * MiB]
    assert m.reclaim(1, node=0) == 1
    assert page(v, 0)["shadow"] == (2048, 0, True)
    n0, n1 = m.node_workingset(0), m.node_workingset(1)
    assert (n0["nonresident_age"], n1["nonresident_age"]) == (2049, 0)
    w = a.map(BASE + 64 * MiB, 2 * MiB)
    a.access(BASE + 64 * MiB)
    assert w.page_state(BASE + 64 * MiB)["node"] == 0
    assert m.node_lru_sizes(0) == (1024, 1024)
    a.access(BASE)
    p = page(v, 0)
    assert p["node"] == 1 and p["active"] and p["workingset"]
    n0, n1 = m.node_workingset(0), m.node_workingset(1)
    assert (n0["nonresident_age"], n0["refault"], n0["activate"], n0["restore"]) == (2049, 0, 0, 0)
    assert (n1["nonresident_age"], n1["refault"], n1["activate"], n1["restore"]) == (1, 1, 1, 1)
    assert (n0["may_deactivate"], n1["may_deactivate"]) == (False, True)
    assert m.node_lru_sizes(1) == (1, 1024)
