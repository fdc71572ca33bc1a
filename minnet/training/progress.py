"""A one-line progress bar for long loops: count, rate, ETA and running values.

Drawn on stderr, and only when stderr is a terminal, so logs and test runners see nothing
of it (the per-epoch summary lines go to stdout regardless)::

    epoch 3/20 |########......| 240/468  31.2 it/s  ETA 0:07  d_loss 0.61  g_loss 0.93
"""

import shutil
import sys
import time


def format_seconds(seconds):
    """``3725 -> "1:02:05"``, ``65 -> "1:05"``."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """Progress of ``total`` steps; call :meth:`update` after each and :meth:`close` at the end.

    Drawn only on a terminal, and only when ``enabled`` (one rank of several draws it)."""

    def __init__(self, total, label="", stream=None, start=0, enabled=True):
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.done = start
        self._first = start
        self._started = time.perf_counter()
        self._last_draw = 0.0

    def update(self, values=None, steps=1):
        self.done += steps
        now = time.perf_counter()
        if self.enabled and (now - self._last_draw > 0.1 or self.done == self.total):
            self._last_draw = now
            self._draw(now, values or {})

    def _draw(self, now, values):
        elapsed = now - self._started
        rate = (self.done - self._first) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        shown = "  ".join(f"{k} {v:.3g}" for k, v in values.items())
        width = 20
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        line = f"{self.label} |{bar}| {self.done}/{self.total}  {rate:.1f} it/s  ETA {format_seconds(eta)}  {shown}"
        columns = shutil.get_terminal_size((120, 20)).columns
        self.stream.write("\r" + line[: columns - 1].ljust(columns - 1))
        self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\r" + " " * (shutil.get_terminal_size((120, 20)).columns - 1) + "\r")
            self.stream.flush()
