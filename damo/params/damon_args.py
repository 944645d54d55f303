"""damo's DAMON parameter options on the command line, for every command
that takes them (record, start, tune, schemes, args damon, replay): the
monitoring options, the markers of several kdamonds, contexts and targets
(``--kdamond``, ``--damon_ctx``, ``--damon_target``), and the rest of damo's
DAMON options (``--numa_node``, ``--refresh_stat``, ``--damon_addr_unit``,
``--pause_ctx``, ``--obsolete_targets``, ``--target_pid``).

    @damon_options                      # on a click command
    kdamonds = kdamonds_from_options(opts, machine)

The options are damo's (``action='append'``): each use is kept, in command
line order.  Without markers, the n-th use of a context option (``--ops``,
``--monitoring_intervals``, ...) is the n-th context's and the n-th use of a
target option (``--regions``, ``--numa_node``, ``--target_pid``) the n-th
target's, as damo gives them.  With markers, every option belongs to the
kdamond, context or target whose marker it follows; a kdamond, context or
target without a marker of its own is implied at the start (damo adds the
missing markers there).  A context without any ``--damon_target`` has one
target (damo 3.4.3 refuses such a command line).

The kernel runs one context per kdamond (its sysfs ``nr_contexts`` takes 0
or 1): several contexts need ``--kdamond`` markers, as on a real kernel.
"""
import click

from damo import units
from damo.cliutil import VALUE_SEP, looks_like_option
from damo.errors import DamoError
from damo.params import damon as params_mod

CTX_OPTIONS = ("ops", "monitoring_intervals", "monitoring_intervals_goal",
               "monitoring_nr_regions_range", "damon_addr_unit")
TARGET_OPTIONS = ("target_pid", "regions", "numa_node")
KDAMOND_OPTIONS = ("refresh_stat",)
MARKERS = ("kdamond", "damon_ctx", "damon_target")
# data attributes probes of a context; --probe marks the start of a probe
PROBE_OPTIONS = ("probe_filter", "probe_weight", "probe_prep")
# the monitoring options, as `damo tune` and the conflicts with --kdamonds see them
MONITORING_OPTIONS = CTX_OPTIONS + TARGET_OPTIONS + KDAMOND_OPTIONS + MARKERS + (
    "monitoring_intervals_autotune", "pause_ctx", "obsolete_targets", "probe") + PROBE_OPTIONS

TARGET_PID_HINT = ("a real process cannot be monitored without a DAMON kernel; run the "
                   "program under the simulated kernel instead: damo record -- CMD [ARGS]")


def _order_key():
    from damo.params import schemes
    return schemes._ORDER_KEY


class DamonOption(click.Option):
    """An option whose every use is logged in command line order (with the
    --damos_* options, in one log) so that markers can place it.  With
    ``many=True`` it takes every following argument up to the next option
    (argparse's nargs='+'); each use then reaches the command as one string
    joined by VALUE_SEP."""

    def __init__(self, *args, many=False, **kwargs):
        self.many = many
        self.damo_nargs = "+" if many else None
        super().__init__(*args, **kwargs)

    def add_to_parser(self, parser, ctx):
        super().add_to_parser(parser, ctx)
        wrapped = set()
        for name in self.opts:
            opt = parser._long_opt.get(name) or parser._short_opt.get(name)
            # short and long names share one parser option: wrap it once
            if opt is not None and id(opt) not in wrapped:
                wrapped.add(id(opt))
                opt.process = self._wrap(opt.process, ctx)

    def _wrap(self, orig, ctx):
        option = self

        def process(value, state):
            if option.many:
                values = [value]
                while state.rargs and not looks_like_option(state.rargs[0]):
                    values.append(state.rargs.pop(0))
                value = VALUE_SEP.join(values)
            ctx.meta.setdefault(_order_key(), []).append(option.name)
            orig(value, state)
        return process


def _marker(name, help):
    return click.option("--" + name, name, cls=DamonOption, count=True, help=help)


def damon_options(f):
    """damo's DAMON monitoring options and markers (all but --damos_*)."""
    opts = [
        _marker("kdamond", "mark the start of the options of a kdamond"),
        _marker("damon_ctx", "mark the start of the options of a DAMON context"),
        _marker("damon_target", "mark the start of the options of a monitoring target"),
        click.option("--ops", cls=DamonOption, multiple=True,
                     type=click.Choice(params_mod.OPS),
                     help="monitoring operations set (vaddr: the workload's virtual "
                          "address space, unless given)"),
        click.option("--target_pid", cls=DamonOption, multiple=True, type=int,
                     metavar="<pid>",
                     help="pid of a monitoring target process (real processes need a "
                          "kernel: use damo record -- CMD)"),
        click.option("-r", "--regions", cls=DamonOption, multiple=True,
                     metavar='"<start>-<end> ..."',
                     help="monitoring target address regions (needed for fvaddr; "
                          "paddr defaults to all memory)"),
        click.option("--numa_node", cls=DamonOption, many=True, multiple=True,
                     metavar="<node id>...",
                     help="for a paddr target, monitor only these NUMA nodes' memory"),
        click.option("--monitoring_intervals", cls=DamonOption, multiple=True, nargs=3,
                     metavar="<sample> <aggr> <update>",
                     help="sampling, aggregation and ops update intervals "
                          "(us, or with units: 5ms 100ms 1s)"),
        click.option("--monitoring_intervals_goal", cls=DamonOption, multiple=True, nargs=4,
                     metavar="<access_bp> <aggrs> <min_sample_us> <max_sample_us>",
                     help="monitoring intervals auto-tuning goal"),
        click.option("--monitoring_intervals_autotune", cls=DamonOption, is_flag=True,
                     help="auto-tune the intervals with the default goal (4% 3 5ms 10s)"),
        click.option("--monitoring_nr_regions_range", cls=DamonOption, multiple=True,
                     nargs=2, metavar="<min> <max>",
                     help="minimum and maximum number of monitoring regions"),
        click.option("--damon_addr_unit", cls=DamonOption, multiple=True, metavar="<bytes>",
                     help="DAMON address unit: one address of paddr monitoring is this "
                          "many bytes (default 1)"),
        click.option("--refresh_stat", cls=DamonOption, multiple=True,
                     metavar="<milliseconds>",
                     help="how often the kdamond publishes its stats in its state file "
                          "(state.json; 0: the daemon's default)"),
        _marker("probe", "mark the start of the options of a data attributes probe"),
        click.option("--probe_filter", cls=DamonOption, many=True, multiple=True,
                     metavar="<<allow|reject> [non] <type> [option]...>",
                     help="data attribute monitoring probe filter (paddr; types: anon, "
                          "memcg <path>)"),
        click.option("--probe_weight", cls=DamonOption, many=True, multiple=True,
                     metavar="<int>...",
                     help="data attribute probe weight (non-zero: regions follow the "
                          "probe hits, access checks off)"),
        click.option("--probe_prep", cls=DamonOption, multiple=True, metavar="<prep action>",
                     help="data attribute monitoring probe prep (mm.git only: refused)"),
        click.option("--pause_ctx", cls=DamonOption, many=True, multiple=True,
                     metavar="<context index>...", help="contexts to start paused"),
        click.option("--obsolete_targets", cls=DamonOption, many=True, multiple=True,
                     metavar="<target index>...",
                     help="targets to remove (damo tune: the running kdamond drops them)"),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def debug_option(f):
    return click.option("--debug_damon", is_flag=True,
                        help="print the requests damo sends to the simulated kernel's "
                             "daemons, and their answers, on stderr")(f)


# ------------------------------------------------------------------ parsing

def _fail(option, msg):
    raise DamoError("--%s: %s" % (option, msg), exit_code=2)


def _uses(opts, name):
    """The values of each use of an option, in order."""
    value = opts.get(name)
    if value is None or value is False:
        return []
    if name in MARKERS or name in ("monitoring_intervals_autotune", "probe"):
        return [True] * int(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple) and value and not isinstance(value[0], (tuple, list)) \
            and name in ("monitoring_intervals", "monitoring_intervals_goal",
                         "monitoring_nr_regions_range"):
        return [value]          # one use set by a command itself (replay, traces)
    return list(value)


def _events(opts, order):
    """[(option name, value)] of the monitoring options, in command line order."""
    iters = {name: iter(_uses(opts, name)) for name in MONITORING_OPTIONS}
    counts = {name: len(_uses(opts, name)) for name in MONITORING_OPTIONS}
    seen = {name: 0 for name in MONITORING_OPTIONS}
    out = []
    for name in order:
        if name in iters and seen[name] < counts[name]:
            seen[name] += 1
            out.append((name, next(iters[name])))
        elif name == "damos_action":
            out.append((name, None))
    # uses the order log did not see (set by a command, not typed): at the front
    for name in MONITORING_OPTIONS:
        for _ in range(counts[name] - seen[name]):
            out.insert(0, (name, next(iters[name])))
    return out


def _int_list(text, option):
    out = []
    for word in text.split(VALUE_SEP):
        try:
            value = int(word)
        except ValueError:
            _fail(option, "%r is not an index" % word)
        if value < 0:
            _fail(option, "%r is not an index" % word)
        out.append(value)
    return out


class _Ctx:
    def __init__(self):
        self.opts = {}
        self.targets = []           # [{option: value}]
        self.nr_schemes = 0
        self.probes = []            # [[(probe option, value)]], one list per probe
        self.probe_weights = []     # --probe_weight values, in order
        self.probe_preps = []


def _add_probe_event(c, name, value, marked):
    """A probe option of context c.  damo: each --probe starts a probe;
    without any --probe on the command line all filters are one probe's; the
    weights go to the probes in order."""
    if name == "probe":
        c.probes.append([])
    elif name == "probe_weight":
        c.probe_weights.extend(value.split(VALUE_SEP))
    elif name == "probe_prep":
        c.probe_preps.append(value)
    else:
        if not c.probes:
            if marked:
                # damo's set_nr_args(): a filter before the first --probe
                _fail(name, "wrong position of --%s (before the first --probe)" % name)
            c.probes.append([])
        c.probes[-1].append(value)


class _Kdamond:
    def __init__(self):
        self.opts = {}
        self.contexts = []


def layout(opts, order=None):
    """The command line's kdamonds, contexts and targets: [_Kdamond]."""
    from damo.params import schemes

    if order is None:
        order = schemes.option_order()
    events = _events(opts, order)
    names = [n for n, _ in events]
    marked = {m: m in names for m in MARKERS}
    # damo counts the probe options per --probe once any start marker
    # (--kdamond, --damon_ctx, --probe, --damos_scheme) is on the command line
    probe_marked = "probe" in names or any(marked.values()) or "damos_scheme" in order
    if not any(marked.values()):
        return _unmarked(events, probe_marked)
    kdamonds = []
    if not marked["kdamond"]:
        kdamonds.append(_Kdamond())
    for name, value in events:
        if name == "kdamond":
            kdamonds.append(_Kdamond())
            continue
        if not kdamonds:
            _fail(name, "comes before the first --kdamond")
        kd = kdamonds[-1]
        if name in KDAMOND_OPTIONS:
            if name in kd.opts:
                _fail(name, "given twice for kdamond %d" % (len(kdamonds) - 1))
            kd.opts[name] = value
            continue
        if name == "damon_ctx":
            kd.contexts.append(_Ctx())
            continue
        if not kd.contexts:
            # implied (a later --damon_ctx of this kdamond makes a second one)
            kd.contexts.append(_Ctx())
        c = kd.contexts[-1]
        if name in CTX_OPTIONS:
            if name in c.opts:
                _fail(name, "given twice for one context (mark each context with "
                      "--damon_ctx)")
            c.opts[name] = value
        elif name == "damon_target":
            c.targets.append({})
        elif name in TARGET_OPTIONS:
            if not c.targets:
                c.targets.append({})
            t = c.targets[-1]
            if name in t:
                _fail(name, "given twice for one target (mark each target with "
                      "--damon_target)")
            t[name] = value
        elif name == "damos_action":
            c.nr_schemes += 1
        elif name == "probe" or name in PROBE_OPTIONS:
            _add_probe_event(c, name, value, probe_marked)
    for i, kd in enumerate(kdamonds):
        if not kd.contexts:
            kd.contexts.append(_Ctx())
        for c in kd.contexts:
            if not c.targets:
                c.targets.append({})
    return kdamonds


def _unmarked(events, probe_marked=False):
    """damo's rule without markers: the n-th use is the n-th context's or
    target's; all contexts in one kdamond (the probes: the first context's)."""
    kd = _Kdamond()
    ctxs, targets = [], []
    probe_events = []
    for name, value in events:
        if name == "probe" or name in PROBE_OPTIONS:
            probe_events.append((name, value))
            continue
        if name in CTX_OPTIONS:
            k = sum(1 for c in ctxs if name in c.opts)
            if k == len(ctxs):
                ctxs.append(_Ctx())
            ctxs[k].opts[name] = value
        elif name in TARGET_OPTIONS:
            k = sum(1 for t in targets if name in t)
            if k == len(targets):
                targets.append({})
            targets[k][name] = value
        elif name in KDAMOND_OPTIONS:
            if name in kd.opts:
                _fail(name, "given twice for one kdamond (mark each kdamond with --kdamond)")
            kd.opts[name] = value
    if not ctxs:
        ctxs.append(_Ctx())
    if not targets:
        targets.append({})
    if len(ctxs) > 1:
        name = next(n for n in CTX_OPTIONS if sum(1 for c in ctxs if n in c.opts) > 1)
        _fail(name, "given %d times: that is %d contexts, and a kdamond runs one context "
              "(the kernel's nr_contexts takes 0 or 1); start each with --kdamond"
              % (sum(1 for c in ctxs if name in c.opts), len(ctxs)))
    ctxs[0].targets = targets
    ctxs[0].nr_schemes = sum(1 for n, _ in events if n == "damos_action")
    for name, value in probe_events:
        _add_probe_event(ctxs[0], name, value, probe_marked)
    kd.contexts = ctxs
    return [kd]


def _context(c, autotune, machine, where):
    # the workload is the target, as damo's <deducible target> command: vaddr
    ctx = params_mod.ContextParams(ops=c.opts.get("ops") or "vaddr")
    if "monitoring_intervals" in c.opts:
        ctx.sample_us, ctx.aggr_us, ctx.update_us = (
            params_mod.parse_us(v, "--monitoring_intervals")
            for v in c.opts["monitoring_intervals"])
    if autotune:
        ctx.intervals_goal = params_mod.IntervalsGoal(*params_mod.AUTOTUNE_GOAL)
    if "monitoring_intervals_goal" in c.opts:
        bp, aggrs, lo, hi = c.opts["monitoring_intervals_goal"]
        goal = params_mod.IntervalsGoal(
            params_mod._number(bp, "--monitoring_intervals_goal", units.to_bp),
            params_mod._number(aggrs, "--monitoring_intervals_goal"),
            params_mod.parse_us(lo, "--monitoring_intervals_goal"),
            params_mod.parse_us(hi, "--monitoring_intervals_goal"))
        ctx.intervals_goal = goal if goal.aggrs else None
    if "monitoring_nr_regions_range" in c.opts:
        ctx.min_nr_regions, ctx.max_nr_regions = (
            params_mod._number(v, "--monitoring_nr_regions_range")
            for v in c.opts["monitoring_nr_regions_range"])
    if "damon_addr_unit" in c.opts:
        ctx.addr_unit = params_mod.parse_bytes(c.opts["damon_addr_unit"], "--damon_addr_unit")
    ctx.probes = _probes(c)
    for t in c.targets:
        ctx.targets.append(_target(t, ctx.ops, machine))
    return ctx


def _probe_filter(text):
    """damo's probe_filter_for(): <allow|reject> [non] <type> [memcg path]."""
    fields = text.split(VALUE_SEP)
    if len(fields) < 2:
        _fail("probe_filter", "expected >=2 fields but %d" % len(fields))
    if fields[0] not in ("allow", "reject"):
        _fail("probe_filter", "expected allow|reject but %s" % fields[0])
    allow = fields[0] == "allow"
    fields = fields[1:]
    matching = True
    if fields[0] == "non":
        matching = False
        fields = fields[1:]
    if not fields:
        _fail("probe_filter", "filter type is not given")
    ftype, fields = fields[0], fields[1:]
    f = params_mod.ProbeFilterParams(ftype, matching, allow)
    if ftype == "memcg":
        if not fields:
            _fail("probe_filter", "memcg path is not given")
        f.memcg_path = fields[0]
    try:
        f.validate("--probe_filter")
    except DamoError as e:
        raise DamoError(str(e), exit_code=2)
    return f


def _probe_weight(text):
    try:
        value = int(text)
    except ValueError:
        _fail("probe_weight", "%r is not an integer" % text)
    if value < 0 or value > 0xFFFFFFFF:
        _fail("probe_weight", "%d is out of range (0 to 4294967295)" % value)
    return value


def _probes(c):
    """damo's probes_for(): the context's probes from its --probe markers,
    --probe_filter and --probe_weight options."""
    if c.probe_preps:
        _fail("probe_prep", "probe preps are in mm.git only; the simulated kernel "
              "(Linux 7.3) has none")
    nr_filters = sum(len(p) for p in c.probes)
    weights = [_probe_weight(w) for w in c.probe_weights]
    if nr_filters == 0:
        # damo makes no probe without a filter (weights alone are ignored)
        return []
    if len(c.probes) > params_mod.MAX_PROBES:
        _fail("probe", "%d probes: the kernel takes at most %d (sysfs nr_probes)"
              % (len(c.probes), params_mod.MAX_PROBES))
    if len(weights) > len(c.probes):
        _fail("probe_weight", "mismatches --nr_probe_filters (%d > %d)"
              % (len(weights), len(c.probes)))
    weights += [0] * (len(c.probes) - len(weights))
    return [params_mod.ProbeParams([_probe_filter(f) for f in filters], w)
            for filters, w in zip(c.probes, weights)]


def _target(t, ops, machine):
    if "target_pid" in t:
        _fail("target_pid", "%d: %s" % (t["target_pid"], TARGET_PID_HINT))
    regions = params_mod.parse_regions(t["regions"]) if t.get("regions") else []
    if "numa_node" in t:
        nodes = _int_list(t["numa_node"], "numa_node")
        if ops != "paddr":
            _fail("numa_node", "limits paddr targets only (this one is %s)" % ops)
        if regions:
            _fail("numa_node", "give the target's regions or its nodes, not both")
        if machine is None:
            return params_mod.TargetParams(None, [])     # resolved with the machine
        ranges = []
        for n in nodes:
            if n >= len(machine.nodes):
                _fail("numa_node", "node %d does not exist (the machine has %d node%s)" % (
                    n, len(machine.nodes), "s" if len(machine.nodes) > 1 else ""))
            ranges.append((machine.nodes[n]["phys_start"], machine.nodes[n]["phys_end"]))
        regions = _merge(ranges)
    return params_mod.TargetParams(None, regions)


def _merge(ranges):
    """Sorted ranges with the overlapping or touching ones merged (damo's
    merge_ranges())."""
    out = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def kdamonds_from_options(opts, machine=None, order=None, schemes=None, nr_workloads=1):
    """The KdamondParams the command line gives (without --kdamonds/--preset).
    ``schemes``: the --damos_* schemes in order (default: from opts).  A
    virtual address context whose targets are not given monitors each of
    the ``nr_workloads`` workloads (damo's <deducible target>)."""
    from damo.params import schemes as schemes_mod

    if order is None:
        order = schemes_mod.option_order()
    kds = layout(opts, order)
    if schemes is None:
        schemes = schemes_mod.schemes_from_options(opts, order)
    autotune = bool(opts.get("monitoring_intervals_autotune"))
    out, si, ctx_idx, target_idx = [], 0, 0, 0
    pause = set()
    for use in _uses(opts, "pause_ctx"):
        pause.update(_int_list(use, "pause_ctx"))
    obsolete = set()
    for use in _uses(opts, "obsolete_targets"):
        obsolete.update(_int_list(use, "obsolete_targets"))
    for ki, kd in enumerate(kds):
        kp = params_mod.KdamondParams([])
        if "refresh_stat" in kd.opts:
            kp.refresh_ms = params_mod.parse_ms(kd.opts["refresh_stat"], "--refresh_stat")
        if len(kd.contexts) > 1:
            raise DamoError("--damon_ctx: kdamond %d has %d contexts, and a kdamond runs one "
                            "(the kernel's nr_contexts takes 0 or 1); start each with "
                            "--kdamond" % (ki, len(kd.contexts)), exit_code=2)
        for c in kd.contexts:
            if c.targets == [{}] and nr_workloads > 1 and c.opts.get("ops", "vaddr") != "paddr":
                c.targets = [{} for _ in range(nr_workloads)]
            ctx = _context(c, autotune, machine, "context %d" % ctx_idx)
            if ctx.probes and ctx.ops != "paddr":
                # 7.3's vaddr and fvaddr register no apply_probes() (the kernel
                # takes the probes all the same)
                _warn_once("--probe_filter: the %s operations set applies no probes (only "
                           "paddr does in Linux 7.3): the probe hits stay 0%s"
                           % (ctx.ops, ", and with a weight nothing is monitored"
                              if any(p.weight for p in ctx.probes) else ""))
            ctx.schemes = schemes[si:si + c.nr_schemes]
            si += c.nr_schemes
            ctx.pause = ctx_idx in pause
            for t in ctx.targets:
                t.obsolete = target_idx in obsolete
                target_idx += 1
            ctx_idx += 1
            kp.contexts.append(ctx)
        out.append(kp)
    for idx in sorted(pause):
        if idx >= ctx_idx:
            _fail("pause_ctx", "there is no context %d (%d given)" % (idx, ctx_idx))
    for idx in sorted(obsolete):
        if idx >= target_idx:
            _fail("obsolete_targets", "there is no target %d (%d given)" % (idx, target_idx))
    return out


def _warn_once(msg):
    """A warning, once per command (the options may be parsed more than once)."""
    cctx = click.get_current_context(silent=True)
    warned = cctx.meta.setdefault("damo.warned", set()) if cctx is not None else set()
    if msg not in warned:
        warned.add(msg)
        click.echo("damo: warning: " + msg, err=True)


def given(opts, order=None):
    """Names of the monitoring options given on the command line."""
    return [n for n in MONITORING_OPTIONS if _uses(opts, n)]


def deduce_target(workload, opts):
    """damo's <deducible string> beside our workloads: 'paddr' (or 'vaddr',
    'fvaddr') picks the operation set, a pid is a real process (refused), a
    damo kdamonds JSON/YAML file is --kdamonds; anything else is a workload.
    Returns the workload (None for the default one); may set opts."""
    import os

    if workload is None:
        return None
    if workload in params_mod.OPS:
        if _uses(opts, "ops") and list(_uses(opts, "ops")) != [workload]:
            import click as _click
            _click.echo("damo: warning: --ops is overridden by the target %s" % workload,
                        err=True)
        opts["ops"] = (workload,)
        return None
    if workload.isdigit():
        raise DamoError("%s: %s" % (workload, TARGET_PID_HINT), exit_code=2)
    if os.path.isfile(workload) and _is_kdamonds_file(workload):
        if opts.get("kdamonds_file"):
            raise DamoError("%s: a kdamonds file, and --kdamonds gives another" % workload,
                            exit_code=2)
        opts["kdamonds_file"] = workload
        return None
    return workload


def _is_kdamonds_file(path):
    """A damo kdamonds JSON/YAML file (not a masim config)."""
    import json
    try:
        with open(path) as f:
            head = f.read(1 << 20)
    except OSError:
        return False
    try:
        data = json.loads(head)
    except ValueError:
        if not path.endswith((".yaml", ".yml")):
            return False
        try:
            import yaml
            data = yaml.load(head, Loader=params_mod._yaml_loader(yaml))
        except Exception:
            return False
    return isinstance(data, dict) and "kdamonds" in data or isinstance(data, list) and \
        all(isinstance(k, dict) and "contexts" in k for k in data) and bool(data)


def child_tasks_options(f):
    """damo record's --include_child_tasks/--exclude_child_tasks."""
    f = click.option("--include_child_tasks", "child_tasks", flag_value="include",
                     help="record the accesses of the target's child processes too")(f)
    f = click.option("--exclude_child_tasks", "child_tasks", flag_value="exclude",
                     default=True,
                     help="do not record the accesses of child processes (the default)")(f)
    return f


def check_child_tasks(child_tasks, workload_name, traced):
    """What --include_child_tasks can mean here: simulated workloads run one
    process; a traced program's forked children write their accesses into
    the same lackey stream, with nothing to tell them apart."""
    if child_tasks != "include":
        return
    if traced:
        raise DamoError("--include_child_tasks: the forked children of a traced program "
                        "cannot be told apart from it in valgrind lackey's trace (they are "
                        "left out); trace each program by itself", exit_code=2)
    click.echo("damo: note: --include_child_tasks: %s runs one process; it has no child "
               "tasks" % workload_name, err=True)
