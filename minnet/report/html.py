"""The report as one HTML page: CSS inline, no JavaScript (see :mod:`minnet.report.build`)."""

import html
import urllib.parse

from minnet.report.tables import (
    NOT_APPLICABLE,
    NOT_EVALUATED,
    RUN_COLUMNS,
    evaluation_note,
    figure_link,
    metrics_rows,
    run_line,
    settings_rows,
    subtitle,
    summary_rows,
)

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
table.summary { background: #fff; border: 1px solid #dde1e6; }
table.summary td { white-space: nowrap; }
table.summary th.group { text-align: center; font-weight: 500; color: #6b7280; background: #fff;
                         border-bottom: 2px solid #dde1e6; }
table.summary .start { border-left: 1px solid #dde1e6; }
table.summary thead th[rowspan] { vertical-align: bottom; }
table.summary thead th.number, table.summary thead tr + tr th { text-align: right; }
table.summary a { font-weight: 600; color: #1f5fa8; text-decoration: none; }
.scroll { overflow-x: auto; }
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


def _cell(text, numeric, css_class=""):
    """One ``<td>``: grey when there is no value, right-aligned when ``numeric``."""
    classes = [css_class] if css_class else []
    if numeric:
        classes.append("number")
    if text in (NOT_APPLICABLE, NOT_EVALUATED):
        classes.append("muted")
    attribute = f' class="{" ".join(classes)}"' if classes else ""
    return f"<td{attribute}>{_escape(text)}</td>"


def _html_table(header, rows, *, numeric_columns=()):
    """A table of text cells; columns whose index is in ``numeric_columns`` are right-aligned."""
    head = "".join(f"<th>{_escape(cell)}</th>" for cell in header)
    body = "\n".join(
        "<tr>" + "".join(_cell(text, column in numeric_columns) for column, text in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _html_summary(runs):
    """The table of all runs: its first columns span both header rows, the metrics sit under
    the title of their kind, a rule before each kind; a run's name links to its section, its
    model tag shows the paper's full title on hover, and a run not evaluated says so once."""
    groups, rows = summary_rows(runs)
    span = ' rowspan="2"' if groups else ""  # no metric yet: a single header row
    run_name, model, *numbers = RUN_COLUMNS
    group_row = f"<th{span}>{run_name}</th><th{span}>{model}</th>"
    group_row += "".join(f'<th{span} class="number">{name}</th>' for name in numbers)
    metric_row, starts = "", set()  # starts: the index in a row of each group's first column
    column = len(RUN_COLUMNS)
    for title, columns in groups:
        group_row += f'<th class="group start" colspan="{len(columns)}">{_escape(title)}</th>'
        metric_row += f'<th class="start">{_escape(columns[0].heading)}</th>'
        metric_row += "".join(f"<th>{_escape(c.heading)}</th>" for c in columns[1:])
        starts.add(column)
        column += len(columns)
    lines = []
    for run, row in zip(runs, rows, strict=True):
        name, tag, *numbers = row[: len(RUN_COLUMNS)]
        cells = [
            f'<td><a href="#{urllib.parse.quote(_anchor(run))}">{_escape(name)}</a></td>',
            f'<td title="{_escape(run.paper)}">{_escape(tag)}</td>',
            *(_cell(text, True) for text in numbers),
        ]
        if run.evaluation is None and groups:
            cells.append(f'<td class="muted start" colspan="{column - len(RUN_COLUMNS)}">{NOT_EVALUATED}</td>')
        else:
            cells += [_cell(row[i], True, "start" if i in starts else "") for i in range(len(RUN_COLUMNS), column)]
        lines.append("<tr>" + "".join(cells) + "</tr>")
    body = "\n".join(lines)
    return (
        f'<div class="scroll"><table class="summary">\n<thead>\n<tr>{group_row}</tr>\n'
        + (f"<tr>{metric_row}</tr>\n" if groups else "")
        + f"</thead>\n<tbody>\n{body}\n</tbody>\n</table></div>"
    )


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
<p class="meta">{_escape(run_line(run))}</p>
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
    summary = _html_summary(runs)
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
<p class="subtitle">{_escape(subtitle(runs, source))}</p>
{summary}
{sections}
</main>
</body>
</html>
"""
