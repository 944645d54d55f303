"""The wheel, installed as a user installs it (not editable, into a fresh venv), is
complete and works from an empty directory. Marked `wheel`: .ci/run runs it."""
import collections
import glob
import os
import subprocess
import sys
import zipfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.wheel


def _packages_in_tree():
    """Every package directory of the source tree, as its import name."""
    found = set()
    for top, prefix in ((os.path.join(REPO, "damo"), "damo"),
                        (os.path.join(REPO, "engine", "damo_engine"), "damo_engine")):
        for root, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            if "__init__.py" in files:
                rel = os.path.relpath(root, top)
                found.add(prefix if rel == "." else prefix + "." + rel.replace(os.sep, "."))
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheelhouse")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(out), REPO], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = glob.glob(str(out / "*.whl"))
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q",
                           "--disable-pip-version-check", wheel],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def test_wheel_holds_every_package_and_the_engines_interfaces(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    per_dir = collections.Counter(n.rsplit("/", 1)[0] for n in names if "/" in n)
    for package in _packages_in_tree():
        assert package.replace(".", "/") + "/__init__.py" in names, package
    engine = os.path.join(REPO, "engine", "damo_engine")
    for pattern in ("*.pxd", "*.pyi", "*.h", "py.typed", "*.py"):
        for src in glob.glob(os.path.join(engine, pattern)):
            assert "damo_engine/" + os.path.basename(src) in names, src
    for src in glob.glob(os.path.join(engine, "*.pyx")):
        stem = os.path.splitext(os.path.basename(src))[0]
        assert any(n.startswith("damo_engine/%s." % stem) and n.endswith(".so")
                   for n in names), stem
    configs = os.listdir(os.path.join(REPO, "damo", "workloads", "masim_configs"))
    assert len(configs) == 13           # masim's 12 configs and their README
    for name in configs:
        assert "damo/workloads/masim_configs/" + name in names
    assert per_dir["damo/workloads/masim_configs"] == 13


def _damo(venv, cwd, *args):
    return subprocess.run([str(venv / "bin" / "damo")] + list(args), cwd=cwd,
                          capture_output=True, text=True, env={
                              k: v for k, v in os.environ.items()
                              if k not in ("PYTHONPATH", "DAMO_SIM_RUNTIME_DIR")})


def test_installed_damo_records_and_reports_from_an_empty_directory(installed, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = _damo(installed, empty, "record")
    assert done.returncode == 0, done.stderr
    assert (empty / "damon.data").stat().st_size > 0
    heatmap = _damo(installed, empty, "report", "heatmap")
    assert heatmap.returncode == 0, heatmap.stderr
    assert "# access_frequency" in heatmap.stdout and heatmap.stdout.count("\n") >= 40
    wss = _damo(installed, empty, "report", "wss")
    assert wss.returncode == 0, wss.stderr
    assert "# <percentile> <wss>" in wss.stdout
    png = _damo(installed, empty, "report", "heatmap", "--output", "x.png")
    assert png.returncode == 0, png.stderr
    assert (empty / "x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_installed_damo_runs_masims_configs_by_name(installed, tmp_path):
    helped = _damo(installed, tmp_path, "record", "--help")
    assert helped.returncode == 0
    for name in ("stairs_30secs", "zigzag_30secs", "mem_perf", "hint_test", "hotcold"):
        assert name in helped.stdout, name
    done = _damo(installed, tmp_path, "record", "stairs_30secs", "-o", "s.data")
    assert done.returncode == 0, done.stderr
    info = _damo(installed, tmp_path, "report", "record_info", "-i", "s.data")
    assert info.returncode == 0 and "target_id" in info.stdout, info.stderr


def test_installed_package_was_compiled_to_bytecode(installed):
    lib = glob.glob(str(installed / "lib" / "python*" / "site-packages"))[0]
    for package in ("damo", "damo/commands", "damo/reports", "damo/records"):
        pyc = glob.glob(os.path.join(lib, package, "__pycache__", "*.pyc"))
        assert pyc, package
