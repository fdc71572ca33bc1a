"""What the report's tables and headings say, shared by its HTML page and its Markdown twin.

Each function takes :class:`~minnet.report.build.RunSummary` objects and returns plain strings or
rows of them; :mod:`minnet.report.html` and :func:`minnet.report.build.render_markdown` only lay
them out.
"""

import os
import urllib.parse

from minnet.training.progress import format_seconds

NOT_EVALUATED = "not evaluated"
NOT_APPLICABLE = "n/a"


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


def count(number, noun):
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


def subtitle(runs, source):
    """The line under the title: how many runs, from where, and how to read the arrows."""
    where = f" from {source}" if source else ""
    return f"{count(len(runs), 'run')}{where}. ↓: lower is better, ↑: higher is better."


def run_line(run):
    """The line under a run's heading: model, paper, how long it trained."""
    epochs = f"{epochs_text(run)} epoch{'' if run.epochs_planned == 1 else 's'}"
    return (
        f"{run.model} · paper {run.paper} · {epochs} ({count(run.global_step, 'step')}) "
        f"in {format_seconds(run.seconds)}"
    )
