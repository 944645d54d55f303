"""Generate the shell completion scripts and man pages from the click
application.

    python -m damo.gen_docs            # rewrite completions/ and man/
    python -m damo.gen_docs --check    # exit 1 if any generated file is stale

Completions (``completions/damo.bash``, ``completions/_damo`` for zsh,
``completions/damo.fish``) are click's shell completion scripts: they ask
the installed ``damo`` for candidates, so they complete every subcommand,
option and choice the installed version has.  Man pages (``man/damo.1``,
``man/damo-<command>.1``, ``man/damo-report-<type>.1``) are written from
each command's help, usage and options.  Both are deterministic (no dates),
so tests can regenerate them and compare.
"""
import os
import re
import sys

import click
from click.shell_completion import ShellComplete, get_completion_class

from damo import __version__
from damo.cli import main as damo_main

PROG = "damo"
COMPLETE_VAR = "_DAMO_COMPLETE"
COMPLETIONS = {"bash": "damo.bash", "zsh": "_damo", "fish": "damo.fish"}
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

def completion_script(shell):
    cls = get_completion_class(shell)
    comp = cls(damo_main, {}, PROG, COMPLETE_VAR)
    # ShellComplete.source(), not the bash class's: that one runs `bash
    # --version` first, and generation must not depend on the shells present
    return ShellComplete.source(comp)


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
        record = param.get_help_record(ctx)
        if record is not None:
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
    for shell, filename in COMPLETIONS.items():
        files[os.path.join("completions", filename)] = completion_script(shell)
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
