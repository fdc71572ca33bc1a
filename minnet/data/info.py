"""``mnist_info``: what ``minnet data info`` reports about the MNIST minnet would use."""

from minnet.data.checksum import contents_sha256
from minnet.data.folder import mnist_files_in, read_part
from minnet.data.locate import find_full_set
from minnet.data.sample import SAMPLE_PATH, read_sample_part
from minnet.data.splits import split_sizes
from minnet.errors import MinnetError


def mnist_info(data_dir=None):
    """Describe the MNIST that :func:`~minnet.data.load.load_mnist` would read, downloading nothing.

    Every file is read whole and hashed, so a damaged file shows up as a problem rather than
    an exception.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        A directory that must hold the four files (as for ``load_mnist``).

    Returns
    -------
    dict
        ``source`` ("full" or "sample"), ``location`` (str), ``found_via`` ("data_dir",
        "MINNET_DATA_DIR", "cache" or "bundled"), ``splits`` (digits per split, empty when
        the files cannot be read), ``files`` (list of dicts with ``name``, ``path``,
        ``sha256`` (None when unreadable), ``expected_sha256`` (None for the sample) and
        ``ok``), ``problems`` (list of one-line messages) and ``ok`` (no problems).
    """
    directory, found_via = find_full_set(data_dir)
    if directory is None:
        return _sample_info()
    problems, files = [], []
    for entry, path in mnist_files_in(directory).items():
        try:
            digest = contents_sha256(path)
        except MinnetError as err:
            digest = None
            problems.append(str(err))
        ok = digest == entry.sha256
        if digest is not None and not ok:
            problems.append(f"{path}: SHA-256 differs from MNIST's {entry.name}")
        files.append(
            {
                "name": path.name,
                "path": str(path),
                "sha256": digest,
                "expected_sha256": entry.sha256,
                "ok": ok,
            }
        )
    try:
        n_rows = {part: len(read_part(directory, part)[1]) for part in ("train", "test")}
        splits = split_sizes(n_rows["train"], n_rows["test"], "full")
    except MinnetError as err:
        splits = {}
        problems.append(str(err))
    return {
        "source": "full",
        "location": directory,
        "found_via": found_via,
        "splits": splits,
        "files": files,
        "problems": list(dict.fromkeys(problems)),  # an unreadable file fails twice alike
        "ok": not problems,
    }


def _sample_info():
    """The report for the bundled sample."""
    n_rows = {part: len(read_sample_part(part)[1]) for part in ("train", "test")}
    return {
        "source": "sample",
        "location": str(SAMPLE_PATH),
        "found_via": "bundled",
        "splits": split_sizes(n_rows["train"], n_rows["test"], "sample"),
        "files": [
            {
                "name": SAMPLE_PATH.name,
                "path": str(SAMPLE_PATH),
                "sha256": contents_sha256(SAMPLE_PATH),
                "expected_sha256": None,
                "ok": True,
            }
        ],
        "problems": [],
        "ok": True,
    }
