"""Image outputs: the kind and size asked for, checked on the bytes."""
import re

import pytest
from PIL import Image

import synth
from conftest import run_ours


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("img") / "r.data")
    synth.stairs(path, nr_snapshots=40, nr_targets=2, gaps=True)
    return path


def svg_size(path):
    head = open(path).read(2000)
    match = re.search(r'<svg[^>]*width="([\d.]+)pt" height="([\d.]+)pt"', head)
    return float(match.group(1)), float(match.group(2))


def pdf_size(path):
    data = open(path, "rb").read()
    assert data.startswith(b"%PDF-")
    match = re.search(rb"/MediaBox \[ *0 0 ([\d.]+) ([\d.]+) *\]", data)
    return float(match.group(1)), float(match.group(2))


def check_image(path, kind, size):
    if kind in ("png", "jpeg"):
        with Image.open(path) as image:
            assert (image.format, image.size) == (kind.upper(), size)
    elif kind == "svg":
        assert svg_size(path) == size
    else:
        assert pdf_size(path) == size


@pytest.mark.parametrize("name,kind", [("m.png", "png"), ("m.svg", "svg"), ("m.pdf", "pdf"),
                                       ("m.jpeg", "jpeg")])
def test_heatmap_image(tmp_path, recording, name, kind):
    out = str(tmp_path / name)
    code, stdout, err = run_ours("report", "heatmap", "--input", recording, "--output", out,
                                 "--size", "640", "360")
    assert (code, stdout, err) == (0, "", "")
    check_image(out, kind, (640, 360))


def test_heatmap_images_per_range(tmp_path, recording):
    """--draw_range all: one image per contiguous range, named as damo does."""
    out = tmp_path / "m.png"
    code, _, _ = run_ours("report", "heatmap", "--input", recording, "--output", str(out),
                          "--draw_range", "all", "--resol", "50", "50")
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[0] == "m.1.png" and "m.png" in names and len(names) > 2
    check_image(str(tmp_path / "m.1.png"), "png", (800, 600))


@pytest.mark.parametrize("report", [("wss", "--per_target"), ("nr_regions",)], ids=" ".join)
@pytest.mark.parametrize("name,kind", [("d.png", "png"), ("d.svg", "svg"), ("d.pdf", "pdf")])
def test_distribution_plots(tmp_path, recording, report, name, kind):
    out = str(tmp_path / name)
    code, stdout, _ = run_ours("report", *report, "--input", recording, "--plot", out,
                               "--size", "500", "400")
    assert (code, stdout) == (0, "")
    check_image(out, kind, (500, 400))
    assert [p.name for p in tmp_path.iterdir()] == [name]   # no temporary file left
