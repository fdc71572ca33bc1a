"""``minnet gradcheck NAME``: check one layer's or loss's backward against central differences.

Prints, for the input(s) and each parameter, the largest absolute and relative error between
the hand-written gradient and the central-difference estimate, and a verdict. Exits 0 when
every gradient agrees, 1 when one does not (the failing names are on the last line). The
names are those of :data:`minnet.gradcheck_cases.CASES`.
"""

import click
import numpy as np

from minnet import backend
from minnet.cli.train import IntList
from minnet.gradcheck import measure
from minnet.gradcheck_cases import DTYPES, TOLERANCES, Settings, build_case

EXIT_WRONG_GRADIENT = 1


def verdict_line(count):
    """The closing line when all ``count`` gradients agree, in the grammar of its number."""
    if count == 1:
        return "the 1 gradient agrees with central differences"
    return f"all {count} gradients agree with central differences"


def format_table(comparisons):
    """The per-gradient lines: name, elements, largest absolute and relative error, verdict."""
    width = max(len("gradient"), *(len(c.name) for c in comparisons))
    lines = [f"{'gradient':<{width}}  {'elements':>8}  {'max abs error':>13}  {'max rel error':>13}  verdict"]
    for c in comparisons:
        verdict = "ok" if c.ok else "WRONG"
        lines.append(f"{c.name:<{width}}  {c.size:>8}  {c.max_abs:>13.1e}  {c.max_rel:>13.1e}  {verdict}")
    return lines


@click.command()
@click.argument("name")
@click.option("--shape", type=IntList(), help="input shape, comma-separated (e.g. 2,3,8,8) [default: the case's]")
@click.option("--kernel", type=click.IntRange(min=1), help="window side k of a convolution or pooling")
@click.option("--stride", type=click.IntRange(min=1), help="stride of a convolution or pooling")
@click.option("--padding", type=click.IntRange(min=0), help="zero padding of a convolution or pooling")
@click.option(
    "--dtype",
    type=click.Choice(DTYPES),
    default="float64",
    show_default=True,
    help="float32 only catches gross mistakes: its central differences are coarse",
)
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the weights, input and upstream gradient")
@click.option("--device", type=click.Choice(backend.DEVICES), default="cpu", show_default=True)
@click.pass_context
def gradcheck(ctx, name, shape, kernel, stride, padding, dtype, seed, device):
    """Check NAME's backward pass against central differences.

    NAME is a layer (Dense, Conv2d, LSTMCell, ...) or a loss (bce_with_logits, ...), in any
    case; an unknown name suggests the closest. --kernel, --stride and --padding are for the
    layers with a window (Conv2d, Deconv2d, MaxPool2d, LabelledConv2d; --kernel alone for
    Filterbank and Read).
    """
    backend.use(device)
    settings = Settings(shape=shape, kernel=kernel, stride=stride, padding=padding, dtype=dtype)
    title, forward, backward, wrt = build_case(name, settings, np.random.default_rng(seed))
    tolerances = TOLERANCES[dtype]
    comparisons = measure(forward, backward, wrt, seed=seed, dtype=np.dtype(dtype), **tolerances)
    click.echo(title)
    click.echo(
        f"central differences with eps {tolerances['eps']:g}; an element fails beyond "
        f"{tolerances['atol']:g} + {tolerances['rtol']:g} |numeric|\n"
    )
    for line in format_table(comparisons):
        click.echo(line)
    wrong = [c for c in comparisons if not c.ok]
    if not wrong:
        click.echo(f"\n{verdict_line(len(comparisons))}")
        return
    for c in wrong:
        click.echo(f"  {c.problem}")
    click.echo(f"\ngradient check failed for: {', '.join(c.name for c in wrong)}", err=True)
    ctx.exit(EXIT_WRONG_GRADIENT)
