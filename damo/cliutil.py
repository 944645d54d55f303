"""damo's argparse-style multi-value options (``nargs='+'``) on click: an
option takes every following argument up to the next option, and each use
reaches the command as one string of its values joined by VALUE_SEP."""

# Joins the values of one use of a multi-value option.
VALUE_SEP = "\x1f"


def looks_like_option(arg):
    """An argument that ends a multi-value option's values: an option, not a
    negative number or a lone dash."""
    if not arg.startswith("-") or arg == "-":
        return False
    try:
        float(arg.replace(",", ""))
        return False
    except ValueError:
        return True


def split_values(value):
    """The values of one use of a multi-value option."""
    return None if value is None else value.split(VALUE_SEP)


def finite_float(minimum=None, maximum=None, min_open=False):
    """A click float type that refuses NaN and infinities, and values out of
    [minimum, maximum] (click's FloatRange lets NaN through: every comparison
    with it is false)."""
    import math

    import click

    class FiniteFloat(click.FloatRange):
        name = "float"

        def convert(self, value, param, ctx):
            number = click.FLOAT.convert(value, param, ctx)
            if not math.isfinite(number):
                self.fail("%r is not a finite number" % (value,), param, ctx)
            return super().convert(number, param, ctx)

    return FiniteFloat(min=minimum, max=maximum, min_open=min_open)


def image_size(ctx, param, value):
    """click callback of the reports' --size <width> <height>: bounded where
    it enters (a 10^5 x 10^5 image asked for 40 GB)."""
    if value is None:
        return value
    if param is not None and param.default is not None and tuple(value) == tuple(param.default):
        # the default is a size that can be drawn: no need to import the
        # plotting module (and numpy) for a report that draws nothing
        return value
    import click

    from damo.reports.plot import size_error
    error = size_error(value)
    if error:
        raise click.BadParameter(error, ctx=ctx, param=param)
    return value
