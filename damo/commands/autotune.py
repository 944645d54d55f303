"""``damo autotune``: search DAMOS scheme parameters on the simulator.

Each trial is one simulated run of the workload under a candidate scheme
(damo.evaluation), scored against a baseline run without a scheme; optuna
picks the candidates (damo.autotune.search)."""
import sys
import time

import click

from damo.commands import record as record_cmd
from damo.cliutil import VALUE_SEP
from damo.errors import DamoError


def _action_option(f):
    from damo.params import schemes as s_mod
    return click.option("--damos_action", "damos_action", cls=s_mod._DamosOption,
                        metavar="<action> [<target nid>]",
                        help="the DAMOS action whose scheme to tune (default: pageout); "
                             "migrate_hot and migrate_cold take the node to migrate to")(f)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("workload", required=False, metavar="[WORKLOAD]")
@record_cmd.simulation_options
@_action_option
@click.option("--preset", metavar="<name>",
              help="tune a preset's parameters instead (reclaim, lru_sort, mtier, prcl, ethp)")
@click.option("--ops", type=click.Choice(["vaddr", "fvaddr", "paddr"]),
              help="operation set of the tuned scheme (default: vaddr, or paddr for "
                   "actions only paddr has)")
@click.option("--space", "spaces", multiple=True, metavar="<name>=<lo>..<hi>,...",
              help="the parameters to search: NAME=LO..HI, NAME=A|B or NAME=VALUE, comma "
                   "separated (default: per action or preset; see the description)")
@click.option("--objective", default="damoos", show_default=True, metavar="<objective>",
              help="damoos, tiering, or an expression over the metrics to maximize")
@click.option("--runtime_weight", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="damoos: importance of the runtime overhead against the RSS one")
@click.option("--runtime_cap", default="20%", show_default=True, metavar="<percent>",
              help="damoos: runtime overheads above this score -1000")
@click.option("--sampler", type=click.Choice(["tpe", "grid", "random"]), default="tpe",
              show_default=True, help="how optuna picks the candidates")
@click.option("--sampler_seed", type=click.IntRange(min=0), metavar="<seed>",
              help="the sampler's random seed (default: --seed); hosts sharing a study "
                   "give each its own")
@click.option("--grid_points", type=click.IntRange(min=1), default=4, show_default=True,
              help="grid sampler: values per range")
@click.option("--trials", type=click.IntRange(min=1), default=50, show_default=True,
              help="trials the study ends with (a resumed study counts those it has)")
@click.option("--batch", type=click.IntRange(min=1),
              help="trials asked and evaluated together (default: the workers); the "
                   "search is the same for a seed and a batch size")
@click.option("--jobs", type=click.IntRange(min=1),
              help="local worker processes (default: the CPUs)")
@click.option("--scheduler", metavar="<address>",
              help="run the evaluations on this dask.distributed scheduler instead")
@click.option("--storage", metavar="<url>",
              help="optuna storage of the study (default: sqlite:///autotune.db; a "
                   "database server's URL lets several hosts share one study)")
@click.option("--study_name", metavar="<name>",
              help="the study's name (default: WORKLOAD-ACTION or WORKLOAD-PRESET)")
@click.option("--compare", metavar="<presets>",
              help="hand-made schemes to compare with, comma separated, or none (default: "
                   "prcl,reclaim for cold-memory actions, the preset's defaults)")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="<seconds>",
              help="simulate at most this many seconds of each run")
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True,
              help="best trials to list")
@click.option("--plot", metavar="<file>",
              help="draw RSS saving against runtime overhead of every trial (png, svg, pdf)")
@click.option("-o", "--out", default="autotune.json", show_default=True, metavar="<file>",
              help="where to write the best scheme, as a damo kdamonds JSON file")
def autotune(workload, memory, sequential_access_rate, random_access_rate, seed, damos_action,
             preset, ops, spaces, objective, runtime_weight, runtime_cap, sampler,
             sampler_seed, grid_points, trials, batch, jobs, scheduler, storage, study_name,
             compare, timeout, top, plot, out):
    """Search the parameters of a DAMOS scheme for WORKLOAD on the simulator.

    Every trial runs WORKLOAD (a built-in, one of masim's configs, a masim
    config file, a saved trace or a recording to replay) on the --memory
    machine under a candidate scheme and scores it against a run without
    one; optuna (TPE, grid or random) picks the candidates.  The study is
    kept in --storage: ^C stops a search, the same command continues it.

    Space parameters of a scheme: min_age max_age sz_min sz_max nr_min
    nr_max apply_interval quota_ms quota_sz quota_reset weight_sz
    weight_nr weight_age goal_some_mem_psi_us goal_node_mem_used_bp
    goal_node_mem_free_bp wmarks_high wmarks_mid wmarks_low sample aggr
    min_nr_regions max_nr_regions; of a preset: its --preset_param names.

    Objectives: damoos (DAMOOS's score: -w * runtime overhead % - (1 - w) *
    RSS overhead %, -1000 above the runtime cap), tiering (the fastest
    node's share of accesses / (1 + bytes migrated per RSS byte)), or an
    expression: a metric's name is its overhead (rss.avg, runtime, ...),
    this.NAME and baseline.NAME its values, e.g. '-rss.avg - 2 * runtime'.
    """
    from damo.autotune import objectives, search as search_mod, space as space_mod
    from damo.evaluation import Evaluation
    from damo.params import schemes as s_mod

    action_words = None
    if damos_action:
        if len(damos_action) > 1:
            raise DamoError("--damos_action: autotune tunes one scheme; give it once",
                            exit_code=2)
        action_words = damos_action[0].split(VALUE_SEP)
    if preset and action_words:
        raise DamoError("--preset: cannot be used with --damos_action", exit_code=2)
    space_text = ",".join(spaces) if spaces else None
    if preset:
        if ops:
            raise DamoError("--ops: the preset gives the operation set", exit_code=2)
        space = space_mod.Space.for_preset(preset, space_text)
        kind = preset
    else:
        action, nid = _parse_action(action_words or ["pageout"], s_mod)
        space = space_mod.Space.for_scheme(action, nid, ops, space_text)
        kind = "hot" if action in space_mod.HOT_ACTIONS else "cold"
    if not space.dims:
        raise DamoError("--space: nothing to search", exit_code=2)
    cap = s_mod.to_percent(runtime_cap, "--runtime_cap") / 100
    objective_fn = objectives.make(objective, runtime_weight, cap)
    comparisons = search_mod.COMPARISONS.get(kind, ())
    if compare is not None:
        comparisons = () if compare.strip() == "none" else tuple(
            c.strip() for c in compare.split(","))
        from damo.params import presets
        for c in comparisons:
            if c not in presets.PRESETS:
                raise DamoError("--compare: unknown preset %r (one of: %s, or none)"
                                % (c, ", ".join(presets.PRESETS)), exit_code=2)
    if plot:
        from damo.reports import plot as plot_mod
        plot_mod.image_kind(plot)
    template = Evaluation(workload, memory, seed=seed, access_rate=sequential_access_rate,
                          random_access_rate=random_access_rate, timeout=timeout)
    s = search_mod.Search(template, space, objective_fn, sampler,
                          seed if sampler_seed is None else sampler_seed, grid_points,
                          comparisons)
    # the workload and one point of the space must run before anything is stored
    from damo.evaluation import evaluate, EvaluationError
    import dataclasses
    try:
        evaluate(dataclasses.replace(s.baseline_evaluation(), timeout=1e-3))
    except EvaluationError as e:
        raise DamoError(str(e), exit_code=2) from None
    try:
        evaluate(dataclasses.replace(s.evaluation(space.midpoint()), timeout=1e-3))
    except EvaluationError as e:
        message = str(e)
        if message.startswith("evaluation kdamonds: "):
            message = message[len("evaluation kdamonds: "):]
        raise DamoError("the scheme to tune: %s" % message, exit_code=2) from None
    storage = storage or "sqlite:///autotune.db"
    name = study_name or search_mod.default_study_name(template, space)
    from damo.evaluation import Evaluator
    evaluator = Evaluator(jobs=jobs, scheduler=scheduler)     # a bad --scheduler: no study
    try:
        study = s.open_study(storage, name)
        try:
            _search(s, study, evaluator, name, storage, workload, memory, batch, trials,
                    sampler, objective_fn, space, template, top, plot, out)
        finally:
            s.close()
    finally:
        evaluator.close(cancel=True)


def _search(s, study, evaluator, name, storage, workload, memory, batch, trials,
            sampler, objective_fn, space, template, top, plot, out):
    from damo.autotune import report, search as search_mod

    interrupted = False
    try:
        cached = s.cached(study, evaluator)
        baseline = cached.pop("baseline")
        batch = batch or evaluator.nr_workers
        with _Progress(objective_fn.describe()) as progress:
            progress.start(len(s.finished(study)),
                           min(trials, s.grid_size()) if sampler == "grid" else trials,
                           search_mod.best(s.trials(study)))
            trials_done = s.run(study, evaluator, trials, batch, baseline,
                                on_trial=progress.update)
    except KeyboardInterrupt:
        interrupted = True
    if interrupted:
        n = len(s.finished(study))
        click.echo("damo: interrupted: the study %s in %s has %d finished trial%s; the same "
                   "command continues it" % (name, storage, n, "" if n == 1 else "s"), err=True)
        raise SystemExit(130)
    ranked = search_mod.best(trials_done)
    _print_summary(name, storage, trials_done, ranked, baseline, cached, space, objective_fn,
                   top, template)
    if not ranked:
        raise DamoError("no trial finished with a score: every candidate failed (first "
                        "error: %s)" % next((t.error for t in trials_done if t.error), "?"))
    best = ranked[0]
    report.write_kdamonds(out, best.result.kdamonds)
    if plot:
        report.plot(plot, trials_done, baseline, cached, best,
                    "%s on %s: %d trials, %s" % (workload or "stairs", memory or "default",
                                                 len(trials_done), objective_fn.describe()),
                    labels=search_mod.COMPARISON_LABELS)
    click.echo("best: trial %d, score %.3f: %s" % (best.number, best.score,
                                                  space.describe_point(best.params)))
    click.echo("wrote the best scheme to %s (damo start --kdamonds %s)" % (out, out))


def _parse_action(words, s_mod):
    action = words[0]
    if action not in s_mod.ACTIONS:
        raise DamoError("--damos_action: unknown action %r (one of: %s)"
                        % (action, ", ".join(s_mod.ACTIONS)), exit_code=2)
    nid = None
    if action in s_mod.MIGRATE_ACTIONS:
        if len(words) < 2:
            raise DamoError("--damos_action: %s needs the node to migrate to (e.g. "
                            "--damos_action %s 1)" % (action, action), exit_code=2)
        nid = s_mod.to_nr(words[1], "--damos_action", s_mod.INT_MAX)
    elif len(words) > 1:
        raise DamoError("--damos_action: %s takes no argument" % action, exit_code=2)
    return action, nid


def _print_summary(name, storage, trials, ranked, baseline, comparisons, space, objective, top,
                   template):
    from rich.console import Console
    from damo.autotune import report, search as search_mod
    console = Console(highlight=False, width=max(160, Console().width),
                      force_terminal=None if sys.stdout.isatty() else False)
    nr_ok = len(ranked)
    console.print("study %s in %s: %d trials (%d scored, %d failed); %s" % (
        name, storage, len(trials), nr_ok, len(trials) - nr_ok, objective.describe()))
    console.print("searched: %s" % space.describe())
    console.print(report.table(ranked, baseline, comparisons, space, objective, top,
                               search_mod.COMPARISON_LABELS))


class _Progress:
    """A progress bar of the trials and the best score so far (a line per
    tenth of the trials without a terminal)."""

    def __init__(self, what):
        self.what = what
        self.bar = None

    def __enter__(self):
        return self

    def start(self, done, total, ranked):
        self.total = total
        self.best = ranked[0] if ranked else None
        self.t0 = time.monotonic()
        self.last_line = done
        if sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
            self.bar = Progress(TextColumn("[bold]autotune"), BarColumn(),
                                TextColumn("{task.completed}/{task.total} trials"),
                                TextColumn("{task.fields[best]}"), TimeElapsedColumn(),
                                transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task("autotune", total=total, completed=done,
                                          best=self._best())

    def _best(self):
        if self.best is None:
            return "best: -"
        return "best %.3f (trial %d)" % (self.best.score, self.best.number)

    def update(self, trial, done, total):
        if trial.score is not None and (self.best is None or trial.score > self.best.score):
            self.best = trial
        if self.bar is not None:
            self.bar.update(self.task, completed=done, best=self._best())
        elif done == total or done - self.last_line >= max(1, total // 10):
            self.last_line = done
            click.echo("autotune: %d/%d trials, %s, %.1f s" % (
                done, total, self._best(), time.monotonic() - self.t0), err=True)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False
