"""What the ``damo report`` commands share: damo-style multi-value options,
one-line errors, colour decisions and writing to stdout."""
import io
import os
import sys

import click

from damo.cliutil import VALUE_SEP, looks_like_option, split_values  # noqa: F401
from damo.errors import DamoError, one_line  # noqa: F401  (one_line: used by reports)


class ReportCommand(click.Command):
    """A click command that parses damo's argparse-style options.

    Options listed in ``multi_value`` take every following argument up to the
    next option, as argparse's ``nargs='+'`` does (``--input A B``,
    ``--time_range 1 2 guided``); each use reaches the command as one string
    of the values joined by VALUE_SEP (see ``split_values``).  Usage errors
    become DamoError, so that the CLI prints them on one line.
    """

    def __init__(self, *args, multi_value=(), optional_values=(), **kwargs):
        # -h of its own, not only through `damo report`'s context: click caches a
        # command's help option from the first context it sees, so a report run
        # without its parent (tests do) lost -h from the generated docs afterwards
        settings = dict(kwargs.pop("context_settings", None) or {})
        settings.setdefault("help_option_names", ["-h", "--help"])
        super().__init__(*args, context_settings=settings, **kwargs)
        self.multi_value = set(multi_value) | set(optional_values)
        # nargs='*' options: given alone, they reach the command as ""
        self.optional_values = set(optional_values)

    def parse_args(self, ctx, args):
        joined = []
        i = 0
        while i < len(args):
            arg = args[i]
            joined.append(arg)
            i += 1
            if arg in self.multi_value:
                values = []
                while i < len(args) and not looks_like_option(args[i]):
                    values.append(args[i])
                    i += 1
                if values:
                    joined.append(VALUE_SEP.join(values))
                elif arg in self.optional_values:
                    joined.append(NO_VALUES)
        try:
            return super().parse_args(ctx, joined)
        except click.UsageError as e:
            raise DamoError(one_line(e.format_message().replace(VALUE_SEP, " ")),
                            exit_code=2) from None

    def make_parser(self, ctx):
        parser = super().make_parser(ctx)
        _short_options_without_suggestions(parser, ctx)
        return parser

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.BadParameter as e:
            raise DamoError(one_line(e.format_message()), exit_code=2) from None


def _short_options_without_suggestions(parser, ctx):
    """Let ``-i FILE`` reach click's short-option match without its failed
    long-option match first computing "did you mean" suggestions that it then
    discards (importing difflib: 0.27 MB of a 100 x 100 report's 30 MB, which
    was more than damo 3.4.3's).  Unknown long options keep their suggestions;
    an older or newer click without these parser internals is left as it is."""
    match_long = getattr(parser, "_match_long_opt", None)
    long_opts = getattr(parser, "_long_opt", None)
    prefixes = getattr(parser, "_opt_prefixes", None)
    if match_long is None or not isinstance(long_opts, dict) or not prefixes:
        return

    def _match_long_opt(opt, explicit_value, state):
        if opt not in long_opts and opt[:2] not in prefixes:
            # the short-option path follows: click drops this error
            raise click.NoSuchOption(opt, ctx=ctx)
        return match_long(opt, explicit_value, state)

    parser._match_long_opt = _match_long_opt


# an option of optional_values given without values (NUL: no argument holds
# one, so `--repeat ''`, one empty value, stays distinct from `--repeat`)
NO_VALUES = "\0"


def optional_values(value):
    """The values of an optional_values option: None when not given, [] when
    given alone, else its values (empty ones too, as argparse keeps them)."""
    if value is None:
        return None
    return [] if value == NO_VALUES else split_values(value)


def repeat_schedule(repeat):
    """(delay in seconds, count) of damo's --repeat [<delay> <count>]: once by
    default, every second until ^C (count -1) when given alone; damo's
    message for any other number of values."""
    values = optional_values(repeat)
    if values is None:
        return 0, 1
    if not values:
        return 1, -1
    if len(values) != 2:
        raise DamoError("--repeat receives only zero or two arguments")
    return _repeat_delay(values[0]), _repeat_count(values[1])


def _repeat_delay(text):
    """damo's text_to_sec(): a number is seconds, else a time with a unit
    (damo indexes an empty one: an IndexError)."""
    from damo import units
    try:
        try:
            return units.to_number(text)
        except ValueError:
            return units.to_us(text) / 1000000
    except (ValueError, TypeError):
        raise DamoError("--repeat: wrong <delay> %r" % text) from None


def _repeat_count(text):
    from damo import units
    try:
        return units.to_number(text)
    except ValueError:
        raise DamoError("--repeat: wrong <count> %r" % text) from None


def run_repeated(schedule, repeating, show_once):
    """damo's repeat loop: show_once() count times (-1: until ^C), delay
    seconds apart; ^C ends a --repeat with damo's 'signal 2 received'."""
    import time
    delay, count = schedule
    shown = 0
    try:
        while count < 0 or shown < count:
            show_once()
            shown += 1
            if count < 0 or shown < count:
                time.sleep(delay)
    except KeyboardInterrupt:
        if not repeating:
            raise
        click.echo("\nsignal 2 received")


# ----------------------------------------- report access / attrs options

def format_template_options(f):
    """report access's and attrs' histogram and --format options."""
    for opt in reversed([
            click.option("--hist_logscale", is_flag=True, help="draw histograms in logscale"),
            click.option("--hist_ranges", metavar="<value>...", help="histogram range values"),
            click.option("--hist_cumulate", is_flag=True,
                         help="draw histogram in cumulative way"),
            click.option("--format", "formats", multiple=True,
                         metavar="<set|append> <record_head|snapshot_head|region|"
                                 "snapshot_tail|record_tail> <format string>",
                         help="customize report content format (repeatable)")]):
        f = opt(f)
    return f


def snapshot_heatmap_options(f):
    """report access's and attrs' snapshot heatmap options."""
    for opt in reversed([
            click.option("--snapshot_heatmap_width", type=int, default=80, show_default=True,
                         metavar="<number>", help="width of snapshot heatmap"),
            click.option("--snapshot_heatmap_colorset",
                         type=click.Choice(["gray", "flame", "emotion"]), default="gray",
                         show_default=True, help="snapshot heatmap colorset"),
            click.option("--snapshot_heatmap_static", is_flag=True,
                         help="draw snapshot heatmap as static")]):
        f = opt(f)
    return f


def report_output_options(raw_form_help, exec_help, repeat_help):
    """report access's and attrs' output options, from --min_chars_for to
    --debug_damon (the help texts that differ given)."""
    def decorate(f):
        for opt in reversed([
                click.option("--min_chars_for", nargs=2, multiple=True,
                             metavar="<keyword> <number>",
                             help="minimum characters for a keyword of the format "
                                  "(repeatable)"),
                click.option("--total_sz_only", is_flag=True,
                             help="print only total size of the regions for each snapshot"),
                click.option("--dont_merge_regions", is_flag=True,
                             help="don't merge contiguous regions of same access pattern"),
                click.option("--raw_number", is_flag=True,
                             help="use machine-friendly raw numbers"),
                click.option("--json", "as_json", is_flag=True, help="print in json format"),
                click.option("--raw_form", is_flag=True, help=raw_form_help),
                click.option("--ls_record_format_keywords", is_flag=True, hidden=True),
                click.option("--ls_snapshot_format_keywords", is_flag=True, hidden=True),
                click.option("--ls_region_format_keywords", is_flag=True, hidden=True),
                click.option("--exec", "exec_", metavar="<command or 'interpreter'>",
                             help=exec_help),
                click.option("--repeat", metavar="[<delay> <count>]", help=repeat_help),
                click.option("--debug_damon", is_flag=True,
                             help="print debugging log (no effect here)")]):
            f = opt(f)
        return f
    return decorate


def listed_format_keywords(opts):
    """damo's --ls_*_format_keywords: the pointer to `damo help`, printed;
    True when one was asked for."""
    for kind in ("record", "snapshot", "region"):
        if opts.get("ls_%s_format_keywords" % kind):
            click.echo("use 'damo help access_format_options %s_format_keywords' instead"
                       % kind)
            return True
    return False


def snapshot_damos_filters(values):
    """--snapshot_damos_filter uses (damo's --damos_filter words), parsed."""
    from damo.params import schemes
    return [schemes.parse_filter(split_values(v), "--snapshot_damos_filter")
            for v in values or ()]


def checked_snapshot_damos_filters(values):
    """snapshot_damos_filters(), with the exit code of damo's report access
    and attrs on a wrong one (1)."""
    try:
        return snapshot_damos_filters(values)
    except DamoError as e:
        raise DamoError(str(e), exit_code=1) from None


def live_or_default():
    """Without --input: None for the running kdamonds, else ./damon.data
    (damo's help)."""
    from damo.live import client
    if any(k.running for k in client.kdamonds()):
        return None
    if os.path.exists("damon.data"):
        return "damon.data"
    try:
        client.running_kdamonds()
    except DamoError as e:
        raise DamoError("%s, and there is no damon.data here to read (give --input)" % e)
    return None


def int_values(value, option):
    """The integers of a multi-value option (argparse's type=int: exit 2)."""
    try:
        return [int(v) for v in split_values(value)]
    except ValueError:
        raise DamoError("%s: expects integers, not %r" % (
            option, " ".join(split_values(value))), exit_code=2) from None


def input_files(values, default="damon.data"):
    """--input values (one or more uses, each maybe several files)."""
    if not values:
        return [default]
    files = []
    for value in values:
        files.extend(split_values(value))
    return files


def use_color(choice):
    """--color auto|always|never; auto means a terminal and no NO_COLOR."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def color_option():
    return click.option("--color", type=click.Choice(["auto", "always", "never"]),
                        default="auto", show_default=True,
                        help="colour the map: on a terminal (auto, unless NO_COLOR is "
                             "set), always (damo's output, byte for byte) or never")


# damo's epilog of report access and report attrs: where --input comes from
INPUT_EPILOG = ("If --input is not provided and DAMON is running, capture snapshot. "
                "If --input is not provided, DAMON is not running, and \"damon.data\" "
                "file exists, use \"damon.data\" as --input.")


def snapshot_report_command(multi_value):
    """The click.command of report access and report attrs: damo's
    argparse-style options (``multi_value``: those taking several values),
    an optional-values --repeat, -h, and damo's epilog."""
    return click.command(cls=ReportCommand, multi_value=multi_value,
                         optional_values=("--repeat",),
                         context_settings={"help_option_names": ["-h", "--help"]},
                         epilog=INPUT_EPILOG)


def echo(text):
    """Print report text as it is (click.echo would strip the colours), whole:
    on an unbuffered stdout (python -u, PYTHONUNBUFFERED) a pipe may take part
    of one write, and the text layer would drop the rest silently, so that a
    reader that went away early (``| head``) went unnoticed (exit 0, not 141)."""
    out = sys.stdout
    raw = getattr(out, "buffer", None)
    if isinstance(raw, io.RawIOBase):
        out.flush()
        data = memoryview((text + "\n").encode(out.encoding, out.errors or "strict"))
        while data:
            data = data[raw.write(data) or 0:]
        return
    out.write(text + "\n")
    out.flush()


def echo_bytes(data):
    """Print text that is already UTF-8 bytes (its newlines included): as it
    is when stdout encodes as UTF-8 (no str made of it on the way), whole as
    echo() writes it; through the text layer otherwise."""
    import codecs
    out = sys.stdout
    raw = getattr(out, "buffer", None)
    try:
        utf8 = codecs.lookup(out.encoding).name == "utf-8"
    except (LookupError, TypeError):
        utf8 = False
    if raw is None or not utf8:
        out.write(bytes(data).decode())
        out.flush()
        return
    out.flush()
    if isinstance(raw, io.RawIOBase):
        data = memoryview(data)
        while data:
            data = data[raw.write(data) or 0:]
        return
    raw.write(data)
    raw.flush()


def echo_paged(text):
    """Print as damo's pager helper does: text longer than the terminal (50
    lines when not on one) goes through ``less``, which adds no newline."""
    try:
        nr_lines = os.get_terminal_size().lines
    except OSError:
        nr_lines = 50
    sys.stdout.write(text + "\n" if text.count("\n") <= nr_lines else text)
    sys.stdout.flush()


def echo_paged_chunks(chunks):
    """echo_paged() of a text given in pieces, written as they come: the
    final newline only if the whole text fits the terminal (50 lines when
    not on one), as damo's pager helper does."""
    try:
        nr_lines = os.get_terminal_size().lines
    except OSError:
        nr_lines = 50
    newlines = 0
    for chunk in chunks:
        newlines += chunk.count("\n")
        sys.stdout.write(chunk)
    if newlines <= nr_lines:
        sys.stdout.write("\n")
    sys.stdout.flush()




# percentiles one --range may ask for: each is a line or a point
MAX_PERCENTILES = 10000
# columns of a text bar (--nr_cols_bar): a bar is built in memory as one string
MAX_BAR_COLUMNS = 10000


def percentile_range(prange):
    """--range <start> <stop> <step> as damo takes it: Python's range()
    (bounded: 0 1000000000 1 asked for a list of 10^9 numbers)."""
    start, stop, step = prange
    if step == 0:
        raise DamoError("--range step must not be zero")
    values = range(start, stop, step)
    # the count, not len(): len() of a range of 10^40 is an OverflowError
    count = max(0, (stop - start + step - (1 if step > 0 else -1)) // step)
    if count > MAX_PERCENTILES:
        raise DamoError("--range %d %d %d asks for %d percentiles; at most %d" % (
            start, stop, step, count, MAX_PERCENTILES))
    # beyond 100 (or below -100: damo's index then wraps from the end) a
    # percentile has no value: an IndexError in damo
    outside = [p for p in values if not -100 <= p <= 100]
    if outside:
        raise DamoError("--range %d %d %d: percentile %d is not within -100 and 100" % (
            start, stop, step, outside[0]))
    return list(values)


def bar_columns(ctx, param, value):
    """click callback of --nr_cols_bar: at most MAX_BAR_COLUMNS (negative
    values draw no bar, as in damo)."""
    if value is not None and value > MAX_BAR_COLUMNS:
        raise click.BadParameter("%d columns; at most %d" % (value, MAX_BAR_COLUMNS),
                                 ctx=ctx, param=param)
    return value
