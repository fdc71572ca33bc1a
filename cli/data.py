"""``minnet data fetch`` and ``minnet data info``: getting MNIST and seeing where it is."""

from pathlib import Path

import click

from minnet.data import fetch_mnist, mnist_info
from minnet.errors import MinnetError

FOUND_VIA = {
    "data_dir": "--data-dir",
    "MINNET_DATA_DIR": "$MINNET_DATA_DIR",
    "cache": "the user cache",
}


@click.group()
def data():
    """Get MNIST and see where minnet finds it."""


@data.command()
@click.option(
    "--from",
    "source_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Copy from this folder of the four MNIST files (.gz or raw) instead of downloading.",
)
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Put the files here instead of the user cache (~/.cache/minnet/mnist).",
)
def fetch(source_dir, dest):
    """Download (or copy) MNIST, verify its SHA-256 checksums, and store it.

    Files already there and verified are kept; nothing is ever written over an existing file.
    Mirrors can be replaced with $MINNET_MNIST_MIRRORS (URLs separated by spaces).
    """
    location = fetch_mnist(dest, source_dir=source_dir)
    click.echo(f"MNIST is verified and stored in {location}")


@data.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Look only in this folder (as training would with --data-dir).",
)
def info(data_dir):
    """Show which MNIST training would use: where, full set or sample, split sizes, checksums.

    Exits with an error when a file is damaged or is not MNIST. Downloads nothing.
    """
    report = mnist_info(data_dir)
    if report["source"] == "full":
        click.echo(f"source    full MNIST set, found via {FOUND_VIA[report['found_via']]}")
    else:
        click.echo(
            "source    bundled sample: no full set in the user cache and $MINNET_DATA_DIR unset"
        )
    click.echo(f"location  {report['location']}")
    if report["splits"]:
        sizes = "  ".join(f"{split} {count:,}" for split, count in report["splits"].items())
        click.echo(f"splits    {sizes}")
    click.echo("files     SHA-256 (of the decompressed contents)")
    for file in report["files"]:
        status = "ok" if file["ok"] else "NOT OK"
        click.echo(f"  {file['name']:<28} {file['sha256'] or 'unreadable':<64}  {status}")
    if not report["ok"]:
        problems = "; ".join(report["problems"])
        raise MinnetError(f"MNIST in {report['location']} is not usable: {problems}")
    if report["source"] == "sample":
        click.echo("get the full set with `minnet data fetch`")
