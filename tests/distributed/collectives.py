"""Run under ``mpiexec -n 2`` by test_collectives.py: each MPI collective against its meaning."""

import numpy as np

from minnet import distributed

world = distributed.start()
assert world.size == 2 and world.name == "MPI", world
rank = world.rank

summed = np.array([1.0, 2.0, 3.0], dtype=np.float32) * (rank + 1)
assert world.allreduce_sum(summed) is summed
np.testing.assert_array_equal(summed, [3, 6, 9])

sent = np.arange(4, dtype=np.int64) if rank == 0 else np.zeros(4, dtype=np.int64)
world.broadcast(sent, root=0)
np.testing.assert_array_equal(sent, np.arange(4))

rows = np.full((2, 3), rank, dtype=np.float64)
np.testing.assert_array_equal(world.allgather(rows), [[0] * 3, [0] * 3, [1] * 3, [1] * 3])

assert world.any(rank == 1) and not world.any(False)
assert world.local_rank == rank  # both on this machine
print(f"rank {rank}: collectives agree")
