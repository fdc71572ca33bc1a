"""A report of training runs: ``index.html`` and its Markdown twin (``minnet report``).

:mod:`minnet.report.build` finds the runs and writes the report, :mod:`minnet.report.tables`
makes the contents of its tables, :mod:`minnet.report.html` lays them out as one page.
"""
