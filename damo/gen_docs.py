"""Generate the shell completion scripts and man pages from the click
application.

    python -m damo.gen_docs            # rewrite completions/ and man/
    python -m damo.gen_docs --check    # exit 1 if any generated file is stale

Completions (``completions/damo.bash``, ``completions/_damo`` for zsh,
``completions/damo.fish``) are static scripts written from the click
command tree: subcommands, options, option choices (and DAMOS actions, goal
metrics...), built-in workload names, and file names where a command takes
a file.  They do not start Python on each TAB, and they depend neither on
the installed click's completion protocol nor on its version.  Man pages
(``man/damo.1``, ``man/damo-<command>.1``, ``man/damo-report-<type>.1``) are
written from each command's help, usage and options.  Both are deterministic
(no dates), so tests can regenerate them and compare.
"""
import os
import re
import sys

import click

from damo import __version__
from damo.cli import main as damo_main

PROG = "damo"
COMPLETIONS = {"bash": "damo.bash", "zsh": "_damo", "fish": "damo.fish"}
GENERATED = "generated from the click application by `python -m damo.gen_docs`; do not edit"
MANUAL = "damo-sim manual"

_ENVIRONMENT = [
    ("DAMO_SIM_RUNTIME_DIR", "Where live kdamonds keep their control sockets and state.  "
     "Default: $XDG_RUNTIME_DIR/damo-sim, else /tmp/damo-sim-<uid>.  It must be a "
     "directory of the user with mode 0700; damo refuses any other."),
    ("NO_COLOR", "When set, reports do not colour their output on a terminal."),
]
_FILES = [
    ("<runtime dir>/kdamond.<N>/", "The live kdamond N: control.sock (its daemon's Unix "
     "socket), state.json (parameters, state, DAMOS stats and latest snapshot, refreshed "
     "a few times a second), log (the daemon's messages) and spec.json (what damo start "
     "asked for).  damo stop removes it; damo start removes those of dead kdamonds."),
]
# extra sections of some pages: page name -> [(section, [(tag, text)])]
EXTRA_SECTIONS = {name: [("ENVIRONMENT", _ENVIRONMENT), ("FILES", _FILES)]
                  for name in ("damo", "damo-start", "damo-status", "damo-stop", "damo-tune",
                               "damo-report-damon")}


# ---------------------------------------------------------------- completions

# values worth offering for options that are not click Choices (first word)
def _value_words():
    from damo.params import schemes
    return {"damos_action": schemes.ACTIONS, "damos_quota_goal": schemes.GOAL_METRICS,
            "damos_filter": ("allow", "reject"), "damos_wmarks": schemes.WMARK_METRICS,
            "damos_quota_goal_tuner": schemes.GOAL_TUNERS,
            "damos_stat_fields": schemes.STAT_FIELDS}


_FILE_WORDS = ("file", "path")
_FILE_NAMES = ("out", "output", "plot", "inputs", "input", "input_file", "kdamonds_file",
               "trace_file", "save_trace")


class OptionSpec:
    """What completion needs to know of one option."""

    def __init__(self, param, value_words):
        # short before long (click keeps the help option's names in a set)
        self.names = sorted(param.opts, key=len) + list(param.secondary_opts)
        self.takes_value = not (getattr(param, "is_flag", False) or
                                getattr(param, "count", False))
        self.help = _first_sentence(param.help or "")
        self.choices = None
        self.files = False
        if not self.takes_value:
            return
        if isinstance(param.type, click.Choice):
            self.choices = [str(c) for c in param.type.choices]
        elif param.name in value_words:
            self.choices = list(value_words[param.name])
        elif isinstance(param.type, (click.Path, click.File)) or param.name in _FILE_NAMES or \
                any(w in (param.metavar or "").lower() for w in _FILE_WORDS):
            self.files = True


class CommandSpec:
    """What completion needs to know of one command."""

    def __init__(self, path, command, ctx, value_words):
        self.path = path
        self.subcommands = []
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not getattr(sub, "hidden", False):
                    self.subcommands.append((name, _first_sentence(
                        sub.get_short_help_str(limit=200))))
        self.options = [OptionSpec(p, value_words) for p in command.get_params(ctx)
                        if isinstance(p, click.Option) and not p.hidden]
        self.words, self.files = [], False
        for p in command.get_params(ctx):
            if not isinstance(p, click.Argument):
                continue
            if isinstance(p.type, click.Choice):
                self.words += [str(c) for c in p.type.choices]
            else:
                self.files = True
            if p.name == "workload":
                from damo.workloads import masim as workload_mod
                self.words += workload_mod.builtin_names()
                self.words += [n for n in workload_mod.bundled_names()
                               if n not in self.words]
                if path[-1] == "record":
                    self.words.append("ongoing")

    @property
    def name(self):
        return " ".join(self.path)


def _first_sentence(text):
    text = " ".join(text.split())
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    return (m.group(1) if m else text).rstrip(".")


def command_specs():
    value_words = _value_words()
    return [CommandSpec(path, command, ctx, value_words) for path, command, ctx in walk()]


def _sh_words(words):
    return " ".join(words)


def bash_script(specs):
    parents = ['"%s %s"' % (spec.name, sub) for spec in specs for sub, _ in spec.subcommands]
    out = ["# bash completion for damo (damo-sim): %s." % GENERATED,
           "# Load it with `source damo.bash`, or install it as",
           "# ~/.local/share/bash-completion/completions/damo.",
           "",
           "_damo_completion() {",
           "    local cur prev cmdpath w i opts subs words files IFS=$'\\n'",
           '    cur="${COMP_WORDS[COMP_CWORD]}"',
           '    prev=""',
           '    (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"',
           '    cmdpath="damo"',
           "    for (( i = 1; i < COMP_CWORD; i++ )); do",
           '        w="${COMP_WORDS[i]}"',
           '        case "$cmdpath $w" in',
           "            %s)" % "|".join(parents),
           '                cmdpath="$cmdpath $w" ;;',
           "        esac",
           "    done",
           "    COMPREPLY=()",
           '    opts=""; subs=""; words=""; files=""',
           '    case "$cmdpath" in']
    for spec in specs:
        opts = [n for o in spec.options for n in o.names]
        out.append('        "%s")' % spec.name)
        out.append('            opts="%s"' % _sh_words(opts))
        if spec.subcommands:
            out.append('            subs="%s"' % _sh_words(n for n, _ in spec.subcommands))
        if spec.words:
            out.append('            words="%s"' % _sh_words(spec.words))
        if spec.files and not spec.subcommands:
            out.append("            files=1")
        out.append("            ;;")
    out += ["    esac",
            "    IFS=$' \\t\\n'",
            '    if [[ "$cur" == -* ]]; then',
            '        COMPREPLY=( $(compgen -W "$opts" -- "$cur") )',
            "        return 0",
            "    fi",
            '    case "$cmdpath|$prev" in']
    free, files = [], []
    for spec in specs:
        for o in spec.options:
            if not o.takes_value:
                continue
            keys = "|".join('"%s|%s"' % (spec.name, n) for n in o.names)
            if o.choices:
                out.append("        %s)" % keys)
                out.append('            COMPREPLY=( $(compgen -W "%s" -- "$cur") )'
                           % _sh_words(o.choices))
                out.append("            return 0 ;;")
            elif o.files:
                files.append(keys)
            else:
                free.append(keys)
    if files:
        out += ["        %s)" % "|".join(files),
                "            IFS=$'\\n'",
                '            COMPREPLY=( $(compgen -f -- "$cur") )',
                "            compopt -o filenames 2>/dev/null",
                "            return 0 ;;"]
    if free:
        out += ["        %s)" % "|".join(free),
                "            return 0 ;;"]
    out += ["    esac",
            '    if [[ -n "$subs" ]]; then',
            '        COMPREPLY=( $(compgen -W "$subs" -- "$cur") )',
            "        return 0",
            "    fi",
            '    COMPREPLY=( $(compgen -W "$words" -- "$cur") )',
            '    if [[ -n "$files" ]]; then',
            "        IFS=$'\\n'",
            '        COMPREPLY+=( $(compgen -f -- "$cur") )',
            "        compopt -o filenames 2>/dev/null",
            "    fi",
            "    return 0",
            "}",
            "",
            "complete -F _damo_completion damo",
            ""]
    return "\n".join(out)


def _zsh_describe(items):
    """_describe entries 'word:description' (colons in words escaped)."""
    return " ".join("'%s:%s'" % (w.replace(":", "\\:").replace("'", "'\\''"),
                                 d.replace("'", "'\\''")) for w, d in items)


def zsh_script(specs):
    parents = ['"%s %s"' % (spec.name, sub) for spec in specs for sub, _ in spec.subcommands]
    out = ["#compdef damo",
           "# zsh completion for damo (damo-sim): %s." % GENERATED,
           "# Install it as _damo in a directory of $fpath, then run compinit.",
           "",
           "local cur prev cmdpath w i files=''",
           "local -a opts subs args",
           "cmdpath=damo",
           "for (( i = 2; i < CURRENT; i++ )); do",
           "  w=${words[i]}",
           '  case "$cmdpath $w" in',
           "    (%s)" % "|".join(parents),
           '      cmdpath="$cmdpath $w" ;;',
           "  esac",
           "done",
           "cur=${words[CURRENT]}",
           "prev=${words[CURRENT-1]}",
           "case $cmdpath in"]
    for spec in specs:
        out.append('  ("%s")' % spec.name)
        out.append("    opts=(%s)" % _zsh_describe(
            (n, o.help) for o in spec.options for n in o.names))
        if spec.subcommands:
            out.append("    subs=(%s)" % _zsh_describe(spec.subcommands))
        if spec.words:
            out.append("    args=(%s)" % " ".join(spec.words))
        if spec.files and not spec.subcommands:
            out.append("    files=1")
        out.append("    ;;")
    out += ["esac",
            "if [[ $cur == -* ]]; then",
            "  _describe -t options 'option' opts",
            "  return",
            "fi",
            'case "$cmdpath|$prev" in']
    free, files = [], []
    for spec in specs:
        for o in spec.options:
            if not o.takes_value:
                continue
            keys = "|".join('"%s|%s"' % (spec.name, n) for n in o.names)
            if o.choices:
                out.append("  (%s)" % keys)
                out.append("    compadd -- %s" % " ".join(o.choices))
                out.append("    return ;;")
            elif o.files:
                files.append(keys)
            else:
                free.append(keys)
    if files:
        out += ["  (%s)" % "|".join(files), "    _files", "    return ;;"]
    if free:
        out += ["  (%s)" % "|".join(free), "    _message 'value'", "    return ;;"]
    out += ["esac",
            "if (( ${#subs} )); then",
            "  _describe -t commands 'command' subs",
            "  return",
            "fi",
            "(( ${#args} )) && compadd -- $args",
            "[[ -n $files ]] && _files",
            "return 0",
            ""]
    return "\n".join(out)


def _fish_quote(text):
    return "'%s'" % text.replace("\\", "\\\\").replace("'", "\\'")


def fish_script(specs):
    parents = " ".join(_fish_quote("%s %s" % (spec.name, sub))
                       for spec in specs for sub, _ in spec.subcommands)
    out = ["# fish completion for damo (damo-sim): %s." % GENERATED,
           "# Install it as ~/.config/fish/completions/damo.fish.",
           "",
           "function __damo_cmdpath",
           "    set -l cmdpath damo",
           "    for w in (commandline -opc)[2..-1]",
           '        if contains -- "$cmdpath $w" %s' % parents,
           '            set cmdpath "$cmdpath $w"',
           "        end",
           "    end",
           "    echo $cmdpath",
           "end",
           "",
           "function __damo_at",
           '    test (__damo_cmdpath) = "$argv[1]"',
           "end",
           "",
           "complete -c damo -f"]
    for spec in specs:
        cond = "-n \"__damo_at '%s'\"" % spec.name
        for sub, help_ in spec.subcommands:
            out.append("complete -c damo %s -a %s -d %s" % (cond, _fish_quote(sub),
                                                           _fish_quote(help_)))
        for o in spec.options:
            words = []
            for n in o.names:
                if n.startswith("--"):
                    words.append("-l %s" % n[2:])
                elif len(n) == 2:
                    words.append("-s %s" % n[1:])
                else:
                    words.append("-o %s" % n[1:])
            if o.takes_value:
                if o.choices:
                    words.append("-x -a %s" % _fish_quote(" ".join(o.choices)))
                elif o.files:
                    words.append("-r -F")
                else:
                    words.append("-x")
            if o.help:
                words.append("-d %s" % _fish_quote(o.help))
            out.append("complete -c damo %s %s" % (cond, " ".join(words)))
        if spec.words:
            out.append("complete -c damo %s -a %s" % (cond, _fish_quote(" ".join(spec.words))))
        if spec.files and not spec.subcommands:
            out.append("complete -c damo %s -F" % cond)
    out.append("")
    return "\n".join(out)


def completion_script(shell, specs=None):
    specs = command_specs() if specs is None else specs
    return {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[shell](specs)


# ---------------------------------------------------------------- man pages

def walk(command=damo_main, path=(PROG,), parent_ctx=None):
    """(path, command, click context) of the application's every command,
    depth first, subcommands in name order."""
    ctx = click.Context(command, info_name=path[-1], parent=parent_ctx,
                        **command.context_settings)
    yield path, command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not getattr(sub, "hidden", False):
                yield from walk(sub, path + (name,), ctx)


def page_name(path):
    return "-".join(path)


def esc(text):
    """Text for groff: backslashes, hyphens (as \\-), and a leading dot or
    quote that would read as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line[:1] in (".", "'") else line
                     for line in text.split("\n"))


def paragraphs(text):
    """click help text as [(verbatim, text)] paragraphs: a paragraph right
    after a '\\b' line is kept as it is."""
    text = text.split("\f")[0]
    out = []
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines = block.split("\n")
        if lines and lines[0].strip() == "\b":
            out.append((True, "\n".join(lines[1:])))
        elif block.strip():
            out.append((False, " ".join(line.strip() for line in lines)))
    return out


def render_paragraphs(text):
    lines = []
    for verbatim, para in paragraphs(text):
        if verbatim:
            lines += [".PP", ".nf", esc(para), ".fi"]
        else:
            lines += [".PP", esc(para)]
    return lines


def _inline(text):
    """Backquoted `commands` in help text as bold."""
    return re.sub(r"`([^`]+)`", lambda m: "\\fB" + m.group(1) + "\\fR", text)


def man_page(path, command, ctx):
    name = page_name(path)
    help_text = command.help or ""
    paras = paragraphs(help_text)
    summary = paras[0][1] if paras else (command.short_help or "")
    lines = ['.TH "%s" "1" "" "damo-sim %s" "%s"' % (name.upper(), __version__, MANUAL),
             ".SH NAME", "%s \\- %s" % (esc(name), esc(summary.rstrip("."))),
             ".SH SYNOPSIS", ".B %s" % esc(" ".join(path))]
    pieces = command.collect_usage_pieces(ctx)
    if pieces:
        lines.append(esc(" ".join(pieces)))
    lines.append(".SH DESCRIPTION")
    rest = "\n\n".join(("\b\n" + p) if v else p for v, p in paras[1:]) if len(paras) > 1 \
        else summary
    lines += [_inline(line) for line in render_paragraphs(rest)]
    if command.epilog:
        lines += render_paragraphs(command.epilog)
    options = []
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option):
            continue                # arguments are in the synopsis and description
        record = param.get_help_record(ctx)
        if record is not None:
            if param.name == "help":
                # click keeps the help option's names in a set: order them
                record = (", ".join(sorted(param.opts, key=len)), record[1])
            options.append(record)
    if options:
        lines.append(".SH OPTIONS")
        for names, help_ in options:
            lines += [".TP", "\\fB%s\\fR" % esc(names)] + ([esc(help_)] if help_ else [])
    if isinstance(command, click.Group):
        lines.append(".SH COMMANDS")
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is None:
                continue
            lines += [".TP", "\\fB%s\\fR(1)" % esc(page_name(path + (sub_name,))),
                      esc(sub.get_short_help_str(limit=300))]
    for section, items in EXTRA_SECTIONS.get(name, []):
        lines.append(".SH %s" % section)
        for tag, text in items:
            lines += [".TP", "\\fB%s\\fR" % esc(tag), esc(text)]
    see_also = [page_name(path[:-1])] if len(path) > 1 else []
    if isinstance(command, click.Group):
        see_also += [page_name(path + (n,)) for n in command.list_commands(ctx)]
    if see_also:
        lines += [".SH SEE ALSO", ", ".join("\\fB%s\\fR(1)" % esc(p) for p in see_also)]
    return "\n".join(line for line in lines if line is not None) + "\n"


# ---------------------------------------------------------------- files

def generated_files():
    """{relative path: content} of everything this module generates."""
    files = {}
    specs = command_specs()
    for shell, filename in COMPLETIONS.items():
        files[os.path.join("completions", filename)] = completion_script(shell, specs)
    for path, command, ctx in walk():
        files[os.path.join("man", page_name(path) + ".1")] = man_page(path, command, ctx)
    return files


def stale_files(root):
    """Generated files whose content differs from what is in ``root``, and
    files in man/ that nothing generates any more."""
    files = generated_files()
    stale = []
    for rel, content in sorted(files.items()):
        try:
            with open(os.path.join(root, rel)) as f:
                if f.read() == content:
                    continue
        except OSError:
            pass
        stale.append(rel)
    man_dir = os.path.join(root, "man")
    if os.path.isdir(man_dir):
        for name in sorted(os.listdir(man_dir)):
            rel = os.path.join("man", name)
            if name.endswith(".1") and rel not in files:
                stale.append(rel)
    return stale


def write(root):
    files = generated_files()
    for rel, content in sorted(files.items()):
        full = os.path.join(root, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(content)
    man_dir = os.path.join(root, "man")
    for name in os.listdir(man_dir):
        if name.endswith(".1") and os.path.join("man", name) not in files:
            os.unlink(os.path.join(man_dir, name))
    return sorted(files)


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    check = "--check" in argv
    roots = [a for a in argv if not a.startswith("-")]
    root = roots[0] if roots else repo_root()
    if check:
        stale = stale_files(root)
        for rel in stale:
            print("stale: %s" % rel)
        if stale:
            print("regenerate with: python -m damo.gen_docs", file=sys.stderr)
        return 1 if stale else 0
    for rel in write(root):
        print("wrote %s" % rel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
