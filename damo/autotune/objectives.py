"""What ``damo autotune`` maximizes, from a trial's evaluation and the
baseline's (both ``damo.evaluation.Result``).

- ``damoos``: DAMOOS's score (its scheme adapters' score function): with
  the runtime and rss.avg overheads in percent, ``-w * runtime - (1 - w) *
  rss`` (w: the runtime importance, 0.5), and -1000 when the runtime
  overhead is above the cap (20%).  A scheme that saves 33% of the RSS for
  3.8% more runtime scores 14.6.
- ``tiering``: the share of the accesses served by the fastest node,
  divided by one plus the bytes migrated per byte of average RSS (without
  the one, not migrating at all would score infinitely well).
- an expression over the metrics ``report profile --baseline`` prints:
  a metric's bare name is its overhead (variant / baseline - 1, e.g.
  ``rss.avg``: -0.3 for 30% less), ``this.NAME`` and ``baseline.NAME`` the
  values (runtime in ns, sizes in bytes), plus ``fast_access_share`` and
  ``migrated_bytes``; + - * / ** %, comparisons, ``x if c else y``, min,
  max, abs, log, sqrt.  E.g. ``-rss.avg - 2 * runtime``.
"""
import ast
import math

from damo.errors import DamoError
from damo.reports import profile

METRICS = profile.COMPARED_METRICS + ("rss.max",)
DAMOOS_PENALTY = -1000.0


def fast_access_share(result):
    total = sum(result.accesses_by_node)
    return result.accesses_by_node[0] / total if total else 0.0


def migrated_bytes(result):
    return result.vmstat.get("pgmigrate_success", 0) * 4096


def _overhead(result, baseline, name):
    b, v = baseline.summary[name], result.summary[name]
    if b:
        return v / b - 1.0
    return 0.0 if v == b else math.inf


class Objective:
    name = None

    def describe(self):
        return self.name

    def __call__(self, result, baseline):
        raise NotImplementedError


class Damoos(Objective):
    name = "damoos"

    def __init__(self, runtime_weight=0.5, runtime_cap=0.2):
        if not 0 <= runtime_weight <= 1:
            raise DamoError("--runtime_weight: must be between 0 and 1", exit_code=2)
        self.weight = runtime_weight
        self.cap = runtime_cap

    def describe(self):
        return "damoos (runtime weight %g, runtime overhead cap %g%%)" % (self.weight,
                                                                          self.cap * 100)

    def __call__(self, result, baseline):
        runtime = _overhead(result, baseline, "runtime") * 100
        if runtime > self.cap * 100:
            return DAMOOS_PENALTY
        rss = _overhead(result, baseline, "rss.avg") * 100
        return -self.weight * runtime - (1 - self.weight) * rss


class Tiering(Objective):
    name = "tiering"

    def describe(self):
        return "tiering (fast-node access share / (1 + migrated bytes per RSS byte))"

    def __call__(self, result, baseline):
        rss = result.summary["rss.avg"] or 1.0
        return fast_access_share(result) / (1.0 + migrated_bytes(result) / rss)


_FUNCTIONS = {"min": min, "max": max, "abs": abs, "log": math.log, "sqrt": math.sqrt}
_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
           ast.Pow: lambda a, b: a ** b, ast.Mod: lambda a, b: a % b}
_CMPOPS = {ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
           ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
           ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}


def names():
    """The names an expression may use."""
    out = list(METRICS)
    out += ["this." + m for m in METRICS] + ["baseline." + m for m in METRICS]
    return out + ["fast_access_share", "migrated_bytes"]


def _dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else inner + "." + node.attr
    return None


class Expression(Objective):
    name = "expression"

    def __init__(self, text):
        self.text = text
        try:
            self.tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as e:
            raise DamoError("--objective: %r is not an expression (%s at column %s)"
                            % (text, e.msg, e.offset), exit_code=2) from None
        known = set(names())
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.Name, ast.Attribute)):
                name = _dotted(node)
                if name is None:
                    raise DamoError("--objective: %r: only metric names and numbers may be "
                                    "used" % text, exit_code=2)
            if isinstance(node, ast.Call):
                if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS \
                        or node.keywords:
                    raise DamoError("--objective: %r: the functions are %s"
                                    % (text, ", ".join(_FUNCTIONS)), exit_code=2)
        # every name, outermost dotted form only
        self._check(self.tree.body, known)

    def _check(self, node, known):
        name = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name is not None:
            if name not in known and name not in _FUNCTIONS:
                raise DamoError("--objective: unknown name %r (the names: %s)"
                                % (name, ", ".join(names())), exit_code=2)
            return
        if isinstance(node, ast.Call):
            for a in node.args:
                self._check(a, known)
            return
        allowed = (ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.BoolOp, ast.Constant)
        if not isinstance(node, allowed):
            raise DamoError("--objective: %r: %s is not allowed in an objective"
                            % (self.text, type(node).__name__), exit_code=2)
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise DamoError("--objective: %r: only numbers are constants" % self.text,
                            exit_code=2)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.operator, ast.unaryop, ast.cmpop, ast.boolop)):
                continue
            self._check(child, known)

    def describe(self):
        return "expression %s" % self.text

    def values(self, result, baseline):
        v = {m: _overhead(result, baseline, m) for m in METRICS}
        v.update({"this." + m: result.summary[m] for m in METRICS})
        v.update({"baseline." + m: baseline.summary[m] for m in METRICS})
        v["fast_access_share"] = fast_access_share(result)
        v["migrated_bytes"] = migrated_bytes(result)
        return v

    def __call__(self, result, baseline):
        values = self.values(result, baseline)
        try:
            return float(self._eval(self.tree.body, values))
        except (ZeroDivisionError, OverflowError, ValueError):
            return math.nan

    def _eval(self, node, v):
        if isinstance(node, (ast.Name, ast.Attribute)):
            return v[_dotted(node)]
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](self._eval(node.left, v), self._eval(node.right, v))
        if isinstance(node, ast.UnaryOp):
            x = self._eval(node.operand, v)
            return -x if isinstance(node.op, ast.USub) else (
                +x if isinstance(node.op, ast.UAdd) else float(not x))
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, v)
            for op, right_node in zip(node.ops, node.comparators):
                right = self._eval(right_node, v)
                if not _CMPOPS[type(op)](left, right):
                    return 0.0
                left = right
            return 1.0
        if isinstance(node, ast.IfExp):
            return self._eval(node.body, v) if self._eval(node.test, v) else \
                self._eval(node.orelse, v)
        if isinstance(node, ast.BoolOp):
            values = [self._eval(x, v) for x in node.values]
            return float(all(values) if isinstance(node.op, ast.And) else any(values))
        if isinstance(node, ast.Call):
            return _FUNCTIONS[node.func.id](*[self._eval(a, v) for a in node.args])
        raise ValueError(type(node).__name__)


def make(text, runtime_weight=0.5, runtime_cap=0.2):
    if text is None or text.strip() == "damoos":
        return Damoos(runtime_weight, runtime_cap)
    if text.strip() == "tiering":
        return Tiering()
    if not text.strip():
        raise DamoError("--objective: empty (damoos, tiering or an expression)", exit_code=2)
    return Expression(text)
