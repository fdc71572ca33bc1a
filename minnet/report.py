"""A report of training runs: one HTML page and its Markdown twin.

:func:`find_runs` lists the run directories under a folder (those holding a
``checkpoint.npz``), :func:`read_run` gathers what one run says about itself, and
:func:`write_report` writes ``index.html`` and ``README.md`` into an output folder: a summary
table of every run at the top, then per run its model and paper, settings, training time,
metrics and figures. The figures are copied into the output folder (``<run name>/<file>``),
so the report can be moved or published as it is.

What is read from a run directory (see :mod:`minnet.runner`)::

    checkpoint.npz         meta: model, config, seed, data, device, position (epoch, seconds)
    eval.json              written by ``minnet eval``; without it the run is "not evaluated"
    samples/epoch-NNN.png  the latest one is shown
    samples-by-epoch.png   grids across training
    *.png                  every other picture: the trainer's curves (losses, confidence, ...)

The HTML page has its CSS inline and needs no JavaScript.
"""

import dataclasses
import glob
import html
import json
import os
import shutil
import urllib.parse

from minnet.errors import MinnetError
from minnet.fileio import atomic_write
from minnet.progress import format_seconds
from minnet.runner import CHECKPOINT, EVAL_FILE, SAMPLES_BY_EPOCH, epoch_grids, load_run

HTML_FILE = "index.html"
MARKDOWN_FILE = "README.md"
NOT_EVALUATED = "not evaluated"
NOT_APPLICABLE = "n/a"


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


# ---------------------------------------------------------------------------- table contents


def format_value(value):
    """A setting or a metric as short text: 4 significant digits, thousands separated, lists
    joined by commas, dicts as ``key value`` pairs without the None ones."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value + 0.0:.4g}"  # + 0.0 turns -0.0 (an entropy of one class) into 0
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{key} {format_value(v)}" for key, v in value.items() if v is not None)
    return str(value)


def metric_columns(runs):
    """``{metric name: lower_is_better}`` over all evaluated runs, in order of appearance."""
    columns = {}
    for run in runs:
        for name, metric in (run.evaluation or {}).get("metrics", {}).items():
            columns.setdefault(name, metric["lower_is_better"])
    return columns


def metric_cell(run, name):
    """Summary-table text for metric ``name`` of ``run``: the value (FID with its floor),
    "n/a" when the metric does not apply to the run, or "not evaluated"."""
    if run.evaluation is None:
        return NOT_EVALUATED
    metric = run.evaluation["metrics"].get(name)
    if metric is None:
        return NOT_APPLICABLE
    if name == "fid":
        return f"{format_value(metric['value'])} (floor {format_value(run.evaluation['fid_floor']['value'])})"
    return format_value(metric["value"])


def epochs_text(run):
    """The epochs trained: ``"5"``, or ``"3 of 5"`` for a run that has not finished."""
    if run.epochs_done == run.epochs_planned:
        return str(run.epochs_done)
    return f"{run.epochs_done} of {run.epochs_planned}"


def _count(number, noun):
    """``"1 run"``, ``"3 runs"``, ``"1,200 steps"``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def summary_rows(runs):
    """``(header, rows)`` of the summary table, every cell a string."""
    columns = metric_columns(runs)
    header = ["run", "model", "paper", "epochs", "training time"]
    header += [f"{name} {'↓' if lower else '↑'}" for name, lower in columns.items()]
    rows = [
        [run.name, run.model, run.paper, epochs_text(run), format_seconds(run.seconds)]
        + [metric_cell(run, name) for name in columns]
        for run in runs
    ]
    return header, rows


def settings_rows(run):
    """``(name, value)`` of every setting of the run: its config, then seed, device, data."""
    return [(key, format_value(value)) for key, value in {**run.config, **run.facts}.items()]


def metrics_rows(run):
    """``(name, value, meaning)`` of each metric of the run, the FID floor after the FID."""
    rows = []
    for name, metric in (run.evaluation or {}).get("metrics", {}).items():
        rows.append((name, format_value(metric["value"]), metric["description"]))
        if name == "fid":
            floor = run.evaluation["fid_floor"]
            rows.append(("fid floor", format_value(floor["value"]), floor["description"]))
    return rows


def evaluation_note(run):
    """One or two sentences on how the metrics were measured, or that they were not."""
    record = run.evaluation
    if record is None:
        return "Not evaluated: run minnet eval on it, or minnet report --evaluate."
    note = (
        f"{record['n_samples']:,} samples (seed {record['seed']}) against {record['test_images']:,} test "
        f"images, in the feature space of the MNIST classifier "
        f"(test accuracy {record['classifier_test_accuracy']:.2%})."
    )
    if not run.evaluation_is_current:
        note += f" Measured after epoch {record['position']['epoch']}; the run has trained further since."
    return note


def figure_path(run, figure):
    """Where the report keeps a copy of the figure, relative to the report folder."""
    return os.path.join(run.name, figure.filename)


def figure_link(run, figure):
    """The URL of the figure's copy relative to the page (``/`` separated, %-quoted)."""
    return urllib.parse.quote(f"{run.name}/{figure.filename}")


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


def _subtitle(runs, source):
    """The line under the title: how many runs, from where, and how to read the arrows."""
    where = f" from {source}" if source else ""
    return f"{_count(len(runs), 'run')}{where}. ↓: lower is better, ↑: higher is better."


def _run_line(run):
    """The line under a run's heading: model, paper, how long it trained."""
    epochs = f"{epochs_text(run)} epoch{'' if run.epochs_planned == 1 else 's'}"
    return (
        f"{run.model} · paper {run.paper} · {epochs} ({_count(run.global_step, 'step')}) "
        f"in {format_seconds(run.seconds)}"
    )


# ---------------------------------------------------------------------------- Markdown


def _markdown_table(header, rows):
    def line(cells):
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(row) for row in rows)])


def render_markdown(runs, title, source=None):
    """The Markdown twin of :func:`render_html`, as a string."""
    header, rows = summary_rows(runs)
    parts = [f"# {title}", _subtitle(runs, source), _markdown_table(header, rows)]
    for run in runs:
        parts += [f"## {run.name}", _run_line(run)]
        parts += ["### Settings", _markdown_table(["setting", "value"], settings_rows(run))]
        parts.append("### Metrics")
        metrics = metrics_rows(run)
        if metrics:
            parts.append(_markdown_table(["metric", "value", "meaning"], metrics))
        parts.append(evaluation_note(run))
        parts.append("### Figures")
        parts += [f"![{figure.caption}]({figure_link(run, figure)})" for figure in run.figures]
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------------------- HTML

_CSS = """
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f2328; background: #f4f5f7; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 2px; }
h2 { font-size: 20px; margin: 0 0 2px; }
h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .07em; color: #6b7280;
     margin: 20px 0 6px; }
.subtitle, .meta { color: #6b7280; margin: 0 0 16px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 20px 24px;
          margin: 22px 0; }
table { border-collapse: collapse; font-size: 14px; }
th, td { text-align: left; padding: 4px 12px; border-bottom: 1px solid #eceef1; vertical-align: top; }
th { font-weight: 600; color: #444; background: #f7f8fa; white-space: nowrap; }
td.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.muted { color: #9ca3af; font-style: italic; }
table.summary { width: 100%; background: #fff; border: 1px solid #dde1e6; }
table.summary td:first-child { white-space: nowrap; }
table.summary a { font-weight: 600; color: #1f5fa8; text-decoration: none; }
dl.settings { display: grid; grid-template-columns: max-content minmax(0, 1fr) max-content minmax(0, 1fr);
               margin: 0; font-size: 14px; border-top: 1px solid #eceef1; }
dl.settings dt, dl.settings dd { margin: 0; padding: 4px 12px 4px 0; border-bottom: 1px solid #eceef1; }
dl.settings dt { color: #6b7280; padding-left: 8px; }
dl.settings dd { overflow-wrap: anywhere; }
.columns { display: flex; gap: 40px; flex-wrap: wrap; align-items: flex-start; }
.columns > div { flex: 1 1 400px; }
.note { color: #555; font-size: 13px; }
.figures { display: flex; flex-wrap: wrap; gap: 16px 24px; align-items: flex-start; }
figure { margin: 0; }
figure img { display: block; max-width: 100%; border: 1px solid #eceef1; border-radius: 4px; }
figure.latest img { width: 340px; }
figure.history { flex: 1 1 340px; min-width: 0; }
figure.history img { max-height: 340px; }
figure.curve { flex: 0 1 calc(50% - 12px); }
figure.curve img { width: 100%; }
figcaption { color: #6b7280; font-size: 13px; margin-top: 4px; }
"""


def _escape(text):
    return html.escape(str(text))


def _cell(text, numeric):
    """One ``<td>``: grey when there is no value, right-aligned when ``numeric``."""
    if text in (NOT_APPLICABLE, NOT_EVALUATED):
        return f'<td class="muted">{_escape(text)}</td>'
    return f'<td class="number">{_escape(text)}</td>' if numeric else f"<td>{_escape(text)}</td>"


def _html_table(header, rows, *, numeric_columns=(), css_class=None, links=None):
    """A table of text cells. Columns whose index is in ``numeric_columns`` are right-aligned;
    with ``links``, the first cell of row ``i`` links to ``links[i]``."""
    head = "".join(f"<th>{_escape(cell)}</th>" for cell in header)
    lines = []
    for index, row in enumerate(rows):
        cells = [_cell(text, column in numeric_columns) for column, text in enumerate(row)]
        if links:
            cells[0] = f'<td><a href="{_escape(links[index])}">{_escape(row[0])}</a></td>'
        lines.append("<tr>" + "".join(cells) + "</tr>")
    attribute = f' class="{css_class}"' if css_class else ""
    body = "\n".join(lines)
    return f"<table{attribute}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _anchor(run):
    return f"run-{run.name}"


def _html_figure(run, figure):
    return (
        f'<figure class="{figure.kind}"><img src="{_escape(figure_link(run, figure))}" '
        f'alt="{_escape(figure.caption)}"><figcaption>{_escape(figure.caption)}</figcaption></figure>'
    )


def _html_settings(run):
    """The settings as name/value pairs flowing in two columns (a grid, shorter than a table)."""
    pairs = "\n".join(f"<dt>{_escape(name)}</dt><dd>{_escape(value)}</dd>" for name, value in settings_rows(run))
    return f'<dl class="settings">\n{pairs}\n</dl>'


def _html_run(run):
    """One run's section: heading, settings beside metrics, then the figures."""
    metrics = metrics_rows(run)
    metrics_table = _html_table(["metric", "value", "meaning"], metrics, numeric_columns={1}) if metrics else ""
    figures = "\n".join(_html_figure(run, figure) for figure in run.figures)
    return f"""<section id="{_escape(_anchor(run))}">
<h2>{_escape(run.name)}</h2>
<p class="meta">{_escape(_run_line(run))}</p>
<div class="columns">
<div><h3>Settings</h3>
{_html_settings(run)}</div>
<div><h3>Metrics</h3>
{metrics_table}
<p class="note">{_escape(evaluation_note(run))}</p></div>
</div>
<h3>Figures</h3>
<div class="figures">
{figures}
</div>
</section>"""


def render_html(runs, title, source=None):
    """The whole HTML page, as a string."""
    header, rows = summary_rows(runs)
    links = [f"#{urllib.parse.quote(_anchor(run))}" for run in runs]
    summary = _html_table(header, rows, numeric_columns=range(3, len(header)), css_class="summary", links=links)
    sections = "\n".join(_html_run(run) for run in runs)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>{_escape(title)}</h1>
<p class="subtitle">{_escape(_subtitle(runs, source))}</p>
{summary}
{sections}
</main>
</body>
</html>
"""
