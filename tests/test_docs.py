"""Shell completions and man pages: generated from the click application,
up to date, rendered by man, and completing in a real bash."""
import os
import shutil
import subprocess
import sys

import pytest

from damo import gen_docs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAN_DIR = os.path.join(REPO, "man")


def test_generated_files_are_up_to_date():
    stale = gen_docs.stale_files(REPO)
    assert not stale, ("completions/man pages are out of date: %s; regenerate them with "
                       "`python -m damo.gen_docs`" % ", ".join(stale))


def test_every_command_has_a_man_page():
    names = {"-".join(path) for path, _, _ in gen_docs.walk()}
    assert {"damo", "damo-start", "damo-status", "damo-tune", "damo-stop", "damo-record",
            "damo-report", "damo-report-access", "damo-report-damon"} <= names
    assert sorted(n[:-2] for n in os.listdir(MAN_DIR)) == sorted(names)


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
@pytest.mark.parametrize("page", sorted(os.listdir(MAN_DIR)))
def test_man_page_has_no_groff_warnings(page):
    done = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(MAN_DIR, page)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == ""


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_man_renders_damo_1():
    done = subprocess.run(["man", "-P", "cat", "-l", os.path.join(MAN_DIR, "damo.1")],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING=""))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "ENVIRONMENT"):
        assert "\n%s\n" % heading in text
    assert "damo [OPTIONS] COMMAND [ARGS]..." in text
    for page in ("damo-start(1)", "damo-status(1)", "damo-tune(1)", "damo-stop(1)"):
        assert page in text
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_man_renders_a_subcommand_page():
    done = subprocess.run(["man", "-P", "cat", "-l", os.path.join(MAN_DIR, "damo-tune.1")],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, MANWIDTH="80"))
    assert done.returncode == 0
    assert "damo tune [OPTIONS]" in done.stdout
    assert "--monitoring_nr_regions_range <min> <max>" in done.stdout
    assert "--quota_goals_only" in done.stdout


COMPLETIONS = os.path.join(REPO, "completions")


def bash_complete(*words, cwd=None):
    """COMPREPLY of damo's bash completion for the command line ``words``
    (the last one being completed), in a real bash."""
    words_src = " ".join("'%s'" % w for w in words)
    script = ("source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _damo_completion damo; "
              "printf '%%s\\n' \"${COMPREPLY[@]}\"" % (
                  os.path.join(COMPLETIONS, "damo.bash"), words_src, len(words) - 1))
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                          text=True, timeout=60, cwd=cwd)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_subcommands_and_options(tmp_path):
    assert bash_complete("damo", "st") == ["start", "status", "stop"]
    assert bash_complete("damo", "report", "d") == ["damon"]
    assert bash_complete("damo", "tune", "--monitoring_n") == ["--monitoring_nr_regions_range"]
    assert "--quota_goals_only" in bash_complete("damo", "tune", "--")
    assert bash_complete("damo", "start", "--ops", "") == ["vaddr", "fvaddr", "paddr"]
    assert bash_complete("damo", "start", "--damos_action", "migrate_") == \
        ["migrate_hot", "migrate_cold"]
    assert bash_complete("damo", "start", "--memory", "") == []
    (tmp_path / "stairs.cfg").write_text("")
    (tmp_path / "other").write_text("")
    # the built-in, masim's bundled configs by name, and the file here (readline drops
    # the duplicate 'stairs.cfg')
    assert sorted(set(bash_complete("damo", "record", "st", cwd=tmp_path))) == \
        ["stairs", "stairs.cfg", "stairs_30secs.cfg"]
    assert bash_complete("damo", "record", "mem", cwd=tmp_path) == ["mem_perf.cfg"]
    assert bash_complete("damo", "report", "access", "--input", "o", cwd=tmp_path) == \
        ["other"]


ZSH_HARNESS = r"""
_cur=${@[-1]}
compadd() { while [[ $1 == -* && $1 != -- ]]; do shift; done; [[ $1 == -- ]] && shift
  local w; for w in "$@"; do [[ $w == ${_cur}* ]] && print -- $w; done }
_describe() { local arr=${@[-1]} e w
  for e in ${(P)arr}; do w=${e%%:*}; w=${w//\\/}; [[ $w == ${_cur}* ]] && print -- $w; done }
_files() { print -- '<files>' }
_message() { print -- '<value>' }
fpath=(COMPLETIONS_DIR $fpath)
autoload -Uz _damo
words=("$@"); CURRENT=$#
_damo
true
"""


def zsh_complete(tmp_path, *words):
    """What damo's zsh completion function offers (compadd/_describe/_files
    stubbed to print their candidates matching the current word)."""
    harness = tmp_path / "harness.zsh"
    harness.write_text(ZSH_HARNESS.replace("COMPLETIONS_DIR", COMPLETIONS))
    done = subprocess.run(["zsh", "-f", str(harness)] + list(words), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_subcommands_and_options(tmp_path):
    assert zsh_complete(tmp_path, "damo", "st") == ["start", "status", "stop"]
    assert zsh_complete(tmp_path, "damo", "report", "d") == ["damon"]
    assert zsh_complete(tmp_path, "damo", "tune", "--monitoring_n") == \
        ["--monitoring_nr_regions_range"]
    assert zsh_complete(tmp_path, "damo", "start", "--ops", "") == ["vaddr", "fvaddr", "paddr"]
    assert zsh_complete(tmp_path, "damo", "record", "-o", "") == ["<files>"]
    assert zsh_complete(tmp_path, "damo", "record", "") == \
        ["stairs", "zigzag", "hotcold", "random_phases", "ongoing", "<files>"]


def fish_complete(line):
    done = subprocess.run(["fish", "--no-config", "-c", "source %s; complete -C %s" % (
        os.path.join(COMPLETIONS, "damo.fish"), "'%s'" % line)], capture_output=True,
        text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [line.split("\t")[0] for line in done.stdout.splitlines()]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_subcommands_and_options():
    assert fish_complete("damo st") == ["start", "status", "stop"]
    assert fish_complete("damo report d") == ["damon"]
    assert fish_complete("damo tune --monitoring_n") == ["--monitoring_nr_regions_range"]
    assert sorted(fish_complete("damo start --ops ")) == ["fvaddr", "paddr", "vaddr"]
