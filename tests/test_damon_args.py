"""damo's DAMON options on the command line: kdamond/context/target markers,
the n-th use rule without them, and the other DAMON options (numa_node,
refresh_stat, addr_unit, pause_ctx, obsolete_targets, target_pid)."""
import click
import pytest
from click.testing import CliRunner

from conftest import run_ours
from damo.errors import DamoError
from damo.params import damon_args, schemes


@click.command()
@damon_args.damon_options
@schemes.damos_options
def _cmd(**opts):
    click.get_current_context().obj["kds"] = damon_args.kdamonds_from_options(
        opts, _cmd.machine)


_cmd.machine = None


def kdamonds(*args, machine=None):
    _cmd.machine = machine
    obj = {}
    result = CliRunner().invoke(_cmd, list(args), obj=obj, catch_exceptions=True)
    if isinstance(result.exception, DamoError):
        raise result.exception
    assert result.exit_code == 0, result.output
    return obj["kds"]


def shape(kds):
    return [[(c.ops, [t.regions for t in c.targets], [s.action for s in c.schemes])
             for c in kd.contexts] for kd in kds]


def test_without_markers_one_kdamond_one_context_the_nth_target():
    kds = kdamonds("--ops", "fvaddr", "-r", "1M-2M", "-r", "4M-5M",
                   "--damos_action", "stat")
    assert shape(kds) == [[("fvaddr", [[(1 << 20, 2 << 20)], [(4 << 20, 5 << 20)]],
                            ["stat"])]]


def test_markers_place_every_option_where_it_follows():
    kds = kdamonds("--kdamond", "--ops", "paddr", "--damos_action", "pageout",
                   "--refresh_stat", "200",
                   "--kdamond", "--damon_ctx", "--ops", "fvaddr",
                   "--monitoring_intervals", "10ms", "200ms", "2s",
                   "--damon_target", "-r", "1M-2M", "--damon_target", "-r", "3M-4M",
                   "--damos_action", "stat", "--damos_action", "cold")
    assert shape(kds) == [
        [("paddr", [[]], ["pageout"])],
        [("fvaddr", [[(1 << 20, 2 << 20)], [(3 << 20, 4 << 20)]], ["stat", "cold"])]]
    assert [kd.refresh_ms for kd in kds] == [200, 0]
    c0, c1 = kds[0].contexts[0], kds[1].contexts[0]
    assert (c0.sample_us, c0.aggr_us) == (5000, 100000)
    assert (c1.sample_us, c1.aggr_us, c1.update_us) == (10000, 200000, 2000000)


def test_kdamonds_survive_the_kvpairs_layout():
    from damo.params import damon
    kds = kdamonds("--kdamond", "--ops", "paddr", "--refresh_stat", "1s", "--pause_ctx", "0",
                   "--kdamond", "--obsolete_targets", "1", "--damon_target",
                   "--damon_target")
    back = damon.kdamonds_from_kvpairs(damon.kdamonds_to_kvpairs(kds))
    assert back[0].refresh_ms == 1000 and back[0].contexts[0].pause
    # target indices count across kdamonds, as damo's do: 1 is kdamond 1's first
    assert [t.obsolete for t in back[1].contexts[0].targets] == [True, False]
    assert not back[1].contexts[0].pause


@pytest.mark.parametrize("args, message", [
    (["--ops", "paddr", "--ops", "vaddr"], "a kdamond runs one context"),
    (["--damon_ctx", "--damon_ctx"], "kdamond 0 has 2 contexts"),
    (["--kdamond", "--ops", "paddr", "--ops", "vaddr"], "given twice for one context"),
    (["--damon_ctx", "--ops", "paddr", "--damon_target", "-r", "1M-2M", "-r", "3M-4M"],
     "--regions: given twice for one target"),
    (["--refresh_stat", "1", "--refresh_stat", "2"], "given twice for one kdamond"),
    (["--ops", "paddr", "--kdamond"], "--ops: comes before the first --kdamond"),
    (["--kdamond", "--damon_target", "--damon_ctx"], "kdamond 0 has 2 contexts"),
    (["--pause_ctx", "1"], "--pause_ctx: there is no context 1"),
    (["--obsolete_targets", "x"], "--obsolete_targets: 'x' is not an index"),
    (["--obsolete_targets", "2"], "there is no target 2"),
    (["--target_pid", "1234"], "damo record -- CMD"),
    (["--numa_node", "0"], "--numa_node: limits paddr targets only"),
])
def test_bad_layouts_name_the_option(args, message):
    with pytest.raises(DamoError, match=message.replace("(", r"\(").replace(")", r"\)")):
        kdamonds(*args)


class _Machine:
    nodes = [{"phys_start": 0x100000, "phys_end": 0x200000},
             {"phys_start": 0x200000, "phys_end": 0x500000},
             {"phys_start": 0x800000, "phys_end": 0x900000}]


def test_numa_node_limits_paddr_to_the_nodes_memory_merged():
    kds = kdamonds("--ops", "paddr", "--numa_node", "1", "0", "2", machine=_Machine())
    # nodes 0 and 1 touch: one region, as damo merges them
    assert kds[0].contexts[0].targets[0].regions == [(0x100000, 0x500000),
                                                     (0x800000, 0x900000)]
    with pytest.raises(DamoError, match="node 3 does not exist"):
        kdamonds("--ops", "paddr", "--numa_node", "3", machine=_Machine())


@pytest.mark.parametrize("args, words", [
    (["record", "1234"], ["1234", "damo record -- CMD"]),
    (["record", "--target_pid", "99"], ["--target_pid", "damo record -- CMD"]),
    (["start", "--target_pid", "99"], ["--target_pid", "damo record -- CMD"]),
    (["record", "--damon_addr_unit", "4096"], ["--damon_addr_unit", "paddr"]),
    (["record", "--ops", "paddr", "--damon_addr_unit", "0"], ["addr_unit", "0"]),
])
def test_commands_refuse_with_one_line(tmp_path, args, words):
    code, out, err = run_ours(*args, "-o" if args[0] == "record" else "--speed",
                              str(tmp_path / "x.data") if args[0] == "record" else "1")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("damo: error: "), err
    for w in words:
        assert w in err
    assert not list(tmp_path.iterdir())


def test_record_with_markers_writes_each_kdamond(tmp_path):
    from damo import records
    out = str(tmp_path / "two.data")
    code, _, err = run_ours("record", "stairs", "--timeout", "1", "-o", out,
                            "--kdamond", "--ops", "vaddr",
                            "--kdamond", "--ops", "paddr",
                            "--monitoring_intervals", "10ms", "200ms", "1s")
    assert code == 0, err
    recs = records.load(out).records
    assert sorted(r.kdamond_idx for r in recs) == [0, 1]
    by = {r.kdamond_idx: r for r in recs}
    assert by[0].intervals.aggr_us == 100000 and by[1].intervals.aggr_us == 200000
    # a vaddr target's regions are the workload's mappings; paddr's, physical memory
    # 1 s of 200 ms aggregations, or one fewer: the access checks (200 ns
    # each) delay the kdamond's loop as the kernel's work does
    assert by[1].nr_snapshots in (4, 5)


def test_paddr_deducible_target_is_ops_paddr(tmp_path):
    from damo import records
    out = str(tmp_path / "p.data")
    code, _, err = run_ours("record", "paddr", "--timeout", "0.5", "-o", out,
                            "--output_type", "native")
    assert code == 0, err
    kd = records.load(out).metadata["simulation"]["kdamonds"]["kdamonds"][0]
    assert kd["contexts"][0]["ops"] == "paddr"
