"""``minnet``: the command group, and the one place user errors become one line and exit 2.

Every command raises :class:`~minnet.errors.MinnetError` (or a click usage error) for problems
a user can cause; :class:`MinnetGroup` prints them as ``minnet: error: <message>`` on stderr
and exits with status 2, without a traceback. Ctrl-C exits with 130.

Under ``mpiexec`` (:mod:`minnet.distributed`) a rank that fails says so in one line naming
itself and then ends every rank (``MPI_Abort``) with its exit status: the others would
otherwise wait forever for it in their next collective.
"""

import sys
import time
import traceback
import warnings

import click

import minnet
from minnet.distributed import world
from minnet.errors import MinnetError, MinnetWarning
from minnet.training.runner import Interrupted

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
ABORT_GRACE_SECONDS = 0.5  # time for the launcher to pass a failing rank's message on before the job ends


def one_line(message):
    return " ".join(str(message).split())


def fail(message):
    click.echo(f"minnet: error: {_which_rank()}{one_line(message)}", err=True)
    end(EXIT_USER_ERROR)


def _which_rank():
    return f"rank {world().rank} of {world().size}: " if world().size > 1 else ""


def end(code, everywhere=True):
    """Exit with ``code``. With several ranks and a failure, end them all (``everywhere``), unless
    they all stopped together (a Ctrl-C between steps)."""
    if code and everywhere and world().size > 1:
        sys.stderr.flush()
        time.sleep(ABORT_GRACE_SECONDS)  # the launcher forwards output as it comes; MPI_Abort drops what is pending
        world().abort(code)
    sys.exit(code)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, MinnetWarning):
        click.echo(f"minnet: warning: {one_line(message)}", err=True)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


class MinnetGroup(click.Group):
    """A click group that reports user errors in one line with exit status 2."""

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        warnings.showwarning = _show_warning
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except MinnetError as err:
            fail(err)
        except click.ClickException as err:  # usage errors: unknown option, bad value, ...
            fail(err.format_message())
        except MemoryError:
            fail("out of memory: ask for fewer samples, a smaller batch or smaller layers")
        except (click.Abort, KeyboardInterrupt) as err:
            if world().rank == 0:
                click.echo("minnet: interrupted", err=True)
            together = isinstance(err, Interrupted) or isinstance(err.__cause__, Interrupted)  # click wraps it
            end(EXIT_INTERRUPTED, everywhere=not together)
        except Exception:  # a bug: its traceback, and with several ranks, the end of all of them
            if world().size == 1:
                raise
            click.echo(f"minnet: {_which_rank()}unexpected error", err=True)
            traceback.print_exc()
            end(1)
        finally:
            warnings.showwarning = _default_showwarning
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=MinnetGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(minnet.__version__, prog_name="minnet")
def cli():
    """minnet: hand-written neural networks on NumPy/CuPy, and generative models of MNIST
    digits reproduced from papers.

    \b
    Start with:  minnet models
                 minnet train cdcgan --channels 16 --epochs 4 --out runs/first
                 minnet sample runs/first --per-class 10 --out digits.png
                 minnet gradcheck Conv2d
    """


def _register():
    from minnet.cli.data import data
    from minnet.cli.evaluate import evaluate
    from minnet.cli.gradcheck import gradcheck
    from minnet.cli.listing import models
    from minnet.cli.report import report
    from minnet.cli.sample import sample
    from minnet.cli.train import train

    for command in (models, train, sample, evaluate, report, data, gradcheck):
        cli.add_command(command)


_register()


def main():
    cli.main(prog_name="minnet")
