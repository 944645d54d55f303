"""`damo --help` lists commands from damo.cli's table without importing them; the
table's lines must be the commands' own help, and help must stay cheap."""
import importlib
import subprocess
import sys

import click
import pytest

from damo.cli import COMMANDS, main
from damo.commands.report import REPORTS


def _first_paragraph(command):
    return " ".join((command.help or "").split("\n\n")[0].split())


@pytest.mark.parametrize("table,name", [(COMMANDS, n) for n in COMMANDS]
                         + [(REPORTS, n) for n in REPORTS])
def test_listed_help_is_the_commands_own(table, name):
    target, line = table[name]
    module, attr = target.split(":")
    command = getattr(importlib.import_module(module), attr)
    assert isinstance(command, click.Command)
    assert line == _first_paragraph(command)


@pytest.mark.parametrize("argv", [["--help"], ["report", "--help"]])
def test_help_imports_neither_the_engine_nor_numpy(argv):
    code = ("import sys; from damo.cli import main\n"
            "try:\n    main(%r)\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'damo_engine', 'matplotlib', 'rich', 'yaml')))" % (argv,))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    for name in (COMMANDS if argv == ["--help"] else REPORTS):
        assert "\n  %s " % name in done.stdout


_NOT_FOR_A_REPORT = ("hashlib", "tempfile", "damo_engine", "zlib_ng", "difflib",
                     "dataclasses",
                     "damo.records.native", "damo.records.perf_script",
                     "damo.records.writer")


@pytest.mark.parametrize("report", ["wss", "heatmap", "nr_regions"])
def test_a_report_imports_no_writer_machinery(report):
    """Reading a recording needs no hashing or temporary files: hashlib
    (OpenSSL's libcrypto, 3.6 MB) and tempfile (shutil, bz2, lzma) were a
    third of what a small report held above numpy and click.  Nor, for a
    small json recording, the other formats' readers, the writer, zlib-ng
    (zlib inflates it) or difflib (click's discarded "did you mean" of -i):
    1.3 MB in all, which kept a 100 x 100 report above damo 3.4.3's memory."""
    import os
    path = os.path.join(os.path.dirname(__file__), "data", "damo-upstream", "damon.data")
    code = ("import sys, io, contextlib; from damo.cli import main\n"
            "try:\n    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        main(['report', %r, '-i', %r])\nexcept SystemExit as e:\n"
            "    assert not e.code, e.code\n"
            "print(sorted(m for m in sys.modules if m in %r))"
            % (report, path, _NOT_FOR_A_REPORT))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_options_still_get_their_suggestions_and_errors():
    """The short-option shortcut of report commands changes no message: an
    unknown long option is still offered its close match, an unknown short
    option named, and the writer still reachable from damo.records."""
    import os
    from damo import records
    path = os.path.join(os.path.dirname(__file__), "data", "damo-upstream", "damon.data")
    for argv, message in ((["report", "wss", "-i", path, "--sortbyy", "time"],
                           "No such option '--sortbyy'. Did you mean '--sortby'?"),
                          (["report", "wss", "-i", path, "-z"], "No such option '-z'."),
                          (["report", "wss", "-i", path, "-s", "tim"],
                           "Invalid value for '--sortby' / '-s': 'tim' is not one of")):
        done = subprocess.run([sys.executable, "-m", "damo._entry"] + argv,
                              capture_output=True, text=True)
        assert done.returncode == 2, (argv, done.stderr)
        assert done.stderr.startswith("damo: error: " + message), done.stderr
    assert records.RecordingWriter.__module__ == "damo.records.writer"
    with pytest.raises(AttributeError):
        records.NoSuchThing


def test_the_damo_process_freezes_what_a_command_s_import_leaves(monkeypatch):
    # in the damo process (damo._entry sets freeze_imports), a command's
    # modules are collected once and frozen after their import, so that the
    # report's collections do not go through them again; inside another
    # program (these tests) nothing is frozen
    import gc
    import sys
    import damo.commands
    from damo import cli
    from damo.commands import version
    # re-importing sets the package's attribute to the new module: put the
    # first one back after, as sys.modules' entry is, or a later test that
    # patches damo.commands.version patches a module the CLI does not run
    monkeypatch.setattr(damo.commands, "version", version)
    monkeypatch.delitem(sys.modules, "damo.commands.version", raising=False)
    before = gc.get_freeze_count()
    assert cli.freeze_imports is False
    assert cli.import_command("damo.commands.version").version is not None
    assert gc.get_freeze_count() == before
    monkeypatch.setattr(cli, "freeze_imports", True)
    monkeypatch.delitem(sys.modules, "damo.commands.version")
    try:
        cli.import_command("damo.commands.version")
        assert gc.get_freeze_count() > before
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_the_entry_point_turns_freezing_on(tmp_path):
    # damo._entry.main is what a user runs: after it, damo.cli freezes
    code = ("import sys, gc; sys.argv = ['damo', 'version']\n"
            "from damo import _entry\n"
            "try:\n    _entry.main()\nexcept SystemExit:\n    pass\n"
            "import damo.cli; print(damo.cli.freeze_imports, gc.get_freeze_count() > 0, "
            "gc.isenabled())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")[-2]
    assert out == "True True True"
