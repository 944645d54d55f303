"""``damo setup_cli_completion``: install damo's shell completion for the
user's shell (bash, zsh or fish), in the user's own directories only.

The script is the static one of completions/ (written from the command
tree by damo.gen_docs, the same bytes), so that TAB never starts Python.
"""
import os
import stat

import click

from damo.errors import DamoError

SHELLS = ("bash", "zsh", "fish")


def _xdg(var, default):
    value = os.environ.get(var)
    return value if value and os.path.isabs(value) else os.path.expanduser(default)


def install_path(shell):
    """Where the shell loads a user's completion for `damo` from."""
    if shell == "bash":
        # bash-completion loads completions/<command> on the first TAB
        return os.path.join(_xdg("XDG_DATA_HOME", "~/.local/share"), "bash-completion",
                            "completions", "damo")
    if shell == "zsh":
        return os.path.join(_xdg("XDG_DATA_HOME", "~/.local/share"), "zsh", "site-functions",
                            "_damo")
    return os.path.join(_xdg("XDG_CONFIG_HOME", "~/.config"), "fish", "completions",
                        "damo.fish")


def _check_own(path):
    """Refuse to write anywhere but the user's own directories: the nearest
    existing ancestor of the file must be a directory of this user."""
    probe = os.path.dirname(path)
    while not os.path.lexists(probe):
        probe = os.path.dirname(probe)
    st = os.stat(probe)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise DamoError("%s: %s is not a directory of yours; refusing to install there (set "
                        "HOME, XDG_DATA_HOME or XDG_CONFIG_HOME to your own directories)"
                        % (path, probe))
    home = os.path.realpath(os.path.expanduser("~"))
    real = os.path.realpath(os.path.dirname(path))
    roots = [home] + [os.path.realpath(os.environ[v]) for v in ("XDG_DATA_HOME",
                                                               "XDG_CONFIG_HOME")
                      if os.environ.get(v) and os.path.isabs(os.environ[v])]
    if not any(real == r or real.startswith(r + os.sep) for r in roots):
        raise DamoError("%s: outside your home and XDG directories; refusing to install "
                        "there" % path)


def _write(path, text):
    _check_own(path)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise DamoError("%s: cannot write: %s" % (path, e.strerror or e))


def _detect_shell():
    name = os.path.basename(os.environ.get("SHELL", ""))
    return name if name in SHELLS else None


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--shell", type=click.Choice(SHELLS),
              help="the shell to set up (default: the one $SHELL names)")
def setup_cli_completion(shell):
    """Setup command line auto-completion for your shell.

    Installs damo's completion script (bash, zsh or fish; the same as
    completions/ in the source tree) into your own directories: bash's
    ~/.local/share/bash-completion/completions/damo, zsh's
    ~/.local/share/zsh/site-functions/_damo, fish's
    ~/.config/fish/completions/damo.fish (XDG_DATA_HOME and XDG_CONFIG_HOME
    are followed).  Nothing outside them is touched.
    """
    from damo import gen_docs

    shell = shell or _detect_shell()
    if shell is None:
        raise DamoError("cannot tell your shell from $SHELL (%s): give --shell bash, zsh or "
                        "fish" % (os.environ.get("SHELL") or "unset"), exit_code=2)
    path = install_path(shell)
    _write(path, gen_docs.completion_script(shell))
    click.echo("Installed damo's %s completion as %s." % (shell, path))
    if shell == "bash":
        click.echo("New bash sessions load it on the first TAB after 'damo' (with the "
                   "bash-completion package).")
        click.echo('For this shell session, execute "source %s".' % path)
    elif shell == "zsh":
        click.echo("It is nearly done, and needs one more step: add its directory to fpath")
        click.echo("before compinit in your ~/.zshrc, e.g.")
        click.echo("")
        click.echo("    fpath=(%s $fpath)" % os.path.dirname(path))
        click.echo("    autoload -Uz compinit && compinit")
    else:
        click.echo("fish loads it in new sessions.")
