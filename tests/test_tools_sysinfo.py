"""damo report sysinfo, report pa_layout and version: damo 3.4.3's layouts,
describing the simulated machine (a recording's, a running daemon's, or
damo record's default one) instead of the host.  damo reads the host's
/proc and /sys for these, so there is nothing of its to compare with: the
expected values come from the machine specs, the engine's kernel and the
feature table."""
import os
import re
import shutil
import tomllib

import pytest

import damo
import damo_engine
from conftest import REPO, run_ours
from damo import kernel_features
from test_live import live  # noqa: F401 (fixture)

GiB = 1 << 30
# the engine lays physical memory out from 4 GiB, node after node
PHYS_BASE = 4 * GiB


@pytest.fixture(scope="module")
def two_tier(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("machine") / "two.data")
    code, _, err = run_ours("record", "zigzag", "--memory", "dram:1G,cxl:3G,swap:zswap",
                            "--timeout", "1", "-o", path)
    assert code == 0, err
    return path


def test_pa_layout_of_a_recording(two_tier):
    code, out, err = run_ours("report", "pa_layout", "-i", two_tier)
    assert (code, err) == (0, "")
    assert out == (
        "#         start            end\tnode\tstate\tresource\tsize\n"
        "      4.000 GiB       5.000 GiB\t0\tonline\tSystem RAM\t1024.000 MiB\n"
        "      5.000 GiB       8.000 GiB\t1\tonline\tSystem RAM\t3.000 GiB\n"
        "Default paddr monitoring range: [4.000 GiB, 8.000 GiB) (size 4.000 GiB)\n")


def test_pa_layout_raw_and_numa(two_tier):
    code, out, _ = run_ours("report", "pa_layout", "-i", two_tier, "--raw_number",
                            "--numa_node", "1")
    assert out.splitlines()[1:] == [
        "%15d %15d\t1\tonline\tSystem RAM\t%d" % (PHYS_BASE + GiB, PHYS_BASE + 4 * GiB, 3 * GiB),
        "Default paddr monitoring range: [%d, %d) (size %d)" % (PHYS_BASE, PHYS_BASE + 4 * GiB,
                                                               4 * GiB)]
    code, out, _ = run_ours("report", "pa_layout", "-i", two_tier, "--numa_addr", "1")
    assert out == "[5.000 GiB, 8.000 GiB) (size 3.000 GiB)\n"


def test_pa_layout_numa_node_0_is_node_0(two_tier):
    """damo bug: `if args.numa_node and ...` takes node 0 for no filter and
    shows every node; ours shows node 0's range only."""
    code, out, _ = run_ours("report", "pa_layout", "-i", two_tier, "--numa_node", "0")
    rows = [line for line in out.splitlines() if "System RAM" in line]
    assert len(rows) == 1 and rows[0].split("\t")[1] == "0"


def test_pa_layout_default_machine():
    """Without a recording or a daemon: damo record's default machine, one
    16 GiB DRAM node."""
    code, out, _ = run_ours("report", "pa_layout", "--raw_number",
                            env={"DAMO_SIM_RUNTIME_DIR": "/nonexistent-damo-sim-dir"})
    assert code == 0
    assert out.splitlines()[1] == "%15d %15d\t0\tonline\tSystem RAM\t%d" % (
        PHYS_BASE, PHYS_BASE + 16 * GiB, 16 * GiB)


def test_pa_layout_of_a_running_daemon(live):  # noqa: F811
    live.start(live.workload, "--memory", "dram:512M,cxl:1G", "--speed", "5")
    out = live.ok("report", "pa_layout")
    assert "      4.000 GiB       4.500 GiB\t0\tonline\tSystem RAM\t512.000 MiB\n" in out
    assert out.endswith("Default paddr monitoring range: [4.000 GiB, 5.500 GiB) "
                        "(size 1.500 GiB)\n")
    info = live.ok("report", "sysinfo", "--print", "machine")
    assert info.splitlines()[0] == "simulated machine: dram:512M,cxl:1G (kdamond 0 (damo start))"


def test_pa_layout_needs_a_simulated_recording(recordings):
    code, out, err = run_ours("report", "pa_layout", "-i", recordings["basic"])
    assert (code, out) == (1, "")
    assert err.startswith("damo: error: %s: no simulated machine" % recordings["basic"])


def test_sysinfo_default(two_tier):
    code, out, err = run_ours("report", "sysinfo", "-i", two_tier)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "damo version: %s" % damo.__version__
    assert lines[1] == "kernel version: %s (simulated, mainline %s)" % (
        damo_engine.KERNEL_VERSION, damo_engine.KERNEL_COMMIT[:12])
    supported = [n for n, on in kernel_features.supported().items() if on]
    assert lines[2] == "DAMON version: %s" % kernel_features.infer_damon_version(supported)
    # the nodes' and the swap device's figures: the engine's own description
    # of that machine
    from damo.metrics import describe_machine
    from damo_engine import machines
    machine = describe_machine(machines.make_machine("dram:1G,cxl:3G,swap:zswap"))
    dram, cxl = machine["nodes"]
    swap = machine["swap"]
    assert lines[3:8] == [
        "simulated machine: dram:1G,cxl:3G,swap:zswap (recording %s)" % two_tier,
        "- node 0: dram0 (dram), 1024.000 MiB, %g ns, %g GB/s, physical "
        "[4,294,967,296, 5,368,709,120)" % (dram["latency_ns"], dram["bandwidth_gbps"]),
        "- node 1: cxl0 (cxl), 3.000 GiB, %g ns, %g GB/s, physical "
        "[5,368,709,120, 8,589,934,592)" % (cxl["latency_ns"], cxl["bandwidth_gbps"]),
        "- swap: zswap, %.3f GiB, %s ns in, %s ns out" % (
            swap["capacity"] / (1 << 30), "{:,}".format(int(swap["fault_ns"])),
            "{:,}".format(int(swap["out_ns"]))),
        "- transparent hugepages: madvise"]
    assert lines[8] == "available DAMON features:"
    # by default only the interfaces, in damo's order
    interfaces = [line for line in lines[9:]]
    assert interfaces[0] == "- interface/damon_sysfs (merged in v5.18-rc1 (c951cd3b8901))"
    assert all(line.startswith("- interface/") for line in interfaces)


def test_sysinfo_all_features_once(two_tier):
    code, out, _ = run_ours("report", "sysinfo", "-i", two_tier, "--print", "all")
    assert code == 0
    support = kernel_features.supported()
    lines = out.splitlines()
    avail = lines[lines.index("available DAMON features:") + 1:
                  lines.index("unavailable DAMON features:")]
    unavail = lines[lines.index("unavailable DAMON features:") + 1:]
    names = [line[2:].split(" (")[0] for line in avail if line.startswith("- ")]
    missing = [line[2:].split(" (")[0] for line in unavail if line.startswith("- ")]
    assert sorted(names) == sorted(n for n, on in support.items() if on)
    assert sorted(missing) == sorted(n for n, on in support.items() if not on)
    # damo's order: sysfs features by release, then trace, interface, modules
    first_interface = next(i for i, n in enumerate(names) if n.startswith("interface/"))
    assert all(n.startswith("sysfs/") for n in names[:first_interface])
    assert "sysfs: None" in lines and "tracefs: None" in lines
    assert "perf path: %s" % shutil.which("perf") in lines
    # a feature damo comments is printed with its comment
    if "- sysfs/damon_sample_control (hacking on damon/next)" in unavail:
        i = unavail.index("- sysfs/damon_sample_control (hacking on damon/next)")
        assert unavail[i + 1].startswith("  - a replacement of ops_attrs")


def test_sysinfo_categories(two_tier):
    code, out, _ = run_ours("report", "sysinfo", "-i", two_tier, "--print", "perf_info",
                            "reclaim_features")
    lines = out.splitlines()
    assert lines[0] == "perf path: %s" % shutil.which("perf")
    assert lines[2] == "available DAMON features:"
    assert lines[3:] and all(re.match(r"- reclaim/\S+ \(", line) for line in lines[3:])


def test_sysinfo_bad_print():
    code, out, err = run_ours("report", "sysinfo", "--print", "everything")
    assert (code, out) == (2, "")
    assert err.startswith("damo: error: --print: no info 'everything'")


def test_version():
    code, out, _ = run_ours("version")
    assert (code, out) == (0, damo.__version__ + "\n")
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        assert tomllib.load(f)["project"]["version"] == damo.__version__
