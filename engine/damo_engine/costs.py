"""Default numbers of the simulated machine, each with its source.

The cost model (memory.pyx) times an access by its kind:

- ``page``: sequential with a stride of 4 KiB or more (masim's usual 4096):
  every access is a new page, which no prefetcher fetches ahead, so a miss
  costs the tier's latency divided by the memory-level parallelism (MLP,
  the misses a core keeps in flight), or the tier's bandwidth, whichever is
  slower;
- ``random``: independent random accesses: the same, over the whole region;
- ``stream``: sequential with a stride under 4 KiB: prefetched, so a miss
  costs only its bytes at the tier's bandwidth;

reads and writes apart (a store miss reads the line and writes it back).  A
pattern whose distinct cache lines fit the last-level cache hits it: an
access then costs only its compute time (the loop, the address arithmetic,
a hit).  With a footprint F larger than the cache C a fraction C/F hits.

Sources: [Pond] Li et al., "Pond: CXL-Based Memory Pooling Systems for
Cloud Platforms", ASPLOS'23 (via khale.github.io/mem-systems-w26/blog/pond:
CXL adds 70-90 ns, about doubling local DRAM's latency); [SupMario]
"Dissecting CXL Memory Performance at Scale: Analysis, Modeling, and
Optimization" (SupMario), arXiv 2409.14317 (4 real
CXL devices, 140-410 ns); [CXLeval] "Exploring and Evaluating Real-world
CXL", arXiv 2405.14209 (3 CXL cards, 2-5x local DRAM latency); [NP] The
Next Platform, "Just How Bad Is CXL Memory Latency?" (2022: DDR under
100 ns, Optane about 350 ns); [CXLx8] CXL Type 3 expanders (Samsung CMM-D,
Micron) use PCIe Gen5 x8 links, ~32 GB/s (ecrionix.org/protocols/
cxl-memory-expander); [Izr] Izraelevitz et al., "Basic Performance
Measurements of the Intel Optane DC Persistent Memory Module", 2019;
[GFM] Lagar-Cavilla et al., "Software-Defined Far Memory in
Warehouse-Scale Computers", ASPLOS'19 (zswap with lzo: 6 us accesses, 67%
or higher memory cost reduction, i.e. compressed to a third or less);
[zswap] mm/zswap.c (max_pool_percent = 20); [zramgen] systemd
zram-generator.conf.example ("The default is min(ram / 2, 4096)" MiB);
[Dean] J. Dean, "Latency numbers every programmer should know" (4 KB random
read from SSD 150 us, disk seek 10 ms); [RHEL] Red Hat's recommended swap
sizes (<= 2 GB RAM: 2x RAM; 2-8 GB: = RAM; more: at least 4 GB); [ref] the
reference VM, measured with ``damo calibrate`` (2-vCPU AMD EPYC Zen 5 KVM
guest, the machine the project is developed and tested on, median of runs
on 2026-11-23).
"""

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

# kind: latency ns, read GB/s, write GB/s, source
TIERS = {
    "dram": (90.0, 38.4, 38.4,
             "[Pond]/[NP]: local DDR about 80-100 ns; DDR5-4800 channel 38.4 GB/s "
             "(4800 MT/s x 8 B)"),
    "cxl": (180.0, 31.5, 31.5,
            "[Pond]: +70-90 ns over local DRAM (range of real devices 140-410 ns "
            "[SupMario], 2-5x [CXLeval]); PCIe 5.0 x8 link 31.5 GB/s per direction "
            "[CXLx8] (an upper bound: devices deliver less)"),
    "pmem": (305.0, 6.6, 2.3,
             "[Izr]: Optane DC PMM random loads 305 ns (about 3x DRAM), one DIMM "
             "about 6.6 GB/s read and 2.3 GB/s write ([NP]: about 350 ns)"),
}

# The CPU: per access kind, the compute time of a cache-hitting access (ns)
# and the memory-level parallelism (misses in flight; streams are
# prefetched and bound by bandwidth instead); the last-level cache and the
# part of it a page-stride pattern can use (4 KiB-stride lines crowd into
# few cache sets).  [ref], measured by damo calibrate.
CPU = {
    "compute_ns": {"page_r": 4.7, "page_w": 8.45, "random_r": 1.6, "random_w": 0.8,
                   "stream_r": 0.53, "stream_w": 0.53},
    "mlp": {"page_r": 10.9, "page_w": 37.3, "random_r": 10.6, "random_w": 37.3},
    "llc_bytes": 16 * MiB,
    "llc_page_bytes": 1300 * KiB,
    "source": "[ref] damo calibrate on the reference VM (its DRAM: 166 ns, 33/36 GB/s)",
}

ACCESS_KINDS = ("page_r", "page_w", "random_r", "random_w", "stream_r", "stream_w")

FAULTS = {
    # ns; source
    "minor_fault_ns": (1300.0, "[ref] first touch of an anonymous 4 KiB page (1.3 us; "
                       "1.5-2.2 us in the workloads-and-tiers notes)"),
    "thp_fault_ns": (80000.0, "[ref] a 2 MiB THP fault: 80 us median, 48 us to 3.6 ms "
                     "(zeroing, compaction)"),
    "migrate_page_ns": (7500.0, "assumption (workloads-and-tiers notes: unmap and TLB "
                        "shootdown dominate, 5-10 us a page)"),
}

# swap kinds: swap-in ns, swap-out CPU ns, compressed (in DRAM), source
SWAP = {
    "zswap": (6000.0, 6000.0, True,
              "[GFM]: 6 us per access of compressed far memory (swap-out assumed the "
              "same: the paper gives only the access cost); compression ratio 3 [GFM]; "
              "pool at most max_pool_percent=20 of RAM [zswap]; backing device: an SSD "
              "of [RHEL]'s size"),
    "zram": (6000.0, 6000.0, True,
             "as zswap [GFM]; device size min(RAM/2, 4 GiB) [zramgen]"),
    "ssd": (150000.0, 2000.0, False,
            "[Dean]: 4 KB random SSD read 150 us; swap-out: the CPU cost of unmapping "
            "and queueing the write, assumed 2 us (about a minor fault); size [RHEL]"),
    "hdd": (10000000.0, 2000.0, False,
            "[Dean]: disk seek 10 ms; swap-out as ssd; size [RHEL]"),
}
ZSWAP_RATIO = 3.0               # [GFM]
ZSWAP_MAX_POOL_PERCENT = 20     # [zswap]

# the CPU time of one DAMON access check (pick an address, walk the page
# table, test and clear the Accessed bit): an assumption, about a cache
# miss and a page walk
ACCESS_CHECK_NS = 200.0


def rhel_swap_size(ram_bytes):
    """Red Hat's recommended swap size for a machine with this much RAM."""
    if ram_bytes <= 2 * GiB:
        return 2 * ram_bytes
    if ram_bytes <= 8 * GiB:
        return ram_bytes
    return 4 * GiB


def zram_size(ram_bytes):
    """zram-generator's default device size: min(RAM / 2, 4 GiB)."""
    return min(ram_bytes // 2, 4 * GiB)
