"""Load a run saved by ``minnet train`` and write a grid of its samples as a PNG.

    minnet train cdcgan --channels 16 --epochs 4 --out runs/first
    python docs/examples/sample_from_run.py runs/first [OUT.png]
"""

import sys

import minnet
from minnet.figures.images import save_grid

run = sys.argv[1]
out = sys.argv[2] if len(sys.argv) > 2 else "samples.png"

trainer = minnet.models.load(run)  # the model as the run saved it: a run directory or its checkpoint.npz
labels = [digit for digit in range(10) for _ in range(8)] if trainer.conditional else None  # 8 of each digit
digits = trainer.sample(80, labels=labels, rng=0)  # NumPy (80, 28, 28) in [0, 1]; the seed fixes the noise
save_grid(out, digits, nrow=8)  # one row per digit for a conditional model
print(f"wrote {len(digits)} samples of {trainer.name} {digits.shape} to {out}")
