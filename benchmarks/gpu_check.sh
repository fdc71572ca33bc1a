#!/usr/bin/env bash
# The GPU check: everything minnet's CuPy path must pass, in one run of under 8 minutes.
#
#     bash benchmarks/gpu_check.sh OUTDIR
#
# On a CUDA machine that has CuPy, PyTorch (with CUDA) and pytest but no network, from the
# repository root. It installs minnet from the checkout without downloading anything, then
# writes into OUTDIR, one file each:
#
#   environment.txt   nvidia-smi, Python, CuPy, torch and the install's log
#   pytest.txt        pytest -m "gpu or gpu_compile": every test's CuPy copy, and NVRTC compiling
#                     every kernel's source as tests/test_kernels.py writes it, with the slowest durations
#   layers.txt        benchmarks/layers.py --device gpu: each layer against torch CUDA
#   models.txt        benchmarks/models.py --device gpu: a training step of each model, with memory
#   cdcgan.txt        python3 -m minnet train cdcgan --device gpu for one epoch, then minnet eval on the GPU
#   cdcgan.png        the trained model's samples, one row per digit
#   nccl.txt          data-parallel training through NCCL (docs/distributed.md): cdcgan for 50 steps
#                     alone and under `mpiexec -n 1 ... --device gpu`, whose every step sums the
#                     gradient buffer and batch-norm statistics with NCCL; the two checkpoints must
#                     agree. Needs `pip install 'minnet[mpi]'` (mpich, mpi4py) and NCCL for CuPy.
#
# Set MINNET_DATA_DIR to the MNIST files to train on the full set; without it the bundled
# sample is used. Each step has its own time limit, so one that hangs cannot take the rest
# with it; the script's exit status is the number of steps that failed.
set -uo pipefail
cd "$(dirname "$0")/.."

out=${1:?usage: bash benchmarks/gpu_check.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export PYTHONUNBUFFERED=1
failed=0

step() {  # step NAME LIMIT_SECONDS LOG COMMAND...: run, log, time and count a failure
    local name=$1 limit=$2 log=$3
    shift 3
    local start=$SECONDS
    echo "== $name" | tee -a "$log"
    timeout "$limit" "$@" >>"$log" 2>&1
    local status=$?
    echo "== $name: exit $status in $((SECONDS - start)) s" | tee -a "$log"
    [ "$status" -eq 0 ] || failed=$((failed + 1))
}

env_log=$out/environment.txt
{
    nvidia-smi
    python3 --version
    python3 -c "import cupy; print('cupy', cupy.__version__, 'CUDA runtime', cupy.cuda.runtime.runtimeGetVersion())"
    python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
} >"$env_log" 2>&1
step "install minnet without downloads" 60 "$env_log" \
    python3 -m pip install --no-deps --no-build-isolation --no-index -e .

step "pytest -m gpu or gpu_compile" 200 "$out/pytest.txt" \
    python3 -m pytest -m "gpu or gpu_compile" -q -p no:cacheprovider --durations=15
step "layers against torch CUDA" 50 "$out/layers.txt" \
    python3 benchmarks/layers.py --device gpu
step "training steps against torch CUDA" 80 "$out/models.txt" \
    python3 benchmarks/models.py --device gpu

run=$(mktemp -d)
step "train cdcgan for one epoch" 100 "$out/cdcgan.txt" \
    python3 -m minnet train cdcgan --device gpu --epochs 1 --out "$run/cdcgan"
step "evaluate cdcgan" 50 "$out/cdcgan.txt" python3 -m minnet eval "$run/cdcgan" --device gpu
step "sample cdcgan" 20 "$out/cdcgan.txt" \
    python3 -m minnet sample "$run/cdcgan" --device gpu --per-class 10 --out "$out/cdcgan.png"

nccl_run=(-m minnet train cdcgan --device gpu --epochs 1 --limit 6400 --log-every 10)
step "train cdcgan alone, 50 steps" 40 "$out/nccl.txt" python3 "${nccl_run[@]}" --out "$run/alone"
step "train cdcgan under mpiexec -n 1 through NCCL" 60 "$out/nccl.txt" \
    "$(command -v mpiexec || echo mpiexec-is-missing)" -n 1 python3 "${nccl_run[@]}" --out "$run/nccl"
step "the NCCL run trained the model of the run alone" 15 "$out/nccl.txt" python3 -c "
from tests.distributed.launch import assert_same_checkpoint
from tests.distributed.test_same_model import NOISE_DRIVEN
assert_same_checkpoint('$run/alone', '$run/nccl', rtol=1e-3, atol=1e-4, loose=NOISE_DRIVEN['cdcgan'], loose_atol=0.05)
print('same weights, optimizer state and generator state')"

echo "gpu_check: $failed step(s) failed; logs in $out"
exit "$failed"
