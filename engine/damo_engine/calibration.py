"""Measuring this host for the cost model (``damo calibrate``).

What is measured (hostperf.pyx, this thread's CPU time, so that other
processes sharing the CPUs do not count; the minimum of a few repetitions):

- the dependent-load latency of memory: a random chain through a buffer
  much larger than the last-level cache, corrected for the part of it that
  still hits the cache;
- the cache the chain sees (where its latency climbs from the cache's to
  memory's);
- for each access kind (page-stride, random, streaming; reads and writes):
  its time on a buffer whose lines fit the last-level cache (its compute
  time) and on the big buffer (a miss: the latency over memory-level
  parallelism, or bytes over bandwidth), from which the parallelism and
  the bandwidths follow;
- the cache a page-stride pattern can use (4 KiB-stride lines share few
  cache sets), from page-stride reads over growing regions;
- the cost of a minor fault (first touch of a 4 KiB page) and of a THP
  fault (2 MiB, when THP is allowed).

``spec(result)`` turns the result into a machine spec that ``--memory``
accepts: a ``dram`` node with the measured latency and bandwidths, the
``cpu`` part, and the fault costs.
"""
import os
import platform
import time

from damo_engine import costs

MiB = 1 << 20


def _min(fn, reps):
    return min(fn() for _ in range(reps))


def llc_size():
    """The last-level cache's size as the kernel reports it (bytes), or
    costs' default."""
    for index in range(4, 0, -1):
        path = "/sys/devices/system/cpu/cpu0/cache/index%d/size" % index
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        try:
            if text.endswith("K"):
                return int(text[:-1]) * 1024
            if text.endswith("M"):
                return int(text[:-1]) * MiB
            return int(text)
        except ValueError:
            continue
    return costs.CPU["llc_bytes"]


def thp_mode():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            text = f.read()
    except OSError:
        return None
    start, end = text.find("["), text.find("]")
    return text[start + 1:end] if 0 <= start < end else None


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure(big=256 * MiB, reps=5, progress=None):
    """Measure this host; ``big``: the buffer that misses the caches (at
    least 8x the last-level cache).  Returns a dict of results (ns, GB/s,
    bytes)."""
    from damo_engine import hostperf as hp

    def say(what):
        if progress is not None:
            progress(what)

    llc = llc_size()
    big = max(big, 8 * llc)
    big -= big % (2 * MiB)
    out = {"host": cpu_name(), "date": time.strftime("%Y-%m-%d"), "llc_reported": llc,
           "big_buffer": big, "reps": reps}
    n = 400000                      # accesses per timing: about 1-10 ms

    # latency: a dependent chain through the big buffer (THP, so that page
    # walks do not count), and through one that fits the cache
    say("dependent-load latency")
    buf = hp.Buffer(big, huge=True)
    t_big = _min(lambda: buf.chase(300000), reps) * 1e9
    del buf
    small = hp.Buffer(max(llc // 4, 2 * MiB), huge=True)
    t_llc = _min(lambda: small.chase(300000), reps) * 1e9
    del small
    hit = llc / big
    latency = max((t_big - hit * t_llc) / (1 - hit), t_llc)
    out.update(latency_ns=latency, llc_latency_ns=t_llc)

    # the cache the chain sees: between llc/2 and 4 llc, the hit fraction
    # (memory - t) / (memory - cache) times the size estimates it
    say("last-level cache")
    estimates = []
    for factor in (1, 2, 4):
        size = max(int(llc * factor) // (2 * MiB) * 2 * MiB, 2 * MiB)
        b = hp.Buffer(size, huge=True)
        t = _min(lambda: b.chase(200000), reps) * 1e9
        del b
        h = (latency - t) / (latency - t_llc) if latency > t_llc else 1.0
        if 0.05 < h < 0.95:
            estimates.append(h * size)
    out["llc_bytes"] = sorted(estimates)[len(estimates) // 2] if estimates else llc

    # per access kind: compute time (fits the cache) and miss time (big)
    say("access kinds")
    fit = {"page": max(32 * MiB, 16 * 4096), "random": max(out["llc_bytes"] // 2, MiB),
           "stream": max(out["llc_bytes"] // 8, MiB)}
    compute, miss = {}, {}
    bigbuf = hp.Buffer(big)
    for kind in ("page", "random", "stream"):
        stride = 64 if kind == "stream" else 4096
        count = n * 4 if kind == "stream" else n
        b = hp.Buffer(int(fit[kind]) // 4096 * 4096)
        for write in (False, True):
            key = "%s_%s" % (kind, "w" if write else "r")
            compute[key] = _min(lambda: b.access(kind, count, write, stride), reps) * 1e9
            if write:
                # the cache full of dirty lines first: a sustained store miss
                # also writes one back, which a clean cache would hide
                bigbuf.access(kind, count, write, stride)
            t = _min(lambda: bigbuf.access(kind, count, write, stride), reps) * 1e9
            footprint = big if kind == "random" else big / stride * 64
            cache = out["llc_bytes"] if kind != "page" else None
            miss[key] = (t, footprint, cache)
        del b
    # page-stride reads over growing regions: the cache they can use
    say("page-stride cache")
    page_miss = miss["page_r"][0]
    estimates = []
    for mb in (64, 128, 256):
        b = hp.Buffer(mb * MiB)
        t = _min(lambda: b.access("page", n, False, 4096), reps) * 1e9
        del b
        if page_miss > compute["page_r"]:
            h = (page_miss - t) / (page_miss - compute["page_r"])
            if 0.05 < h < 0.95:
                estimates.append(h * mb * MiB / 4096 * 64)
    llc_page = sorted(estimates)[len(estimates) // 2] if estimates else out["llc_bytes"] / 32
    out["llc_page_bytes"] = llc_page
    del bigbuf

    mlp, bw = {}, {}
    for key, (t, footprint, cache) in miss.items():
        if cache is None:
            cache = llc_page
        h = min(1.0, cache / footprint)
        t_miss = max((t - h * compute[key]) / (1 - h), compute[key]) if h < 1 else t
        miss[key] = t_miss
        if key.startswith("stream"):
            bw[key[-1]] = 64 / t_miss
        else:
            mlp[key] = max(1.0, latency / t_miss)
    # page-stride accesses are at least as parallel as random ones: when a
    # page-stride kind is bound by its compute time here, its latency bound
    # is no tighter than the random kind's
    # (only then: a page-stride miss measured slower than its compute time
    # says how many are in flight, and the random kind's would hide it)
    for rw in ("r", "w"):
        if miss["page_" + rw] <= 1.05 * compute["page_" + rw]:
            mlp["page_" + rw] = max(mlp["page_" + rw], mlp["random_" + rw])
    out.update(compute_ns=compute, miss_ns=miss, mlp=mlp, read_bandwidth_gbps=bw["r"],
               write_bandwidth_gbps=bw["w"])

    say("page faults")
    minor = sorted(hp.first_touch(64 * MiB) / (64 * MiB // 4096) * 1e9 for _ in range(3))
    out["minor_fault_ns"] = minor[1]
    out["thp"] = thp_mode()
    if out["thp"] in ("always", "madvise"):
        thp = sorted(hp.first_touch(32 * MiB, huge=True) / 16 * 1e9 for _ in range(3))
        out["thp_fault_ns"] = thp[1]
    try:
        out["ram_bytes"] = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        out["ram_bytes"] = None
    return out


def spec(result, size=None):
    """A machine spec (text with comments) that --memory accepts, from
    measure()'s result: a dram node of ``size`` bytes (default: this
    host's RAM) with the measured figures, the cpu part, the fault costs."""
    size = size or result.get("ram_bytes") or 16 << 30
    gib = max(1, size // (1 << 30))
    c, m = result["compute_ns"], result["mlp"]
    cpu = ":".join(["cpu"] + ["%s=%.3g" % (k, c[k]) for k in costs.ACCESS_KINDS] +
                   ["mlp_%s=%.3g" % (k, m[k]) for k in ("page_r", "page_w", "random_r",
                                                        "random_w")] +
                   ["llc=%dK" % (result["llc_bytes"] // 1024),
                    "llc_page=%dK" % max(1, result["llc_page_bytes"] // 1024)])
    parts = ["dram:%dG:latency=%.1f:bandwidth=%.2f:write_bandwidth=%.2f" % (
        gib, result["latency_ns"], result["read_bandwidth_gbps"],
        result["write_bandwidth_gbps"]), cpu, "fault:%.0f" % result["minor_fault_ns"]]
    if result.get("thp_fault_ns"):
        parts.append("thp_fault:%.0f" % result["thp_fault_ns"])
    lines = ["# this host, measured by damo calibrate on %s" % result["date"],
             "# %s; last-level cache %d KiB reported, %d KiB seen" % (
                 result["host"], result["llc_reported"] // 1024, result["llc_bytes"] // 1024),
             "# dependent-load latency %.1f ns (cache %.1f ns); misses in flight: %s" % (
                 result["latency_ns"], result["llc_latency_ns"],
                 ", ".join("%s %.1f" % kv for kv in sorted(m.items()))),
             "# use it as --memory FILE, or host:SIZE in a spec (with other tiers)"]
    return "\n".join(lines + parts) + "\n"
