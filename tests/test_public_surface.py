"""The surface a learner imports: reachable from ``import minnet``, listed in ``__all__``, documented.

Every public function, class and method of the public modules has a docstring that names each
of its parameters (its shapes and what it returns are for a reader to judge; the names are what
a test can hold it to).
"""

import importlib
import inspect
import re
import subprocess
import sys

import pytest

import minnet

MODULES = [f"minnet.{name}" for name in minnet.PUBLIC_MODULES] + ["minnet.layers.naive"]


def public_callables(module):
    """``(qualified name, callable)`` of every function, class and public method in ``__all__``."""
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isfunction(value):
            yield f"{module.__name__}.{name}", value
        elif inspect.isclass(value):
            yield f"{module.__name__}.{name}", value
            for attribute, member in inspect.getmembers(value):
                defined_in_minnet = (getattr(member, "__module__", None) or "").startswith("minnet")
                if not attribute.startswith("_") and inspect.isfunction(member) and defined_in_minnet:
                    yield f"{module.__name__}.{name}.{attribute}", member


def parameters(function):
    """The names a docstring should mention: every named parameter but self and cls."""
    signature = inspect.signature(function)
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in signature.parameters.values() if p.name not in ("self", "cls") and p.kind not in kinds]


def undocumented(qualified, value):
    """What is missing from ``value``'s documentation: '' when nothing is."""
    if inspect.isclass(value):
        doc = (inspect.getdoc(value) or "") + (inspect.getdoc(value.__init__) or "")
        names = parameters(value.__init__) if value.__init__ is not object.__init__ else []
    else:
        doc, names = inspect.getdoc(value) or "", parameters(value)
    if not doc.strip():
        return f"{qualified}: no docstring"
    missing = [name for name in names if not re.search(rf"\b{re.escape(name)}\b", doc)]
    return f"{qualified}: docstring does not mention {', '.join(missing)}" if missing else ""


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_callable_documents_its_parameters(module_name):
    module = importlib.import_module(module_name)
    problems = {undocumented(qualified, value) for qualified, value in public_callables(module)} - {""}
    assert not problems, "\n".join(sorted(problems))


@pytest.mark.parametrize("module_name", MODULES)
def test_all_lists_only_what_the_module_has(module_name):
    module = importlib.import_module(module_name)
    assert module.__all__ and all(hasattr(module, name) for name in module.__all__)


def test_import_minnet_is_quick_and_reaches_the_public_modules():
    """``import minnet`` loads no NumPy (the modules come on first use), and then each is an attribute."""
    script = (
        "import sys, minnet; print('numpy' in sys.modules); "
        "print(*(type(getattr(minnet, name)).__name__ for name in minnet.PUBLIC_MODULES))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"] + ["module"] * len(minnet.PUBLIC_MODULES)
    assert minnet.layers.Dense and minnet.models.load and minnet.optim.SGD and minnet.gradcheck.check_layer
    with pytest.raises(AttributeError, match="no attribute 'layer'"):
        minnet.layer  # noqa: B018


def test_help_of_an_optimizer_shows_clipping_and_that_step_zeroes_the_gradients():
    import pydoc

    page = pydoc.render_doc(minnet.optim.SGD, renderer=pydoc.plaintext)
    assert "clip_norm" in page
    assert re.search(r"zero", inspect.getdoc(minnet.optim.SGD.step))


def test_sample_and_the_generator_say_what_range_and_shape_they_give():
    from minnet.models.gan import GANTrainer

    sample_doc = inspect.getdoc(minnet.models.Trainer.sample)
    assert "(n, 28, 28)" in sample_doc and "[0, 1]" in sample_doc and "(n, 1, 28, 28) in [-1, 1]" in sample_doc
    assert "(B, 1, 28, 28) in [-1, 1]" in inspect.getdoc(GANTrainer)
