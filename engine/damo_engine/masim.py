"""masim's workload configuration format (github.com/sjp38/masim), parsed the
way masim parses it, and the built-in workloads written in it.

A config is paragraphs separated by blank lines; lines starting with '#' are
dropped first.  Paragraph one lists regions (``name, size[, init_data_file]``);
every later paragraph is a phase: a name, a duration in ms, then access
patterns ``region, randomness(0|1), stride, weight[, ro|wo|rw]``.  As an
extension, sizes may carry masim.py's suffixes (b, k, m, g, t).
"""
from dataclasses import dataclass, field

RW_MODES = ("ro", "wo", "rw")
DEFAULT_RW_MODE = "wo"              # masim's default: write-only
_SUFFIXES = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
# What one simulated process holds (its regions are laid out in a 47-bit user
# address space, and the default machine is sized after them), the longest
# workload (simulated ns stay within int64) and masim's int weights.
MAX_TOTAL_SIZE = 16 << 40
MAX_TOTAL_MS = 10 ** 12
MAX_WEIGHT = 2 ** 31 - 1


class ConfigError(ValueError):
    """A malformed config; the message names the file and line."""


@dataclass
class Region:
    name: str
    size: int
    init_data_file: str = "none"


@dataclass
class Pattern:
    region: int                 # index into MasimConfig.regions
    random: bool
    stride: int
    weight: int
    rw_mode: str = DEFAULT_RW_MODE


@dataclass
class Phase:
    name: str
    duration_ms: int
    patterns: list = field(default_factory=list)


@dataclass
class MasimConfig:
    regions: list
    phases: list
    source: str = "<config>"

    @property
    def total_ms(self):
        return sum(p.duration_ms for p in self.phases)

    @property
    def total_size(self):
        return sum(r.size for r in self.regions)

    def scaled(self, factor):
        """The same workload with every region `factor` times larger."""
        return MasimConfig([Region(r.name, int(r.size * factor), r.init_data_file)
                            for r in self.regions],
                           [Phase(p.name, p.duration_ms, list(p.patterns))
                            for p in self.phases],
                           "%s x%g" % (self.source, factor))

    def to_text(self):
        lines = ["# regions"]
        lines += ["%s, %d, %s" % (r.name, r.size, r.init_data_file) for r in self.regions]
        for p in self.phases:
            lines += ["", p.name, str(p.duration_ms)]
            lines += ["%s, %d, %d, %d, %s" % (self.regions[a.region].name, int(a.random),
                                              a.stride, a.weight, a.rw_mode)
                      for a in p.patterns]
        return "\n".join(lines) + "\n"


def _int(text, what, where, allow_suffix=False, maximum=None):
    t = text.strip().lower()
    mult = 1
    if allow_suffix and t and t[-1] in _SUFFIXES:
        mult = _SUFFIXES[t[-1]]
        t = t[:-1].strip()
    if len(t) > 30:
        raise ConfigError("%s: %s %r is out of range" % (where, what, text.strip()[:40]))
    try:
        value = int(t, 10) * mult
    except ValueError:
        raise ConfigError("%s: %s must be an integer, not %r" % (where, what, text.strip()))
    if maximum is not None and value > maximum:
        raise ConfigError("%s: %s %s is out of range (at most %d)"
                          % (where, what, text.strip(), maximum))
    return value


def parse(text, source="<config>"):
    """Parse masim config text; raises ConfigError naming source and line."""
    # paragraphs of (line number, text), comments dropped before splitting
    paragraphs, current = [], []
    for lineno, raw in enumerate(text.splitlines(), 1):
        if raw.lstrip().startswith("#"):
            continue
        if not raw.strip():
            if current:
                paragraphs.append(current)
                current = []
            continue
        current.append((lineno, raw.strip()))
    if current:
        paragraphs.append(current)
    if not paragraphs:
        raise ConfigError("%s: no regions: the config is empty" % source)

    regions, names = [], {}
    for lineno, line in paragraphs[0]:
        where = "%s:%d" % (source, lineno)
        fields = [f.strip() for f in line.split(",")]
        if len(fields) not in (2, 3):
            raise ConfigError("%s: a region line is 'name, size[, init_data_file]', got %r"
                              % (where, line))
        name = fields[0]
        if not name:
            raise ConfigError("%s: region name is empty" % where)
        if name in names:
            raise ConfigError("%s: region %r is defined twice" % (where, name))
        size = _int(fields[1], "region size", where, allow_suffix=True,
                    maximum=MAX_TOTAL_SIZE)
        if size <= 0:
            raise ConfigError("%s: region size must be positive, not %d" % (where, size))
        if sum(r.size for r in regions) + size > MAX_TOTAL_SIZE:
            raise ConfigError("%s: the regions add up to more than a simulated process "
                              "holds (%d TiB)" % (where, MAX_TOTAL_SIZE >> 40))
        names[name] = len(regions)
        regions.append(Region(name, size, fields[2] if len(fields) == 3 else "none"))

    phases = []
    for para in paragraphs[1:]:
        lineno, name = para[0]
        if len(para) < 2:
            raise ConfigError("%s:%d: phase %r needs a duration line and access patterns"
                              % (source, lineno, name))
        dlineno, dline = para[1]
        duration = _int(dline, "phase duration (ms)", "%s:%d" % (source, dlineno),
                        maximum=MAX_TOTAL_MS)
        if duration < 0:
            raise ConfigError("%s:%d: phase duration must not be negative"
                              % (source, dlineno))
        if sum(p.duration_ms for p in phases) + duration > MAX_TOTAL_MS:
            raise ConfigError("%s:%d: the phases add up to more than %d ms"
                              % (source, dlineno, MAX_TOTAL_MS))
        phase = Phase(name, duration)
        for plineno, line in para[2:]:
            where = "%s:%d" % (source, plineno)
            fields = [f.strip() for f in line.split(",")]
            if len(fields) not in (4, 5):
                raise ConfigError("%s: an access pattern is 'region, randomness, stride, "
                                  "weight[, ro|wo|rw]', got %r" % (where, line))
            if fields[0] not in names:
                raise ConfigError("%s: unknown region %r" % (where, fields[0]))
            randomness = _int(fields[1], "randomness", where)
            if randomness not in (0, 1):
                raise ConfigError("%s: randomness must be 0 (sequential) or 1 (random)"
                                  % where)
            stride = _int(fields[2], "stride", where, allow_suffix=True,
                          maximum=MAX_TOTAL_SIZE)
            if stride <= 0:
                raise ConfigError("%s: stride must be positive" % where)
            weight = _int(fields[3], "weight", where, maximum=MAX_WEIGHT)
            if weight < 0:
                raise ConfigError("%s: weight must not be negative" % where)
            mode = fields[4].lower() if len(fields) == 5 else DEFAULT_RW_MODE
            if mode not in RW_MODES:
                raise ConfigError("%s: access mode must be ro, wo or rw, not %r"
                                  % (where, fields[4]))
            phase.patterns.append(Pattern(names[fields[0]], bool(randomness), stride,
                                          weight, mode))
        if phase.duration_ms and not sum(p.weight for p in phase.patterns):
            raise ConfigError("%s:%d: phase %r has no access pattern with a positive weight"
                              % (source, lineno, name))
        phases.append(phase)
    if not phases:
        raise ConfigError("%s: no phases: add a paragraph with a name, a duration and "
                          "access patterns" % source)
    return MasimConfig(regions, phases, source)


def load(path):
    """Parse a masim config file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise ConfigError("%s: not a text file" % path)
    except OSError as e:
        raise ConfigError("%s: %s" % (path, e.strerror or e))
    return parse(text, str(path))


# ---------------------------------------------------------------------------
# built-in workloads

MB = 1000 * 1000
MiB = 1 << 20


def _stairs():
    regions = [Region("s%d" % i, 10 * MB) for i in range(10)]
    phases = [Phase("initial phase", 5000, [Pattern(i, False, 4096, 1) for i in range(10)])]
    phases += [Phase("phase %d" % i, 2500, [Pattern(i, False, 4096, 50)]) for i in range(10)]
    return MasimConfig(regions, phases, "builtin:stairs")


def _zigzag():
    regions = [Region("a", 100 * MB), Region("b", 100 * MB)]
    phases = [Phase("initial phase", 5000, [Pattern(0, False, 4096, 1),
                                             Pattern(1, False, 4096, 1)])]
    for i in range(6):
        phases.append(Phase("low phase %d" % i, 2500, [Pattern(0, False, 4096, 50)]))
        phases.append(Phase("high phase %d" % i, 2500, [Pattern(1, False, 4096, 50)]))
    return MasimConfig(regions, phases, "builtin:zigzag")


def _hotcold():
    # 20 MiB hot, 180 MiB touched once and then idle: most memory is cold
    regions = [Region("hot", 20 * MiB), Region("cold", 180 * MiB)]
    phases = [Phase("populate", 2000, [Pattern(0, False, 4096, 1), Pattern(1, False, 4096, 9)]),
              Phase("steady", 28000, [Pattern(0, False, 4096, 1, "rw")])]
    return MasimConfig(regions, phases, "builtin:hotcold")


def _random_phases():
    # four 32 MiB areas; every 5 s random accesses move to another pair of areas
    regions = [Region("r%d" % i, 32 * MiB) for i in range(4)]
    pairs = [(0, 1), (2, 3), (1, 2), (0, 3), (1, 3), (0, 2)]
    phases = [Phase("phase %d: r%d+r%d" % (i, a, b), 5000,
                    [Pattern(a, True, 64, 3, "rw"), Pattern(b, True, 64, 1, "ro")])
              for i, (a, b) in enumerate(pairs)]
    return MasimConfig(regions, phases, "builtin:random_phases")


BUILTINS = {
    "stairs": (_stairs, "ten 10 MB areas, one hot at a time for 2.5 s each (30 s)"),
    "zigzag": (_zigzag, "two 100 MB areas alternately hot every 2.5 s (35 s)"),
    "hotcold": (_hotcold, "a 20 MiB hot area beside 180 MiB touched once then idle (30 s)"),
    "random_phases": (_random_phases,
                      "random accesses moving among four 32 MiB areas every 5 s (30 s)"),
}
DEFAULT_WORKLOAD = "stairs"


def builtin(name):
    try:
        return BUILTINS[name][0]()
    except KeyError:
        raise ConfigError("unknown built-in workload %r (one of: %s)"
                          % (name, ", ".join(BUILTINS)))
