"""The Fréchet distance between two Gaussians, and the Gaussian statistics of feature vectors.

The arithmetic under FID (:func:`minnet.evaluation.metrics.classifier_frechet_distance`), with no
classifier in sight: :func:`feature_statistics` fits the mean and covariance,
:func:`frechet_distance` compares two fits.
"""

import numpy as np

from minnet.backend import to_numpy
from minnet.errors import MinnetError


def frechet_distance(mu1, sigma1, mu2, sigma2):
    r"""Fréchet (2-Wasserstein) distance, squared, between N(mu1, sigma1) and N(mu2, sigma2).

    .. math::

        d^2 = \lVert \mu_1 - \mu_2 \rVert^2
              + \operatorname{Tr}\bigl(\Sigma_1 + \Sigma_2 - 2 (\Sigma_1 \Sigma_2)^{1/2}\bigr)

    The trace of the matrix square root is computed as

    .. math::

        \operatorname{Tr} (\Sigma_1 \Sigma_2)^{1/2} = \sum_i \sqrt{\lambda_i}, \qquad
        \lambda_i = \text{eigenvalues of } \Sigma_1^{1/2} \Sigma_2 \Sigma_1^{1/2},

    which holds because :math:`\Sigma_1 \Sigma_2` and the symmetric positive semi-definite
    :math:`\Sigma_1^{1/2} \Sigma_2 \Sigma_1^{1/2}` are similar matrices. Working with symmetric
    matrices only (``eigh``) keeps everything real and stable, also for singular covariances
    (fewer samples than dimensions, dead features), so the usual FID code's fallbacks around
    ``scipy.linalg.sqrtm`` (discarding imaginary parts, retrying with ``eps * I`` added) are not
    needed; eigenvalues that rounding pushes slightly below 0 are clipped to 0. The result
    agrees with the ``sqrtm`` formula wherever that one is well-conditioned (see the tests).

    Parameters
    ----------
    mu1, mu2 : array (D,)
        Means.
    sigma1, sigma2 : array (D, D)
        Covariances (symmetric positive semi-definite).

    Returns
    -------
    float
        ``d^2 >= 0`` (up to rounding), in squared feature units.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    dimension = len(mu1)
    square = (dimension, dimension)
    if mu2.shape != (dimension,) or sigma1.shape != square or sigma2.shape != square:
        raise ValueError(
            f"mismatched statistics: means {mu1.shape}, {mu2.shape}; "
            f"covariances {sigma1.shape}, {sigma2.shape}"
        )
    root1 = _symmetric_sqrt(sigma1)
    product = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((product + product.T) / 2)  # symmetrised against rounding
    trace_sqrt_product = np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None)))
    difference = mu1 - mu2
    trace_term = np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt_product
    return float(difference @ difference + trace_term)


def _symmetric_sqrt(matrix):
    """The PSD square root ``V diag(sqrt(max(w, 0))) V^T`` of symmetric ``V diag(w) V^T``."""
    eigenvalues, eigenvectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def feature_statistics(features):
    r"""Mean and covariance of feature vectors, in float64.

    .. math:: \mu = \frac1N \sum_n f_n, \qquad
              \Sigma = \frac1{N-1} \sum_n (f_n - \mu)(f_n - \mu)^\top

    Parameters
    ----------
    features : array (N, D), NumPy or CuPy, N >= 2

    Returns
    -------
    mu : ndarray (D,)
    sigma : ndarray (D, D)
    """
    features = to_numpy(features).astype(np.float64)
    if features.ndim != 2:
        raise ValueError(f"features must be (N, D), got shape {features.shape}")
    if len(features) < 2:
        raise MinnetError(f"a covariance needs at least 2 samples, got {len(features)}")
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(features.shape[1], -1)
