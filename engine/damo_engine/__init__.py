"""damo_engine: the Cython core that simulates memory and runs DAMON on it.

Layers, after the kernel's mm/damon split:

- ``memory``: the simulated machine: memory nodes (tiers), swap, address
  spaces whose pages carry Accessed/dirty/present bits.
- ``core``: DAMON's monitoring core and DAMOS (contexts, targets, regions,
  schemes); it knows nothing about address spaces.
- ``ops``: the operation sets (vaddr, fvaddr, paddr) between the two.
- ``workloads``: programs that access memory (masim configs, built-ins).
- ``traces``: real programs' memory traces (valgrind lackey text, our
  binary format) and ``TraceWorkload``, which performs them.
- ``replay``: a recording's access pattern run again (``ReplayWorkload``)
  or made on real memory (``RealBuffer``).
- ``sim``: the simulation that advances workloads and kdamonds together.

A minimal run::

    from damo_engine import Simulation, Context, Target, MasimWorkload, make_ops
    from damo_engine.machines import make_machine

    sim = Simulation(make_machine("dram:16G"), seed=1)
    pid = sim.add_workload(MasimWorkload("stairs"))
    ctx = Context(make_ops("vaddr"))
    ctx.add_target(Target(pid))
    sim.add_kdamond([ctx])
    sim.on_snapshot = print          # each aggregated snapshot, as it comes
    sim.run()
"""
# The mainline DAMON this engine follows, one version throughout: mm/damon/core.c
# and mm/damon/tests/core-kunit.h as torvalds/linux holds them at this commit
# (the newest readable: probe weights, merged for v7.3-rc1, are in it).
KERNEL_COMMIT = "0250dbe08c730d003ef9f484da56ae09a1ea0c4c"
KERNEL_VERSION = "7.3"
KERNEL_SOURCE = "torvalds/linux@" + KERNEL_COMMIT[:12]
"""The followed kernel: ``KERNEL_VERSION`` is the mainline release line
(the exact tag of ``KERNEL_COMMIT`` is not recorded), ``KERNEL_SOURCE`` the
repository and abbreviated commit, for ``damo version`` / ``damo features``."""

from damo_engine.core import (Context, DamonFilter, Filter, KernelState, Operations, Probe,
                              QuotaGoal, Scheme, Target)
from damo_engine.memory import AddressSpace, Machine, SimulationError, Vma
from damo_engine.ops import FvaddrOps, PaddrOps, VaddrOps, make_ops
from damo_engine.sim import Simulation, Snapshot, TargetSnapshot
from damo_engine.workloads import MasimWorkload, ProcessLayout, Workload

__all__ = [
    "KERNEL_COMMIT", "KERNEL_SOURCE", "KERNEL_VERSION",
    "AddressSpace", "Context", "DamonFilter", "Filter", "FvaddrOps", "KernelState", "Machine",
    "MasimWorkload", "Operations", "PaddrOps", "Probe", "ProcessLayout", "QuotaGoal", "Scheme",
    "Simulation", "SimulationError", "Snapshot", "Target", "TargetSnapshot", "VaddrOps",
    "Vma", "Workload", "make_ops",
]
