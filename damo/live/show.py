"""Live kdamonds as ``damo status`` and ``damo report damon`` show them:
damo's ``report damon`` layout (kdamond / context / target / scheme, four
spaces of indentation per level), from the daemons' state files."""
import json
import time

from damo import units

STALE_S = 5.0


def indent(text, width=4):
    return "\n".join(" " * width + line if line else line for line in text.split("\n"))


def _addr_range(start, end, raw):
    return "[%s, %s) (%s)" % (units.format_nr(start, raw), units.format_nr(end, raw),
                              units.format_sz(end - start, raw))


def _permil(permil, raw):
    return "%f" % permil if raw else units.format_ratio(float(permil) / 1000, False)


def summary_line(k, raw=False):
    """kdamond's summary: 'state: on, pid: N' as damo's, or why it is not on."""
    state = k.state or {}
    if k.liveness == "dead":
        words = ["state: dead"]
        if state.get("pid"):
            words.append("pid: %s (gone)" % state["pid"])
        return ", ".join(words)
    if k.liveness == "starting":
        return "state: starting"
    kstate = k.kstate or {}
    words = ["state: %s" % kstate.get("state", "off")]
    if kstate.get("state") == "on" and state.get("pid"):
        words.append("pid: %s" % state["pid"])
    refresh_ms = (kstate.get("kdamond") or {}).get("refresh_ms") or 0
    if refresh_ms:
        words.append("stats refresh per: %s" % units.format_time_ns(refresh_ms * 1000000,
                                                                     raw))
    return ", ".join(words)


def simulation_line(state, raw=False):
    line = "simulation: workload %s, %s simulated at %sx speed%s" % (
        state.get("workload"), units.format_time_ns(state.get("sim_now_ns", 0), raw),
        "%g" % state.get("speed", 1),
        ", memory %s" % state["memory"] if state.get("memory") else "")
    age = time.time() - state.get("updated", time.time())
    if state.get("state") == "on" and age > STALE_S:
        line += " (as of %d s ago: the daemon is not refreshing its state)" % age
    return line


def scheme_text(s, raw=False):
    lines = []
    words = ["action: %s" % s["action"]]
    if s["action"].startswith("migrate_"):
        words.append("to node %s" % s["target_nid"])
    words.append("per %s" % units.format_time_us(s["apply_interval_us"], raw)
                 if s["apply_interval_us"] else "per aggr interval")
    lines.append(" ".join(words))
    p = s["access_pattern"]
    lines.append("target access pattern")
    lines.append(indent("\n".join([
        "sz: [%s, %s]" % tuple(units.format_sz(v, raw) for v in p["sz"]),
        "nr_accesses: [%s, %s]" % tuple("%s samples" % units.format_nr(v, raw)
                                         for v in p["nr_accesses"]),
        "age: [%s, %s]" % tuple("%s aggr_intervals" % units.format_nr(v, raw)
                                 for v in p["age"])])))
    for node, weight in s.get("migrate_dests", []):
        lines.append("dest %d weight %d" % (node, weight))
    q, qs = s["quota"], s.get("quota_state", {})
    qlines = ["%s / %s / %s per %s" % (
        units.format_time_ns(q["ms"] * 1000000, raw), units.format_sz(q["sz"], raw),
        units.format_sz(qs.get("esz", 0), raw),
        units.format_time_ns(q["reset_interval_ms"] * 1000000, raw))]
    for i, g in enumerate(q["goals"]):
        metric = g["metric"]
        extra = []
        if metric.startswith("node_mem"):
            extra.append("nid %s" % units.format_nr(g["nid"], raw))
        if metric.startswith("node_memcg"):
            extra.append("memcg %s" % g["memcg"])
        if extra:
            metric = "%s (%s)" % (metric, ", ".join(extra))
        qlines.append("goal %d: metric %s target %s current %s" % (
            i, metric, units.format_nr(g["target_value"], raw),
            units.format_nr(g["current_value"], raw)))
    if q["goals"]:
        qlines.append("goal tuner: %s" % q["goal_tuner"])
    qlines.append("priority: sz %s, nr_accesses %s, age %s" % tuple(
        _permil(w, raw) for w in q["weights"]))
    lines.append("quotas")
    lines.append(indent("\n".join(qlines)))
    w = s["wmarks"]
    lines.append("watermarks")
    lines.append(indent("metric %s, interval %s\n%s, %s, %s" % (
        w["metric"], units.format_time_us(w["interval_us"], raw),
        _permil(w["high"], raw), _permil(w["mid"], raw), _permil(w["low"], raw))))
    for i, f in enumerate(s["filters"]):
        words = ["allow" if f["allow"] else "reject"]
        if not f["matching"]:
            words.append("none")
        words.append(f["type"])
        if f["type"] == "memcg":
            words.append(str(f.get("memcg")))
        elif f["type"] == "addr":
            words.append(_addr_range(f["addr_range"][0], f["addr_range"][1], raw))
        elif f["type"] == "target":
            words.append(units.format_nr(f["target_idx"], raw))
        elif f["type"] == "hugepage_size":
            words.append("[%s, %s]" % tuple(units.format_sz(v, raw)
                                            for v in f["hugepage_size"]))
        lines.append("filter %d" % i)
        lines.append(indent(" ".join(words)))
    st = s["stats"]
    lines.append("statistics")
    lines.append(indent("\n".join([
        "tried %s times (%s)" % (units.format_nr(st["nr_tried"], raw),
                                 units.format_sz(st["sz_tried"], raw)),
        "applied %s times (%s)" % (units.format_nr(st["nr_applied"], raw),
                                   units.format_sz(st["sz_applied"], raw)),
        "%s passed filters" % units.format_sz(st["sz_ops_filter_passed"], raw),
        "quota exceeded %s times" % units.format_nr(st["qt_exceeds"], raw)]
        + (["tried %s snapshots (max %s)" % (units.format_nr(st["nr_snapshots"], raw),
                                             units.format_nr(st["max_nr_snapshots"], raw))]
           if "nr_snapshots" in st else []))))
    return "\n".join(lines)


def probes_lines(probes):
    """damo's DamonCtx.add_probes_str(): 'probe <filters> (weight: N)' for
    one probe, else 'probes' and a '- ' line per probe."""
    def one(p):
        words = []
        for f in p.get("filters", []):
            w = ["allow" if f.get("allow") else "reject"]
            if f.get("matching") is False:
                w.append("non")
            w.append(str(f.get("filter_type")))
            if f.get("filter_type") == "memcg":
                w.append(str(f.get("path")))
            words.append(" ".join(w))
        return "%s (weight: %s)" % (", ".join(words), p.get("weight", 0))
    if not probes:
        return []
    if len(probes) == 1:
        return ["probe %s" % one(probes[0])]
    return ["probes"] + ["- %s" % one(p) for p in probes]


def context_text(params, cstate, raw=False, params_only=False):
    """One context: its parameters (damo layout) and live state."""
    lines = ["ops: %s" % (cstate or {}).get("ops", params.get("ops"))]
    lines += probes_lines(params.get("probes") or [])
    live_targets = (cstate or {}).get("targets", [])
    for i, t in enumerate(params.get("targets", [])):
        tlines = []
        pid = t.get("pid")
        if pid is None and i < len(live_targets):
            pid = live_targets[i].get("pid")
        if pid is not None:
            tlines.append("pid: %s" % pid)
        for r in t.get("regions", []):
            tlines.append("region %s" % _addr_range(units.to_number(str(r["start"])),
                                                    units.to_number(str(r["end"])), raw))
        if not params_only and i < len(live_targets):
            tlines.append("nr_regions: %s" % units.format_nr(live_targets[i]["nr_regions"],
                                                             raw))
        lines.append("target %d" % i)
        if tlines:
            lines.append(indent("\n".join(tlines)))
    if cstate is not None:
        sample, aggr, update = cstate["sample_us"], cstate["aggr_us"], cstate["update_us"]
        goal = cstate.get("intervals_goal")
        nr_min, nr_max = cstate["nr_regions_range"]
    else:
        iv = params.get("intervals", {})
        sample, aggr, update = (units.to_us(str(iv.get(k))) for k in
                                ("sample_us", "aggr_us", "ops_update_us"))
        goal = None
        nr_min, nr_max = (units.to_number(str(params["nr_regions"][k])) for k in ("min", "max"))
    iv_line = "sample %s, aggr %s, update %s" % (
        units.format_time_us(sample, raw), units.format_time_us(aggr, raw),
        units.format_time_us(update, raw))
    if goal and goal[1]:
        lines.append("intervals")
        lines.append(indent("%s\ntarget %s accesses per %s aggrs, [%s, %s] sampling "
                            "interval" % (
                                iv_line, units.format_ratio(goal[0] / 10000, raw),
                                units.format_nr(goal[1], raw),
                                units.format_time_us(goal[2], raw),
                                units.format_time_us(goal[3], raw))))
    else:
        lines.append("intervals: %s" % iv_line)
    lines.append("nr_regions: [%s, %s]" % (units.format_nr(nr_min, raw),
                                           units.format_nr(nr_max, raw)))
    for i, s in enumerate((cstate or {}).get("schemes", [])):
        text = scheme_text(s, raw)
        if params_only:
            text = text.split("\nstatistics\n")[0]
        lines.append("scheme %d" % i)
        lines.append(indent(text))
    return "\n".join(lines)


def kdamond_text(k, raw=False, params_only=False):
    """damo's ``report damon`` text of one kdamond."""
    lines = ["kdamond %d" % k.idx]
    body = [] if params_only else [summary_line(k, raw)]
    state = k.state
    if state is None:
        if k.liveness == "dead":
            last = k.slot.last_log_line()
            body.append("its daemon died before reporting any state%s" % (
                ": %s" % last if last else ""))
        lines.append(indent("\n".join(body)))
        return "\n".join(lines)
    kstate = k.kstate or {}
    if k.liveness == "dead":
        body.append("its daemon (pid %s) is gone; `damo start` cleans it up" % state.get("pid"))
    elif kstate.get("state") == "off" and k.reason:
        body.append("stopped: %s" % k.reason)
    if kstate.get("module"):
        body.append("module: %s (its parameters: damo module %s)" % (
            kstate["module"], kstate["module"][len("DAMON_"):].lower()))
    if not params_only and state.get("workload"):
        body.append(simulation_line(state, raw))
    contexts = kstate.get("kdamond", {}).get("contexts", [])
    cstates = kstate.get("contexts", [])
    for ci, params in enumerate(contexts):
        cstate = cstates[ci] if ci < len(cstates) else None
        body.append("context %d" % ci)
        body.append(indent(context_text(params, cstate, raw, params_only)))
    lines.append(indent("\n".join(body)))
    return "\n".join(lines)


def _stats_kvpairs(stats, raw):
    return {name: (units.format_sz(v, raw) if name.startswith("sz_")
                   else units.format_nr(v, raw)) for name, v in stats.items()}


def kdamond_kvpairs(k, params_only=False, raw=False):
    """damo's kdamond layout (``--format json``), with the live intervals,
    effective quotas, measured goal values, DAMOS stats and a "simulation"
    key of ours."""
    state, kstate = k.state or {}, k.kstate or {}
    kv = json.loads(json.dumps(kstate.get("kdamond") or {"contexts": []}))
    kv["state"] = "dead" if k.liveness == "dead" else kstate.get("state", "off")
    kv["pid"] = state.get("pid") if kv["state"] == "on" else None
    for ci, ctx in enumerate(kv.get("contexts", [])):
        cstates = kstate.get("contexts", [])
        if ci >= len(cstates):
            continue
        c = cstates[ci]
        iv = ctx.setdefault("intervals", {})
        iv["sample_us"] = units.format_time_us_exact(c["sample_us"], False)
        iv["aggr_us"] = units.format_time_us_exact(c["aggr_us"], False)
        for si, s in enumerate(ctx.get("schemes", [])):
            if si >= len(c["schemes"]):
                continue
            live = c["schemes"][si]
            quotas = s.get("quotas")
            if isinstance(quotas, dict):
                quotas["effective_sz_bytes"] = units.format_sz(
                    live["quota_state"]["esz"], raw)
                for gi, g in enumerate(quotas.get("goals") or []):
                    if gi < len(live["quota"]["goals"]):
                        g["current_value"] = "%d" % live["quota"]["goals"][gi]["current_value"]
            if params_only:
                s.pop("stats", None)
            else:
                s["stats"] = _stats_kvpairs(live["stats"], raw)
    if not params_only:
        kv["simulation"] = {key: state.get(key) for key in (
            "workload", "workload_spec", "memory", "seed", "speed", "sim_now_ns")}
        kv["simulation"]["daemon_pid"] = state.get("pid")
        kv["simulation"]["module"] = kstate.get("module")
        kv["simulation"]["reason"] = k.reason
    return kv
