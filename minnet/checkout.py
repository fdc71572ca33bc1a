"""A source checkout imported as it stands: ``minnet.models`` and ``minnet.cli`` from its own folders.

The repository keeps the models and the command line in the top-level folders ``models/`` and
``cli/``, and setup.cfg's ``package_dir`` installs them as ``minnet.models`` and ``minnet.cli``.
Python finds ``minnet`` itself on ``PYTHONPATH`` (or in the current directory) but has no way
to know that mapping, so a checkout on ``PYTHONPATH`` would import ``minnet`` from the checkout
and ``minnet.models``/``minnet.cli`` from wherever minnet was installed, or not at all: edits to
``models/`` would silently not run.

When ``minnet/`` sits in a checkout, that is beside a ``setup.cfg`` and the two folders,
:func:`map_sibling_packages` puts a finder first on ``sys.meta_path`` that loads
``minnet.models`` and ``minnet.cli`` from them, so the checkout imports as one whole. An
installed minnet (its folders already mapped into site-packages) has no such siblings and is
left alone.
"""

import importlib.util
import os
import sys

SIBLINGS = {"minnet.models": "models", "minnet.cli": "cli"}  # package -> folder beside minnet/


class SiblingFinder:
    """A meta-path finder of ``minnet.models`` and ``minnet.cli`` in the folders of one checkout.

    ``root`` is the checkout's directory (the one holding ``minnet/``, ``models/``, ``cli/``).
    Their modules (``minnet.models.gan``) are then found by the usual machinery in the
    package's ``__path__``.
    """

    def __init__(self, root):
        self.root = root

    def find_spec(self, fullname, path=None, target=None):
        """The spec of ``fullname`` when it is one of :data:`SIBLINGS`, else None (not ours)."""
        if fullname not in SIBLINGS:
            return None
        folder = os.path.join(self.root, SIBLINGS[fullname])
        return importlib.util.spec_from_file_location(
            fullname, os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
        )


def checkout_root(package_dir):
    """The checkout holding ``package_dir`` (the ``minnet/`` folder), or None when installed."""
    root = os.path.dirname(os.path.abspath(package_dir))
    markers = ["setup.cfg"] + [os.path.join(folder, "__init__.py") for folder in SIBLINGS.values()]
    return root if all(os.path.isfile(os.path.join(root, marker)) for marker in markers) else None


def map_sibling_packages(package_dir):
    """Load ``minnet.models`` and ``minnet.cli`` from the checkout ``package_dir`` is in, if any."""
    root = checkout_root(package_dir)
    if root is not None and not any(isinstance(f, SiblingFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, SiblingFinder(root))
