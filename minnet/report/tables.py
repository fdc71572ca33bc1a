"""What the report's tables and headings say, shared by its HTML page and its Markdown twin.

Each function takes :class:`~minnet.report.build.RunSummary` objects and returns plain strings or
rows of them; :mod:`minnet.report.html` and :func:`minnet.report.build.render_markdown` only lay
them out.
"""

import dataclasses
import os
import re
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


@dataclasses.dataclass(frozen=True)
class MetricColumn:
    """One metric's column in the summary table.

    Attributes
    ----------
    name : str
        The metric's name in ``eval.json``.
    label : str
        What the column says under its group's title.
    lower_is_better : bool
    """

    name: str
    label: str
    lower_is_better: bool

    @property
    def heading(self):
        return f"{self.label} {'↓' if self.lower_is_better else '↑'}"


# The summary's metrics, by kind: (group title, ((metric name, column label), ...)). Any other
# metric (csgm's Algorithm 2 set, the within-digit spread, one a user registers) is in its run's
# section only, with every setting and the paper's full title.
SUMMARY_GROUPS = (
    ("sample quality", (("fid", "FID"), ("conditional_accuracy", "accuracy"), ("class_coverage", "coverage"))),
    ("likelihood, nats", (("nll_bound", "bound"), ("nll_importance", "estimate"))),
    (
        "reconstruction error",
        (("recon_error_train", "train"), ("recon_error_test", "test"), ("recon_error_negative", "other digits")),
    ),
)
RUN_COLUMNS = ("run", "model", "epochs", "time")  # the columns before the metrics


def summary_groups(runs):
    """``[(group title, [MetricColumn, ...]), ...]``: the groups of :data:`SUMMARY_GROUPS`,
    each with those of its metrics that some evaluated run has; groups left empty are left out."""
    measured = {}
    for run in runs:
        for name, metric in (run.evaluation or {}).get("metrics", {}).items():
            measured.setdefault(name, metric["lower_is_better"])
    groups = []
    for title, columns in SUMMARY_GROUPS:
        present = [MetricColumn(name, label, measured[name]) for name, label in columns if name in measured]
        if present:
            groups.append((title, present))
    return groups


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


def paper_number(paper):
    """The paper's number in ``../shared/papers/`` ("004" of "004: Hernandez et al., ..."), or None."""
    found = re.search(r"\b(\d{3}):", paper)
    return found.group(1) if found else None


def model_tag(run):
    """The model and its paper in a few characters: ``"004 GAN"``, ``"001 DRAW"``; the model
    alone when its paper has no number."""
    number = paper_number(run.paper)
    model = run.model.upper()
    return f"{number} {model}" if number else model


def epochs_text(run):
    """The epochs trained: ``"5"``, or ``"3 of 5"`` for a run that has not finished."""
    if run.epochs_done == run.epochs_planned:
        return str(run.epochs_done)
    return f"{run.epochs_done} of {run.epochs_planned}"


def count(number, noun):
    """``"1 run"``, ``"3 runs"``, ``"1,200 steps"``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def summary_rows(runs):
    """``(groups, rows)`` of the summary table: ``groups`` as :func:`summary_groups`, each row
    the run's :data:`RUN_COLUMNS` then its metrics group by group, every cell a string."""
    groups = summary_groups(runs)
    rows = [
        [run.name, model_tag(run), epochs_text(run), format_seconds(run.seconds)]
        + [metric_cell(run, column.name) for _, columns in groups for column in columns]
        for run in runs
    ]
    return groups, rows


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
    return (
        f"{count(len(runs), 'run')}{where}. ↓: lower is better, ↑: higher is better. A run's name leads to "
        "its section: the paper's full title, every setting, every metric and the figures."
    )


def run_line(run):
    """The line under a run's heading: model, paper, how long it trained."""
    epochs = f"{epochs_text(run)} epoch{'' if run.epochs_planned == 1 else 's'}"
    return (
        f"{run.model} · paper {run.paper} · {epochs} ({count(run.global_step, 'step')}) "
        f"in {format_seconds(run.seconds)}"
    )
