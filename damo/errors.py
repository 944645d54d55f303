"""Errors that end a command with one clear line instead of a traceback."""


class DamoError(Exception):
    """A user-facing failure: bad input file, bad option value, missing tool.

    The CLI prints ``damo: error: <message>`` and exits with ``exit_code``.
    The message should name the file, field or option at fault.
    """

    exit_code = 1

    def __init__(self, message, exit_code=None):
        # one line whatever it quotes (a column name, an argument with a \n)
        super().__init__(one_line(str(message)))
        if exit_code is not None:
            self.exit_code = exit_code


def one_line(message):
    """A message quoting the user's words on one line: control characters
    (a \\r or \\n inside an argument or a file's field) as escapes."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
