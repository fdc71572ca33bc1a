"""Paper 003's comparison: the four GANs trained on the same budget, side by side.

    python benchmarks/gan_compare.py --epochs E [--limit N] --out DIR [--seed S] [--device cpu|gpu]

Each model (``gan-linear``, ``gan-conv``, ``gan-conv-pool``, ``gan-lstm``, at the paper's
settings) is trained by ``minnet train NAME --epochs E --limit N --out DIR/NAME`` run
in-process, so every run directory is an ordinary one (``minnet sample DIR/NAME`` works). A
run directory that already holds a checkpoint is resumed up to E epochs instead (or left as it
is once it has E), so an interrupted comparison continues where it stopped. Then

* ``DIR/comparison.md`` (also printed): per model the parameters, training images, epochs,
  seconds per epoch (mean over the epochs, training steps only), and the last epoch's mean D
  and G losses and D's mean confidence that real and generated images are real, the paper's
  quantities of Section 4.3.1;
* ``DIR/samples.png``: one 10x10 grid of samples per model, from the same fixed noise the
  runner uses for its per-epoch grids, the paper's Figure 6.
"""

import argparse
import os
import statistics
import sys

from minnet.cli.main import cli
from minnet.figures import images
from minnet.figures.run_figures import sample_grid
from minnet.models import restore
from minnet.training.checkpoint import load_checkpoint
from minnet.training.logs import read_jsonl
from minnet.training.runner import EPOCHS, checkpoint_path

MODELS = ("gan-linear", "gan-conv", "gan-conv-pool", "gan-lstm")


def train(name, run_dir, args):
    """``minnet train name`` into ``run_dir``, or ``--resume`` when it holds a run already.

    A failed command has printed its one-line error; the comparison then stops with its status.
    """
    if os.path.exists(checkpoint_path(run_dir)):
        if load_checkpoint(checkpoint_path(run_dir))[1]["position"]["epoch"] >= args.epochs:
            return  # trained far enough already
    command = ["train", name, "--out", run_dir, "--epochs", str(args.epochs), "--device", args.device]
    if os.path.exists(checkpoint_path(run_dir)):
        command.append("--resume")  # the run keeps the seed and image limit it started with
    else:
        command += ["--seed", str(args.seed)]
        command += ["--limit", str(args.limit)] if args.limit else []
        command += ["--data-dir", args.data_dir] if args.data_dir else []
    print("minnet " + " ".join(command), flush=True)
    try:
        cli.main(command, prog_name="minnet")
    except SystemExit as done:  # the command line always exits; 0 is success
        if done.code:
            sys.exit(done.code)


def summarize(name, run_dir):
    """The row of the comparison table and the sample grid of the run in ``run_dir``."""
    trainer, meta, position = restore(run_dir)
    epochs = read_jsonl(os.path.join(run_dir, EPOCHS))
    last = epochs[-1]
    row = {
        "model": name,
        "parameters": f"{trainer.num_parameters():,}",
        "images": f"{meta['data']['count']:,}",
        "epochs": str(position.epoch),
        "s / epoch": f"{statistics.mean(e['seconds'] for e in epochs):.1f}",
        "D loss": f"{last['d_loss']:.3f}",
        "G loss": f"{last['g_loss']:.3f}",
        "D(real)": f"{last['d_real']:.3f}",
        "D(G(z))": f"{last['d_fake']:.3f}",
    }
    samples, _ = sample_grid(trainer, meta["seed"])
    return row, images.image_grid(samples, nrow=10)


def markdown_table(rows):
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(row[c] for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, required=True, help="epochs of every model")
    parser.add_argument("--limit", type=int, help="train on the first N images only (default: all 60,000)")
    parser.add_argument("--out", required=True, help="directory for the runs, the table and the figure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--data-dir", help="directory holding the four MNIST files")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS), help="a subset to compare")
    args = parser.parse_args()

    rows, grids = [], []
    for name in args.models:
        run_dir = os.path.join(args.out, name)
        train(name, run_dir, args)
        row, grid = summarize(name, run_dir)
        rows.append(row)
        grids.append(grid)

    figure = os.path.join(args.out, "samples.png")
    images.side_by_side(grids, [row["model"] for row in rows], figure)
    report = (
        f"# Paper 003: the four GANs on the same budget ({args.device})\n\n"
        f"{markdown_table(rows)}\n\n"
        "Losses and confidences are means over the last epoch; seconds count training steps only.\n"
        f"Samples: {os.path.basename(figure)}\n"
    )
    with open(os.path.join(args.out, "comparison.md"), "w") as f:
        f.write(report)
    print(report)


if __name__ == "__main__":
    main()
