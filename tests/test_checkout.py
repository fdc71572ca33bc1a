"""A checkout on PYTHONPATH imports as one whole: minnet.models and minnet.cli from its own folders."""

import os
import shutil
import subprocess
import sys

import minnet
from minnet.checkout import checkout_root

CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(minnet.__file__)))


def copy_checkout(destination):
    for folder in ("minnet", "models", "cli"):
        source = os.path.join(CHECKOUT, folder)
        shutil.copytree(source, destination / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(os.path.join(CHECKOUT, "setup.cfg"), destination)


def test_a_copy_on_pythonpath_imports_its_own_models_and_cli(tmp_path):
    """This venv has minnet installed (editable, from another path); the copy still wins whole."""
    copy = tmp_path / "checkout"
    copy_checkout(copy)
    modules = "minnet, minnet.models.gan, minnet.cli.main"
    script = f"import {modules}; print(*(m.__file__ for m in [{modules}]))"
    env = {**os.environ, "PYTHONPATH": str(copy)}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files = done.stdout.split()
    expected = [str(copy / "minnet" / "__init__.py"), str(copy / "models" / "gan.py"), str(copy / "cli" / "main.py")]
    assert files == expected


def test_an_installed_minnet_is_left_alone(tmp_path):
    """site-packages has minnet/ but no setup.cfg and no models/ and cli/ beside it."""
    (tmp_path / "minnet").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("")
    assert checkout_root(tmp_path / "minnet") is None
    assert checkout_root(os.path.join(CHECKOUT, "minnet")) == CHECKOUT
