"""docs/examples/ run exactly as written, as a reader would run them, on small data."""

import os
import re
import subprocess
import sys

import pytest
from PIL import Image

CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(CHECKOUT, "docs", "examples")


def run(*args, cwd):
    """Run ``python *args`` in ``cwd`` on this checkout's minnet (one BLAS thread, as tests share
    the cores); its stdout."""
    env = {**os.environ, "PYTHONPATH": CHECKOUT, "OPENBLAS_NUM_THREADS": "1", "MINNET_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def example(name):
    return os.path.join(EXAMPLES, name)


def test_the_classifier_learns(tmp_path):
    output = run(example("train_classifier.py"), 2, 1000, cwd=tmp_path)  # 2 epochs of 1,000 images
    assert re.search(r"epoch 2: loss \d\.\d{3} on its last batch", output), output
    accuracy = float(re.search(r"test accuracy ([\d.]+)% on 1000 images", output).group(1))
    assert accuracy > 70, output  # chance is 10%; a wrong gradient or a silent optimizer stays near it


def test_the_new_layer_passes_and_its_broken_twin_fails(tmp_path):
    lines = run(example("new_layer.py"), cwd=tmp_path).splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("Swish d/dinput: max abs error") and lines[0].endswith("-> ok")
    assert lines[1].startswith("ForgetfulSwish d/dinput") and lines[1].endswith("-> WRONG")


@pytest.mark.parametrize("model, options", [("cdcgan", ["--channels", 4]), ("gan", ["--hidden", "8,8"])])
def test_sampling_from_a_saved_run(tmp_path, model, options):
    tiny = ["--epochs", 1, "--limit", 64, "--batch-size", 32, *options]
    run("-m", "minnet", "train", model, *tiny, "--out", tmp_path / "run", cwd=tmp_path)
    output = run(example("sample_from_run.py"), tmp_path / "run", tmp_path / "digits.png", cwd=tmp_path)
    assert output == f"wrote 80 samples of {model} (80, 28, 28) to {tmp_path / 'digits.png'}\n"
    assert Image.open(tmp_path / "digits.png").size[0] > 8 * 28  # eight digits a row, with gaps


def test_the_docs_page_shows_each_example_as_it_is():
    with open(os.path.join(EXAMPLES, os.pardir, "python.md")) as page:
        text = page.read()
    for name in ("train_classifier.py", "sample_from_run.py", "new_layer.py"):
        with open(example(name)) as file:
            assert f"```python\n{file.read().strip()}\n```" in text, f"docs/python.md does not show {name} as it is"
