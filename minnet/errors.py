"""The one exception type for mistakes a user can cause.

The command line catches :class:`MinnetError` and prints its message as a single line with
exit status 2; anything else escaping is a bug in minnet and keeps its traceback.
"""


class MinnetError(Exception):
    """A problem with the user's input, files, data or environment, stated in one line."""


class MinnetWarning(UserWarning):
    """Something the user should know that does not stop the work (e.g. a data fallback).

    The command line prints these as one line, ``minnet: warning: <message>``.
    """
