"""``minnet models``: what can be trained."""

import click

from minnet.models import TRAINERS


@click.command()
def models():
    """List the models with a one-line description and their paper."""
    width = max(len(name) for name in TRAINERS)
    for name, cls in TRAINERS.items():
        flags = " (conditional)" if cls.conditional else ""
        click.echo(f"{name:<{width}}  {cls.description}{flags}")
        click.echo(f"{'':<{width}}  paper {cls.paper}")
