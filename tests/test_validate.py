"""bench/validate.py's cheap parts: the cost model against published
DRAM/CXL, zswap and DAMON proactive-reclaim figures (the host part times
native code against the simulator and is run by hand: a shared machine's
timings are no test)."""
import importlib.util
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def validate():
    spec = importlib.util.spec_from_file_location(
        "validate", os.path.join(REPO, "bench", "validate.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check_rows(rows):
    assert rows
    for r in rows:
        assert r["source"] and r["expected"] not in (None, "")
        assert r["ok"], r


def test_cxl_against_published_measurements(validate):
    """A latency-bound run on CXL alone is about the latency ratio slower
    (Pond: about 2x), a streaming one the bandwidth ratio (1.2x or more)."""
    rows = validate.part_cxl(0.25)
    check_rows(rows)
    lat, bw = rows
    assert 1.8 <= lat["simulated"] <= 2.1      # 180 / 90 ns, less the cache hits
    assert bw["simulated"] == pytest.approx(38.4 / 31.5, rel=0.02)


def test_zswap_against_published_figures(validate):
    check_rows(validate.part_zswap(0.25))


def test_proactive_reclaim_shape(validate):
    """prcl reclaims (nearly) all of a known cold set at a small cost."""
    rows = validate.part_reclaim(0.25)
    check_rows(rows)
    assert rows[0]["simulated"] >= 0.9


def test_the_table_names_every_source(validate, capsys):
    rows = validate.part_zswap(0.25)
    validate.print_table(rows)
    out = capsys.readouterr().out
    for key in ("Pond", "CXLeval", "GFM", "zswap", "DAMON"):
        assert "[%s]" % key in out


def test_host_part_runs_on_a_spec(validate, tmp_path):
    """The host part's plumbing on a tiny scale: both sides do the same
    accesses and report positive times (their agreement is the bench's)."""
    f = tmp_path / "host.machine"
    f.write_text("dram:4G:latency=100:bandwidth=20\nfault:1500\n")
    rows = validate.part_host(str(f), 0.02, 1)
    assert len(rows) == len(validate.host_patterns(0.02))
    for r in rows:
        assert r["expected"] > 0 and r["simulated"] > 0 and r["unit"] == "ms"
