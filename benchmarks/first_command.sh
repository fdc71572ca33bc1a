#!/usr/bin/env bash
# Time the README's first command as a new user on a machine without network would run it.
#
#     bash benchmarks/first_command.sh WORKDIR
#
# In WORKDIR (created; must not exist yet): a fresh virtual environment (it sees the system's
# numpy, scipy, pillow and click, as an offline machine must already have them), then the
# README's command from `pip install -e .` to `digits.png`, with no MNIST anywhere: no
# MINNET_DATA_DIR, an empty private cache (XDG_CACHE_HOME) and no download mirrors. Prints
# the load average before and after, and the wall and CPU time of the whole command.
# Set OPENBLAS_NUM_THREADS=1 MINNET_NUM_THREADS=1 to measure one thread on a shared machine.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:?usage: bash benchmarks/first_command.sh WORKDIR}
mkdir "$work"
cd "$work"
unset MINNET_DATA_DIR
export MINNET_MNIST_MIRRORS="" XDG_CACHE_HOME="$work/cache"
python3 -m venv --system-site-packages venv
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# the command of the README's "Set up", run from the checkout
/usr/bin/time -f "first command: %e s wall, %U s user + %S s system CPU" bash -c "
    . '$work/venv/bin/activate' && cd '$repo' &&
    pip install -q -e . &&
    minnet train cdcgan --channels 16 --epochs 4 --out '$work/runs/first' &&
    minnet sample '$work/runs/first' --per-class 10 --out '$work/digits.png'"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
