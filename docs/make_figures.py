"""Regenerate every figure in ``docs/`` from training runs, and say what made each one.

    python docs/make_figures.py [--budget smoke|quick|medium|full] [--runs DIR] [--figures DIR] [--only RUN,...]

1. **Runs.** For each run of :data:`RUNS` (a model with its options), ``minnet train`` at the
   budget's epochs and data, then ``minnet eval``. A run already in ``--runs`` (default
   ``runs/docs-<budget>``) that finished is reused; one that stopped part-way is resumed.
2. **Figures.** Every function registered with :func:`figure` copies or derives its pictures
   from the runs into ``--figures`` (default ``docs/figures``), as small PNGs (and GIFs): the sample grids,
   the curves and the papers' own figures that the runs write, the first command's grid, and the
   README's top figure (samples of every model, one labelled row each).
3. **Record.** ``<figures>/made-by.md`` lists each figure and number with the commands and the
   budget behind it; the same is printed.

Budgets: ``full`` is what the model pages document (hours per model on a CPU); ``medium`` a
few minutes per model (about half an hour of one CPU thread in all, ``OPENBLAS_NUM_THREADS=1
MINNET_NUM_THREADS=1`` recommended); ``quick`` a few minutes in all; ``smoke`` seconds, on a
few hundred images with tiny networks (what the test suite runs, so this script cannot rot).
``--only`` trains and draws the figures of some runs only, e.g. to train two sets of runs side
by side; a final call without it reuses every run and draws everything.

The animated GIFs that training runs write (DRAW drawing, AVME's canvases, CSGM's zoom, the
first command's samples across epochs) are copied as the runs wrote them, one :func:`figure`
function each (see "Animations" below).
"""

import argparse
import dataclasses
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from minnet.cli.main import cli
from minnet.evaluation.metrics import draw_samples
from minnet.figures import images
from minnet.models import restore, trainer_class
from minnet.training.runner import checkpoint_path, load_run

DOCS = Path(__file__).resolve().parent
BUDGETS = ("smoke", "quick", "medium", "full")
MAX_WIDTH = 640  # pixels: a committed figure is scaled down to at most this width
TOP_SAMPLES = 10  # samples per model in the README's top figure
GREY_LEVELS, COLOURS = 16, 64  # the palette of a committed figure, grey or in colour

# Options that make each network tiny, for the smoke budget (seconds per run).
TINY_GAN = ["--z-dim", "8"]
TINY = {
    "gan": [*TINY_GAN, "--hidden", "16,32"],
    "cdcgan": [*TINY_GAN, "--channels", "4"],
    "gan-linear": [*TINY_GAN, "--g-hidden", "16,32", "--d-hidden", "32,16"],
    "gan-conv": [*TINY_GAN, "--channels", "2"],
    "gan-conv-pool": [*TINY_GAN, "--channels", "2"],
    "gan-lstm": [*TINY_GAN, "--units", "8"],
    "abp": ["--hidden", "16", "--channels", "4,4", "--eval-images", "20", "--eval-steps", "3"],
    "csgm": ["--eval-samples", "20", "--refine-steps", "1", "--visit-steps", "2"],
    "draw": ["--steps", "3", "--enc-size", "8", "--dec-size", "8", "--z-size", "4"],
    "avme": ["--steps", "3", "--hidden", "8", "--z-dim", "4"],
    "avme-cond": ["--steps", "3", "--hidden", "8", "--z-dim", "4"],
}


@dataclasses.dataclass
class Run:
    """A training run behind some figures.

    ``options`` are the model's options on every budget; ``budgets`` adds, per budget, the
    epochs and the data (``--limit``) (a run missing from a budget is not trained at it, and
    the figures that need it are left out) and ``resumes`` lists, per budget, later ``--resume``
    legs (``--epochs N --lr X``: training on at a lower learning rate). ``evaluate`` are the
    ``minnet eval`` options per budget.
    """

    key: str
    model: str
    label: str
    options: list
    budgets: dict
    resumes: dict = dataclasses.field(default_factory=dict)
    evaluate: dict = dataclasses.field(default_factory=dict)

    def trained_at(self, budget):
        return budget in self.budgets

    def train_commands(self, budget, out):
        tiny = TINY[self.model] if budget == "smoke" else []
        first = ["train", self.model, *self.options, *tiny, *self.budgets[budget], "--out", str(out)]
        legs = [["train", self.model, "--out", str(out), "--resume", *leg] for leg in self.resumes.get(budget, [])]
        return [first, *legs]

    def eval_command(self, budget, out):
        return ["eval", str(out), *self.evaluate.get(budget, EVAL[budget])]

    def epochs(self, budget):
        """Epochs the run has when every leg is done."""
        last = ([self.budgets[budget]] + self.resumes.get(budget, []))[-1]
        return int(last[last.index("--epochs") + 1])


def _epochs(n, limit=None):
    return ["--epochs", str(n)] + (["--limit", str(limit)] if limit else [])


SMOKE = _epochs(1, 300) + ["--log-every", "1"]  # every step logged, so the step curves are drawn
EVAL = {
    "smoke": ["--n", "20", "--importance-samples", "2", "--importance-images", "2"],
    "quick": ["--n", "500", "--importance-images", "20"],
    "medium": ["--n", "1000", "--importance-images", "50"],
    "full": ["--n", "10000"],
}
LIKELIHOOD_EVAL = {"medium": ["--n", "1000", "--importance-images", "50"], "full": ["--n", "10000"]}

RUNS = [
    Run("first", "cdcgan", "cdcgan --channels 16 (004)", ["--channels", "16"],
        {"smoke": SMOKE, "quick": _epochs(1, 5000), "medium": _epochs(4), "full": _epochs(4)}),
    Run("cdcgan", "cdcgan", "cdcgan (004)", [],
        {"smoke": SMOKE, "quick": _epochs(1, 2000), "full": _epochs(2)}),
    Run("gan", "gan", "gan (004)", [],
        {"smoke": SMOKE, "quick": _epochs(2, 10000), "medium": _epochs(20), "full": _epochs(20)}),
    Run("gan-stable", "gan", "gan --stable (004)", ["--stable"],
        {"smoke": SMOKE, "quick": _epochs(2, 10000), "medium": _epochs(20), "full": _epochs(20)}),
    Run("gan-linear", "gan-linear", "gan-linear (003)", [],
        {"smoke": SMOKE, "quick": _epochs(2, 10000), "medium": _epochs(40), "full": _epochs(40)}),
    Run("gan-conv", "gan-conv", "gan-conv (003)", [],
        {"smoke": SMOKE, "quick": _epochs(1, 5000), "medium": _epochs(20, 20000), "full": _epochs(50)}),
    Run("gan-conv-pool", "gan-conv-pool", "gan-conv-pool (003)", [],
        {"smoke": SMOKE, "quick": _epochs(1, 3000), "medium": _epochs(1, 10000), "full": _epochs(2)}),
    Run("gan-lstm", "gan-lstm", "gan-lstm (003)", [],
        {"smoke": SMOKE, "quick": _epochs(1, 2000), "medium": _epochs(1, 10000), "full": _epochs(2)}),
    Run("abp", "abp", "abp, digits 0-4 (002)", ["--digits", "0,1,2,3,4"],
        {"smoke": SMOKE, "quick": _epochs(1, 3000) + ["--eval-images", "100"], "medium": _epochs(1),
         "full": _epochs(8)}),
    Run("csgm", "csgm", "csgm (000)", [],
        {"smoke": SMOKE, "quick": _epochs(1, 2000) + ["--eval-samples", "100"], "medium": _epochs(2, 10000),
         "full": _epochs(10)},
        evaluate={"medium": ["--n", "500"], "full": ["--n", "2000"]}),
    Run("draw", "draw", "draw (DRAW, 001's baseline)", [],
        {"smoke": SMOKE, "quick": _epochs(1, 1000) + ["--steps", "16"], "medium": _epochs(1, 10000),
         "full": _epochs(20, 25000)},
        resumes={"full": [["--epochs", "25", "--lr", "3e-4"]]}, evaluate=LIKELIHOOD_EVAL),
    Run("avme", "avme", "avme (001)", [],
        {"smoke": SMOKE, "quick": _epochs(1, 2000), "medium": _epochs(1, 10000), "full": _epochs(20)},
        resumes={"full": [["--epochs", "25", "--lr", "3e-4"], ["--epochs", "31", "--lr", "1e-4"]]},
        evaluate=LIKELIHOOD_EVAL),
    Run("avme-cond", "avme-cond", "avme-cond (001)", [],
        {"smoke": SMOKE, "quick": _epochs(1, 1000), "medium": _epochs(1, 5000), "full": _epochs(3)},
        evaluate=LIKELIHOOD_EVAL),
]
TOP_FIGURE_RUNS = ["first", "gan-stable", "gan-linear", "gan-conv", "gan-conv-pool", "gan-lstm", "abp", "csgm",
                   "draw", "avme", "avme-cond"]


# -- running minnet ------------------------------------------------------------------------------
def shown(args):
    return "minnet " + shlex.join(args)


def minnet(args, log):
    """Run one ``minnet`` command in this process (as the shell would); raise if it fails."""
    log(f"$ {shown(args)}")
    started = time.monotonic()
    try:
        cli.main(args=args, prog_name="minnet")
    except SystemExit as done:
        if done.code not in (0, None):
            raise RuntimeError(f"{shown(args)} exited with status {done.code}") from None
    log(f"  ({time.monotonic() - started:.0f} s)")


def finished_epochs(run_dir):
    """Epochs the run in ``run_dir`` has completed (0 without a checkpoint)."""
    if not os.path.exists(checkpoint_path(run_dir)):
        return 0
    _, _, position = load_run(run_dir)
    return position.epoch


def train_and_evaluate(run, budget, run_dir, log):
    """Train (or resume, or reuse) ``run`` in ``run_dir`` and evaluate it; returns its record."""
    commands = run.train_commands(budget, run_dir)
    record_path = run_dir / "made-by.json"
    if finished_epochs(run_dir) < run.epochs(budget):
        done = finished_epochs(run_dir)
        for command in commands:
            leg_epochs = int(command[command.index("--epochs") + 1])
            if done >= leg_epochs:
                continue
            if "--resume" not in command and os.path.exists(checkpoint_path(run_dir)):  # stopped part-way
                command = ["train", run.model, "--out", str(run_dir), "--resume", "--epochs", str(leg_epochs)]
            minnet(command, log)
            done = leg_epochs
        (run_dir / "eval.json").unlink(missing_ok=True)
    else:
        log(f"reusing {run_dir}, already trained")
    eval_command = run.eval_command(budget, run_dir)
    if not (run_dir / "eval.json").exists():
        minnet(eval_command, log)
    record = {
        "key": run.key, "budget": budget, "commands": [shown(c) for c in commands], "eval": shown(eval_command),
        "numbers": numbers(run_dir),
    }
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def numbers(run_dir):
    """The run's test measures (eval.json) and its last epoch's logged values (epochs.jsonl)."""
    evaluation = json.loads((run_dir / "eval.json").read_text())
    measured = {name: entry["value"] for name, entry in evaluation["metrics"].items()}
    measured["fid_floor"] = evaluation["fid_floor"]["value"]
    measured["eval_samples"] = evaluation["n_samples"]
    last_epoch = (run_dir / "epochs.jsonl").read_text().splitlines()[-1]
    return {"eval": measured, "last_epoch": json.loads(last_epoch)}


# -- writing figures -----------------------------------------------------------------------------
FIGURES = []  # (function, page) in the order they are drawn


def figure(*runs):
    """Register a figure function ``f(run_dirs, figures_dir) -> [written paths]`` that needs ``runs``."""

    def register(function):
        function.runs = runs
        FIGURES.append(function)
        return function

    return register


def save_small(picture, path, max_width=MAX_WIDTH, grey_levels=GREY_LEVELS):
    """Write ``picture`` (a PIL image) as a small PNG: at most ``max_width`` wide, in a palette of
    ``grey_levels`` grey levels or :data:`COLOURS` colours (a few tens of KB where 256 levels
    of noisy samples take a hundred)."""
    if picture.width > max_width:
        height = round(picture.height * max_width / picture.width)
        picture = picture.resize((max_width, height), Image.Resampling.LANCZOS)
    rgb = np.asarray(picture.convert("RGB")).astype(int)
    grey = np.abs(rgb - rgb.mean(axis=2, keepdims=True)).max() < 8
    if grey:
        picture = picture.convert("L").convert("RGB").quantize(grey_levels)
    else:
        picture = picture.convert("RGB").quantize(COLOURS)
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path, optimize=True)
    return path


def copy_figure(run_dir, name, target, max_width=MAX_WIDTH, grey_levels=GREY_LEVELS):
    """The run's picture ``name`` (a path inside the run directory), made small into ``target``."""
    with Image.open(run_dir / name) as picture:
        return save_small(picture, target, max_width, grey_levels)


def last_grid(run_dir, folder="samples"):
    """The newest ``epoch-NNN.png`` of a run's sample folder."""
    return sorted((run_dir / folder).glob("epoch-*.png"))[-1].relative_to(run_dir)


def run_curves(run_dir, model):
    """The curve PNGs of a run worth showing: the model's per-step curves, and its per-epoch
    curves once there are two epochs to join."""
    cls = trainer_class(model)
    epochs = len((run_dir / "epochs.jsonl").read_text().splitlines())
    names = [*cls.curves, *(cls.epoch_curves if epochs >= 2 else ())]
    return [name for name in names if (run_dir / name).exists()]


def samples_and_curves(key, page, by_epoch=False):
    """A figure function for a run's last sample grid, its curves and (``by_epoch``) its grids
    across epochs, under ``<figures>/<page>/``."""
    model = next(run.model for run in RUNS if run.key == key)

    def draw(run_dirs, out):
        run_dir = run_dirs[key]
        written = [copy_figure(run_dir, last_grid(run_dir), out / page / f"{key}-samples.png", 300)]
        if by_epoch and len(list((run_dir / "samples").glob("epoch-*.png"))) >= 2:
            written.append(copy_figure(run_dir, "samples-by-epoch.png", out / page / f"{key}-samples-by-epoch.png"))
        for name in run_curves(run_dir, model):
            written.append(copy_figure(run_dir, name, out / page / f"{key}-{name}", 480))
        return written

    draw.__name__ = draw.__qualname__ = f"{key.replace('-', '_')}_samples_and_curves"
    draw.__doc__ = f"{key}: its sample grid after the last epoch, the grids across epochs and its curves."
    return figure(key)(draw)


@figure(*TOP_FIGURE_RUNS)
def samples_of_every_model(run_dirs, out):
    """The README's top figure: one row of samples per model (digits 0-9 for conditional ones)."""
    rows, labels = [], []
    for key in TOP_FIGURE_RUNS:
        trainer, _, _ = restore(run_dirs[key])
        asked = np.arange(TOP_SAMPLES) if trainer.conditional else None
        rows.append(draw_samples(trainer, TOP_SAMPLES, asked, np.random.default_rng(0)))
        labels.append(next(run.label for run in RUNS if run.key == key))
    grid = images.image_grid(np.concatenate(rows), nrow=TOP_SAMPLES, scale=2, row_labels=labels)
    return [save_small(Image.fromarray(grid), out / "samples-of-every-model.png", max_width=grid.shape[1])]


@figure("first")
def first_command_digits(run_dirs, out):
    """What the README's first command writes: ``minnet sample RUN --per-class 10 --out digits.png``."""
    target = out / "first" / "digits.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    minnet(["sample", str(run_dirs["first"]), "--per-class", "10", "--out", str(target)], lambda line: None)
    with Image.open(target) as picture:
        picture.load()
    return [save_small(picture, target, 420)]


for _key, _page in [("first", "cdcgan"), ("cdcgan", "cdcgan"), ("gan", "cdcgan"), ("gan-stable", "cdcgan"),
                    ("gan-linear", "gan-experiments"), ("gan-conv", "gan-experiments"),
                    ("gan-conv-pool", "gan-experiments"), ("gan-lstm", "gan-experiments"), ("abp", "abp"),
                    ("csgm", "csgm"), ("draw", "draw"), ("avme", "avme"), ("avme-cond", "avme")]:
    samples_and_curves(_key, _page, by_epoch=_key in ("first", "cdcgan", "csgm"))


@figure("first")
def python_example_samples(run_dirs, out):
    """docs/python.md's picture: what ``docs/examples/sample_from_run.py RUN OUT.png`` writes."""
    target = out / "python" / "samples.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    example = DOCS / "examples" / "sample_from_run.py"
    subprocess.run([sys.executable, str(example), str(run_dirs["first"]), str(target)], check=True, capture_output=True)
    with Image.open(target) as picture:
        picture.load()
    return [save_small(picture, target, 400)]


@figure("abp")
def abp_interpolation_and_inpainting(run_dirs, out):
    """ABP: the paper's Fig. 8 (interpolation between two training codes), inpainting of a 12x12
    centre square, and reconstructions."""
    names = ["interpolation.png", "inpainting.png", "reconstruction.png"]
    return [copy_figure(run_dirs["abp"], name, out / "abp" / name, 420) for name in names]


@figure("csgm")
def csgm_renders(run_dirs, out):
    """CSGM: the thesis' Fig. 4.1 for both samplers and Fig. 4.2, one 2 rendered at 300 x 300."""
    run_dir = run_dirs["csgm"]
    return [
        copy_figure(run_dir, last_grid(run_dir, "samples-paper"), out / "csgm" / "fig4.1-paper-sampler.png", 400),
        copy_figure(run_dir, last_grid(run_dir, "render-300px"), out / "csgm" / "fig4.2-300px.png", 300, 256),
    ]


@figure("draw")
def draw_attention_and_generation(run_dirs, out):
    """DRAW: read (red) and write (green) windows on validation images (Fig. 4), and each
    sample's canvas after the steps (Fig. 7)."""
    names = ["attention.png", "generation.png"]
    return [copy_figure(run_dirs["draw"], name, out / "draw" / name, 720) for name in names]


@figure("avme")
def avme_unrolled_canvases(run_dirs, out):
    """AVME: the paper's Fig. 8, each sample's canvas after each of the 12 steps."""
    return [copy_figure(run_dirs["avme"], "fig8-unrolled.png", out / "avme" / "fig8-unrolled.png", 480)]


@figure("avme-cond")
def avme_conditional_rows(run_dirs, out):
    """AVME conditioned on the digit: the paper's Fig. 9, one row per digit."""
    return [copy_figure(run_dirs["avme-cond"], "fig9-conditional.png", out / "avme" / "fig9-conditional.png", 400)]


# -- Animations ----------------------------------------------------------------------------------
def copy_animation(run_dir, name, target):
    """The run's GIF ``name`` copied into ``target`` as it is: the run already made it small
    (see :mod:`minnet.figures.animation`), and scaling a GIF would mean re-encoding every frame."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / name, target)
    return target


@figure("first")
def first_command_samples_across_epochs(run_dirs, out):
    """The first command's run: its sample grid after each epoch, in turn (samples-by-epoch.gif)."""
    return [copy_animation(run_dirs["first"], "samples-by-epoch.gif", out / "first" / "samples-by-epoch.gif")]


@figure("draw")
def draw_drawing_step_by_step(run_dirs, out):
    """DRAW drawing four validation digits step by step, read window red, write window green."""
    return [copy_animation(run_dirs["draw"], "drawing.gif", out / "draw" / "drawing.gif")]


@figure("avme")
def avme_canvases_over_the_steps(run_dirs, out):
    """AVME: Fig. 8's ten canvases filling up over the 12 steps, one frame per step."""
    return [copy_animation(run_dirs["avme"], "fig8-unrolled.gif", out / "avme" / "fig8-unrolled.gif")]


@figure("csgm")
def csgm_zoom_from_28_to_300_pixels(run_dirs, out):
    """CSGM: Fig. 4.2's 2 rendered at twelve sizes from 28 to 300 pixels, each frame enlarged to 300."""
    return [copy_animation(run_dirs["csgm"], "zoom.gif", out / "csgm" / "zoom.gif")]


# -- the record ----------------------------------------------------------------------------------
def write_record(records, drawn, budget, out):
    """``<figures>/made-by.md``: every figure with the commands and the numbers behind it."""
    lines = [
        "# How the figures in docs/ were made",
        "",
        f"By `python docs/make_figures.py --budget {budget}` (written by the script; do not edit).",
        "",
    ]
    for key, record in records.items():
        lines += [f"## {key}", "", "```sh", *record["commands"], record["eval"], "```", ""]
        evaluation = record["numbers"]["eval"]
        lines.append(
            "Measured: "
            + ", ".join(f"{name} {value:.4g}" for name, value in evaluation.items() if isinstance(value, float))
            + f" ({evaluation['eval_samples']} samples)."
        )
        logged = record["numbers"]["last_epoch"]
        lines += [
            "",
            f"Logged after epoch {logged['epoch']}: "
            + ", ".join(f"{name} {value:.4g}" for name, value in logged.items() if isinstance(value, float))
            + ".",
        ]
        figures = [path for function, paths in drawn for path in paths if key in function.runs]
        lines += ["", "Figures: " + ", ".join(f"`{path.relative_to(out)}`" for path in figures), ""]
    (out / "made-by.md").write_text("\n".join(lines))


def make_figures(budget, runs_dir, figures_dir, only=None, log=print):
    """Train what is missing, draw every figure whose runs are there; returns the records."""
    selected = [run for run in RUNS if run.trained_at(budget) and (only is None or run.key in only)]
    run_dirs = {run.key: runs_dir / run.key for run in RUNS}
    records = {}
    for run in selected:
        log(f"== {run.key}")
        records[run.key] = train_and_evaluate(run, budget, run_dirs[run.key], log)
    drawn = []
    for function in FIGURES:
        if only is not None and not set(function.runs) & set(only):
            continue
        if any(finished_epochs(run_dirs[key]) == 0 for key in function.runs):
            log(f"skipping {function.__name__}: needs the runs {', '.join(function.runs)}")
            continue
        drawn.append((function, function(run_dirs, figures_dir)))
        for path in drawn[-1][1]:
            log(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")
    if only is None:
        write_record(records, drawn, budget, figures_dir)
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=BUDGETS, default="full", help="how long each run trains")
    parser.add_argument("--quick", action="store_const", const="quick", dest="budget", help="--budget quick")
    parser.add_argument("--runs", type=Path, help="runs directory (default runs/docs-BUDGET); finished runs are reused")
    parser.add_argument("--figures", type=Path, default=DOCS / "figures", help="where the figures go")
    parser.add_argument("--only", help="comma-separated run keys: train and draw only these")
    args = parser.parse_args(argv)
    runs_dir = args.runs or Path("runs") / f"docs-{args.budget}"
    only = args.only.split(",") if args.only else None
    unknown = set(only or ()) - {run.key for run in RUNS}
    if unknown:
        parser.error(f"unknown run keys {', '.join(sorted(unknown))}; choose from {', '.join(r.key for r in RUNS)}")
    try:
        records = make_figures(args.budget, runs_dir, args.figures, only)
    except RuntimeError as err:
        raise SystemExit(f"make_figures: {err}") from None
    for key, record in records.items():
        print(f"{key}: " + json.dumps(record["numbers"]["eval"]))


if __name__ == "__main__":
    main()
