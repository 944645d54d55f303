"""What ``damo record WORKLOAD`` (and start, replay) runs: a built-in
workload or a masim config file."""
import os

from damo.errors import DamoError


def builtin_names():
    from damo_engine import masim
    return list(masim.BUILTINS)


def describe_builtins():
    from damo_engine import masim
    return "\n".join("  %-14s %s" % (name, doc) for name, (_, doc) in masim.BUILTINS.items())


def resolve(spec, *, access_rate=None, random_access_rate=None):
    """An engine workload for `spec`: None (the default built-in), a
    built-in name, or a masim config file."""
    from damo_engine import masim
    from damo_engine.workloads import MasimWorkload

    if spec is None:
        spec = masim.DEFAULT_WORKLOAD
    kwargs = {}
    if access_rate is not None:
        kwargs["access_rate"] = access_rate
    if random_access_rate is not None:
        kwargs["random_access_rate"] = random_access_rate
    try:
        if spec in masim.BUILTINS and not os.path.exists(spec):
            config = masim.builtin(spec)
        elif os.path.isfile(spec):
            config = masim.load(spec)
        else:
            raise DamoError("%s: no such workload: give a masim config file or one of the "
                            "built-in workloads (%s)" % (spec, ", ".join(masim.BUILTINS)))
        return MasimWorkload(config, **kwargs)
    except masim.ConfigError as e:
        raise DamoError(str(e))
    except ValueError as e:
        raise DamoError("%s: %s" % (spec, e))
