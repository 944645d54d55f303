"""The search of ``damo autotune``: an optuna study whose trials are
evaluations (damo.evaluation) of points of the space.

Trials are asked in batches (``batch``: by default as many as there are
workers), evaluated in parallel and told in the order they were asked, so
that a search is the same for a seed and a batch size whatever the workers
and however fast they are.  The study is stored (SQLite by default): a
search stopped by ^C gives its unfinished trials back to the study (they are
tried first when it resumes), and running the same command again continues
until the study has ``trials`` finished trials.  The baseline and the
hand-made comparison schemes are evaluated once and kept in the study.
"""
import contextlib
import dataclasses
import json
import math
import signal
import threading

from damo.errors import DamoError
from damo.evaluation import EvaluationError, Result

SAMPLERS = ("tpe", "grid", "random")
# the hand-made schemes autotune compares with, by what it tunes
COMPARISONS = {"cold": ("prcl", "reclaim"), "hot": (), "mtier": ("mtier",),
               "lru_sort": ("lru_sort",), "ethp": ("ethp",)}
COMPARISON_LABELS = {"prcl": "prcl (damon-tests)", "reclaim": "DAMON_RECLAIM defaults",
                     "mtier": "mtier defaults", "lru_sort": "DAMON_LRU_SORT defaults",
                     "ethp": "ethp (damon-tests)"}


def result_record(result):
    """A Result as plain JSON values (kept in the study)."""
    return {"summary": result.summary, "accesses_by_node": result.accesses_by_node,
            "vmstat": result.vmstat, "schemes": result.schemes,
            "simulated_ns": result.simulated_ns, "finished": result.finished,
            "kdamonds": result.kdamonds, "wall_s": result.wall_s}


def record_result(record):
    return Result(evaluation=None, **{k: record[k] for k in (
        "summary", "accesses_by_node", "vmstat", "schemes", "simulated_ns", "finished",
        "kdamonds")}, wall_s=record.get("wall_s", 0.0))


def _optuna():
    try:
        import optuna
    except ImportError:
        raise DamoError("damo autotune needs optuna (pip install 'damo-sim[autotune]')",
                        exit_code=2) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


@dataclasses.dataclass
class Trial:
    number: int
    params: dict
    score: float
    result: Result
    state: str = "COMPLETE"
    error: str = None


def _storage(optuna, url):
    """The study's storage.  SQLite files are written ahead (WAL) without a
    sync per commit: a trial costs several commits, each an fsync otherwise
    (most of a trial's time on a busy disk); a killed search still leaves
    its committed trials (only a power loss may lose the last ones)."""
    if not url.startswith("sqlite:"):
        return url
    import sqlalchemy

    storage = optuna.storages.RDBStorage(url)

    def pragmas(connection, _record):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    sqlalchemy.event.listen(storage.engine, "connect", pragmas)
    storage.engine.dispose()        # the connections made so far: anew, with the pragmas
    return storage


class _Interrupts:
    """^C (SIGINT) waits until the study is consistent: a trial asked is
    also submitted, a trial told is told whole."""

    def __init__(self):
        self.depth = 0
        self.pending = False

    def _handler(self, signum, frame):
        if self.depth:
            self.pending = True
        else:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self._handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    @contextlib.contextmanager
    def critical(self):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if not self.depth and self.pending:
            self.pending = False
            raise KeyboardInterrupt


class Search:
    """A search: its template evaluation (workload, machine, seed), space,
    objective, sampler and comparisons."""

    def __init__(self, template, space, objective, sampler="tpe", seed=0, grid_points=4,
                 comparisons=()):
        if sampler not in SAMPLERS:
            raise DamoError("--sampler: one of %s" % ", ".join(SAMPLERS), exit_code=2)
        self.template = template
        self.space = space
        self.objective = objective
        self.sampler_name = sampler
        self.seed = seed % 2 ** 32          # numpy's RandomState takes 32 bits
        self.grid_points = grid_points
        self.comparisons = tuple(comparisons)

    # ---- what is evaluated ----
    def evaluation(self, params, key=None):
        return dataclasses.replace(self.template, key=key,
                                   **self.space.evaluation_fields(params))

    def baseline_evaluation(self):
        return dataclasses.replace(self.template, key="baseline")

    def comparison_evaluation(self, name):
        return dataclasses.replace(self.template, preset=name, key=name)

    def setup(self):
        """What a stored study must have been made with to be resumed."""
        t = self.template
        return {"workload": t.workload, "memory": t.memory, "seed": t.seed,
                "access_rate": t.access_rate, "random_access_rate": t.random_access_rate,
                "timeout": t.timeout, "space": self.space.describe(),
                "objective": self.objective.describe(), "sampler": self.sampler_name,
                "grid_points": self.grid_points if self.sampler_name == "grid" else None}

    # ---- the study ----
    def sampler(self):
        optuna = _optuna()
        if self.sampler_name == "grid":
            class Grid(optuna.samplers.GridSampler):
                def after_trial(self, study, trial, state, values):
                    # GridSampler stops the study (study.stop(), which only
                    # optimize() may call) at its last point; run() stops at the
                    # grid's size itself
                    pass
            return Grid(self.space.grid(self.grid_points), seed=self.seed)
        if self.sampler_name == "random":
            return optuna.samplers.RandomSampler(seed=self.seed)
        return optuna.samplers.TPESampler(seed=self.seed, constant_liar=True,
                                          n_startup_trials=10)

    def grid_size(self):
        n = 1
        for values in self.space.grid(self.grid_points).values():
            n *= len(values)
        return n

    def open_study(self, storage, name):
        optuna = _optuna()
        try:
            self.storage = _storage(optuna, storage)
            study = optuna.create_study(storage=self.storage, study_name=name,
                                        sampler=self.sampler(), direction="maximize",
                                        load_if_exists=True)
        except Exception as e:      # bad URLs, unreachable servers, corrupt files
            raise DamoError("--storage: cannot open the study %s in %s: %s"
                            % (name, storage, str(e).splitlines()[0] if str(e) else
                               type(e).__name__), exit_code=2) from None
        setup = self.setup()
        stored = study.user_attrs.get("setup")
        if stored is None:
            study.set_user_attr("setup", setup)
        elif stored != setup:
            differ = [k for k in setup if stored.get(k) != setup[k]]
            raise DamoError("study %s in %s was made for another search (%s differ%s); "
                            "give another --study_name or --storage" % (
                                name, storage, ", ".join(differ),
                                "s" if len(differ) == 1 else ""), exit_code=2)
        return study

    def close(self):
        """Close the study's database connections (SQLite: the write-ahead
        log goes into the file, which is then complete by itself)."""
        engine = getattr(getattr(self, "storage", None), "engine", None)
        if engine is not None:
            engine.dispose()

    def cached(self, study, evaluator, progress=None):
        """The baseline's and comparisons' Results: from the study, or
        evaluated now (once) and kept in it."""
        wanted = [("baseline", self.baseline_evaluation())] + \
            [(c, self.comparison_evaluation(c)) for c in self.comparisons]
        out = {}
        missing = []
        for name, ev in wanted:
            rec = study.user_attrs.get("cache:" + name)
            if rec is not None:
                out[name] = record_result(rec)
            else:
                missing.append((name, ev))
        if missing:
            futures = [(name, evaluator.submit(ev)) for name, ev in missing]
            for name, f in futures:
                try:
                    r = f.result()
                except EvaluationError as e:
                    raise DamoError("%s: %s" % ("the baseline" if name == "baseline"
                                                else "comparison %s" % name, e)) from None
                study.set_user_attr("cache:" + name, result_record(r))
                out[name] = r
        return out

    # ---- trials ----
    @staticmethod
    def finished(study):
        """Trials that count towards the budget (not those given back by ^C)."""
        states = _optuna().trial.TrialState
        return [t for t in study.get_trials(deepcopy=False)
                if t.state == states.COMPLETE or
                (t.state == states.FAIL and not t.user_attrs.get("interrupted"))]

    def run(self, study, evaluator, trials, batch, baseline, on_trial=None):
        """Run trials until the study has ``trials`` finished ones (fewer
        for a grid smaller than that); on_trial(Trial, done, total) after each.
        KeyboardInterrupt gives the unfinished trials back to the study."""
        optuna = _optuna()
        states = optuna.trial.TrialState
        distributions = self.space.distributions()
        total = trials
        if self.sampler_name == "grid":
            total = min(trials, self.grid_size())
        guard = _Interrupts()
        with guard.installed():
            while True:
                # counted anew each batch: other hosts may share the study
                done = len(self.finished(study))
                if done >= total:
                    break
                asked, told = [], set()
                try:
                    futures = []
                    with guard.critical():      # a trial is asked and submitted whole
                        for _ in range(min(batch, total - done)):
                            t = study.ask(distributions)
                            asked.append(t)
                            try:
                                ev = self.evaluation(t.params, key=t.number)
                            except DamoError as e:
                                futures.append((t, None, str(e)))
                                continue
                            futures.append((t, evaluator.submit(ev), None))
                    outcomes = []
                    for t, f, error in futures:
                        r = None
                        if f is not None:
                            try:
                                r = f.result()
                            except EvaluationError as e:
                                error = str(e)
                        outcomes.append((t, r, error))
                    for t, r, error in outcomes:
                        with guard.critical():
                            trial = self._tell(study, t, r, error, baseline)
                            told.add(t.number)
                        done += 1
                        if on_trial is not None:
                            on_trial(trial, done, total)
                except KeyboardInterrupt:
                    with guard.critical():
                        for t in asked:
                            if t.number in told:
                                continue
                            study.enqueue_trial(t.params, skip_if_exists=False)
                            t.set_user_attr("interrupted", True)
                            study.tell(t, state=states.FAIL)
                    raise
        return self.trials(study)

    def _tell(self, study, t, r, error, baseline):
        states = _optuna().trial.TrialState
        score = None
        if r is not None:
            score = self.objective(r, baseline)
            if not math.isfinite(score):
                error = "the objective is not a number (%s)" % score
                score = None
            t.set_user_attr("result", result_record(r))
        if score is None:
            t.set_user_attr("error", error)
            study.tell(t, state=states.FAIL)
        else:
            study.tell(t, score)
        return Trial(t.number, t.params, score, r, "COMPLETE" if score is not None else "FAIL",
                     error)

    def trials(self, study):
        """The study's finished trials as Trial, in their order."""
        states = _optuna().trial.TrialState
        out = []
        for t in study.get_trials(deepcopy=False):
            if t.state not in (states.COMPLETE, states.FAIL) or t.user_attrs.get("interrupted"):
                continue
            rec = t.user_attrs.get("result")
            out.append(Trial(t.number, dict(t.params), t.value if t.state == states.COMPLETE
                             else None, record_result(rec) if rec else None,
                             t.state.name, t.user_attrs.get("error")))
        return out


def default_study_name(template, space):
    what = space.preset or space.action
    return "%s-%s" % (template.workload or "stairs", what)


def best(trials):
    scored = [t for t in trials if t.score is not None]
    return sorted(scored, key=lambda t: (-t.score, t.number))


def dumps(x):
    return json.dumps(x, sort_keys=True)
