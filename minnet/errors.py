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


class ShapeError(MinnetError, ValueError):
    """A layer was given an array of a shape it cannot take.

    The message names the layer, the shape it expects (letters stand for any size, e.g.
    ``(B, 784)``) and the shape it was given. It is a :class:`MinnetError`, so the command line
    prints it as one line, and a ``ValueError``, as NumPy's own shape errors are.
    """

    def __init__(self, layer, expected, given, what="input"):
        self.layer, self.expected, self.given = layer, expected, tuple(given)
        super().__init__(f"{layer} expects {what} of shape {expected}, got {self.given}")
