"""``minnet report RUNS_DIR --out DIR``: one HTML page (and a Markdown twin) about all runs."""

import click

from minnet import backend
from minnet.cli.evaluate import evaluate_run
from minnet.evaluation import metrics
from minnet.models import TRAINERS
from minnet.report.build import find_runs, read_run, write_report


@click.command()
@click.argument("runs_dir", type=click.Path())
@click.option("--out", default="report", show_default=True, help="folder for index.html, README.md and figures")
@click.option("--evaluate", is_flag=True, help="first run minnet eval on runs not evaluated at their last checkpoint")
@click.option(
    "--n", "n_samples", type=click.IntRange(min=2), default=metrics.DEFAULT_SAMPLES, show_default=True,
    help="with --evaluate: samples per run",
)  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True, help="with --evaluate: seed of the sampling noise")
@click.option("--data-dir", type=click.Path(), help="with --evaluate: directory holding the four MNIST files")
@click.option("--device", type=click.Choice(backend.DEVICES), default="cpu", show_default=True)
def report(runs_dir, out, evaluate, n_samples, seed, data_dir, device):
    """Write DIR/index.html and DIR/README.md about every run in RUNS_DIR.

    A run is a subdirectory holding a checkpoint.npz (or RUNS_DIR itself, if it holds one).
    The page starts with a table of all runs, then shows each one's model, paper, settings,
    training time, metrics (from its eval.json) and figures, copied into DIR so the report
    stands alone.
    """
    backend.use(device)
    papers = {name: cls.paper for name, cls in TRAINERS.items()}
    runs = [read_run(path, papers) for path in find_runs(runs_dir)]
    if evaluate:
        for index, run in enumerate(runs):
            if not run.evaluation_is_current:
                click.echo(f"evaluating {run.name} on {n_samples:,} samples")
                evaluate_run(
                    run.directory, n_samples=n_samples, batch_size=metrics.DEFAULT_BATCH_SIZE, seed=seed,
                    data_dir=data_dir,
                )  # fmt: skip
                runs[index] = read_run(run.directory, papers)
    html_path, markdown_path = write_report(runs, out, source=runs_dir)
    click.echo(f"wrote {html_path} and {markdown_path} about {len(runs)} run{'' if len(runs) == 1 else 's'}")
