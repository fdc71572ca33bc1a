"""World detection from the launcher's environment, without MPI."""

import subprocess
import sys

import pytest

from minnet.distributed import launch


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"PATH": "/bin"}, None),
        (
            {"PMI_RANK": "1", "PMI_SIZE": "4", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "2"},
            launch.Launch("MPICH/Hydra", 1, 4, 1, 2),
        ),
        (
            {"OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "8", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
             "OMPI_COMM_WORLD_LOCAL_SIZE": "4"},
            launch.Launch("Open MPI", 3, 8, 1, 4),
        ),
        ({"PMIX_RANK": "2", "PMIX_LOCAL_RANK": "0"}, launch.Launch("PMIx", 2, None, 0, None)),
        ({"PMI_RANK": "0"}, launch.Launch("MPICH/Hydra", 0, None, None, None)),
    ],
)  # fmt: skip
def test_detect_reads_each_launcher(environ, expected):
    assert launch.detect(environ) == expected


def test_threads_share_the_cpus_among_the_local_ranks():
    four_here = {"PMI_RANK": "0", "PMI_SIZE": "8", "MPI_LOCALNRANKS": "4"}
    assert launch.threads_per_process(four_here, cpus=16) == 4
    assert launch.threads_per_process(four_here, cpus=2) == 1
    assert launch.threads_per_process({}, cpus=16) is None
    assert launch.threads_per_process({"PMIX_RANK": "0"}, cpus=16) is None


def test_a_user_thread_count_is_kept():
    chosen = {"PMI_RANK": "0", "MPI_LOCALNRANKS": "2", "OMP_NUM_THREADS": "3"}
    launch.share_cores(chosen)
    assert "MINNET_NUM_THREADS" not in chosen
    shared = {"PMI_RANK": "0", "MPI_LOCALNRANKS": "2"}
    launch.share_cores(shared)
    assert shared["MINNET_NUM_THREADS"] == shared["OPENBLAS_NUM_THREADS"] != ""


def test_a_plain_process_never_imports_mpi4py():
    code = (
        "import sys; from minnet import distributed; import minnet.cli.main; "
        "assert distributed.start().size == 1; assert 'mpi4py' not in sys.modules"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("PMI_", "OMPI_", "PMIX_"))}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
