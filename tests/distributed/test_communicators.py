"""The communicators without a second process: the one-process one, the NCCL set-up with fakes,
the shares of a global batch, and batch norm's global statistics."""

import numpy as np
import pytest

from minnet import distributed
from minnet.distributed import batch, nccl
from minnet.distributed.communicator import SingleProcess
from minnet.errors import MinnetError
from minnet.layers.base import Sequential
from minnet.layers.dense import Dense
from minnet.layers.norm import BatchNorm
from minnet.optim import SGD
from minnet.training import data_parallel


class Twin(SingleProcess):
    """Rank ``rank`` of ``size`` ranks that all hold the same rows: a sum over the ranks is
    ``size`` times this rank's, and a gather repeats this rank's rows."""

    def __init__(self, rank=0, size=2):
        self.rank, self.size = rank, size

    def allreduce_sum(self, buffer):
        buffer *= self.size
        return buffer

    def allgather(self, rows):
        return np.concatenate([rows] * self.size)


@pytest.fixture
def twin():
    """The world as rank 1 of 2 identical ranks, for one test."""
    previous = distributed.world()
    distributed.use(Twin(rank=1))
    yield distributed.world()
    distributed.use(previous)


def test_one_process_collectives_return_their_input():
    single = SingleProcess()
    buffer = np.arange(4.0)
    assert single.allreduce_sum(buffer) is buffer and single.broadcast(buffer) is buffer
    assert single.allgather(buffer) is buffer
    assert single.any(True) and not single.any(False)
    assert (single.rank, single.size, single.local_rank) == (0, 1, 0)


def test_one_process_takes_the_whole_batch():
    whole = np.arange(12).reshape(6, 2)
    assert batch.whole_shape((6, 2)) == (6, 2)
    assert batch.own_rows(whole) is whole


def test_a_rank_takes_its_rows_of_draws_made_for_the_whole_batch(twin):
    assert batch.whole_shape((3, 5)) == (6, 5)
    assert batch.whole_shape((7, 3, 5), axis=1) == (7, 6, 5)
    whole = np.arange(6 * 4).reshape(6, 4)
    np.testing.assert_array_equal(batch.own_rows(whole), whole[3:])
    np.testing.assert_array_equal(batch.own_rows(whole.T, axis=1), whole.T[:, 3:])
    x, y, rows = data_parallel.own_share(np.arange(6.0), np.arange(6), np.arange(10, 16))
    np.testing.assert_array_equal(rows, [13, 14, 15])


def test_the_optimizer_averages_the_gradient_over_the_ranks():
    net = Dense(3, 2, rng=0)
    optimizer = SGD(net, lr=1.0)
    optimizer.communicator = Twin()
    before = net.params["W"].copy()
    for grad in net.grads.values():
        grad[...] = 0.5
    optimizer.step()  # two ranks with the same gradient: the sum is twice it, the mean is it
    np.testing.assert_allclose(net.params["W"], before - 0.5)


def test_batch_norm_of_two_ranks_uses_the_statistics_of_both_batches(rng):
    """Rank 0 of two ranks holding x each: the output and input gradient of BN on [x, x] in one
    process (float64, so the orders of the sums do not matter)."""
    x = rng.standard_normal((5, 3, 4, 4))
    gy = rng.standard_normal(x.shape)
    alone, shared = BatchNorm(3).astype(np.float64), BatchNorm(3).astype(np.float64)
    for layer in (alone, shared):
        layer.params["gamma"][...] = rng.uniform(0.5, 2, 3)
    shared.params["gamma"][...] = alone.params["gamma"]
    data_parallel.attach(_trainer_of(shared), Twin())
    y_alone = alone.forward(np.concatenate([x, x]))
    gx_alone = alone.backward(np.concatenate([gy, gy]))
    y_shared, gx_shared = shared.forward(x), shared.backward(gy)
    np.testing.assert_allclose(y_shared, y_alone[:5], rtol=1e-12)
    np.testing.assert_allclose(gx_shared, gx_alone[:5], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(shared.buffers["running_var"], alone.buffers["running_var"], rtol=1e-12)
    # dL/dgamma stays this rank's sum: the optimizer sums it over the ranks
    np.testing.assert_allclose(2 * shared.grads["gamma"], alone.grads["gamma"], rtol=1e-10)


def _trainer_of(*layers):
    class Holder:
        networks = {"net": Sequential(*layers)}
        optimizers = {}

    return Holder()


def test_per_image_state_is_gathered_from_its_owners(twin):
    class Holder:
        per_example = {"codes": np.zeros((10, 2))}

    holder = Holder()
    indices = np.array([7, 2, 5, 0])  # rank 1 owns images 5 and 0
    holder.per_example["codes"][[5, 0]] = [[1, 1], [2, 2]]
    data_parallel.share_per_example(holder, indices)
    # the twin's "rank 0" holds the same rows, so images 7 and 2 get them too
    np.testing.assert_array_equal(holder.per_example["codes"][[7, 2, 5, 0]], [[1, 1], [2, 2], [1, 1], [2, 2]])


def test_logs_are_averaged_and_a_stop_is_agreed(twin):
    logs, stop = data_parallel.agree({"loss": 0.25, "d_real": 0.5}, stop_requested=True)
    assert logs == {"loss": 0.25, "d_real": 0.5} and stop is True
    assert data_parallel.agree({"loss": 1.0}, stop_requested=False)[1] is False


def test_different_settings_on_two_ranks_are_refused():
    class Disagreeing(Twin):
        def allgather(self, rows):
            return np.concatenate([rows, rows + 1])

    previous = distributed.world()
    distributed.use(Disagreeing())
    try:
        with pytest.raises(MinnetError, match="rank 1 was started with other settings"):
            data_parallel.check_same_run({"model": "gan"})
    finally:
        distributed.use(previous)


# -- NCCL's set-up order, with a fake CuPy and a fake MPI ------------------------------------


class FakeMPI:
    COMM_TYPE_SHARED = "shared"


class FakeComm:
    """An mpi4py communicator for rank ``rank`` of ``size``, ``per_node`` ranks per machine."""

    def __init__(self, rank, size, per_node, calls):
        self.rank, self.size, self.per_node, self.calls = rank, size, per_node, calls

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size

    def Split_type(self, kind, key):
        return FakeComm(self.rank % self.per_node, self.per_node, self.per_node, self.calls)

    def Free(self):
        pass

    def bcast(self, value, root):
        self.calls.append(("mpi bcast", value))
        return "id-from-rank-0"


class FakeDeviceArray:
    def __init__(self, size, dtype):
        self.size, self.dtype = size, np.dtype(dtype)
        self.data = type("Memory", (), {"ptr": 1234})()


def fake_cupy(calls, gpus):
    class Device:
        def __init__(self, index):
            self.index = index

        def use(self):
            calls.append(("use device", self.index))

    class NcclCommunicator:
        def __init__(self, size, unique_id, rank):
            calls.append(("nccl communicator", size, unique_id, rank))

        def allReduce(self, send, receive, count, kind, op, stream):
            calls.append(("allReduce", send, receive, count, kind, op, stream))

    nccl_module = type("nccl", (), {
        "NCCL_FLOAT32": "f32", "NCCL_FLOAT64": "f64", "NCCL_INT64": "i64", "NCCL_SUM": "sum",
        "get_unique_id": staticmethod(lambda: calls.append(("get unique id",)) or "id-from-rank-0"),
        "NcclCommunicator": NcclCommunicator,
    })  # fmt: skip
    runtime = type("runtime", (), {"getDeviceCount": staticmethod(lambda: gpus)})
    stream = type("Stream", (), {"ptr": 99})()
    cuda = type("cuda", (), {
        "runtime": runtime, "Device": Device, "nccl": nccl_module, "get_current_stream": staticmethod(lambda: stream),
    })  # fmt: skip
    return type("cupy", (), {"cuda": cuda})


@pytest.mark.parametrize(("rank", "per_node", "gpus", "device"), [(0, 4, 4, 0), (5, 4, 4, 1), (3, 4, 2, 1)])
def test_nccl_picks_the_gpu_from_the_local_rank_before_anything_else(rank, per_node, gpus, device):
    calls = []
    communicator = nccl.NCCLCommunicator(FakeComm(rank, 8, per_node, calls), FakeMPI, fake_cupy(calls, gpus))
    assert communicator.device == device
    made_id = [("get unique id",)] if rank == 0 else []
    assert calls == [
        ("use device", device),  # 2. the GPU, first
        *made_id,  # 3. rank 0 alone makes the id ...
        ("mpi bcast", "id-from-rank-0" if rank == 0 else None),  # ... and MPI sends it
        ("nccl communicator", 8, "id-from-rank-0", rank),  # 4. every rank joins
    ]


def test_nccl_sums_device_buffers_in_place_on_the_current_stream():
    calls = []
    communicator = nccl.NCCLCommunicator(FakeComm(0, 2, 2, calls), FakeMPI, fake_cupy(calls, 2))
    buffer = FakeDeviceArray(10, np.float32)
    assert communicator.allreduce_sum(buffer) is buffer
    assert calls[-1] == ("allReduce", 1234, 1234, 10, "f32", "sum", 99)
