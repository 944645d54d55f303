"""Percentile listings shared by ``report wss`` and ``report nr_regions``."""


def percentile_index(percentile, nr_values):
    """damo's index of a percentile: int(p / 100 * n), the last one at 100."""
    idx = int(percentile / 100.0 * nr_values)
    return nr_values - 1 if idx == nr_values else idx


def format_dists(metric_name, values, percentiles, all_values, format_fn, raw,
                 nr_cols_bar):
    """damo's fmt_dists(): average, then a value (and a bar) per percentile."""
    lines = ["# <percentile> <%s>" % metric_name]
    if len(values) == 0:
        lines.append("# no snapshot")
        return "\n".join(lines)
    lines.append("# avr:\t%s" % format_fn(sum(values) / len(values), raw))
    if all_values:
        lines.extend("%s %s" % (idx, format_fn(v, raw)) for idx, v in enumerate(values))
        return "\n".join(lines)
    picked = [(p, values[percentile_index(p, len(values))]) for p in percentiles]
    if nr_cols_bar > 0:
        max_val = max([0] + [v for _, v in picked])
        per_col = max_val / nr_cols_bar if max_val > 0 else 1
    for percentile, value in picked:
        line = "%3d %15s" % (percentile, format_fn(value, raw))
        if nr_cols_bar > 0:
            cols = int(value / per_col)
            line += " |%s%s|" % ("*" * cols, " " * (nr_cols_bar - cols))
        lines.append(line)
    return "\n".join(lines)
