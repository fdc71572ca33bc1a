"""Training runs: the loop that drives a trainer over epochs and keeps its run directory.

A run directory holds everything one ``minnet train`` produces::

    checkpoint.npz        weights, optimizer state, RNG state, position; rewritten atomically
                          at the end of every epoch, on Ctrl-C and at the end
    metrics.jsonl         every ``log_every`` steps: running means of the step's losses and
                          the trainer's diagnostics
    epochs.jsonl          one line per epoch: mean losses, seconds, and what the trainer's
                          ``end_of_epoch`` returned (validation measures)
    samples/epoch-NNN.png a sample grid after each epoch, always from the same noise
    samples-by-epoch.png  those grids side by side across epochs
    <curve>.png           the curves the trainer names (losses, confidences, ...), per step
                          from metrics.jsonl (``curves``) or per epoch from epochs.jsonl
                          (``epoch_curves``)
    ...                   any figures the trainer's ``end_of_epoch`` writes
    eval.json             written by ``minnet eval``: the metrics of the latest checkpoint

Exact resumption: the order of the training images in epoch ``e`` comes from a generator
seeded with ``(seed, e)``, and everything random inside the trainer draws from the trainer's
own generator, whose state is checkpointed. A run resumed from a checkpoint taken at any
step therefore performs exactly the remaining steps of the uninterrupted run.

Under ``mpiexec`` (:mod:`minnet.distributed`) every rank runs this loop on the same global
batches, each training on its share of them; rank 0 alone writes the run directory.
"""

import dataclasses
import json
import math
import os
import re
import signal
import threading
import time

import numpy as np
from PIL import Image

from minnet import backend
from minnet.distributed import steps as data_parallel
from minnet.distributed import world
from minnet.errors import MinnetError
from minnet.figures import images
from minnet.fileio import atomic_write
from minnet.speed import memory
from minnet.training.checkpoint import load_checkpoint, save_checkpoint
from minnet.training.progress import ProgressBar, format_seconds

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.jsonl"
EPOCHS = "epochs.jsonl"
SAMPLES_DIR = "samples"
SAMPLES_BY_EPOCH = "samples-by-epoch.png"
EVAL_FILE = "eval.json"  # written by minnet eval
GRID_SEED = 2**31 - 1  # the fixed noise for the per-epoch sample grids
MAX_EPOCHS_SIDE_BY_SIDE = 6
LOG_AXIS_SPAN = 100  # a curve figure whose positive values span this factor gets a log y axis


@dataclasses.dataclass
class Position:
    """Where training stands: completed epochs, steps into the current one, total steps."""

    epoch: int = 0
    step: int = 0
    global_step: int = 0
    seconds: float = 0.0


@dataclasses.dataclass
class EpochContext:
    """What a trainer's ``end_of_epoch`` is told about the run (see models.base.Trainer)."""

    run_dir: str
    epoch: int  # the epoch just completed, from 1
    seed: int  # the run's seed
    dataset: object  # the training Dataset
    data_dir: str | None  # where the MNIST files were looked for (None: the usual places)
    say: object  # print-like: one line to the user


def checkpoint_path(run_dir):
    return os.path.join(run_dir, CHECKPOINT)


def save_run_checkpoint(run_dir, trainer, position, meta):
    """Write the trainer's state and the run's metadata (``meta`` holds model/config/seed; the
    trainer's ``model_format`` is added, see :func:`minnet.models.restore`)."""
    info = {**meta, "model_format": trainer.model_format, "position": dataclasses.asdict(position)}
    save_checkpoint(checkpoint_path(run_dir), trainer.state(), info)


def sample_grid(trainer, seed, n_per_row=10):
    """100 samples from fixed noise: for conditional models one row per digit 0..9.

    Returns ``(images, labels or None)``. Drawing from a generator of its own keeps the
    trainer's random stream untouched, so taking grids does not change training.
    """
    rng = np.random.default_rng([seed, GRID_SEED])
    if trainer.conditional:
        labels = np.repeat(np.arange(10), n_per_row)
        return trainer.sample(len(labels), labels=labels, rng=rng), labels
    return trainer.sample(10 * n_per_row, rng=rng), None


def read_jsonl(path):
    """The records (dicts) of a log written by :func:`_append_jsonl`; [] if there is none.

    A last line cut short (the process was killed while appending it) is dropped; any other
    line that is not a JSON object is a MinnetError naming the file and line.
    """
    if not os.path.exists(path):
        return []
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line for line in f.read().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as err:
        raise MinnetError(f"cannot read {path}: {err}") from None
    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break  # cut short by a kill while it was being written
            record = None
        if not isinstance(record, dict):
            raise MinnetError(f"{path}, line {number}: not a record minnet wrote")
        records.append(record)
    return records


def _write_jsonl(path, records):
    with atomic_write(path) as f:
        f.writelines((json.dumps(r) + "\n").encode() for r in records)


def _append_jsonl(path, record):
    try:
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")
    except OSError as err:
        raise MinnetError(f"cannot write {path}: {err.strerror or err}") from None


def _forget_after(run_dir, position):
    """Drop what was written after the checkpoint (a run killed without saving, or a new run in
    a directory an earlier one left logs in): log lines and sample grids of later steps."""
    metrics = os.path.join(run_dir, METRICS)
    _write_jsonl(metrics, [r for r in read_jsonl(metrics) if r.get("step", math.inf) <= position.global_step])
    epochs = os.path.join(run_dir, EPOCHS)
    _write_jsonl(epochs, [r for r in read_jsonl(epochs) if r.get("epoch", math.inf) <= position.epoch])
    for epoch, path in epoch_grids(run_dir):
        if epoch > position.epoch:
            os.remove(path)


class _RunningMeans:
    """Means of each logged value since the last reset."""

    def __init__(self):
        self.sums, self.count = {}, 0

    def add(self, values):
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
        self.count += 1

    def means(self):
        return {k: v / self.count for k, v in self.sums.items()} if self.count else {}


class Interrupted(KeyboardInterrupt):
    """A Ctrl-C stopped training after a whole step and the checkpoint is saved; with several
    ranks, every one stopped after the same step, so all can end in order."""


class _CtrlCBetweenSteps:
    """Hold a Ctrl-C back until the training step under way is complete.

    A step updates D, then G; a KeyboardInterrupt raised between the two would leave a
    checkpoint that no uninterrupted run passes through, and resuming would not be exact. While
    this context is active (on the main thread, where signals arrive), the first Ctrl-C only sets
    ``requested``, which the loop checks after each step; a second one interrupts at once, sets
    ``forced`` and nothing is saved.
    """

    def __enter__(self):
        self.requested = self.forced = False
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            self.forced = True
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _check_finite(logs, where):
    bad = [k for k, v in logs.items() if not math.isfinite(v)]
    if bad:
        raise MinnetError(f"training stopped {where}: {', '.join(bad)} became NaN or infinite")


def epoch_grids(run_dir):
    """``[(epoch, path), ...]`` of the per-epoch sample grids, by epoch; other files are ignored."""
    samples_dir = os.path.join(run_dir, SAMPLES_DIR)
    if not os.path.isdir(samples_dir):
        return []
    found = (re.fullmatch(r"epoch-(\d+)\.png", name) for name in os.listdir(samples_dir))
    return sorted((int(m.group(1)), os.path.join(samples_dir, m.group(0))) for m in found if m)


def draw_figures(run_dir, trainer, seed, epoch):
    """The sample grid of this epoch, the grids across epochs, and the trainer's curves."""
    samples_dir = os.path.join(run_dir, SAMPLES_DIR)
    os.makedirs(samples_dir, exist_ok=True)
    grid, labels = sample_grid(trainer, seed)
    row_labels = [str(d) for d in range(10)] if labels is not None else None
    images.save_grid(os.path.join(samples_dir, f"epoch-{epoch:03d}.png"), grid, nrow=10, row_labels=row_labels)

    done = epoch_grids(run_dir)
    picks = np.unique(np.linspace(0, len(done) - 1, min(len(done), MAX_EPOCHS_SIDE_BY_SIDE)).round().astype(int))
    chosen = [done[i] for i in picks]
    grids = [_read_grid(path) for _, path in chosen]
    captions = [f"epoch {number}" for number, _ in chosen]
    images.side_by_side(grids, captions, os.path.join(run_dir, SAMPLES_BY_EPOCH))

    _draw_curves(run_dir, trainer.name, trainer.curves, read_jsonl(os.path.join(run_dir, METRICS)), "step")
    _draw_curves(run_dir, trainer.name, trainer.epoch_curves, read_jsonl(os.path.join(run_dir, EPOCHS)), "epoch")


def _draw_curves(run_dir, name, curves, records, x_key):
    """One PNG per entry of ``curves`` ({file: [keys]}), each key's values against ``x_key``; on
    a log y axis when its values are all positive and span a factor of LOG_AXIS_SPAN or more
    (a loss falling by decades, or one spike, still leaves the rest of the curve readable)."""
    for filename, keys in curves.items():
        series = {
            k: ([r[x_key] for r in records if k in r], [r[k] for r in records if k in r]) for k in keys
        }
        series = {k: xy for k, xy in series.items() if xy[0]}
        if series:
            images.plot_curves(
                os.path.join(run_dir, filename),
                series,
                title=f"{name}: {', '.join(series)}",
                xlabel="training step" if x_key == "step" else "epoch",
                ylabel=os.path.splitext(filename)[0],
                logy=_spans_decades([y for _, ys in series.values() for y in ys]),
            )


def _spans_decades(values):
    """True when the finite ``values`` are all positive and the largest is LOG_AXIS_SPAN times
    the smallest or more."""
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) >= LOG_AXIS_SPAN * min(finite)


def _read_grid(path):
    """A sample grid PNG as a grey-level array; a damaged one is a MinnetError naming it."""
    try:
        with Image.open(path) as picture:
            return np.asarray(picture.convert("L"))
    except (OSError, ValueError) as err:
        raise MinnetError(f"cannot read the sample grid {path} ({err}); delete it to have it drawn again") from None


def steps_per_epoch(dataset, batch_size):
    """Full batches in one pass over ``dataset``; a MinnetError when there is not even one."""
    steps = len(dataset) // batch_size
    if steps == 0:
        raise MinnetError(f"the batch size {batch_size} is larger than the {len(dataset)} training images")
    return steps


def train(trainer, dataset, run_dir, meta, *, epochs, position=None, log_every=50, say=print):
    """Train ``trainer`` on ``dataset`` until ``epochs`` epochs are complete.

    Parameters
    ----------
    trainer : models.base.Trainer
    dataset : minnet.data Dataset (``len`` and ``batches(batch_size, rng)``)
    run_dir : str, an existing directory
    meta : dict saved in every checkpoint (model name, config, seed, ...); ``meta["seed"]``
        seeds the data order.
    epochs : total epochs of the run (a resumed run continues up to this number)
    position : where a resumed run starts; None for a new run
    log_every : steps between lines of metrics.jsonl
    say : where the one-line-per-epoch summaries go

    Returns the final :class:`Position`. Ctrl-C, once the step under way is done, saves a checkpoint and raises
    :class:`Interrupted` (a ``KeyboardInterrupt``); a NaN stops with a :class:`MinnetError` and keeps the last good
    checkpoint. The process keeps the memory it frees for the next step
    (:func:`minnet.speed.memory.keep_freed_memory`).

    With several ranks (:func:`minnet.distributed.world`), ``say`` is heard from rank 0 only.
    """
    memory.keep_freed_memory()
    position = position or Position()
    data_parallel.attach(trainer)
    if world().rank == 0:
        _forget_after(run_dir, position)
    else:
        say = silent
    steps = steps_per_epoch(dataset, trainer.config.batch_size)
    try:
        while position.epoch < epochs:
            _train_epoch(trainer, dataset, run_dir, meta, position, epochs, steps, log_every, say)
    except MinnetError as err:
        if os.path.exists(checkpoint_path(run_dir)):
            kept = load_checkpoint(checkpoint_path(run_dir))[1]["position"]["epoch"]
            raise MinnetError(f"{err}; the last good checkpoint, after epoch {kept}, is kept in {run_dir}") from None
        raise
    return position


def silent(*args, **kwargs):
    """The ``say`` of ranks other than 0: only rank 0 talks to the user."""


def _train_epoch(trainer, dataset, run_dir, meta, position, epochs, steps, log_every, say):
    """One epoch (or the rest of one, after resuming mid-epoch), then its checkpoint and figures
    (written by rank 0 alone)."""
    seed = meta["seed"]
    epoch = position.epoch + 1
    order = np.random.default_rng([seed, epoch])
    writer = world().rank == 0
    bar = ProgressBar(steps, f"epoch {epoch}/{epochs}", start=position.step, enabled=writer)
    started = time.perf_counter()
    ctrl_c = _CtrlCBetweenSteps()
    try:
        try:
            with ctrl_c:
                means = _run_steps(trainer, dataset, run_dir, position, order, epoch, bar, log_every, ctrl_c)
        finally:
            bar.close()  # before any message, whatever ended the epoch
    except KeyboardInterrupt:
        if ctrl_c.forced:
            say(f"interrupted twice in epoch {epoch}: nothing saved; {checkpoint_path(run_dir)} is as it was")
            raise
        position.seconds += time.perf_counter() - started
        if writer:
            save_run_checkpoint(run_dir, trainer, position, meta)
        world().any(False)  # the other ranks wait for rank 0's checkpoint before they end
        say(f"interrupted in epoch {epoch} after step {position.step}; saved {checkpoint_path(run_dir)}")
        raise Interrupted from None
    backend.synchronize()
    seconds = time.perf_counter() - started
    position.epoch, position.step, position.seconds = epoch, 0, position.seconds + seconds
    if not writer:
        return
    context = EpochContext(run_dir, epoch, seed, dataset, meta.get("data", {}).get("data_dir"), say)
    measured = trainer.end_of_epoch(context)
    _check_finite(measured, f"at the end of epoch {epoch}")
    _append_jsonl(os.path.join(run_dir, EPOCHS), {"epoch": epoch, "seconds": seconds, **means, **measured})
    save_run_checkpoint(run_dir, trainer, position, meta)
    draw_figures(run_dir, trainer, seed, epoch)
    shown = "  ".join(f"{k} {v:.4g}" for k, v in {**means, **measured}.items())
    say(f"epoch {epoch}/{epochs}  {format_seconds(seconds)}  {shown}")


def _run_steps(trainer, dataset, run_dir, position, order, epoch, bar, log_every, ctrl_c):
    """The steps of one epoch from ``position.step`` on; returns the means of the epoch's logs.

    After each step ``position`` is advanced, and a Ctrl-C held back by ``ctrl_c`` interrupts
    (every rank after the same step). Each rank trains on its share of the global batch
    (:mod:`minnet.distributed.steps`); the logs are the global batch's.
    """
    window, epoch_means = _RunningMeans(), _RunningMeans()
    writer = world().rank == 0
    for index, (x, y, rows) in enumerate(dataset.batches(trainer.config.batch_size, order, with_indices=True)):
        if index < position.step:
            continue  # already done before the checkpoint this run resumed from
        where = f"in epoch {epoch}, step {index + 1}"
        x, y, own = data_parallel.own_share(x, y, rows)
        try:
            logs = trainer.train_step(x, y, own)
        except MinnetError as err:
            raise MinnetError(f"training stopped {where}: {err}") from None
        data_parallel.share_per_example(trainer, rows)
        logs, stop = data_parallel.agree(logs, ctrl_c.requested)
        _check_finite(logs, where)
        window.add(logs)
        epoch_means.add(logs)
        position.step, position.global_step = index + 1, position.global_step + 1
        if position.global_step % log_every == 0 and writer:
            record = {"epoch": epoch, "step": position.global_step, **window.means()}
            record.update(trainer.diagnostics(x, y))
            _append_jsonl(os.path.join(run_dir, METRICS), record)
            window = _RunningMeans()
        bar.update(epoch_means.means())
        if stop:
            raise KeyboardInterrupt
    return epoch_means.means()


def load_run(run_dir_or_checkpoint):
    """``(arrays, meta, position)`` from a run directory or a checkpoint file."""
    path = run_dir_or_checkpoint
    if os.path.isdir(path):
        path = checkpoint_path(path)
    arrays, meta = load_checkpoint(path)
    try:
        position = Position(**meta.pop("position", {}))
    except TypeError:  # not a dict, or other keys than a Position's
        raise MinnetError(f"{path} is not a checkpoint of a minnet run (its position is not one)") from None
    return arrays, meta, position
