"""The training loop's side of data-parallel training: what the runner does around each step.

:func:`attach` once, before training: the trainer's optimizers average their gradients over
the ranks, and its batch-norm layers take global-batch statistics. Then for each global batch
(the same on every rank)::

    images, labels, indices = own_share(batch)         # this rank's B/P rows
    logs = trainer.train_step(images, labels, indices)  # one allreduce per optimizer step inside
    share_per_example(trainer, batch_indices)           # the rows each rank updated, to all ranks
    logs, stop = agree(logs, stop_requested)            # the global batch's logs; stop together

With one process each of these returns what it was given.
"""

import hashlib
import json

import numpy as np

from minnet import backend
from minnet.distributed import world
from minnet.distributed.batch import own_rows
from minnet.errors import MinnetError
from minnet.layers.norm import BatchNorm


def check_same_run(settings):
    """A MinnetError on every rank unless every rank was given the same ``settings`` (a JSON-able
    dict: model, config, seed, data). Ranks started with different ones would train different
    models, or one would finish first and leave the others waiting for it forever."""
    communicator = world()
    if communicator.size == 1:
        return
    text = json.dumps(settings, sort_keys=True).encode()
    digest = np.frombuffer(hashlib.sha256(text).digest()[:8], dtype=np.int64).copy()
    every = communicator.allgather(digest)
    different = [rank for rank in range(communicator.size) if every[rank] != every[0]]
    if different:
        raise MinnetError(
            f"rank {different[0]} was started with other settings or data than rank 0: "
            "every process must run the same minnet train command"
        )


def attach(trainer, communicator=None):
    """Make ``trainer``'s optimizers and batch norms work over ``communicator`` (default: the
    world). Only what the training step runs is attached: all ranks run it in step, whereas a
    figure drawn by rank 0 alone must not wait for the others."""
    communicator = communicator or world()
    for optimizer in trainer.optimizers.values():
        optimizer.communicator = communicator
    for network in trainer.networks.values():
        for layer in network.walk():
            if isinstance(layer, BatchNorm):
                layer.communicator = communicator


def own_share(*batch):
    """This rank's rows of each array of a global batch (images, labels, indices)."""
    return tuple(own_rows(array) for array in batch)


def share_per_example(trainer, indices):
    """After a step on the global batch whose images are at ``indices`` (B,): every rank gets
    the per-image state rows (``trainer.per_example``) that their owners updated.

    Rank r updated rows ``indices[r n:(r+1) n]``; gathering every rank's rows in rank order
    gives the rows of all of ``indices``, in order. One allgather per per-image array.
    """
    communicator = world()
    if communicator.size == 1:
        return
    for state in trainer.per_example.values():
        at = backend.xp_of(state).asarray(indices)
        state[at] = communicator.allgather(state[own_rows(at)])


def agree(logs, stop_requested):
    """``(logs of the global batch, stop)`` with one allreduce.

    ``logs`` are means over this rank's B/P images (a value the same on every rank, such as a
    gradient norm, is unchanged): their mean over the ranks is the mean over the global batch.
    ``stop`` is True on every rank when any asked to stop (a Ctrl-C reaches each rank at a
    slightly different step; all stop after the same one).
    """
    communicator = world()
    if communicator.size == 1:
        return logs, stop_requested
    values = np.array([*logs.values(), float(bool(stop_requested))], dtype=np.float64)
    communicator.allreduce_sum(values)
    means = values[:-1] / communicator.size
    return dict(zip(logs, means.tolist(), strict=True)), bool(values[-1] > 0)
