"""What ``damo record WORKLOAD`` (and start, replay) runs: a built-in workload,
one of masim's configs shipped with the package (by name), or a masim config file."""
import os

from damo.errors import DamoError

CONFIGS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "masim_configs")


def builtin_names():
    from damo_engine import masim
    return list(masim.BUILTINS)


def bundled_names():
    """masim's own configs shipped in the package, by file name."""
    try:
        names = os.listdir(CONFIGS_DIR)
    except OSError:
        return []
    return sorted(n for n in names if n != "README.md" and not n.startswith("."))


def bundled_config(name):
    """Path of a bundled masim config (``stairs_30secs`` or ``stairs_30secs.cfg``), or None."""
    for candidate in (name, name + ".cfg"):
        if os.path.basename(candidate) == candidate and candidate in bundled_names():
            return os.path.join(CONFIGS_DIR, candidate)
    return None


def describe_builtins():
    from damo_engine import masim
    lines = ["  %-14s %s" % (name, doc) for name, (_, doc) in masim.BUILTINS.items()]
    bundled = bundled_names()
    if bundled:
        lines.append("  masim's configs, by name: %s" % ", ".join(
            n[:-4] if n.endswith(".cfg") else n for n in bundled))
    return "\n".join(lines)


def resolve(spec, *, access_rate=None, random_access_rate=None, exact_accesses=False):
    """An engine workload for `spec`: None (the default built-in), a
    built-in name, a bundled masim config's name, or a masim config file."""
    from damo_engine import masim
    from damo_engine.workloads import MasimWorkload

    if spec is None:
        spec = masim.DEFAULT_WORKLOAD
    kwargs = {}
    if access_rate is not None:
        kwargs["access_rate"] = access_rate
    if random_access_rate is not None:
        kwargs["random_access_rate"] = random_access_rate
    if exact_accesses:
        kwargs["exact_accesses"] = True
    try:
        if os.path.isfile(spec):
            config = masim.load(spec)
        elif spec in masim.BUILTINS:
            config = masim.builtin(spec)
        elif bundled_config(spec):
            config = masim.load(bundled_config(spec))
        else:
            raise DamoError("%s: no such workload: give a masim config file, one of the "
                            "built-in workloads (%s) or one of masim's configs (%s)"
                            % (spec, ", ".join(masim.BUILTINS),
                               ", ".join(bundled_names())))
        return MasimWorkload(config, **kwargs)
    except masim.ConfigError as e:
        raise DamoError(str(e))
    except ValueError as e:
        raise DamoError("%s: %s" % (spec, e))
