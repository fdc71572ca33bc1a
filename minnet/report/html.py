"""The report as one HTML page: CSS inline, no JavaScript (see :mod:`minnet.report.build`)."""

import html
import urllib.parse

from minnet.report.tables import (
    NOT_APPLICABLE,
    NOT_EVALUATED,
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
<p class="subtitle">{_escape(subtitle(runs, source))}</p>
{summary}
{sections}
</main>
</body>
</html>
"""
