"""The models reproduced from the five papers (000-004), by command-line name.

``TRAINERS`` maps each name to its trainer class; :func:`trainer_class` looks one up and
:func:`restore` rebuilds a trained model from a checkpoint, so the command line stays generic.
"""

import numpy as np

from minnet.errors import MinnetError
from minnet.models.abp import ABP
from minnet.models.avme import AVME, ConditionalAVME
from minnet.models.base import config_from_dict
from minnet.models.csgm import CSGM
from minnet.models.draw import DRAW
from minnet.models.experiments_with_gans import LSTMGAN, ConvGAN, ConvPoolGAN, LinearGAN
from minnet.models.handwritten_digits import CDCGAN, MLPGAN
from minnet.training.runner import load_run

TRAINERS = {
    cls.name: cls
    for cls in (MLPGAN, CDCGAN, LinearGAN, ConvGAN, ConvPoolGAN, LSTMGAN, ABP, CSGM, DRAW, AVME, ConditionalAVME)
}


def trainer_class(name):
    """The trainer class called ``name``; a MinnetError listing the names otherwise."""
    if name not in TRAINERS:
        raise MinnetError(f"unknown model {name!r}; choose one of: {', '.join(TRAINERS)}")
    return TRAINERS[name]


def build(name, config, seed):
    """A fresh trainer: ``config`` is a Config instance or a dict of its fields."""
    cls = trainer_class(name)
    if isinstance(config, dict):
        config = config_from_dict(cls.Config, config)
    return cls(config, np.random.default_rng(seed))


def restore(path, config_changes=None):
    """``(trainer, meta, position)`` from a run directory or checkpoint file.

    ``config_changes`` ({name: value}) replaces settings of the saved config before the trainer
    is built: a resumed run's new learning rate. Each value that differs from the saved one goes
    into ``meta["config"]`` and is recorded with the run's position in ``meta["<name>_changes"]``
    (``lr_changes``); a value equal to the saved one changes nothing.

    Raises MinnetError when the file is not a checkpoint, names an unknown model, or holds
    arrays that do not fit the model its config describes.
    """
    arrays, meta, position = load_run(path)
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
    trainer = build(meta["model"], meta["config"], meta.get("seed", 0))
    trainer.data = meta.get("data", {})
    try:
        trainer.load_state(arrays)
    except (KeyError, ValueError) as err:
        raise MinnetError(f"{path} does not fit model {meta['model']!r}: {err}") from None
    return trainer, meta, position
