"""``python -m minnet ...`` is the ``minnet`` command, for environments whose scripts are not on PATH."""

from minnet.cli.main import main

main()
