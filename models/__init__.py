"""The models reproduced from the five papers (000-004), by command-line name.

From Python, two calls cover a trained model::

    import minnet
    trainer = minnet.models.load("runs/first")      # a run directory or its checkpoint.npz
    digits = trainer.sample(16, rng=0)              # NumPy (16, 28, 28) in [0, 1]

:func:`build` makes a fresh trainer by name (``minnet.models.build("mlpgan", {"epochs": 1})``);
``TRAINERS`` maps each name to its trainer class; :func:`trainer_class` looks one up and
:func:`restore` rebuilds a trained model with its run's metadata and position, so the command
line stays generic. Every trainer follows :class:`~minnet.models.base.Trainer`.
"""

import dataclasses

from minnet.errors import MinnetError
from minnet.init import as_rng
from minnet.models.abp import ABP
from minnet.models.avme import AVME, ConditionalAVME
from minnet.models.base import Trainer, config_from_dict
from minnet.models.csgm import CSGM
from minnet.models.draw import DRAW
from minnet.models.experiments_with_gans import LSTMGAN, ConvGAN, ConvPoolGAN, LinearGAN
from minnet.models.handwritten_digits import CDCGAN, MLPGAN
from minnet.training import runner

__all__ = ["TRAINERS", "Trainer", "build", "load", "restore", "trainer_class"]

TRAINERS = {
    cls.name: cls
    for cls in (MLPGAN, CDCGAN, LinearGAN, ConvGAN, ConvPoolGAN, LSTMGAN, ABP, CSGM, DRAW, AVME, ConditionalAVME)
}


def trainer_class(name):
    """The trainer class called ``name`` (a key of ``TRAINERS``, e.g. ``"mlpgan"``); a
    MinnetError listing the names otherwise."""
    if name not in TRAINERS:
        raise MinnetError(f"unknown model {name!r}; choose one of: {', '.join(TRAINERS)}")
    return TRAINERS[name]


def build(name, config=None, seed=0):
    """A fresh, untrained trainer of the model ``name``.

    Parameters
    ----------
    name : str, a key of ``TRAINERS`` (``minnet models`` lists them).
    config : None for the paper's settings, a dict of the settings to change
        (``{"epochs": 1, "lr": 1e-3}``), or an instance of the trainer's ``Config``.
    seed : int seed or ``numpy.random.Generator`` of every random draw in training.

    Returns the trainer (a :class:`~minnet.models.base.Trainer`). Raises MinnetError for an
    unknown name or a setting the model does not have.
    """
    cls = trainer_class(name)
    if config is None or isinstance(config, dict):
        known = {field.name for field in dataclasses.fields(cls.Config)}
        unknown = sorted(set(config or {}) - known)
        if unknown:
            raise MinnetError(
                f"build: {name} has no setting {', '.join(map(repr, unknown))}; "
                f"its settings: {', '.join(sorted(known))}"
            )
        config = config_from_dict(cls.Config, config or {})
    elif not isinstance(config, cls.Config):
        raise MinnetError(f"build: config must be None, a dict or a {cls.__name__}.Config; got {type(config).__name__}")
    return cls(config, as_rng(seed, "build"))


def load(path):
    """The trained model saved in ``path``, ready to :meth:`~minnet.models.base.Trainer.sample`.

    ``path`` is a run directory (``minnet train ... --out DIR``) or its ``checkpoint.npz``.
    Returns the trainer, on the current device (:func:`minnet.backend.use`). Raises MinnetError
    naming the path when there is no checkpoint there or it is not a readable minnet run.
    :func:`restore` returns the run's metadata and position as well.
    """
    try:
        trainer, _meta, _position = restore(path)
    except MinnetError as err:
        raise MinnetError(f"load: {err}") from None
    return trainer


def restore(path, config_changes=None):
    """``(trainer, meta, position)`` from ``path``, a run directory or its checkpoint file.

    ``config_changes`` ({name: value}) replaces settings of the saved config before the trainer
    is built: a resumed run's new learning rate. Each value that differs from the saved one goes
    into ``meta["config"]`` and is recorded with the run's position in ``meta["<name>_changes"]``
    (``lr_changes``); a value equal to the saved one changes nothing.

    Raises MinnetError when the file is not a checkpoint, names an unknown model, or holds
    arrays that do not fit the model its config describes.
    """
    arrays, meta, position = runner.load_run(path)
    if "model" not in meta or "config" not in meta:
        raise MinnetError(f"{path} is a minnet checkpoint but not of a trained model")
    changed = {name: value for name, value in (config_changes or {}).items() if meta["config"].get(name) != value}
    meta["config"].update(changed)
    for name, value in changed.items():
        meta.setdefault(f"{name}_changes", []).append({"epoch": position.epoch, "step": position.step, name: value})
    cls = trainer_class(meta["model"])
    if meta.get("model_format", 1) != cls.model_format:
        raise MinnetError(
            f"{path} holds a {cls.name} run of format {meta.get('model_format', 1)}, and this minnet reads "
            f"format {cls.model_format} ({cls.model_format_change}): train it again"
        )
    trainer = build(meta["model"], config_from_dict(cls.Config, meta["config"]), meta.get("seed", 0))
    trainer.data = meta.get("data", {})
    try:
        trainer.load_state(arrays)
    except (KeyError, ValueError) as err:
        raise MinnetError(f"{path} does not fit model {meta['model']!r}: {err}") from None
    return trainer, meta, position
