"""The report's summary table: short model tags, metrics grouped by kind, narrow enough for a laptop.

Runs are made by hand here (no training); tests/cli/test_eval_report.py covers a real run.
"""

from html.parser import HTMLParser

from minnet.report.build import RunSummary, render_markdown
from minnet.report.html import render_html
from minnet.report.tables import RUN_COLUMNS, model_tag

PAPERS = {
    "gan": "004: Hernandez et al., Generative Models for Handwritten Digits",
    "abp": "002: Xu, Generative ConvNet with Continuous Latent Factors (Han et al. 2017)",
    "avme": "001: Griesemer, Adaptive Variational Memory Encoding for Recurrent Data Synthesis",
    "draw": "DRAW (Gregor et al. 2015), the baseline of 001: Griesemer, Adaptive Variational Memory Encoding",
    "csgm": "000: Komoni, Continuous Space Generative Model",
}
# what minnet eval measures on each model (abp trained on some digits: it has an error on the others)
METRICS = {
    "gan": {"fid": 40.5, "class_coverage": 2.1},
    "abp": {"fid": 80.25, "class_coverage": 1.9, "recon_error_train": 20.5, "recon_error_test": 22.0,
            "recon_error_negative": 40.0},
    "avme": {"fid": 12.5, "class_coverage": 2.2, "nll_bound": 95.5, "nll_importance": 90.25,
             "reconstruction_nll": 70.0},
    "csgm": {"fid": 4.5, "conditional_accuracy": 0.97, "class_coverage": 2.3, "within_digit_std": 0.12,
             "paper_fid": 60.0, "paper_conditional_accuracy": 0.5, "paper_within_digit_std": 0.01},
}  # fmt: skip
HIGHER_IS_BETTER = {"class_coverage", "conditional_accuracy", "within_digit_std", "paper_conditional_accuracy"}


def _run(name, model, metrics=None):
    evaluation = None
    if metrics is not None:
        evaluation = {
            "metrics": {
                key: {"value": value, "lower_is_better": key not in HIGHER_IS_BETTER, "description": f"{key} meaning"}
                for key, value in metrics.items()
            },
            "fid_floor": {"value": 1.5, "description": "floor meaning"},
            "position": {"epoch": 1, "global_step": 10},
            "n_samples": 500,
            "seed": 0,
            "test_images": 10_000,
            "classifier_test_accuracy": 0.99,
        }
    return RunSummary(
        directory=f"/runs/{name}", name=name, model=model, paper=PAPERS[model], config={"lr": 0.001},
        facts={"seed": 0}, epochs_done=1, epochs_planned=1, global_step=10, seconds=12.0,
        evaluation=evaluation, figures=[],
    )  # fmt: skip


def _six_runs():
    runs = [_run(model, model, metrics) for model, metrics in METRICS.items()]
    return runs + [_run("draw", "draw"), _run("gan-again", "gan", METRICS["gan"])]


class SummaryTable(HTMLParser):
    """The header rows (text, colspan) and body rows (cell texts, title of the model cell)."""

    def __init__(self):
        super().__init__()
        self.header, self.rows, self.titles = [], [], []
        self._part = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("class") == "summary":
            self._part = "table"
        elif self._part and tag in ("thead", "tbody"):
            self._part = tag
        elif self._part and tag == "tr":
            (self.header if self._part == "thead" else self.rows).append([])
        elif self._part and tag in ("th", "td"):
            self._cell = [""]
            (self.header if self._part == "thead" else self.rows)[-1].append(self._cell)
            if tag == "th":
                self._cell.append(int(attrs.get("colspan", 1)))
            if "title" in attrs:
                self.titles.append(attrs["title"])

    def handle_endtag(self, tag):
        if tag == "table":
            self._part = None
        elif tag in ("th", "td"):
            self._cell = None

    def handle_data(self, data):
        if self._part and self._cell is not None:
            self._cell[0] += data


def _summary(runs):
    table = SummaryTable()
    table.feed(render_html(runs, "runs"))
    return table


def test_model_tags_are_the_paper_number_and_the_model():
    tags = [model_tag(_run(model, model)) for model in PAPERS]
    assert tags == ["004 GAN", "002 ABP", "001 AVME", "001 DRAW", "000 CSGM"]
    assert model_tag(RunSummary(**{**vars(_run("x", "gan")), "model": "mine", "paper": "unknown"})) == "MINE"


def test_metrics_sit_under_their_kind_and_only_the_kinds_measured_appear():
    table = _summary(_six_runs())
    groups, labels = table.header
    assert [text for text, _ in groups] == [*RUN_COLUMNS, "sample quality", "likelihood, nats", "reconstruction error"]
    assert [span for _, span in groups[len(RUN_COLUMNS) :]] == [3, 2, 3]
    assert [text for text, _ in labels] == [
        "FID ↓", "accuracy ↑", "coverage ↑", "bound ↓", "estimate ↓", "train ↓", "test ↓", "other digits ↓",
    ]  # fmt: skip
    only_gans = _summary([_run("gan", "gan", METRICS["gan"])])
    assert [text for text, _ in only_gans.header[0]] == [*RUN_COLUMNS, "sample quality"]
    assert [text for text, _ in only_gans.header[1]] == ["FID ↓", "coverage ↑"]
    unevaluated = _summary([_run("draw", "draw")])
    assert len(unevaluated.header) == 1 and [text for text, _ in unevaluated.header[0]] == list(RUN_COLUMNS)


def test_each_run_is_one_short_row_whose_tag_names_the_paper_in_full():
    runs = _six_runs()
    table = _summary(runs)
    rows = {cells[0][0]: [text for text, *_ in cells] for cells in table.rows}
    measured = ["12.5 (floor 1.5)", "n/a", "2.2", "95.5", "90.25"]
    assert rows["avme"] == ["avme", "001 AVME", "1", "0:12", *measured, "n/a", "n/a", "n/a"]
    assert rows["abp"][-3:] == ["20.5", "22", "40"]
    assert rows["draw"][4:] == ["not evaluated"]  # once, across the metrics
    assert table.titles == [run.paper for run in runs]
    longest = max(len(text) for cells in table.rows for text, *_ in cells)
    assert longest < 25  # the longest is an FID with its floor; the paper's title is in the run's section
    html = render_html(runs, "runs")
    for run in runs:
        assert f'<section id="run-{run.name}"' in html and run.paper in html  # the details, one click away
    assert "paper_within_digit_std" in html and "reconstruction_nll" in html  # every metric is in its section


def test_markdown_twin_names_each_column_with_its_kind():
    header = render_markdown(_six_runs(), "runs").splitlines()[4]
    assert header.startswith("| run | model | epochs | time | sample quality: FID ↓ | sample quality: accuracy ↑")
    assert header.endswith("| reconstruction error: other digits ↓ |")
