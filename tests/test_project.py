"""The README opens with the commands CI runs: install, test, and the main
job on the built-in default workload."""
import os
import re

from conftest import run_ours

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def readme_commands():
    text = open(os.path.join(REPO, "README.md")).read()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block and text.index(block.group(0)) < 40, "the README must open with its commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_ci_runs_the_readme_install_and_test_commands():
    install, test, _ = readme_commands()
    ci = [line for line in open(os.path.join(REPO, ".ci", "run")).read().splitlines()
          if line and not line.startswith("#") and not line.startswith("set ")
          and not line.startswith("cd ")]
    # the reference damo is required (its tests fail instead of skipping), then the
    # README's two commands, then the wheel check
    assert ci == ["export DAMO_SIM_REQUIRE_REFERENCE=1", install, test, test + " -m wheel"]


def test_the_readme_main_job_runs(tmp_path, monkeypatch):
    _, _, main_job = readme_commands()
    assert main_job == ".venv/bin/damo record && .venv/bin/damo report heatmap"
    monkeypatch.chdir(tmp_path)
    code, _, err = run_ours("record")
    assert code == 0, err
    code, out, err = run_ours("report", "heatmap")
    assert code == 0, err
    assert "# access_frequency" in out and out.count("\n") >= 40
