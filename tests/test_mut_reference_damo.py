"""The reference damo types a record file with `file -b` (damo 3.4.3's
_damo_records.parse_records_file): "zlib compressed data" is parsed as
json_compressed, anything else it does not know goes to `perf script`.  With
the host's full magic database, some valid zlib recordings are typed as disk
images or executables (their compressed bytes happen to hold another
format's signature) and damo exits 1 on them: the differential tests'
"flake", which follows the recording's bytes, not the machine's load.  The
sandbox points damo's `file` at tests/reference_damo.magic."""
import struct
import subprocess
import zlib

import pytest

import reference_damo
import synth
from conftest import run_ours


def zlib_with_an_mbr_signature(path, raw):
    """``raw`` as a zlib stream of two stored deflate blocks, the second one's
    LEN/NLEN (0xaa55 / 0x55aa) at offset 510: a DOS/MBR boot sector's
    signature for libmagic."""
    first, second = 502, 0xAA55
    assert len(raw) <= first + second
    data = raw + b" " * (first + second - len(raw))      # JSON allows trailing blanks
    out = b"\x78\x01"
    out += b"\x00" + struct.pack("<HH", first, first ^ 0xFFFF) + data[:first]
    out += b"\x01" + struct.pack("<HH", second, second ^ 0xFFFF) + data[first:]
    out += struct.pack(">I", zlib.adler32(data))
    assert zlib.decompress(out) == data and out[510:512] == b"\x55\xaa"
    with open(path, "wb") as f:
        f.write(out)


def test_the_sandbox_gives_damo_s_file_the_zlib_rule_only():
    argv = reference_damo.command("/x/damo", ["report", "wss"])
    tail = argv[argv.index("--") + 1:]
    assert tail == ["/usr/bin/env", "MAGIC=" + reference_damo.MAGIC_FILE, "/x/damo",
                    "report", "wss"]
    rules = [line for line in open(reference_damo.MAGIC_FILE)
             if line.strip() and not line.startswith("#")]
    assert rules[-1].rstrip("\n").endswith("\tzlib compressed data")


@pytest.mark.parametrize("command", [("heatmap", "--guide"), ("wss", "--raw_number"),
                                     ("access", "--raw_form")])
def test_damo_reads_a_zlib_recording_that_looks_like_a_boot_sector(tmp_path, damo, command):
    plain = str(tmp_path / "plain.json")
    synth.stairs(plain, nr_snapshots=12, nr_regions=8, output_type="json")
    path = str(tmp_path / "mbr.data")
    with open(plain, "rb") as f:
        zlib_with_an_mbr_signature(path, f.read())
    code, theirs = damo.report(*command, "--input", path)
    assert code == 0, damo.why(*command, "--input", path)
    code, ours, err = run_ours("report", *command, "--input", path)
    assert (code, err) == (0, "")
    assert ours == theirs


def test_the_host_s_file_is_what_mistyped_it(tmp_path):
    """Not a check of ours: shows the cause where the host's libmagic has the
    MBR rule (skipped elsewhere)."""
    plain = str(tmp_path / "plain.json")
    synth.stairs(plain, nr_snapshots=12, nr_regions=8, output_type="json")
    path = str(tmp_path / "mbr.data")
    with open(plain, "rb") as f:
        zlib_with_an_mbr_signature(path, f.read())
    try:
        host = subprocess.run(["file", "-b", path], capture_output=True, text=True).stdout
        ours = subprocess.run(["file", "-b", "-m", reference_damo.MAGIC_FILE, path],
                              capture_output=True, text=True).stdout
    except FileNotFoundError:
        pytest.skip("no file(1) here")
    assert ours.strip() == "zlib compressed data"
    if "boot sector" not in host:
        pytest.skip("this host's libmagic types it as %r" % host.strip())
