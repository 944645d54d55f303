"""``damo report damon --input_file``: a kdamonds file shown as damo 3.4.3
shows kdamonds (its layout, --format json/yaml, --kdamonds_summary,
--damos_stats, --damon_params[_omit_defaults], --show_cpu_usage).

damo 3.4.3 cannot do this offline (it initializes DAMON's sysfs interface
before reading the file); its code also means more than it does:

- --kdamonds_summary checks the file's error the wrong way round: it prints
  "None" and exits 1 for a good file; here it prints the summary;
- --omit_damos_tried_regions is passed where damo means params_only, so
  damo drops the statistics and quotas' effective sizes too; here only the
  tried regions go;
- --damon_params_omit_defaults with --format json dies on the omitted
  (None) parts; here they are left out of the JSON;
- the file's scheme stats are read (damo shows zeros).
"""
import json

from damo.errors import DamoError
from damo.params import kdamonds_model as model


def dump(data, fmt):
    """damo's --format json or yaml of plain values (its YAML: block style,
    ordered mappings as plain ones)."""
    if fmt == "json":
        return json.dumps(data, indent=4)
    try:
        import yaml  # noqa: F401  (model.dump_yaml's)
    except ImportError:
        raise DamoError("--format yaml needs PyYAML (pip install pyyaml)") from None
    return model.dump_yaml(data)


def select(items, idxs, index_of, missing):
    """[(index, item)] of the items whose index_of(i, item) is in --kdamond_idx
    (in its order; all without it); ``missing % idx`` is the error for an
    index that none has."""
    indexed = [(index_of(i, item), item) for i, item in enumerate(items)]
    if not idxs:
        return indexed
    by_idx = dict(indexed)
    for idx in idxs:
        if idx not in by_idx:
            raise DamoError(missing % idx)
    return [(idx, by_idx[idx]) for idx in idxs]


def summary_text(selected, lines):
    """--kdamonds_summary in damo's report layout: index, tab, summary."""
    return "\n".join("%d\t%s" % (idx, line) for (idx, _), line in zip(selected, lines))


def stats_text(stats):
    """--damos_stats in damo's report layout, from [[{kdamond, context,
    scheme}, {field: text}]]: a header per scheme when there are several,
    a field's name unless only one is shown."""
    lines = []
    for indices, kv in stats:
        if len(stats) > 1:
            lines.append("kdamond %d / context %d / scheme %d" % (
                indices["kdamond"], indices["context"], indices["scheme"]))
        for name, value in kv.items():
            lines.append("%s: %s" % (name, value) if len(kv) > 1 else "%s" % value)
        if len(stats) > 1:
            lines.append("")
    return "\n".join(lines)


def _report(selected, raw, show_cpu, params_only, omit_tried):
    lines = []
    for idx, k in selected:
        lines.append("kdamond %d" % idx)
        lines.append(model.indent(k.to_str(raw, show_cpu, params_only, omit_tried)))
    return "\n".join(lines)


def report(path, fmt, raw, kdamond_idxs, kdamonds_summary, damos_stats, stat_fields,
           damon_params, omit_defaults, show_cpu, omit_tried):
    kdamonds = model.read_json_file(path)
    selected = select(kdamonds, kdamond_idxs, lambda i, _: i,
                      "--kdamond_idx: the file has no kdamond %d")
    if damon_params:
        for _, k in selected:
            for c in k.contexts:
                for s in c.schemes:
                    if omit_defaults:
                        if s.access_pattern.is_default():
                            s.access_pattern = None
                        if s.quotas.is_default():
                            s.quotas = None
                        if s.watermarks.is_default():
                            s.watermarks = None
                    s.stats = None
                    s.tried_regions = None
        if fmt == "report":
            return _report(selected, raw, False, True, False)
        for _, k in selected:
            for c in k.contexts:
                for s in c.schemes:
                    # what None means in the report: omitted
                    for name, default in (("access_pattern", model.AccessPattern()),
                                          ("quotas", model.Quotas()),
                                          ("watermarks", model.Watermarks())):
                        if getattr(s, name) is None:
                            setattr(s, name, default)
        return dump([k.to_kvpairs(raw, omit_defaults, params_only=True)
                     for _, k in selected], fmt)
    if kdamonds_summary:
        summary = [k.summary_str(show_cpu, raw=raw) for _, k in selected]
        if fmt == "report":
            return summary_text(selected, summary)
        return dump(summary, fmt)
    if damos_stats or stat_fields:
        stats = []
        for kd_idx, k in selected:
            for ctx_idx, c in enumerate(k.contexts):
                for scheme_idx, s in enumerate(c.schemes):
                    kv = s.stats.to_kvpairs(raw)
                    if stat_fields:
                        kv = model.collections.OrderedDict((f, kv[f]) for f in stat_fields)
                    stats.append([{"kdamond": kd_idx, "context": ctx_idx,
                                   "scheme": scheme_idx}, kv])
        if fmt != "report":
            return dump(stats, fmt)
        return stats_text(stats)
    if fmt == "report":
        return _report(selected, raw, show_cpu, False, omit_tried)
    return dump([k.to_kvpairs(raw) for _, k in selected], fmt)
