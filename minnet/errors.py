"""The one exception type for mistakes a user can cause.

The command line catches :class:`MinnetError` and prints its message as a single line with
exit status 2; anything else escaping is a bug in minnet and keeps its traceback.
"""


class MinnetError(Exception):
    """A problem with the user's input, files, data or environment, stated in one line."""
