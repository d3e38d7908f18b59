"""Mini-batch gradients of noisy linear regression, drawn in the eigenbasis of ``H``.

With ``e = w − w*``, inputs ``x = Λ^{1/2} z`` and labels ``y = <w*, x> + σν`` the batch-``B``
gradient is ``g = (1/B) Σ_b x_b (x_bᵀ e − σ ν_b)``. Write ``a = Λ^{1/2} e``.

``direct``
    Draws the batch: ``z`` (Gaussian, Rademacher or uniform coordinates) and ``ν ~ N(0, 1)``, then
    ``g = (1/B) Λ^{1/2} Σ_b z_b (z_bᵀ a − σ ν_b)``. Works for every data distribution; costs
    ``B·d`` draws per run and step.

``gaussian-exact`` (docs/math.md#gaussian-sampler)
    For Gaussian ``z`` split ``z_b = ζ_b â + P⊥ z_b`` with ``â = a/‖a‖``, ``ζ_b = âᵀz_b`` and
    ``P⊥ = I − ââᵀ``; ``ζ_b``, ``ν_b`` and ``P⊥ z_b`` are independent. The residual is
    ``r_b = ‖a‖ζ_b − σν_b``, so

        Σ_b z_b r_b = â Σ_b ζ_b r_b + Σ_b r_b P⊥ z_b,

    and given ``(ζ, ν)`` the second term is ``N(0, (Σ_b r_b²) P⊥)``, i.e. ``(Σ r_b²)^{1/2} P⊥ ξ``
    with ``ξ ~ N(0, I_d)``. Both sums only involve the 2×2 Wishart(B, I) matrix
    ``W = Σ_b (ζ_b, ν_b)ᵀ(ζ_b, ν_b)``, and Bartlett's decomposition ``W = L Lᵀ`` with
    ``L = [[c_1, 0], [n, c_2]]``, ``c_1² ~ χ²_B``, ``c_2² ~ χ²_{B−1}``, ``n ~ N(0, 1)`` independent
    gives, with ``u = ‖a‖c_1 − σn``,

        Σ_b ζ_b r_b = c_1 u,        Σ_b r_b² = u² + σ² c_2²   (a sum of squares: never negative).

    Hence ``g = (1/B) Λ^{1/2} [ â c_1 u + (u² + σ²c_2²)^{1/2} P⊥ ξ ]``: ``d + 3`` draws per run and
    step whatever ``B``. When ``a = 0`` every unit vector serves as ``â`` (the first basis vector
    is used).

Moments, for checking either sampler (any coordinate kurtosis ``κ``): ``E g = Λ e`` and

    Cov g = (1/B) Λ^{1/2} [ (‖a‖² + σ²) I + a aᵀ + (κ − 3) diag(a²) ] Λ^{1/2},

from ``E[z_i z_j (zᵀa)²] = δ_ij ‖a‖² + 2 a_i a_j + (κ − 3) δ_ij a_i²`` (see
:func:`gradient_covariance`).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Sequence

import numpy as np
from array_api_compat import is_numpy_namespace

from . import _sampler_kernels
from .streams import BlockStream, block_streams, concat_draws, namespace, root_seed_sequence
from ..theory._limits import MAX_EXACT_INTEGER, MAX_STEP_ARRAY
from ..theory._validate import (
    choice,
    describe,
    finite_real,
    positive_int,
    real_vector,
    strict_real_array,
)
from ..theory import backend_name, resolve_backend, to_numpy
from ..theory._limits import MAX_STEP_ARRAY
from ..theory.dynamics import Problem

__all__ = [
    "DATA_KURTOSIS",
    "DIRECT_PIECE_ELEMENTS",
    "SAMPLERS",
    "direct_gradient",
    "direct_piece",
    "gaussian_exact_gradient",
    "gradient_covariance",
    "gradient_samples",
]

SAMPLERS = ("auto", "gaussian-exact", "direct")
# Fourth moment κ = E z⁴ of each standardised coordinate distribution.
DATA_KURTOSIS = {"gaussian": 3.0, "rademacher": 1.0, "uniform": 9.0 / 5.0}
# The direct sampler draws the batch in pieces of at most this many elements per run (B·d is split
# along the batch axis), which bounds its memory whatever B. The piece size depends on d only, so
# the random stream (and the numbers) do not depend on memory settings.
DIRECT_PIECE_ELEMENTS = 2**16
# gradient_samples with the direct sampler draws draws·B·d coordinates; beyond this many it refuses
# (minutes of work; the Gaussian-exact sampler costs O(d) per draw whatever B).
_SAMPLES_MAX_COORDINATES = 2**34
# One call of the direct kernel draws rows·B·d coordinates (rows summed over its streams); beyond
# this many (hours of work on any machine) it refuses rather than hang.
_KERNEL_MAX_COORDINATES = 2**40


def direct_piece(dimension: int, batch: int) -> int:
    """Samples per piece of the direct sampler: ``min(B, max(1, 65536 // d))``.

    Parameters
    ----------
    dimension : int
        ``d``, coordinates per sample.
    batch : int
        ``B``, samples per step.

    Returns
    -------
    int
        Samples drawn per call, so that one call holds at most ``max(d, 65536)`` coordinates a run.

    Examples
    --------
    >>> direct_piece(1000, 1024), direct_piece(10, 4), direct_piece(100_000, 8)
    (65, 4, 1)
    """
    dimension = positive_int(dimension, "dimension")
    batch = positive_int(batch, "batch", maximum=MAX_EXACT_INTEGER)
    return min(batch, max(1, DIRECT_PIECE_ELEMENTS // dimension))


def _kernel_arguments(xp: Any, streams: Any, scaled_error: Any, sqrt_eigenvalues: Any, batch: Any,
                      noise_std: Any) -> tuple[ModuleType, list[BlockStream], int, float]:
    """Validate the arguments the two gradient kernels share; returns ``(xp, streams, batch, σ)``.

    Types, shapes and scalars are checked; array *values* are not: the kernels run every step of a
    simulation, a non-finite state propagates (NaN in, NaN out) and Monte Carlo reports the
    divergence with its step, and a check here would synchronise a device every step.
    """
    xp = namespace(xp, "xp")
    if isinstance(streams, (str, bytes)) or not isinstance(streams, Sequence) or not streams \
            or not all(isinstance(s, BlockStream) for s in streams):
        raise TypeError(f"streams must be a non-empty sequence of BlockStream; got {describe(streams)}")
    batch = positive_int(batch, "batch", maximum=MAX_EXACT_INTEGER)
    noise_std = finite_real(noise_std, "noise_std", minimum=0.0)
    for name, arr, ndim in (("scaled_error", scaled_error, 2), ("sqrt_eigenvalues", sqrt_eigenvalues, 1)):
        shape = getattr(arr, "shape", None)
        dtype = getattr(arr, "dtype", None)
        if shape is None or len(shape) != ndim or "float" not in str(dtype):
            raise TypeError(f"{name} must be a {ndim}-D floating-point array of namespace xp; got {describe(arr)}")
        if is_numpy_namespace(xp) and (not isinstance(arr, np.ndarray) or isinstance(arr, np.ma.MaskedArray)):
            # A foreign array (torch, …) or a masked one under NumPy: refused by name (#19 kinds 7, 10).
            raise TypeError(f"{name} must be a plain NumPy array (namespace xp is NumPy); got {describe(arr)}")
    n, d = int(scaled_error.shape[0]), int(scaled_error.shape[1])
    if n != sum(s.used for s in streams):
        raise ValueError(f"scaled_error must have one row per run of streams ({sum(s.used for s in streams)}); "
                         f"got shape {tuple(scaled_error.shape)}")
    if tuple(sqrt_eigenvalues.shape) != (d,) or d == 0:
        raise ValueError(f"sqrt_eigenvalues must have shape ({d},) to match scaled_error; got "
                         f"{tuple(sqrt_eigenvalues.shape)}")
    return xp, list(streams), batch, noise_std


def _coordinates(stream: BlockStream, data: str, *tail: int) -> Any:
    if data == "gaussian":
        return stream.normal(*tail)
    if data == "rademacher":
        return stream.signs(*tail)
    if data == "uniform":
        # Uniform on [−√3, √3]: mean 0, variance 1, κ = 9/5.
        return (2.0 * stream.uniform(*tail) - 1.0) * 3.0**0.5
    raise ValueError(f"data must be one of {tuple(DATA_KURTOSIS)}; got {data!r}")


def direct_gradient(
    xp: ModuleType,
    streams: Sequence[BlockStream],
    scaled_error: Any,
    sqrt_eigenvalues: Any,
    batch: int,
    noise_std: float,
    data: str,
) -> Any:
    """Batch gradients ``(n, d)`` drawn by sampling the whole batch (one row per run).

    Parameters
    ----------
    xp : namespace
    streams : sequence of BlockStream
        One per block of runs; their ``used`` rows add up to ``n``.
    scaled_error : array, shape (n, d)
        ``a = Λ^{1/2} e`` for every run.
    sqrt_eigenvalues : array, shape (d,)
    batch : int
    noise_std : float
        ``σ``.
    data : {"gaussian", "rademacher", "uniform"}
        Distribution of the whitened input coordinates ``z``.

    Returns
    -------
    array, shape (n, d)
        One batch gradient per run, on ``xp``, in the dtype of ``scaled_error``.

    Notes
    -----
    Memory: one draw of ``block × direct_piece(d, B) × d`` coordinates at a time, at most
    ``block × max(d, 65536)`` elements, plus a temporary of the same size. Time: ``block × B × d``
    coordinate draws per stream.

    Raises
    ------
    TypeError, ValueError
        For arguments of the wrong kind, shape or range (see ``_kernel_arguments``).

    Examples
    --------
    >>> import numpy as np
    >>> from ramplab.simulations.streams import block_streams, root_seed_sequence
    >>> streams = block_streams(root_seed_sequence(0), 0, 3, 64, np, np.float64)
    >>> lam = np.array([1.0, 0.25])
    >>> a = np.sqrt(lam) * np.ones((3, 2))               # scaled error Λ^{1/2} e, three runs
    >>> direct_gradient(np, streams, a, np.sqrt(lam), 4, 0.5, "gaussian").shape
    (3, 2)
    """
    xp, streams, batch, noise_std = _kernel_arguments(xp, streams, scaled_error, sqrt_eigenvalues, batch,
                                                      noise_std)
    data = choice(data, "data", tuple(DATA_KURTOSIS))
    rows = sum(s.rows for s in streams)
    if rows * batch * int(scaled_error.shape[1]) > _KERNEL_MAX_COORDINATES:
        raise ValueError(f"the direct sampler would draw rows × batch × d = {rows} × {batch} × "
                         f"{int(scaled_error.shape[1])} coordinates in one call, more than 2**40; use the "
                         f"gaussian-exact sampler or a smaller batch")
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging state propagates; Monte Carlo reports it
        return _direct_gradient(xp, streams, scaled_error, sqrt_eigenvalues, batch, noise_std, data)


def _direct_gradient(xp: ModuleType, streams: Sequence[BlockStream], scaled_error: Any, sqrt_eigenvalues: Any,
                     batch: int, noise_std: float, data: str) -> Any:
    d = int(scaled_error.shape[1])
    piece = direct_piece(d, batch)
    out, start = [], 0
    for stream in streams:
        a = scaled_error[start : start + stream.used, :]
        start += stream.used
        acc = xp.zeros_like(a)
        done = 0
        while done < batch:
            p = min(piece, batch - done)
            z = _coordinates(stream, data, p, d)  # (n_b, p, d)
            resid = xp.matmul(z, a[:, :, None])[:, :, 0]  # z_bᵀ a
            if noise_std > 0:
                resid = resid - noise_std * stream.normal(p)
            acc = acc + xp.matmul(resid[:, None, :], z)[:, 0, :]
            done += p
        out.append(acc)
    return concat_draws(xp, out) * (sqrt_eigenvalues / batch)


def gaussian_exact_gradient(
    xp: ModuleType,
    streams: Sequence[BlockStream],
    scaled_error: Any,
    norm_squared: Any,
    sqrt_eigenvalues: Any,
    batch: int,
    noise_std: float,
) -> Any:
    """Batch gradients ``(n, d)`` for Gaussian data in ``O(d)`` per run, exact in distribution.

    Parameters
    ----------
    xp : namespace
        The array namespace of the runs.
    streams : sequence of BlockStream
        One per block of runs; their ``used`` rows add up to ``n``.
    scaled_error : array, shape (n, d)
        ``a = Λ^{1/2} e``.
    norm_squared : array, shape (n,)
        ``‖a‖² = Σ λ e²`` (twice the excess risk), which the caller already has (not checked against
        ``scaled_error``: the kernel trusts it).
    sqrt_eigenvalues : array, shape (d,)
        ``Λ^{1/2}``.
    batch : int
        ``B``, samples per step.
    noise_std : float
        ``σ``, the label-noise standard deviation.

    Returns
    -------
    array, shape (n, d)
        One batch gradient per run, on ``xp``.

    Examples
    --------
    >>> import numpy as np
    >>> from ramplab.simulations.streams import block_streams, root_seed_sequence
    >>> streams = block_streams(root_seed_sequence(0), 0, 3, 64, np, np.float64)
    >>> lam = np.array([1.0, 0.25])
    >>> a = np.sqrt(lam) * np.ones((3, 2))
    >>> gaussian_exact_gradient(np, streams, a, (a * a).sum(axis=1), np.sqrt(lam), 4, 0.5).shape
    (3, 2)

    Notes
    -----
    Per block and step: one ``(block, d + 1)`` normal draw (``ξ`` and ``n``) and one
    ``(block, 2)`` gamma draw (``c_1²/2``, ``c_2²/2``; only ``c_1`` when ``B = 1``, where
    ``c_2 = 0``). Memory: a few ``(n, d)`` arrays.
    """
    xp, streams, batch, noise_std = _kernel_arguments(xp, streams, scaled_error, sqrt_eigenvalues, batch,
                                                      noise_std)
    shape = getattr(norm_squared, "shape", None)
    if shape is None or tuple(shape) != (int(scaled_error.shape[0]),) or "float" not in str(norm_squared.dtype):
        raise TypeError(f"norm_squared must be a floating-point array of shape ({int(scaled_error.shape[0])},); "
                        f"got {describe(norm_squared)}")
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging state propagates; Monte Carlo reports it
        return _gaussian_exact_gradient(xp, streams, scaled_error, norm_squared, sqrt_eigenvalues, batch, noise_std)


def _fused(xp: ModuleType, *arrays: Any) -> bool:
    """Whether the fused kernel of :mod:`._sampler_kernels` runs: NumPy arrays of one float dtype, numba present."""
    if not (_sampler_kernels.AVAILABLE and backend_name(xp) == "numpy"):
        return False
    dt = arrays[0].dtype
    return dt in (np.float64, np.float32) and all(isinstance(x, np.ndarray) and x.dtype == dt for x in arrays)


def fused_sgd_step(xp: ModuleType, streams: Sequence[BlockStream], error: Any, sqrt_eigenvalues: Any, norm_squared: Any,
                   batch: int, noise_std: float, rate: float,
                   out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[Any, Any] | None:
    """One SGD step of every run with the ``gaussian-exact`` gradient, fused (numba), or None where it cannot run.

    Returns ``(e − η g, ‖Λ^{1/2}(e − η g)‖²)`` from the same draws, in the same order, as
    :func:`gaussian_exact_gradient` followed by the update (docs/math.md#gaussian-sampler); ``None``
    when numba is absent or the arrays are not NumPy arrays of one float dtype (the caller then takes
    the array path). The second entry is :func:`._sampler_kernels.row_norms` of the first. ``out``: arrays
    to write them into (C-contiguous, shapes and dtype of ``error`` and ``norm_squared``, sharing no memory
    with the inputs), so that a loop reuses two buffers instead of allocating (and faulting in) new ones
    every step.
    """
    if not _fused(xp, error, sqrt_eigenvalues, norm_squared):
        return None
    dt = error.dtype
    d = int(error.shape[1])
    shapes = np.asarray([batch / 2.0, (batch - 1) / 2.0] if batch > 1 else [batch / 2.0])
    # The draws of BlockStream.normal / .gamma, taken from the generators directly: the shapes are checked
    # once here (every stream has the same rows), not twice per stream and step (a fifth of the step at B = 1).
    # B = 1: the one shape as a float (NumPy's scalar path, a third of the array path's cost, the same draws)
    shape = float(shapes[0]) if len(shapes) == 1 else shapes
    checked: set[int] = set()
    for stream in streams:
        if stream.rows not in checked:
            stream._shape((d + 1,))  # refuses what stream.normal(d + 1) refuses
            checked.add(stream.rows)
    e = np.ascontiguousarray(error)
    q = np.ascontiguousarray(norm_squared)
    lam = np.ascontiguousarray(sqrt_eigenvalues)
    scale = lam / batch
    e_out, q_out = (np.empty_like(e), np.empty_like(q)) if out is None else out
    start = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for stream in streams:
            stop = start + stream.used
            normal = np.ascontiguousarray(stream.generator.normal((stream.rows, d + 1))[: stream.used], dtype=dt)
            gamma = np.ascontiguousarray(stream.generator.gamma(shape, (stream.rows, len(shapes)))[: stream.used],
                                         dtype=dt)
            _sampler_kernels.sgd_gaussian_exact_rows(e[start:stop], lam, q[start:stop], normal, gamma, scale, noise_std,
                                                     rate, e_out[start:stop], q_out[start:stop])
            start = stop
    return e_out, q_out


def _gaussian_exact_gradient(xp: ModuleType, streams: Sequence[BlockStream], scaled_error: Any, norm_squared: Any,
                             sqrt_eigenvalues: Any, batch: int, noise_std: float) -> Any:
    d = int(scaled_error.shape[1])
    shapes = [batch / 2.0, (batch - 1) / 2.0] if batch > 1 else [batch / 2.0]
    if _fused(xp, scaled_error, norm_squared, sqrt_eigenvalues):
        # The same draws, block by block, through one compiled pass per run (docs/math.md#gaussian-sampler).
        dt = scaled_error.dtype
        a = np.ascontiguousarray(scaled_error)
        q = np.ascontiguousarray(norm_squared)
        scale = np.ascontiguousarray(sqrt_eigenvalues / batch)
        out = np.empty_like(a)
        start = 0
        for stream in streams:
            stop = start + stream.used
            normal = np.ascontiguousarray(stream.normal(d + 1), dtype=dt)
            gamma = np.ascontiguousarray(stream.gamma(np.asarray(shapes), len(shapes)), dtype=dt)
            _sampler_kernels.gaussian_exact_rows(a[start:stop], q[start:stop], normal, gamma, scale, noise_std,
                                                 out[start:stop])
            start = stop
        return out
    normals, gammas = [], []
    for stream in streams:
        normals.append(stream.normal(d + 1))
        gammas.append(stream.gamma(np.asarray(shapes), len(shapes)))
    normal, gamma = concat_draws(xp, normals), concat_draws(xp, gammas)
    xi, n = normal[:, :d], normal[:, d]
    c1sq = 2.0 * gamma[:, 0]
    c2sq = 2.0 * gamma[:, 1] if batch > 1 else xp.zeros_like(c1sq)

    norm = xp.sqrt(norm_squared)
    positive = norm > 0
    safe = xp.where(positive, norm, xp.ones_like(norm))
    unit = xp.zeros_like(sqrt_eigenvalues)
    unit = xp.where(xp.arange(d) == 0, xp.ones_like(unit), unit)
    a_hat = xp.where(positive[:, None], scaled_error / safe[:, None], unit[None, :])

    c1 = xp.sqrt(c1sq)
    u = norm * c1 - noise_std * n
    along = c1 * u
    perp = xp.sqrt(u * u + (noise_std * noise_std) * c2sq)
    proj = xp.sum(a_hat * xi, axis=1)
    direction = a_hat * (along - perp * proj)[:, None] + perp[:, None] * xi
    return direction * (sqrt_eigenvalues / batch)


def gradient_covariance(problem: Problem, error: Any, batch: int, kurtosis: float | None = None) -> np.ndarray:
    """Analytic covariance ``(d, d)`` of the batch gradient at a fixed error ``e = w − w*``.

    ``(1/B) Λ^{1/2} [ (‖a‖² + σ²) I + a aᵀ + (κ − 3) diag(a²) ] Λ^{1/2}`` with ``a = Λ^{1/2} e``
    (module docstring). Its trace plus ``‖Λe‖²`` is ``E‖g‖²`` of docs/math.md#normalized-sgd.

    Parameters
    ----------
    problem : Problem
        Unit multiplicity (``problem.expanded()`` otherwise).
    error : array_like, shape (d,)
        ``e = w − w*`` in the eigenbasis.
    batch : int
        ``B``, samples per step.
    kurtosis : float, optional
        ``κ ≥ 1``; the problem's by default.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(d, d)``.

    Raises
    ------
    ValueError
        For a problem with non-unit multiplicity, a wrong-length ``error``, or an overflow.

    Examples
    --------
    >>> p = Problem([1.0, 4.0], [0.0, 0.0], noise_variance=1.0)
    >>> gradient_covariance(p, [0.0, 0.0], batch=2).tolist()   # pure label noise: σ² Λ / B
    [[0.5, 0.0], [0.0, 2.0]]
    """
    problem = _problem(problem)
    if not problem.has_unit_multiplicity:
        raise ValueError("problem has non-unit multiplicity; pass problem.expanded() so that error has one entry "
                         "per coordinate")
    kappa = problem.kurtosis if kurtosis is None else finite_real(kurtosis, "kurtosis", minimum=1.0)
    e = _error(error, problem)
    batch = positive_int(batch, "batch", maximum=MAX_EXACT_INTEGER)
    lam = problem.eigenvalues
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.sqrt(lam) * e
        inner = ((a @ a + problem.noise_variance) * np.eye(lam.size) + np.outer(a, a)
                 + (kappa - 3.0) * np.diag(a * a))
        root = np.sqrt(lam)
        out = root[:, None] * inner * root[None, :] / batch
    if not np.all(np.isfinite(out)):
        raise ValueError(f"the covariance overflows float64 for error={describe(error)} on problem={problem!r}")
    return out


def _problem(problem: Any) -> Problem:
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {describe(problem)}")
    return problem


def _error(error: Any, problem: Problem) -> np.ndarray:
    e = real_vector(strict_real_array(error, "error"), "error")
    if e.shape != (problem.dimension,):
        raise ValueError(f"error must have shape (d,) with d = problem.dimension = {problem.dimension}; got "
                         f"shape {e.shape}")
    return e


def gradient_samples(
    problem: Problem,
    error: Any,
    batch: int,
    draws: int,
    *,
    sampler: str = "gaussian-exact",
    data: str = "gaussian",
    seed: Any = 0,
    backend: Any = "numpy",
) -> np.ndarray:
    """``draws`` independent batch gradients at one fixed error ``e = w − w*`` (NumPy, ``(draws, d)``).

    Meant for checking the samplers' moments against :func:`gradient_covariance`.

    Parameters
    ----------
    problem : Problem
        Unit multiplicity.
    error : array_like, shape (d,)
        ``e = w − w*`` in the eigenbasis.
    batch : int
        ``B``, samples per gradient.
    draws : int
        Number of independent gradients.
    sampler : {"gaussian-exact", "direct"}, default "gaussian-exact"
        The exact ``O(d)`` Gaussian sampler or the direct one (any data).
    data : {"gaussian", "rademacher", "uniform"}, default "gaussian"
        Input distribution (``"gaussian-exact"`` needs ``"gaussian"``).
    seed : int, sequence of int or SeedSequence, default 0
        Root seed (see :func:`~ramplab.simulations.streams.root_seed_sequence`).
    backend : str or namespace, default "numpy"
        Where the draws run; the result is always NumPy.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(draws, d)``.

    Examples
    --------
    >>> p = Problem([1.0, 0.25], [1.0, 1.0], noise_variance=0.5)
    >>> g = gradient_samples(p, [1.0, -2.0], batch=1000, draws=4000, seed=1)
    >>> g.shape, bool(np.allclose(g.mean(axis=0), [1.0, -0.5], atol=0.01))
    ((4000, 2), True)
    """
    problem = _problem(problem)
    sampler = choice(sampler, "sampler", ("gaussian-exact", "direct"))
    data = choice(data, "data", tuple(DATA_KURTOSIS))
    if sampler == "gaussian-exact" and data != "gaussian":
        raise ValueError(f"sampler='gaussian-exact' needs data='gaussian'; got data={data!r}")
    if not problem.has_unit_multiplicity:
        raise ValueError("problem has non-unit multiplicity; pass problem.expanded() so that error has one entry "
                         "per coordinate")
    e = _error(error, problem)
    batch = positive_int(batch, "batch", maximum=MAX_EXACT_INTEGER)
    draws = positive_int(draws, "draws")
    if draws * problem.dimension > MAX_STEP_ARRAY:
        raise ValueError(f"draws × d = {draws} × {problem.dimension} exceeds MAX_STEP_ARRAY = {MAX_STEP_ARRAY} "
                         f"elements of the returned array; got draws={draws}")
    if sampler == "direct" and draws * batch * problem.dimension > _SAMPLES_MAX_COORDINATES:
        raise ValueError(f"the direct sampler would draw draws × batch × d = {draws} × {batch} × "
                         f"{problem.dimension} coordinates, more than 2**34; use sampler='gaussian-exact' "
                         f"(O(d) per draw) or fewer draws or a smaller batch")
    root_seed = root_seed_sequence(seed)
    if backend is not None and not isinstance(backend, (str, ModuleType)):
        raise TypeError(f"backend must be a backend name or an array namespace; got {describe(backend)}")
    xp = resolve_backend(backend)
    root = np.sqrt(problem.eigenvalues)
    with np.errstate(over="ignore", invalid="ignore"):
        a_host = np.broadcast_to(root * e, (draws, problem.dimension))
        if not (np.all(np.isfinite(a_host)) and np.isfinite(np.sum(a_host[0] ** 2))):
            raise ValueError(f"error is too large: ‖Λ^½ e‖² overflows float64; got error={describe(error)}")
    a = xp.asarray(np.ascontiguousarray(a_host), dtype=xp.float64)
    root_x = xp.asarray(root, dtype=xp.float64)
    streams = block_streams(root_seed, 0, draws, min(draws, 1024), xp, xp.float64)
    sigma = problem.noise_variance**0.5
    with np.errstate(over="ignore", invalid="ignore"):
        if sampler == "direct":
            g = direct_gradient(xp, streams, a, root_x, batch, sigma, data)
        else:
            g = gaussian_exact_gradient(xp, streams, a, xp.sum(a * a, axis=1), root_x, batch, sigma)
        out = to_numpy(g)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"the sampled gradients overflow float64 for error={describe(error)} on "
                         f"problem={problem!r}")
    return out
