"""damo's command tree, from its argparse ``--help`` texts, and ours, from the
click application, in one shape: {command path: Command}, each with its
options (names, argument count, choices) and positional arguments.

damo 3.4.3's tree is read only through tests/reference_damo.py (sandboxed,
``--help`` only): ``walk_reference(run)`` starts at ``damo --help`` and
follows every subcommand group it lists (commands, report types, module
names, help topics, argument types).

An argument count ("nargs") is 0 (a flag), an int N (exactly N values),
"?" (0 or 1), "*" (any number) or "+" (one or more), as argparse spells it.
"""
import re


class Option:
    def __init__(self, names, nargs, choices=None, metavar=""):
        self.names = tuple(names)
        self.nargs = nargs
        self.choices = tuple(choices) if choices else None
        self.metavar = metavar

    @property
    def name(self):
        """The long name (damo's options all have one)."""
        longs = [n for n in self.names if n.startswith("--")]
        return longs[0] if longs else self.names[0]

    def __repr__(self):
        return "Option(%s, nargs=%r%s)" % ("/".join(self.names), self.nargs,
                                           ", choices=%r" % (self.choices,)
                                           if self.choices else "")


class Positional:
    def __init__(self, metavar, nargs, choices=None):
        self.metavar = metavar
        self.nargs = nargs
        self.choices = tuple(choices) if choices else None

    def __repr__(self):
        return "Positional(%s, nargs=%r)" % (self.metavar, self.nargs)


class Command:
    def __init__(self, path):
        self.path = tuple(path)
        self.options = {}           # long name -> Option
        self.positionals = []
        self.subcommands = []

    @property
    def name(self):
        return " ".join(self.path)


# ------------------------------------------------------------ argparse help

def _tokens(text):
    """Top-level words of a metavar string: <...>, [...], {...}, "..." groups
    kept whole (nested), separated by spaces."""
    out, cur, depth, quote = [], "", 0, False
    for ch in text:
        if ch == '"':
            quote = not quote
        elif not quote and ch in "<[{":
            depth += 1
        elif not quote and ch in ">]}":
            depth -= 1
        if ch == " " and depth == 0 and not quote:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def _nargs_choices(spec):
    """(nargs, choices) of an option's or positional's metavar string."""
    tokens = _tokens(spec.strip())
    if not tokens:
        return 0, None
    choices = None
    m = re.fullmatch(r"\{([^{}]*)\}", tokens[0])
    if m:
        choices = m.group(1).split(",")
    last = tokens[-1]
    if last.startswith("[") and last.rstrip("]").endswith("..."):
        return ("*" if len(tokens) == 1 else "+"), choices
    if len(tokens) == 1 and last.startswith("[") and last.endswith("]"):
        return "?", choices
    return len(tokens), choices


def _entry_head(line):
    """The option/positional part of a help entry (before its help text)."""
    return re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]


def parse_argparse_help(path, text):
    """A Command from one argparse --help text."""
    cmd = Command(path)
    usage_end = text.find("\n\n")
    usage = " ".join(text[:usage_end].split())
    section = None
    for line in text[usage_end:].split("\n"):
        if not line.strip():
            continue
        if not line.startswith(" ") and line.rstrip().endswith(":"):
            section = line.rstrip()[:-1]
            continue
        if section is None:
            continue
        indent = len(line) - len(line.lstrip(" "))
        word = line.strip()
        if indent == 4 and re.match(r"[A-Za-z_][\w-]*(\s{2,}|$)", word):
            cmd.subcommands.append(word.split()[0])
        elif indent == 2 and word.startswith("-"):
            head = _entry_head(line)
            # alternatives: "-o <file>, --out <file>"
            alts = re.split(r", (?=-)", head)
            names, spec = [], ""
            for alt in alts:
                name, _, rest = alt.partition(" ")
                names.append(name)
                spec = spec or rest
            if "-h" in names:
                continue
            nargs, choices = _nargs_choices(spec)
            opt = Option(names, nargs, choices, spec)
            cmd.options[opt.name] = opt
        elif indent == 2 and (word.startswith("<") or word.startswith("{")):
            head = _entry_head(line)
            nargs, choices = _nargs_choices(head)
            # a positional's count shows in the usage: [<x>] is optional
            if "[%s]" % head in usage:
                nargs = "?"
            elif "%s ..." % head in usage and not cmd.subcommands:
                nargs = "+"
            else:
                nargs = 1
            cmd.positionals.append(Positional(head, nargs, choices))
    # a subcommand group's metavar is not a positional of the command itself
    if cmd.subcommands:
        cmd.positionals = [p for p in cmd.positionals if p.choices is None or
                           set(p.choices) != set(cmd.subcommands)]
        cmd.positionals = [p for p in cmd.positionals if not re.fullmatch(
            r"<[^<>]*>", p.metavar) or "%s ..." % p.metavar not in usage]
    return cmd


def walk_reference(run_help):
    """damo's tree: ``run_help(path)`` returns the --help text of ``damo
    PATH``.  Breadth first, every listed subcommand."""
    tree = {}
    todo = [()]
    while todo:
        texts = run_help(todo)
        nxt = []
        for path, text in zip(todo, texts):
            cmd = parse_argparse_help(path, text)
            tree[path] = cmd
            nxt += [path + (sub,) for sub in cmd.subcommands]
        todo = nxt
    return tree


# ------------------------------------------------------------------- click

def _click_nargs(param, command=None):
    from damo.params import schemes
    # report commands' argparse-style options: every following value (nargs='+')
    multi = getattr(command, "multi_value", None) or ()
    # ... and those that may take none (nargs='*')
    if any(name in (getattr(command, "optional_values", None) or ()) for name in param.opts):
        return "*"
    if any(name in multi for name in param.opts):
        return "+"
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        if isinstance(param, schemes._DamosOption) and not param.damos_flag:
            return "+"
        return 0
    if getattr(param, "damo_nargs", None) is not None:
        return param.damo_nargs
    if isinstance(param, schemes._DamosOption):
        return "+"
    return param.nargs


def walk_ours():
    """Our tree, from the click application."""
    import click
    from damo.cli import main

    tree = {}

    def visit(path, command, parent_ctx):
        # with the command's own settings: click caches the help option it
        # makes on first use (-h too, or not)
        ctx = click.Context(command, info_name=path[-1] if path else "damo",
                            parent=parent_ctx, **command.context_settings)
        cmd = Command(path)
        for p in command.get_params(ctx):
            if isinstance(p, click.Option):
                if p.hidden or "--help" in p.opts:
                    continue
                choices = list(p.type.choices) if isinstance(p.type, click.Choice) else None
                opt = Option(list(p.opts) + list(p.secondary_opts), _click_nargs(p, command),
                             choices)
                for name in opt.names:
                    cmd.options[name] = opt
            elif isinstance(p, click.Argument):
                choices = list(p.type.choices) if isinstance(p.type, click.Choice) else None
                nargs = "?" if not p.required and p.nargs == 1 else (
                    "*" if p.nargs == -1 else p.nargs)
                cmd.positionals.append(Positional(p.name, nargs, choices))
        tree[path] = cmd
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    cmd.subcommands.append(name)
                    visit(path + (name,), sub, ctx)

    visit((), main, None)
    return tree


# ------------------------------------------------------------- comparison

def accepts(nargs):
    """The argument counts an nargs takes, as a predicate on counts 0..9."""
    if nargs == "?":
        return {0, 1}
    if nargs == "*":
        return set(range(10))
    if nargs == "+":
        return set(range(1, 10))
    return {nargs}


def same_option(theirs, ours):
    """Ours takes the same argument counts and every choice of theirs."""
    if not accepts(theirs.nargs) <= accepts(ours.nargs):
        return False
    if theirs.nargs != 0 and ours.nargs == 0:
        return False
    if theirs.choices and ours.choices is not None and \
            not set(theirs.choices) <= set(ours.choices):
        return False
    return True
