"""damo features (the simulated kernel's features, in damo's layout) and
damo setup_cli_completion (our static completions, into the user's dirs)."""
import json
import os
import stat

import pytest

from conftest import REPO, run_ours


def features(*args):
    code, out, err = run_ours("features", *args)
    assert code == 0, err
    assert "WARNING: damo features will be deprecated by 2026-12-25." in err
    return out


def test_layout_is_damos_sorted_name_colon_support():
    lines = features().splitlines()
    names = [line.split(": ")[0] for line in lines]
    assert names == sorted(names) and len(names) == len(set(names)) == 96
    assert all(line.endswith((": Supported", ": Unsupported")) for line in lines)
    supported = features("supported").splitlines()
    unsupported = features("unsupported").splitlines()
    assert sorted(supported + unsupported) == names
    assert supported == [n for n, line in zip(names, lines) if line.endswith(": Supported")]
    table = json.loads(features("json"))
    assert sorted(table) == names and [n for n in names if table[n]] == supported


def test_what_the_simulated_kernel_has_and_has_not():
    table = json.loads(features("json"))
    # DAMON sysfs, DAMOS with filters, goals and tried regions: there
    for name in ("interface/damon_sysfs", "sysfs/paddr", "sysfs/fvaddr",
                 "sysfs/schemes_tried_regions", "sysfs/schemes_filters_young",
                 "sysfs/schemes_quota_goal_node_mem_used_free", "sysfs/intervals_goal",
                 "sysfs/damos_quota_goal_tuner", "sysfs/schemes_dests"):
        assert table[name], name
    # no debugfs, no tracefs in the simulation; probes (7.2) and their
    # weights (7.3) are there, their mm.git-only extensions are not
    assert not any(v for n, v in table.items() if n.startswith(("debugfs/", "trace/")))
    assert not table["interface/damon_debugfs"]
    assert table["sysfs/attrs_monitoring"] and table["sysfs/probe_weights"]
    assert not table["sysfs/probe_preps"] and not table["sysfs/probe_type_hugepage_size"]


@pytest.mark.parametrize("feature, args", [
    ("sysfs/damos_action_collapse", ["--damos_action", "collapse"]),
    ("sysfs/damos_quota_goal_node_eligible_mem_bp",
     ["--ops", "paddr", "--damos_action", "stat", "--damos_quotas", "0", "1G", "1s",
      "--damos_quota_goal", "node_eligible_mem_bp", "5000", "0"]),
    ("sysfs/damos_quota_fail_charge_ratio",
     ["--damos_action", "stat", "--damos_quota_fail_charge_ratio", "1", "2"]),
    ("sysfs/schemes_filters_hugepage_size",
     ["--damos_action", "stat", "--damos_filter", "allow", "hugepage_size", "2M", "2M"]),
    ("sysfs/schemes_quota_goal_node_memcg_used_free",
     ["--damos_action", "stat", "--damos_quotas", "0", "1G", "1s", "--damos_quota_goal",
      "node_memcg_used_bp", "50%", "0", "/"]),
    ("sysfs/probe_weights", ["--ops", "paddr", "--probe_filter", "allow", "anon",
                             "--probe_weight", "1"]),
    ("sysfs/probe_type_memcg", ["--ops", "paddr", "--probe_filter", "allow", "memcg", "/"]),
    ("sysfs/probe_type_hugepage_size", ["--ops", "paddr", "--probe_filter", "allow",
                                        "hugepage_size", "2M", "2M"]),
    ("sysfs/probe_preps", ["--ops", "paddr", "--probe_prep", "set_pgidle", "--probe_filter",
                           "allow", "anon"]),
])
def test_a_feature_is_supported_exactly_when_record_takes_it(tmp_path, feature, args):
    table = json.loads(features("json"))
    code, _, err = run_ours("record", "stairs", "--timeout", "0.3", "-o",
                            str(tmp_path / "x.data"), *args)
    assert (code == 0) == table[feature], (feature, code, err)


def test_version_is_inferred_as_damo_does():
    out = features("supported", "--infer_version").splitlines()
    supported = set(out[:-2])
    # damo's rule, by hand: the newest release among the supported features
    releases = {"sysfs/probe_weights": "7.3", "sysfs/ctx_pause": "7.2",
                "sysfs/damos_action_collapse": "7.2",
                "sysfs/damos_quota_goal_tuner": "7.1", "sysfs/damos_max_nr_snapshots": "7.0",
                "sysfs/schemes_dests": "6.17", "sysfs/intervals_goal": "6.15"}
    newest = next(v for n, v in releases.items() if n in supported)
    assert out[-2] == "Seems the version of DAMON is %s" % newest
    assert out[-1].startswith("The simulated kernel emulates Linux ")


def test_bad_type_is_refused():
    code, out, err = run_ours("features", "everything")
    assert code == 2 and "everything" in err and out == ""


@pytest.mark.parametrize("shell, rel, name", [
    ("bash", ".local/share/bash-completion/completions/damo", "damo.bash"),
    ("zsh", ".local/share/zsh/site-functions/_damo", "_damo"),
    ("fish", ".config/fish/completions/damo.fish", "damo.fish"),
])
def test_setup_cli_completion_installs_our_script_in_the_users_dirs(tmp_path, shell, rel,
                                                                     name):
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "SHELL": "/bin/" + shell, "XDG_DATA_HOME": "",
           "XDG_CONFIG_HOME": ""}
    code, out, err = run_ours("setup_cli_completion", env=env)
    assert code == 0, err
    installed = home / rel
    with open(os.path.join(REPO, "completions", name)) as f:
        assert installed.read_text() == f.read()
    assert str(installed) in out
    assert stat.S_IMODE(installed.stat().st_mode) == 0o644
    # nothing else was written
    files = [p for p in home.rglob("*") if p.is_file()]
    assert files == [installed]


def test_setup_cli_completion_refuses_other_users_dirs_and_unknown_shells(tmp_path):
    code, out, err = run_ours("setup_cli_completion", env={"SHELL": "/bin/csh",
                                                           "HOME": str(tmp_path)})
    assert code == 2 and "--shell" in err and out == ""
    if os.geteuid() == 0:
        other = tmp_path / "other"
        other.mkdir()
        os.chown(other, 65534, 65534)
        code, out, err = run_ours("setup_cli_completion", "--shell", "bash",
                                  env={"HOME": str(other), "XDG_DATA_HOME": ""})
        assert code == 1 and "not a directory of yours" in err
        assert list(other.iterdir()) == []
