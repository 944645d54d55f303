"""damo sweep: DAMON's accuracy/overhead trade-off over monitoring parameters.

Two masim configs whose accuracy has a known direction:

- "swept": one 40 MiB region walked sequentially at 2,000 accesses per ms, so
  that a sampling interval sees a part of it accessed (about a fifth at 1 ms):
  DAMON's per-region estimate is a sum of samples of those fractions, whose
  error shrinks with more samples per aggregation (a shorter sampling
  interval at a fixed aggregation interval);
- "spots": six hot 1 MiB regions among 8 MiB cold ones: with few regions DAMON
  must lump hot and cold pages together; more regions separate them.
"""
import json

import pytest

from conftest import run_ours
from test_evaluation import dask_cluster  # noqa: F401  (a real dask cluster, a fixture)

SWEPT = """#regions
swept, 41943040
cold, 41943040

#phases
sweeping
%d
swept, 0, 4096, 100
"""


def spots_cfg(ms=2000):
    lines = ["#regions"]
    for i in range(6):
        lines += ["h%d, 1048576" % i, "c%d, 8388608" % i]
    lines += ["", "#phases", "hot ones", "%d" % ms]
    lines += ["h%d, 0, 4096, 10" % i for i in range(6)]
    return "\n".join(lines) + "\n"


def sweep_json(*args):
    code, out, err = run_ours("sweep", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)["runs"]


def test_error_shrinks_as_the_sampling_interval_shrinks(tmp_path):
    cfg = tmp_path / "swept.cfg"
    cfg.write_text(SWEPT % 2000)
    runs = sweep_json(str(cfg), "--sequential_access_rate", "2000", "--param",
                      "sample=1ms,2ms,4ms", "--jobs", "2")
    assert [r["params"] for r in runs] == [{"sample": s} for s in ("1ms", "2ms", "4ms")]
    for metric in ("region_freq_error", "page_freq_error"):
        errors = [r[metric] for r in runs]
        assert errors[0] < errors[1] < errors[2], (metric, errors)
    # the price: access checks (and kdamond CPU) grow as the interval shrinks
    checks = [r["nr_access_checks"] for r in runs]
    assert checks[0] > checks[1] > checks[2]
    cpu = [r["kdamond_cpu_util"] for r in runs]
    assert cpu[0] > cpu[1] > cpu[2] > 0


def test_error_shrinks_as_max_nr_regions_grows(tmp_path):
    cfg = tmp_path / "spots.cfg"
    cfg.write_text(spots_cfg())
    plot = str(tmp_path / "tradeoff.png")
    runs = sweep_json(str(cfg), "--param", "max_nr_regions=10,30,100", "--jobs", "2",
                      "--plot", plot)
    for metric in ("page_freq_error", "region_freq_error", "wss_error"):
        errors = [abs(r[metric]) for r in runs]
        assert errors[0] > errors[1] > errors[2], (metric, errors)
    precision = [r["hot_precision"] for r in runs]
    assert precision[0] < precision[1] < precision[2]
    from PIL import Image
    with Image.open(plot) as im:
        assert im.format == "PNG" and im.size == (800, 600)


def test_combinations_in_order_and_the_same_whatever_runs_them(tmp_path):
    cfg = tmp_path / "spots.cfg"
    cfg.write_text(spots_cfg(600))
    args = [str(cfg), "--param", "sample=5ms,10ms", "--param", "nr_regions=10-20,10-40"]
    parallel = sweep_json(*args, "--jobs", "2")
    serial = sweep_json(*args, "--jobs", "1")
    assert [r["params"] for r in parallel] == [
        {"sample": s, "nr_regions": n} for s in ("5ms", "10ms") for n in ("10-20", "10-40")]
    strip = [{k: v for k, v in r.items() if k != "wall_s"} for r in parallel]
    assert strip == [{k: v for k, v in r.items() if k != "wall_s"} for r in serial]
    code, out, err = run_ours("sweep", *args, "--jobs", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].split()[:2] == ["sample", "nr_regions"]
    assert [line.split()[:2] for line in lines[2:6]] == [
        [s, n] for s in ("5ms", "10ms") for n in ("10-20", "10-40")]


def test_sweep_on_a_dask_cluster(tmp_path, dask_cluster):  # noqa: F811
    address, _ = dask_cluster
    cfg = tmp_path / "spots.cfg"
    cfg.write_text(spots_cfg(600))
    args = [str(cfg), "--param", "max_nr_regions=10,40"]
    on_dask = sweep_json(*args, "--scheduler", address)
    local = sweep_json(*args, "--jobs", "1")
    assert [{k: v for k, v in r.items() if k != "wall_s"} for r in on_dask] == \
        [{k: v for k, v in r.items() if k != "wall_s"} for r in local]


@pytest.mark.parametrize("args, message", [
    (["--param", "bogus=1,2"], "--param: unknown parameter 'bogus'"),
    (["--param", "sample"], "--param: 'sample' is not NAME=V1,V2,..."),
    (["--param", "sample=1ms,"], "--param sample: an empty value in '1ms,'"),
    (["--param", "sample=fast"], "--param sample: "),
    (["--param", "max_nr_regions=ten"], "--param max_nr_regions: 'ten' is not a number"),
    (["--param", "ops=paddr"], "--param ops: paddr keeps no ground truth"),
    (["--param", "sample=1ms", "--param", "sample=2ms"], "--param: a parameter is given twice"),
    (["--param", "sample=1ms", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:9"],
     "give --jobs or --scheduler, not both"),
    (["--param", "nr_regions=20-10"], "nr_regions=20-10: "),
])
def test_bad_parameters_are_one_error_line(tmp_path, args, message):
    cfg = tmp_path / "spots.cfg"
    cfg.write_text(spots_cfg(300))
    code, out, err = run_ours("sweep", str(cfg), *args)
    assert code != 0 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("damo: error: " + message), err


def test_a_bad_workload_is_one_error_line():
    code, out, err = run_ours("sweep", "no-such-workload", "--param", "sample=1ms")
    assert code != 0 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("damo: error: ")
