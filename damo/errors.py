"""Errors that end a command with one clear line instead of a traceback."""


class DamoError(Exception):
    """A user-facing failure: bad input file, bad option value, missing tool.

    The CLI prints ``damo: error: <message>`` and exits with ``exit_code``.
    The message should name the file, field or option at fault.
    """

    exit_code = 1

    def __init__(self, message, exit_code=None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
