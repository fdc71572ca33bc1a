"""``minnet train NAME [options]``: one subcommand per model.

Each model's options are made from the fields of its Config dataclass (``hidden`` becomes
``--hidden 150,300``, ``stable`` becomes ``--stable/--no-stable``), with the paper's values as
defaults, so ``minnet train NAME --help`` documents the model. The run options (seed, device,
output directory, resumption, data) are the same for every model.

``mpiexec -n P minnet train ...`` trains one model on P processes (:mod:`minnet.distributed`):
``--batch-size`` stays the global batch, of which each process takes B/P images; rank 0 alone
prints and writes the run directory.
"""

import contextlib
import dataclasses
import os

import click
from click.core import ParameterSource

from minnet import backend, distributed
from minnet.data import load_mnist
from minnet.data.load import check_digits
from minnet.errors import MinnetError
from minnet.models import TRAINERS, build, restore, trainer_class
from minnet.models.base import config_to_dict
from minnet.training import data_parallel
from minnet.training.lock import RunLock
from minnet.training.runner import checkpoint_path, silent, steps_per_epoch
from minnet.training.runner import train as run_training


class IntList(click.ParamType):
    """Comma-separated positive integers: ``"150,300" -> (150, 300)``."""

    name = "INTS"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            numbers = tuple(int(part) for part in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of integers", param, ctx)
        if not numbers or min(numbers) < 1:
            self.fail(f"{value!r} must list positive integers", param, ctx)
        return numbers


class DigitList(click.ParamType):
    """Comma-separated distinct digits 0-9: ``"0,1,2,3,4" -> (0, 1, 2, 3, 4)``."""

    name = "DIGITS"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return check_digits([int(part) for part in str(value).split(",")])
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of digits", param, ctx)
        except MinnetError as err:
            self.fail(f"{value!r}: {err}", param, ctx)


def _click_type(field):
    meta = field.metadata
    if field.type is tuple:
        return IntList()
    if meta.get("choices"):
        return click.Choice(meta["choices"])
    if field.type is int:
        return click.IntRange(meta.get("min"), meta.get("max"))
    if field.type is float:
        return click.FloatRange(meta.get("min"), meta.get("max"), min_open=meta.get("positive", False))
    return field.type


def config_options(config_cls):
    """A click option for every field of ``config_cls``."""
    options = []
    for field in dataclasses.fields(config_cls):
        flag = "--" + field.name.replace("_", "-")
        help_text = field.metadata.get("help", "")
        if field.type is bool:
            decl = f"{flag}/--no-{field.name.replace('_', '-')}"
            options.append(
                click.Option([decl, field.name], default=field.default, help=help_text, show_default=True)
            )
        else:
            default = ",".join(map(str, field.default)) if field.type is tuple else field.default
            option = click.Option(
                [flag, field.name], type=_click_type(field), default=default, help=help_text, show_default=True
            )
            options.append(option)
    return options


RUN_OPTIONS = [
    click.Option(["--seed"], type=int, default=0, show_default=True, help="seed of weights, noise and data order"),
    click.Option(["--device"], type=click.Choice(backend.DEVICES), default="cpu", show_default=True),
    click.Option(["--out", "out"], type=click.Path(file_okay=False), help="run directory [default: runs/NAME]"),
    click.Option(
        ["--resume"], is_flag=True,
        help="continue the run in --out from its last checkpoint (only --epochs and --lr may change)",
    ),
    click.Option(["--data-dir"], type=click.Path(), help="directory holding the four MNIST files"),
    click.Option(["--limit"], type=click.IntRange(min=1), help="train on the first N images only"),
    click.Option(["--digits"], type=DigitList(), help="train on images of these digits only, e.g. 0,1,2,3,4"),
    click.Option(
        ["--log-every"], type=click.IntRange(min=1), default=50, show_default=True, help="steps between metric lines"
    ),
]
RUN_KEYS = [opt.name for opt in RUN_OPTIONS]
# What a resumed run may change: how long it trains, and its learning rate (lowering it for the
# last epochs is common). A run resumed without them continues exactly as if never stopped.
CHANGEABLE_ON_RESUME = {"epochs", "lr"}


def _make_directory(out):
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as err:
        raise MinnetError(f"cannot write to --out {out}: {err.strerror}") from None


def _resume(ctx, cls, out, values):
    """The trainer, metadata and position of the run in ``out``, with a new epoch total and, if
    ``--lr`` is given, a new learning rate (recorded in ``meta["lr_changes"]`` by ``restore``)."""
    new_lr = {"lr": values["lr"]} if ctx.get_parameter_source("lr") == ParameterSource.COMMANDLINE else {}
    trainer, meta, position = restore(out, config_changes=new_lr)
    if meta["model"] != cls.name:
        raise MinnetError(f"{out} holds a {meta['model']} run, not {cls.name}")
    started_with = {
        **meta["config"], "seed": meta["seed"], "limit": meta["data"]["limit"], "digits": meta["data"].get("digits")
    }
    given = {**values, "seed": ctx.params["seed"], "limit": ctx.params["limit"], "digits": ctx.params["digits"]}
    changed = [
        name
        for name in started_with.keys() - CHANGEABLE_ON_RESUME
        if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE
        and _as_json(given[name]) != started_with[name]
    ]
    if changed:
        flags = ", ".join("--" + name.replace("_", "-") for name in sorted(changed))
        raise MinnetError(
            f"{flags} cannot change when resuming: the run keeps the settings it started with "
            "(only --epochs and --lr can change)"
        )
    if ctx.get_parameter_source("epochs") == ParameterSource.COMMANDLINE:
        trainer.config.epochs = meta["config"]["epochs"] = values["epochs"]
    if position.epoch >= trainer.config.epochs:
        raise MinnetError(
            f"{out} has already trained {position.epoch} of {trainer.config.epochs} epochs: "
            "pass a larger --epochs to continue it"
        )
    return trainer, meta, position


def _as_json(value):
    """A setting as the checkpoint's JSON gives it back (tuples become lists)."""
    return list(value) if isinstance(value, tuple) else value


def check_batch_divides(batch_size, processes):
    """A MinnetError unless ``processes`` ranks can share a global batch of ``batch_size`` evenly."""
    if batch_size % processes:
        raise MinnetError(
            f"--batch-size {batch_size} cannot be shared by {processes} processes: "
            f"choose a multiple of {processes} (it is the global batch, B/P images per process)"
        )


def train_model(ctx, cls, values):
    """Train a new run, or resume one, in ``--out``, holding the directory's lock (see
    :mod:`minnet.training.lock`) from before the run is read or written until the end."""
    with contextlib.ExitStack() as held:
        _train_model(ctx, cls, values, held)


def _train_model(ctx, cls, values, held):
    run = {key: values.pop(key) for key in RUN_KEYS}
    communicator = distributed.start(run["device"])  # before backend.use: it picks this rank's GPU
    backend.use(run["device"])
    writer = communicator.rank == 0
    echo = click.echo if writer else silent
    out = run["out"] or os.path.join("runs", cls.name)
    if run["resume"]:
        if not os.path.exists(checkpoint_path(out)):
            raise MinnetError(f"no run to resume in {out} (no {os.path.basename(checkpoint_path(out))})")
        if writer:
            held.enter_context(RunLock(out))
        trainer, meta, position = _resume(ctx, cls, out, values)
        data_dir = run["data_dir"] or meta["data"]["data_dir"]
        limit, digits = meta["data"]["limit"], meta["data"].get("digits")
        if ctx.get_parameter_source("log_every") != ParameterSource.COMMANDLINE:
            run["log_every"] = meta["log_every"]
    else:
        trainer = build(cls.name, cls.Config(**values), run["seed"])  # refuses bad settings first
        position = None
        data_dir, limit, digits = run["data_dir"], run["limit"], run["digits"]
    check_batch_divides(trainer.config.batch_size, communicator.size)
    dataset = load_mnist(cls.data_split, data_dir=data_dir, binarize=cls.binarize, limit=limit, digits=digits)
    data = {
        "split": dataset.split, "source": dataset.source, "count": len(dataset), "limit": limit, "data_dir": data_dir,
        "digits": _as_json(digits),
    }
    if run["resume"]:
        before = meta["data"]
        if (before["source"], before["count"]) != (data["source"], data["count"]):
            raise MinnetError(
                f"the run trained on {before['count']} images of the {before['source']} set, but "
                f"{data['count']} of the {data['source']} set were found now; pass the same --data-dir"
            )
    else:
        steps_per_epoch(dataset, trainer.config.batch_size)  # refuse a batch larger than the data first
        if writer:  # rank 0 alone writes the run directory, so it alone holds the lock
            _make_directory(out)
            held.enter_context(RunLock(out))
        if os.path.exists(checkpoint_path(out)):
            raise MinnetError(f"{out} already holds a run: add --resume to continue it, or choose another --out")
        trainer.data = data
        trainer.prepare(dataset)
        meta = {"model": cls.name, "config": config_to_dict(trainer.config), "seed": run["seed"], "data": data}
    meta.update(device=run["device"], log_every=run["log_every"])
    same = {key: value for key, value in meta.items() if key != "data"}
    data_parallel.check_same_run({**same, "data": {k: v for k, v in data.items() if k != "data_dir"}})

    epochs = trainer.config.epochs
    parameters = trainer.num_parameters()
    which = f" of digits {','.join(map(str, digits))}" if digits else ""
    processes = f"{communicator.size} process{'es' if communicator.size > 1 else ''} ({communicator.name})"
    where = run["device"] + ("" if isinstance(communicator, distributed.SingleProcess) else f", {processes}")
    echo(
        f"training {cls.name} ({parameters:,} parameters) on {len(dataset):,} {dataset.source} MNIST images{which} "
        f"for {epochs} epoch{'s' if epochs != 1 else ''} on {where}; run in {out}"
    )
    try:
        run_training(
            trainer, dataset, out, meta, epochs=epochs, position=position, log_every=run["log_every"], say=echo
        )
    except KeyboardInterrupt:
        echo(f"continue with: minnet train {cls.name} --out {out} --resume", err=True)
        raise
    echo(f"done: {checkpoint_path(out)}; samples in {os.path.join(out, 'samples')}")


def _model_command(cls):
    @click.pass_context
    def callback(ctx, **values):
        train_model(ctx, cls, values)

    return click.Command(
        cls.name,
        callback=callback,
        params=config_options(cls.Config) + RUN_OPTIONS,
        help=f"{cls.description}.\n\nPaper {cls.paper}. Defaults are the paper's settings.",
        short_help=cls.description,
    )


class ModelGroup(click.Group):
    def resolve_command(self, ctx, args):
        if args and not args[0].startswith("-"):
            trainer_class(args[0])  # a clear error naming the models for an unknown name
        return super().resolve_command(ctx, args)


@click.group(cls=ModelGroup)
def train():
    """Train a model: minnet train NAME [options] (minnet train NAME --help lists them)."""


for _cls in TRAINERS.values():
    train.add_command(_model_command(_cls))
