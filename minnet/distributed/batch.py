"""This rank's share of the global batch, and random numbers drawn for the whole of it.

With P ranks and a global batch of B images, rank r holds rows ``r n .. (r+1) n`` of it, with
``n = B / P``. A random array for the batch (noise z, a dropout mask, Langevin noise) is drawn
with the *global* batch's shape on every rank, from the same generator, and each rank keeps
its rows: then rank r's images get the numbers one process would have given them, and every
rank's generator advances by the same draws, so they stay in step. In one process (P = 1)
both functions change nothing.

Example: a (n, 100) noise batch for this rank's n images::

    z = own_rows(rng.standard_normal(whole_shape((n, 100))))
"""

from minnet.distributed import world


def whole_shape(local_shape, axis=0):
    """``local_shape`` with its batch axis ``axis`` made P times longer: the global batch's."""
    shape = list(local_shape)
    shape[axis] *= world().size
    return tuple(shape)


def own_rows(whole, axis=0):
    """This rank's rows of ``whole``, an array for the global batch along ``axis``."""
    size = world().size
    if size == 1:
        return whole
    n = whole.shape[axis] // size
    where = [slice(None)] * whole.ndim
    where[axis] = slice(world().rank * n, (world().rank + 1) * n)
    return whole[tuple(where)]
