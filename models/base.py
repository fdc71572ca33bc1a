"""What every trainer shares: its configuration, its networks and optimizers, its state.

A trainer owns the networks of one paper's model and knows how to take one training step on
a batch and how to draw samples. The command line and :mod:`minnet.training.runner` drive any trainer
through this interface alone::

    trainer = Trainer(config, rng)          # config: the trainer's Config dataclass
    trainer.prepare(dataset)                # once, before a new run: per-image state is made here
    logs = trainer.train_step(images, labels, indices)  # -> {"d_loss": 0.69, ...} plain floats
    values = trainer.end_of_epoch(run)      # after each epoch: figures, and values for epochs.jsonl
    images = trainer.sample(n, labels=None, rng=None)  # numpy (n, 28, 28) in [0, 1]
    arrays = trainer.state(); trainer.load_state(arrays)

A learner gets a trainer from :func:`minnet.models.build` (a fresh one) or
:func:`minnet.models.load` (a saved run) and draws digits with :meth:`Trainer.sample`.

``indices`` are the positions of the batch's images in the training set. Models that keep
state per training image (CSGM's latent code L, ABP's Z) hold it in ``trainer.per_example``:
one array per name, indexed by that position, saved in the checkpoint with the weights, so a
resumed run finds every image's state as it was.

Every source of randomness in training (weight initialisation, noise, dropout masks) draws
from the one ``numpy.random.Generator`` handed to the constructor, and its state is part of
the checkpoint, so a resumed run continues with exactly the numbers an uninterrupted run
would have drawn. What a training step draws for its images it draws for the whole global
batch (:meth:`Trainer.batch_normal`, :mod:`minnet.distributed.batch`), so that P processes,
each given its share of the batch, draw what one process would.
"""

import dataclasses
import functools
import json
import numbers

import numpy as np

from minnet import backend
from minnet.data import NUM_CLASSES
from minnet.distributed.batch import own_rows, whole_shape
from minnet.errors import MinnetError
from minnet.init import as_rng

PER_EXAMPLE = "per_example"  # checkpoint prefix of the per-image arrays


def option(default, help, *, choices=None, min=None, max=None, positive=False):
    """A config field that the command line exposes as ``--field-name`` with this help.

    ``choices`` restricts a string; ``min``/``max`` bound a number (inclusive); ``positive``
    requires a number above 0. Tuples of ints are given on the command line as
    comma-separated lists ("150,300").
    """
    metadata = {"help": help, "choices": choices, "min": 0 if positive else min, "max": max, "positive": positive}
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass
class Config:
    """Settings every trainer has; each model's Config subclasses this with its own."""

    epochs: int = option(20, "passes over the training set", min=1)
    batch_size: int = option(128, "images per training step", min=1)
    lr: float = option(2e-4, "learning rate", positive=True)


def config_to_dict(config):
    return dataclasses.asdict(config)


def config_from_dict(cls, values):
    """Rebuild a Config, ignoring names the class no longer has (lists become tuples)."""
    names = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key in names:
            kwargs[key] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


class Trainer:
    """Base class. Subclasses set the class attributes and fill ``networks``/``optimizers``.

    Class attributes
    ----------------
    name : the command-line name (``minnet train NAME``)
    paper : which paper in ../shared/papers it reproduces
    description : one line for ``minnet models``
    Config : the dataclass of settings, with the paper's values as defaults
    conditional : True when ``sample`` takes digit labels
    any_resolution : True when ``sample`` takes ``size`` (renders at any resolution)
    samplers : names ``sample`` accepts as ``sampler`` (the first is the default); () for one
    data_split : the MNIST split to train on
    binarize : None, "static" or "dynamic" (see minnet.data)
    curves : {png file name: [log keys]} of metrics.jsonl, drawn after each epoch
    epoch_curves : {png file name: [keys]} of epochs.jsonl (what ``end_of_epoch`` returns),
        drawn after each epoch against the epoch number
    model_format, model_format_change : the version of what this model's checkpoints mean,
        saved with every checkpoint, and one line on what its last increase changed. Raise it when
        a change would make earlier checkpoints load into a different model without an error
        (a new meaning for an input, say): :func:`minnet.models.restore` then refuses them.

    Every subclass's ``__init__`` and ``sample`` are wrapped once, when the subclass is defined
    (:meth:`__init_subclass__`): ``rng`` may be an int seed, a ``numpy.random.Generator`` or
    None wherever a trainer takes one, and ``sample`` refuses a bad ``n`` or bad ``labels`` in
    one line, so no model repeats those checks.
    """

    name = ""
    paper = ""
    description = ""
    Config = Config
    conditional = False
    any_resolution = False
    samplers = ()
    data_split = "train_full"
    binarize = None
    curves = {}
    epoch_curves = {}
    model_format = 1
    model_format_change = ""

    def __init_subclass__(cls, **kwargs):
        """Wrap the subclass's own ``__init__`` and ``sample`` (see the class docstring)."""
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):
            cls.__init__ = _seeded_init(cls.__init__)
        if "sample" in vars(cls):
            cls.sample = _checked_sample(cls.sample)

    def __init__(self, config, rng):
        """``config``: the model's Config; ``rng``: an int seed, a numpy Generator or None."""
        self.config = config
        self.rng = rng
        self.networks = {}
        self.optimizers = {}
        self.per_example = {}  # name -> array (N_train, ...) on the device, row i for training image i
        # What the run trains on (the checkpoint's meta["data"]: split, limit, digits, data_dir, ...),
        # set by the command line and by models.restore; {} for a trainer outside a run.
        self.data = {}

    def prepare(self, dataset):
        """Called once before a new run trains on ``dataset`` (not on resume: the checkpoint
        holds what was made here). Models with per-image state allocate it here."""

    def train_step(self, images, labels, indices=None):
        """One step on a batch: images float32 (B, 28, 28) in [0, 1], labels int64 (B,),
        indices int64 (B,) the images' positions in the training set."""
        raise NotImplementedError

    def end_of_epoch(self, run):
        """After each epoch (``run``: :class:`minnet.training.runner.EpochContext`): write the model's own
        figures into ``run.run_dir`` and return ``{name: float}`` for that epoch's line of
        epochs.jsonl (validation measures, say). Default: nothing."""
        return {}

    def sample(self, n, labels=None, rng=None, size=None):
        """Draw ``n`` digits from the trained model, in inference mode.

        Parameters
        ----------
        n : int, at least 1: the number of images.
        labels : None, or n digits 0-9 (a list or an int array (n,)) for a conditional model
            (``trainer.conditional``): image ``i`` then shows digit ``labels[i]``. Models that
            need them (the conditional GANs) refuse None; an unconditional model refuses labels.
        rng : an int seed, a ``numpy.random.Generator`` or None: where the noise comes from. The
            same seed gives the same images; None leaves it to the model (fresh noise, or the
            trainer's own generator).
        size : the side in pixels, for models that render at any resolution
            (``trainer.any_resolution``); others take None.

        Returns
        -------
        NumPy float32 array (n, 28, 28) (or (n, size, size)) of pixel intensities in [0, 1],
        on the CPU whatever the device: ready for :func:`minnet.figures.images.save_grid`. This
        is not what a model's networks give: a GAN's generator ``trainer.G`` maps noise to
        (n, 1, 28, 28) in [-1, 1] (a tanh), which ``sample`` reshapes and maps to (x + 1) / 2.

        Raises MinnetError for an ``n`` that is not a positive int, labels of the wrong length
        or outside 0-9, or an ``rng`` that is not a seed or a Generator.
        """
        raise NotImplementedError

    def diagnostics(self, images, labels):
        """Extra values logged with the running losses every few steps: ``{name: float}`` (default
        none), computed on a training batch (``images`` (B, 28, 28), ``labels`` (B,))."""
        return {}

    def num_parameters(self):
        """Learnable numbers in all of the trainer's networks."""
        return sum(net.num_parameters() for net in self.networks.values())

    # -- state -------------------------------------------------------------------------
    def state(self):
        """All arrays a checkpoint needs: ``"<net>/<param>"``, ``"<opt>.opt/<slot>"`` and
        ``"per_example/<name>"``."""
        arrays = {f"{PER_EXAMPLE}/{k}": backend.to_numpy(v).copy() for k, v in self.per_example.items()}
        for net_name, net in self.networks.items():
            arrays.update({f"{net_name}/{k}": v for k, v in net.state_dict().items()})
        for opt_name, opt in self.optimizers.items():
            arrays.update({f"{opt_name}.opt/{k}": v for k, v in opt.state_dict().items()})
        arrays["rng"] = np.frombuffer(json.dumps(self.rng.bit_generator.state).encode(), np.uint8)
        return arrays

    def load_state(self, arrays):
        """Restore from :meth:`state`'s arrays; raises KeyError/ValueError naming a bad entry."""
        for net_name, net in self.networks.items():
            prefix = f"{net_name}/"
            net.load_state_dict({k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)})
        for opt_name, opt in self.optimizers.items():
            prefix = f"{opt_name}.opt/"
            opt.load_state_dict({k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)})
        prefix = f"{PER_EXAMPLE}/"
        self.per_example = {k[len(prefix) :]: backend.to_device(v) for k, v in arrays.items() if k.startswith(prefix)}
        self.rng.bit_generator.state = json.loads(bytes(arrays["rng"]).decode())

    # -- helpers for subclasses -------------------------------------------------------
    def to_device(self, array):
        """``array`` (NumPy, any shape) as float32 on the current backend's device."""
        return backend.to_device(np.asarray(array, dtype=np.float32))

    def normal(self, shape, rng=None):
        """Standard normal noise of ``shape``, float32 on the device, drawn on the CPU from ``rng``
        (a Generator; default: the trainer's)."""
        rng = self.rng if rng is None else as_rng(rng, "normal")
        return self.to_device(rng.standard_normal(shape, dtype=np.float32))

    def batch_normal(self, shape, axis=0):
        """Noise for this rank's images of a training batch, ``shape`` with the images on axis
        ``axis``: drawn from the trainer's generator for the whole global batch, of which this
        rank keeps its rows (:mod:`minnet.distributed.batch`). One process: ``normal(shape)``."""
        return self.to_device(own_rows(self.rng.standard_normal(whole_shape(shape, axis), dtype=np.float32), axis))


def _seeded_init(init):
    """``init`` with its ``rng`` argument made a Generator first (an int is a seed)."""

    @functools.wraps(init)
    def seeded(self, config, rng=None, *args, **kwargs):
        init(self, config, as_rng(rng, f"{type(self).__name__}()"), *args, **kwargs)

    return seeded


def _checked_sample(sample):
    """``sample`` with ``n``, ``labels`` and ``rng`` checked and ``rng`` made a Generator."""

    @functools.wraps(sample)
    def checked(self, n, labels=None, rng=None, **options):
        where = f"{self.name or type(self).__name__}.sample"
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise MinnetError(f"{where}: n must be a whole number of images, at least 1; got {n!r}")
        if labels is not None:
            labels = _checked_labels(where, labels, n, self.conditional)
        return sample(self, int(n), labels, None if rng is None else as_rng(rng, where), **options)

    return checked


def _checked_labels(where, labels, n, conditional):
    """``labels`` as an int64 NumPy array (n,) of digits 0-9, or a MinnetError saying what is wrong."""
    if not conditional:
        raise MinnetError(f"{where}: this model is not conditional and takes no labels")
    labels = np.asarray(backend.to_numpy(labels) if hasattr(labels, "__cuda_array_interface__") else labels)
    if labels.shape != (n,):
        raise MinnetError(f"{where}: labels must be one label per image, shape ({n},); got shape {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise MinnetError(f"{where}: labels must be integers 0-{NUM_CLASSES - 1}; got {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise MinnetError(f"{where}: labels must be digits 0-{NUM_CLASSES - 1}; got {labels.min()}..{labels.max()}")
    return labels.astype(np.int64)
