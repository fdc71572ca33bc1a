"""A report of training runs: one HTML page and its Markdown twin.

:func:`find_runs` lists the run directories under a folder (those holding a
``checkpoint.npz``), :func:`read_run` gathers what one run says about itself, and
:func:`write_report` writes ``index.html`` and ``README.md`` into an output folder: a summary
table of every run at the top, then per run its model and paper, settings, training time,
metrics and figures. The figures are copied into the output folder (``<run name>/<file>``),
so the report can be moved or published as it is.

What is read from a run directory (see :mod:`minnet.training.runner`)::

    checkpoint.npz         meta: model, config, seed, data, device, position (epoch, seconds)
    eval.json              written by ``minnet eval``; without it the run is "not evaluated"
    samples/epoch-NNN.png  the latest one is shown
    samples-by-epoch.png   grids across training
    *.png                  every other picture: the trainer's curves (losses, confidence, ...)

The contents of the tables are made in :mod:`minnet.report.tables`, the HTML page (its CSS
inline, no JavaScript) in :mod:`minnet.report.html`; the Markdown twin is short and is here.
"""

import dataclasses
import glob
import json
import os
import shutil

from minnet.errors import MinnetError
from minnet.figures.run_figures import SAMPLES_BY_EPOCH, epoch_grids
from minnet.fileio import atomic_write
from minnet.report.html import render_html
from minnet.report.tables import (
    RUN_COLUMNS,
    evaluation_note,
    figure_link,
    figure_path,
    metrics_rows,
    run_line,
    settings_rows,
    subtitle,
    summary_rows,
)
from minnet.training.runner import CHECKPOINT, EVAL_FILE, load_run

HTML_FILE = "index.html"
MARKDOWN_FILE = "README.md"


@dataclasses.dataclass
class Figure:
    """One picture of a run.

    Attributes
    ----------
    source : str
        Its path in the run directory.
    caption : str
    kind : str
        "latest" (the last grid of samples), "curve" (a plot) or "history" (the grids across
        epochs, side by side); the page sizes each kind differently.
    """

    source: str
    caption: str
    kind: str

    @property
    def filename(self):
        return os.path.basename(self.source)


@dataclasses.dataclass
class RunSummary:
    """What the report shows about one run.

    Attributes
    ----------
    directory : str
        Where the run is.
    name : str
        The run directory's name, unique within the report.
    model, paper : str
    config : dict
        The trainer's settings, as saved in the checkpoint.
    facts : dict
        The other settings of the run: seed, device, training data.
    epochs_done, epochs_planned, global_step : int
    seconds : float
        Training time so far.
    evaluation : dict or None
        The contents of ``eval.json`` (see :mod:`minnet.cli.evaluate`); None if absent.
    figures : list of Figure
        The latest samples, the samples across epochs, then the curves.
    """

    directory: str
    name: str
    model: str
    paper: str
    config: dict
    facts: dict
    epochs_done: int
    epochs_planned: int
    global_step: int
    seconds: float
    evaluation: dict
    figures: list

    @property
    def evaluation_is_current(self):
        """True when ``eval.json`` was measured on the checkpoint as it is now."""
        return self.evaluation is not None and self.evaluation["position"]["global_step"] == self.global_step


# ---------------------------------------------------------------------------- reading runs


def find_runs(runs_dir):
    """The run directories directly under ``runs_dir`` (those holding a checkpoint), by name;
    ``[runs_dir]`` when it is itself a run directory.

    Raises MinnetError when ``runs_dir`` is not a directory or holds no run.
    """
    if not os.path.isdir(runs_dir):
        raise MinnetError(f"{runs_dir} is not a directory")
    if os.path.isfile(os.path.join(runs_dir, CHECKPOINT)):
        return [runs_dir]
    runs = sorted(
        os.path.join(runs_dir, name)
        for name in os.listdir(runs_dir)
        if os.path.isfile(os.path.join(runs_dir, name, CHECKPOINT))
    )
    if not runs:
        raise MinnetError(f"no runs in {runs_dir}: no subdirectory of it holds a {CHECKPOINT}")
    return runs


def read_run(run_dir, papers):
    """A :class:`RunSummary` of ``run_dir``; ``papers`` maps model names to their paper.

    Raises MinnetError when the checkpoint or ``eval.json`` cannot be read.
    """
    _, meta, position = load_run(run_dir)
    config = meta.get("config", {})
    return RunSummary(
        directory=run_dir,
        name=os.path.basename(os.path.abspath(run_dir)),
        model=meta.get("model", "?"),
        paper=papers.get(meta.get("model"), "unknown"),
        config=config,
        facts={key: meta[key] for key in ("seed", "device", "data") if key in meta},
        epochs_done=position.epoch,
        epochs_planned=config.get("epochs", position.epoch),
        global_step=position.global_step,
        seconds=position.seconds,
        evaluation=_read_evaluation(os.path.join(run_dir, EVAL_FILE)),
        figures=_figures(run_dir),
    )


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _well_formed_evaluation(record):
    """Whether ``record`` has every key, of the right type, that the report reads."""
    if not isinstance(record, dict):
        return False
    metrics, floor, position = record.get("metrics"), record.get("fid_floor"), record.get("position")
    return (
        isinstance(metrics, dict)
        and all(isinstance(m, dict) and _is_number(m.get("value")) and "lower_is_better" in m for m in metrics.values())
        and isinstance(floor, dict)
        and _is_number(floor.get("value"))
        and isinstance(position, dict)
        and all(isinstance(position.get(key), int) for key in ("epoch", "global_step"))
        and all(_is_number(record.get(key)) for key in ("n_samples", "seed", "test_images", "classifier_test_accuracy"))
    )


def _read_evaluation(path):
    """The record ``minnet eval`` wrote, or None; a MinnetError for a file it did not write."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as file:
            record = json.load(file)
    except (OSError, ValueError) as err:
        raise MinnetError(f"cannot read {path}: {err}") from None
    if not _well_formed_evaluation(record):
        raise MinnetError(f"{path} is not an eval.json written by minnet eval; run minnet eval again")
    return record


def _figures(run_dir):
    """The latest sample grid, the grids across epochs, then the other PNGs (the curves)."""
    figures = []
    grids = epoch_grids(run_dir)
    if grids:
        epoch, latest = grids[-1]
        figures.append(Figure(latest, f"samples after epoch {epoch}", "latest"))
    by_epoch = os.path.join(run_dir, SAMPLES_BY_EPOCH)
    if os.path.isfile(by_epoch):
        figures.append(Figure(by_epoch, "samples across training", "history"))
    for path in sorted(glob.glob(os.path.join(run_dir, "*.png"))):
        if path != by_epoch:
            figures.append(Figure(path, os.path.splitext(os.path.basename(path))[0], "curve"))
    return figures


# ---------------------------------------------------------------------------- writing


def write_report(runs, out_dir, *, title="minnet runs", source=None):
    """Write ``index.html`` and ``README.md`` about ``runs`` into ``out_dir``.

    Parameters
    ----------
    runs : list of RunSummary
    out_dir : str
        Created if missing; the figures of each run are copied to ``out_dir/<run name>/``.
    title : str
    source : str, optional
        The folder the runs came from, named under the title.

    Returns
    -------
    (html_path, markdown_path)
    """
    paths = os.path.join(out_dir, HTML_FILE), os.path.join(out_dir, MARKDOWN_FILE)
    texts = render_html(runs, title, source), render_markdown(runs, title, source)
    try:
        for run in runs:
            os.makedirs(os.path.join(out_dir, run.name), exist_ok=True)
            for figure in run.figures:
                shutil.copyfile(figure.source, os.path.join(out_dir, figure_path(run, figure)))
        for path, text in zip(paths, texts):
            with atomic_write(path) as file:
                file.write(text.encode("utf-8"))
    except OSError as err:  # shutil.SameFileError included: --out pointing into the runs
        raise MinnetError(f"cannot write the report in {out_dir}: {err.strerror or err}") from None
    return paths


# ---------------------------------------------------------------------------- Markdown


def _markdown_table(header, rows):
    def line(cells):
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(row) for row in rows)])


def render_markdown(runs, title, source=None):
    """The Markdown twin of :func:`render_html`, as a string."""
    groups, rows = summary_rows(runs)
    header = [*RUN_COLUMNS, *(f"{group}: {column.heading}" for group, columns in groups for column in columns)]
    parts = [f"# {title}", subtitle(runs, source), _markdown_table(header, rows)]
    for run in runs:
        parts += [f"## {run.name}", run_line(run)]
        parts += ["### Settings", _markdown_table(["setting", "value"], settings_rows(run))]
        parts.append("### Metrics")
        metrics = metrics_rows(run)
        if metrics:
            parts.append(_markdown_table(["metric", "value", "meaning"], metrics))
        parts.append(evaluation_note(run))
        parts.append("### Figures")
        parts += [f"![{figure.caption}]({figure_link(run, figure)})" for figure in run.figures]
    return "\n\n".join(parts) + "\n"
