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
                          (``epoch_curves``); these figures are drawn by
                          :mod:`minnet.figures.run_figures`
    ...                   any figures the trainer's ``end_of_epoch`` writes
    .lock                 held by the ``minnet train`` writing the run (:mod:`minnet.training.lock`)
    eval.json             written by ``minnet eval``: the metrics of the latest checkpoint

Exact resumption: the order of the training images in epoch ``e`` comes from a generator
seeded with ``(seed, e)``, and everything random inside the trainer draws from the trainer's
own generator, whose state is checkpointed. A run resumed from a checkpoint taken at any
step therefore performs exactly the remaining steps of the uninterrupted run.

Under ``mpiexec`` (:mod:`minnet.distributed`) every rank runs this loop on the same global
batches, each training on its share of them; rank 0 alone writes the run directory and talks
to the user.
"""

import dataclasses
import math
import os
import signal
import threading
import time

import numpy as np

from minnet import backend
from minnet.distributed import world
from minnet.errors import MinnetError
from minnet.figures.run_figures import draw_figures, epoch_grids
from minnet.speed import memory
from minnet.training import data_parallel
from minnet.training.checkpoint import load_checkpoint, save_checkpoint
from minnet.training.logs import append_jsonl, read_jsonl, write_jsonl
from minnet.training.progress import ProgressBar, format_seconds

CHECKPOINT = "checkpoint.npz"
METRICS = "metrics.jsonl"
EPOCHS = "epochs.jsonl"
EVAL_FILE = "eval.json"  # written by minnet eval


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
    return Run(trainer, dataset, run_dir, meta, epochs, position or Position(), log_every, say).train()


@dataclasses.dataclass
class Run:
    """One training run: what trains, on which data, where it writes, and where it stands.

    The loop reads from the top: :meth:`train` runs epochs, :meth:`train_epoch` runs the
    steps of one and ends it (measures, log line, checkpoint, figures), :meth:`train_steps`
    takes the batches of :meth:`batches` one step at a time. ``position`` advances after every
    step. Everything the run writes, to its directory or to the user, goes through the methods
    under "what the run writes", so a run with several processes can leave it to one of them;
    :meth:`batches` is the one place the batches come from.
    """

    trainer: object
    dataset: object
    run_dir: str
    meta: dict  # saved in every checkpoint; meta["seed"] seeds the data order
    epochs: int  # the epoch to train up to
    position: Position
    log_every: int  # steps between lines of metrics.jsonl
    say: object  # print-like: one line to the user

    def __post_init__(self):
        self.steps_per_epoch = steps_per_epoch(self.dataset, self.trainer.config.batch_size)
        self.writer = world().rank == 0  # the one rank that writes and talks
        if not self.writer:
            self.say = silent

    @property
    def seed(self):
        return self.meta["seed"]

    # -- the loop -----------------------------------------------------------------------
    def train(self):
        """Train up to ``epochs``; returns the final position (see :func:`train`)."""
        memory.keep_freed_memory()
        data_parallel.attach(self.trainer)
        self.forget_after_checkpoint()
        try:
            while self.position.epoch < self.epochs:
                self.train_epoch()
        except MinnetError as err:
            if os.path.exists(checkpoint_path(self.run_dir)):
                kept = load_checkpoint(checkpoint_path(self.run_dir))[1]["position"]["epoch"]
                raise MinnetError(
                    f"{err}; the last good checkpoint, after epoch {kept}, is kept in {self.run_dir}"
                ) from None
            raise
        return self.position

    def train_epoch(self):
        """One epoch (or the rest of one, after resuming mid-epoch), then its checkpoint and figures."""
        epoch = self.position.epoch + 1
        bar = self.progress_bar(epoch)
        started = time.perf_counter()
        ctrl_c = _CtrlCBetweenSteps()
        try:
            try:
                with ctrl_c:
                    means = self.train_steps(epoch, bar, ctrl_c)
            finally:
                bar.close()  # before any message, whatever ended the epoch
        except KeyboardInterrupt:
            checkpoint = checkpoint_path(self.run_dir)
            if ctrl_c.forced:
                self.say(f"interrupted twice in epoch {epoch}: nothing saved; {checkpoint} is as it was")
                raise
            self.position.seconds += time.perf_counter() - started
            self.save_checkpoint()
            world().any(False)  # the other ranks wait for rank 0's checkpoint before they end
            self.say(f"interrupted in epoch {epoch} after step {self.position.step}; saved {checkpoint}")
            raise Interrupted from None
        backend.synchronize()
        seconds = time.perf_counter() - started
        self.position.epoch, self.position.step = epoch, 0
        self.position.seconds += seconds
        if not self.writer:  # the end of an epoch is measures, logs and figures: rank 0's work
            return
        data_dir = self.meta.get("data", {}).get("data_dir")
        measured = self.trainer.end_of_epoch(
            EpochContext(self.run_dir, epoch, self.seed, self.dataset, data_dir, self.say)
        )
        _check_finite(measured, f"at the end of epoch {epoch}")
        self.log_epoch({"epoch": epoch, "seconds": seconds, **means, **measured})
        self.save_checkpoint()
        self.draw_figures(epoch)
        shown = "  ".join(f"{k} {v:.4g}" for k, v in {**means, **measured}.items())
        self.say(f"epoch {epoch}/{self.epochs}  {format_seconds(seconds)}  {shown}")

    def train_steps(self, epoch, bar, ctrl_c):
        """The steps of ``epoch`` from ``position.step`` on; returns the means of the epoch's logs.

        After each step ``position`` is advanced, and a Ctrl-C held back by ``ctrl_c`` interrupts
        (every rank after the same step). Each rank trains on its share of the global batch
        (:mod:`minnet.training.data_parallel`); the logs are the global batch's.
        """
        window, epoch_means = _RunningMeans(), _RunningMeans()
        for index, (x, y, rows) in enumerate(self.batches(epoch)):
            if index < self.position.step:
                continue  # already done before the checkpoint this run resumed from
            where = f"in epoch {epoch}, step {index + 1}"
            x, y, own = data_parallel.own_share(x, y, rows)
            try:
                logs = self.trainer.train_step(x, y, own)
            except MinnetError as err:
                raise MinnetError(f"training stopped {where}: {err}") from None
            data_parallel.share_per_example(self.trainer, rows)
            logs, stop = data_parallel.agree(logs, ctrl_c.requested)
            _check_finite(logs, where)
            window.add(logs)
            epoch_means.add(logs)
            self.position.step, self.position.global_step = index + 1, self.position.global_step + 1
            if self.position.global_step % self.log_every == 0 and self.writer:
                record = {"epoch": epoch, "step": self.position.global_step, **window.means()}
                self.log_step({**record, **self.trainer.diagnostics(x, y)})
                window = _RunningMeans()
            bar.update(epoch_means.means())
            if stop:
                raise KeyboardInterrupt
        return epoch_means.means()

    def batches(self, epoch):
        """The batches ``(images, labels, rows)`` of ``epoch``, in an order drawn from a generator
        seeded with ``(seed, epoch)``; ``rows`` are the images' positions in the dataset."""
        order = np.random.default_rng([self.seed, epoch])
        return self.dataset.batches(self.trainer.config.batch_size, order, with_indices=True)

    # -- what the run writes (rank 0 alone) ----------------------------------------------
    def save_checkpoint(self):
        """Write the trainer's state, ``meta`` and the position (the trainer's ``model_format`` is
        added, see :func:`minnet.models.restore`)."""
        if not self.writer:
            return
        info = {**self.meta, "model_format": self.trainer.model_format, "position": dataclasses.asdict(self.position)}
        save_checkpoint(checkpoint_path(self.run_dir), self.trainer.state(), info)

    def log_step(self, record):
        append_jsonl(os.path.join(self.run_dir, METRICS), record)

    def log_epoch(self, record):
        append_jsonl(os.path.join(self.run_dir, EPOCHS), record)

    def draw_figures(self, epoch):
        step_records = read_jsonl(os.path.join(self.run_dir, METRICS))
        epoch_records = read_jsonl(os.path.join(self.run_dir, EPOCHS))
        draw_figures(self.run_dir, self.trainer, self.seed, epoch, step_records, epoch_records)

    def progress_bar(self, epoch):
        return ProgressBar(
            self.steps_per_epoch, f"epoch {epoch}/{self.epochs}", start=self.position.step, enabled=self.writer
        )

    def forget_after_checkpoint(self):
        """Drop what was written after the checkpoint (a run killed without saving, or a new run in
        a directory an earlier one left logs in): log lines and sample grids of later steps."""
        if not self.writer:
            return
        metrics = os.path.join(self.run_dir, METRICS)
        kept = [r for r in read_jsonl(metrics) if r.get("step", math.inf) <= self.position.global_step]
        write_jsonl(metrics, kept)
        epochs = os.path.join(self.run_dir, EPOCHS)
        write_jsonl(epochs, [r for r in read_jsonl(epochs) if r.get("epoch", math.inf) <= self.position.epoch])
        for epoch, path in epoch_grids(self.run_dir):
            if epoch > self.position.epoch:
                os.remove(path)


def silent(*args, **kwargs):
    """The ``say`` of ranks other than 0: only rank 0 talks to the user."""


class Interrupted(KeyboardInterrupt):
    """A Ctrl-C stopped training after a whole step and the checkpoint is saved; with several
    ranks, every one stopped after the same step, so all can end in order."""


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
