"""Noisy linear regression in the eigenbasis of the input covariance (docs/math.md#noisy-linear-regression).

One :class:`Problem` feeds both the exact solver (:func:`ramplab.theory.expected_risk`) and the Monte Carlo
sampler (:mod:`simulations`): the spectrum ``λ``, the per-direction initial second moments
``s_i(0) = E[(w_0 − w*)_i²]``, the label-noise variance ``σ²`` and the fourth moment ``κ`` of the
standardised input coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import math

import numpy as np

from .._frozen import FrozenRecord, array_key, freeze, same_value
from .._limits import MAX_DIMENSION
from .._memory import check_memory, problem_bytes
from .._validate import finite_real, positive_int, positive_real, real_array, real_vector

__all__ = ["Problem"]

@dataclass(frozen=True, eq=False)
class Problem(FrozenRecord):
    """Noisy linear regression ``y = <w*, x> + ε`` with ``x = H^{1/2} z``, in the eigenbasis of ``H``.

    Parameters
    ----------
    eigenvalues : array_like, shape (d,)
        Eigenvalues ``λ_i`` of the input covariance ``H``; positive and finite.
    initial_second_moment : array_like, shape (d,)
        ``s_i(0) = E[(w_0 − w*)_i²]`` in the eigenbasis; non-negative and finite.
    noise_variance : float
        Label-noise variance ``σ² ≥ 0``.
    kurtosis : float, default 3.0
        Fourth moment ``κ = E z⁴ ≥ 1`` of the standardised input coordinates (Gaussian 3,
        Rademacher 1). Only the exact solver's ``(κ − 2) λ_i² s_i`` term depends on it.
    metadata : mapping, optional
        Free-form description (family, parameters); stored as a read-only deep copy (a mapping
        proxy; lists become tuples, arrays read-only copies).
    multiplicity : array_like, shape (d,), optional
        ``m_i > 0``: stored coordinate ``i`` stands for ``m_i`` coordinates that share ``λ_i`` and
        ``s_i(0)`` (and therefore ``s_i(t)`` at every step, docs/math.md#multiplicity). Default all
        ones. Non-integer values are allowed (the recursion only needs the weights); the Monte
        Carlo needs integers.

    Notes
    -----
    The arrays are stored as read-only float64 NumPy arrays; a problem is immutable. Problems
    compare and hash by value (``eigenvalues``, ``initial_second_moment``, ``multiplicity``,
    ``noise_variance``, ``kurtosis``; not ``metadata``), and pickle, :func:`copy.copy` and
    :func:`copy.deepcopy` give an equal problem whose arrays are read-only again. Excess risk is ``R = ½ Σ_i m_i λ_i s_i``; :attr:`dimension` counts stored coordinates
    and :attr:`effective_dimension` the coordinates they stand for, ``Σ m_i``.

    Examples
    --------
    >>> p = Problem([1.0, 0.5], [1.0, 2.0], noise_variance=0.1)
    >>> p.dimension, p.trace, p.initial_risk
    (2, 1.5, 1.0)
    >>> q = Problem([1.0, 0.5], [1.0, 2.0], noise_variance=0.1, multiplicity=[1.0, 3.0])
    >>> q.dimension, q.effective_dimension, q.trace, q.initial_risk
    (2, 4.0, 2.5, 2.0)
    >>> Problem([1.0, -1.0], [1.0, 1.0], 0.0)
    Traceback (most recent call last):
    ...
    ValueError: eigenvalues must be positive and finite; got -1.0 at index 1
    """

    eigenvalues: np.ndarray
    initial_second_moment: np.ndarray
    noise_variance: float = 0.0
    kurtosis: float = 3.0
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    multiplicity: np.ndarray | None = None

    def __post_init__(self) -> None:
        lam = real_vector(self.eigenvalues, "eigenvalues", positive=True)
        s0 = real_vector(self.initial_second_moment, "initial_second_moment", nonnegative=True)
        if s0.shape != lam.shape:
            raise ValueError(
                f"initial_second_moment must have the same length as eigenvalues "
                f"({lam.shape[0]}); got {s0.shape[0]}"
            )
        if self.multiplicity is None:
            mult = np.ones_like(lam)
            mult.flags.writeable = False
        else:
            mult = real_vector(self.multiplicity, "multiplicity", positive=True)
            if mult.shape != lam.shape:
                raise ValueError(
                    f"multiplicity must have the same length as eigenvalues ({lam.shape[0]}); got {mult.shape[0]}"
                )
        sigma2 = finite_real(self.noise_variance, "noise_variance", minimum=0.0)
        kappa = finite_real(self.kurtosis, "kurtosis", minimum=1.0)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow here is refused just below
            weights = mult * lam
            # einsum, not a BLAS dot: a threaded BLAS wakes its workers, which then spin beside the solver's threads
            trace, risk = float(np.sum(weights)), 0.5 * float(np.einsum("i,i->", weights, s0))
        if not math.isfinite(trace):
            names = "eigenvalues" if self.multiplicity is None else "eigenvalues and multiplicity"
            raise ValueError(f"{names}: the trace Σ m λ overflows float64 (every risk and step would be inf); "
                             f"got largest eigenvalue {float(np.max(lam))!r}")
        if not math.isfinite(risk):
            names = "initial_second_moment, eigenvalues" + ("" if self.multiplicity is None else " and multiplicity")
            raise ValueError(f"{names}: the initial risk ½ Σ m λ s(0) overflows float64; got largest "
                             f"initial_second_moment {float(np.max(s0))!r}")
        object.__setattr__(self, "eigenvalues", lam)
        object.__setattr__(self, "initial_second_moment", s0)
        object.__setattr__(self, "multiplicity", mult)
        object.__setattr__(self, "noise_variance", sigma2)
        object.__setattr__(self, "kurtosis", kappa)
        meta = self.metadata
        object.__setattr__(self, "metadata", freeze(meta if isinstance(meta, Mapping) else dict(meta)))

    def _value(self) -> tuple:
        return (self.eigenvalues, self.initial_second_moment, self.multiplicity, self.noise_variance, self.kurtosis)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return self is other or all(same_value(a, b) for a, b in zip(self._value(), other._value()))

    def __hash__(self) -> int:
        lam, s0, mult, sigma2, kappa = self._value()
        return hash((array_key(lam), array_key(s0), array_key(mult), sigma2 + 0.0, kappa))

    # ----------------------------------------------------------------------------- factories
    @classmethod
    def power_law(
        cls,
        d: int,
        a: float,
        b: float,
        noise_variance: float = 0.0,
        *,
        kurtosis: float = 3.0,
        scale: float = 1.0,
        target_norm: float | None = None,
    ) -> "Problem":
        """Power-law spectrum ``λ_i = scale · i^{−a}`` with ``λ_i s_i(0) = scale · i^{−b}`` (``w_0 = 0``).

        Parameters
        ----------
        d : int
            Dimension, ≥ 1.
        a : float
            Spectral decay exponent (> 0).
        b : float
            Decay exponent of the per-direction initial risk ``λ_i s_i(0)`` (real).
        noise_variance : float, default 0.0
        kurtosis : float, default 3.0
        scale : float, default 1.0
            Multiplies both ``λ`` and ``λ s(0)``, so ``λ_1 = scale``.
        target_norm : float, optional
            Normalise the target: scale every ``s_i(0)`` by one factor so that
            ``‖w*‖² = Σ_i s_i(0) = target_norm²`` (``w_0 = 0``), keeping ``λ_i s_i(0) ∝ i^{−b}``
            (docs/math.md#normalised-target). ``None`` (default): no normalisation,
            ``s_i(0) = i^{a−b}``. The published exact-recursion sweeps use ``target_norm=1``.

        Returns
        -------
        Problem
            ``d`` coordinates, eigenvalues decreasing; ``metadata`` records the parameters.

        Raises
        ------
        ValueError
            For ``d < 1``, ``a ≤ 0``, ``scale ≤ 0``, a ``target_norm`` that is not a positive finite
            number, or parameters that put ``λ`` or ``s(0)`` outside float64.

        Examples
        --------
        >>> p = Problem.power_law(3, a=1.0, b=2.0, noise_variance=0.5)
        >>> p.eigenvalues.round(12).tolist(), p.initial_second_moment.round(12).tolist()
        ([1.0, 0.5, 0.333333333333], [1.0, 0.5, 0.333333333333])

        With ``‖w*‖ = 1`` the same shape is divided by ``Σ s_i(0) = 11/6``:

        >>> q = Problem.power_law(3, a=1.0, b=2.0, noise_variance=0.5, target_norm=1.0)
        >>> q.initial_second_moment.round(6).tolist(), round(float(q.initial_second_moment.sum()), 12)
        ([0.545455, 0.272727, 0.181818], 1.0)
        """
        d = positive_int(d, "d", maximum=MAX_DIMENSION)
        check_memory(problem_bytes(d), "Problem.power_law", {"d": d})
        a = positive_real(a, "a")
        b = finite_real(b, "b")
        scale = positive_real(scale, "scale")
        i = np.arange(1, d + 1, dtype=np.float64)
        with np.errstate(all="ignore"):
            lam = scale * i**-a
            s0 = scale * i**-b / lam
        if not (np.all(lam > 0) and np.all(np.isfinite(lam)) and np.all(np.isfinite(s0))):
            raise ValueError(
                f"a, b and scale put λ_i = scale·i^(−a) or s_i(0) = i^(a−b) outside float64 for i ≤ d = {d}; "
                f"got a={a!r}, b={b!r}, scale={scale!r}"
            )
        meta = {"family": "power_law", "d": d, "a": a, "b": b, "scale": scale}
        if target_norm is not None:
            target_norm = positive_real(target_norm, "target_norm")
            # Σ s_i(0) correctly rounded (math.fsum), so ‖w*‖² = target_norm² to rounding.
            total = math.fsum(s0.tolist())
            if not (math.isfinite(total) and total > 0):
                raise ValueError(f"Σ s_i(0) = {total!r} cannot be normalised for d = {d}, a={a!r}, b={b!r}")
            with np.errstate(all="ignore"):
                s0 = s0 * (target_norm**2 / total)
            if not (np.all(np.isfinite(s0)) and np.all(s0 > 0)):
                raise ValueError(f"target_norm={target_norm!r} puts s_i(0) outside float64 for d = {d}, "
                                 f"a={a!r}, b={b!r}")
            meta["target_norm"] = target_norm
        return cls(lam, s0, noise_variance, kurtosis, metadata=meta)

    @classmethod
    def isotropic(
        cls,
        d: int,
        eigenvalue: float = 1.0,
        initial_second_moment: float = 1.0,
        noise_variance: float = 0.0,
        *,
        kurtosis: float = 3.0,
    ) -> "Problem":
        """``H = eigenvalue · I`` with the same initial second moment in every direction.

        Parameters
        ----------
        d : int
            Dimension (number of coordinates).
        eigenvalue : float, default 1.0
            Every eigenvalue ``λ`` of ``H``.
        initial_second_moment : float, default 1.0
            Every ``s_i(0) = E (w_0 − w*)_i²``.
        noise_variance : float, default 0.0
            Label-noise variance ``σ²`` (squared label units).
        kurtosis : float, default 3.0
            Fourth moment ``κ = E z⁴`` of the standardised inputs (Gaussian 3).

        Returns
        -------
        Problem
            Initial excess risk ``d · λ · s(0) / 2`` (docs/math.md#noisy-linear-regression).

        Examples
        --------
        >>> Problem.isotropic(4, 0.5, 2.0).initial_risk
        2.0
        """
        d = positive_int(d, "d", maximum=MAX_DIMENSION)
        check_memory(problem_bytes(d), "Problem.isotropic", {"d": d})
        eigenvalue = positive_real(eigenvalue, "eigenvalue")
        lam = np.full(d, eigenvalue)
        s0 = np.full(d, finite_real(initial_second_moment, "initial_second_moment"))
        return cls(lam, s0, noise_variance, kurtosis, metadata={"family": "isotropic", "d": d})

    @classmethod
    def from_covariance(
        cls,
        covariance: Any,
        initial_error: Any,
        noise_variance: float = 0.0,
        *,
        kurtosis: float = 3.0,
    ) -> "Problem":
        """Rotate a full covariance ``H`` and a deterministic ``w_0 − w*`` into the eigenbasis.

        Parameters
        ----------
        covariance : array_like, shape (d, d)
            Symmetric positive-definite input covariance.
        initial_error : array_like, shape (d,)
            ``w_0 − w*``; its squared eigen-coordinates become ``s(0)``.
        noise_variance : float, default 0.0
            Label-noise variance ``σ²`` (squared label units).
        kurtosis : float, default 3.0
            Fourth moment ``κ = E z⁴`` of the standardised inputs (Gaussian 3).

        Returns
        -------
        Problem
            Eigenvalues of ``H`` (descending) with ``s(0)`` the squared coordinates of ``w_0 − w*``
            in its eigenbasis.

        Notes
        -----
        The diagonal recursion is exact in the eigenbasis of ``H`` (off-diagonal second moments never
        enter the diagonal, docs/math.md#sgd-second-moment-recursion), so a rotation loses nothing for the risk. For non-Gaussian
        ``z`` the model is ``x = H^{1/2} z`` with ``z`` i.i.d. *in the eigenbasis*.

        Examples
        --------
        >>> p = Problem.from_covariance([[2.0, 1.0], [1.0, 2.0]], [1.0, 1.0])
        >>> p.eigenvalues.round(12).tolist(), p.initial_second_moment.round(12).tolist()
        ([3.0, 1.0], [2.0, 0.0])
        """
        cov = real_array(covariance, "covariance")
        if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or cov.size == 0:
            raise ValueError(f"covariance must be a non-empty square matrix; got shape {cov.shape}")
        if not np.all(np.isfinite(cov)):
            raise ValueError("covariance must be finite")
        if not np.allclose(cov, cov.T, rtol=1e-12, atol=1e-14 * np.abs(cov).max()):
            raise ValueError("covariance must be symmetric")
        e0 = real_vector(initial_error, "initial_error")
        if e0.shape[0] != cov.shape[0]:
            raise ValueError(
                f"initial_error must have length {cov.shape[0]} to match covariance; got {e0.shape[0]}"
            )
        lam, vectors = np.linalg.eigh(cov)
        order = np.argsort(lam)[::-1]  # largest first, as in power_law
        lam, vectors = lam[order], vectors[:, order]
        if lam[-1] <= 0:
            raise ValueError(f"covariance must be positive definite; smallest eigenvalue {lam[-1]!r}")
        with np.errstate(all="ignore"):
            s0 = (vectors.T @ e0) ** 2
        if not np.all(np.isfinite(s0)):
            raise ValueError(f"initial_error is too large: its squared eigen-coordinates overflow float64; got {e0!r}")
        return cls(lam, s0, noise_variance, kurtosis, metadata={"family": "covariance"})

    # ------------------------------------------------------------------------------ derived
    @property
    def dimension(self) -> int:
        """Number of stored eigen-directions ``d`` (each standing for ``m_i`` coordinates)."""
        return int(self.eigenvalues.shape[0])

    @property
    def effective_dimension(self) -> float:
        """Number of coordinates the stored ones stand for, ``Σ m_i`` (``d`` for unit multiplicity)."""
        return float(np.sum(self.multiplicity))

    @property
    def has_unit_multiplicity(self) -> bool:
        """Whether every ``m_i = 1`` (each stored coordinate is one coordinate)."""
        return bool(np.all(self.multiplicity == 1.0))

    @property
    def trace(self) -> float:
        """``tr H = Σ m_i λ_i``."""
        return float(np.sum(self.multiplicity * self.eigenvalues))

    @property
    def largest_eigenvalue(self) -> float:
        """``λ_1 = max λ_i``, the smoothness constant ``L`` of the loss."""
        return float(np.max(self.eigenvalues))

    @property
    def initial_risk(self) -> float:
        """Excess risk at the start, ``½ Σ m_i λ_i s_i(0)``."""
        # einsum, not a BLAS dot (a threaded BLAS's workers would spin beside the solver's threads)
        return 0.5 * float(np.einsum("i,i->", self.multiplicity * self.eigenvalues, self.initial_second_moment))

    def expanded(self) -> "Problem":
        """The same problem with every coordinate repeated ``m_i`` times (unit multiplicity).

        Returns
        -------
        Problem
            ``self`` when the multiplicities are already all one; otherwise a problem of dimension
            ``Σ m_i`` (docs/math.md#multiplicity).

        Raises
        ------
        ValueError
            If some ``m_i`` is not a whole number.

        Examples
        --------
        >>> p = Problem([1.0, 0.5], [1.0, 2.0], multiplicity=[2.0, 1.0]).expanded()
        >>> p.eigenvalues.tolist(), p.initial_second_moment.tolist(), p.has_unit_multiplicity
        ([1.0, 1.0, 0.5], [1.0, 1.0, 2.0], True)
        """
        if self.has_unit_multiplicity:
            return self
        counts = np.round(self.multiplicity)
        if not np.all(counts == self.multiplicity):
            i = int(np.argmax(counts != self.multiplicity))
            raise ValueError(
                f"only whole-number multiplicities can be expanded to coordinates; "
                f"got multiplicity {float(self.multiplicity[i])!r} at index {i}"
            )
        reps = counts.astype(np.int64)
        check_memory(problem_bytes(int(reps.sum())), "Problem.expanded", {"d": int(reps.sum())})
        return Problem(np.repeat(self.eigenvalues, reps), np.repeat(self.initial_second_moment, reps),
                       self.noise_variance, self.kurtosis, metadata=self.metadata)

    def replace(self, **changes: Any) -> "Problem":
        """Return a copy with some fields replaced (validated again).

        Parameters
        ----------
        **changes
            Field names of :class:`Problem` (``eigenvalues``, ``initial_second_moment``,
            ``noise_variance``, ``kurtosis``, ``multiplicity``, ``metadata``) and their new values.

        Returns
        -------
        Problem
            A new problem; ``self`` is unchanged.

        Raises
        ------
        TypeError, ValueError
            As :class:`Problem` for an unknown field or an invalid value.

        Examples
        --------
        >>> Problem.isotropic(2).replace(noise_variance=1.0).noise_variance
        1.0
        """
        fields = dict(
            eigenvalues=self.eigenvalues,
            initial_second_moment=self.initial_second_moment,
            noise_variance=self.noise_variance,
            kurtosis=self.kurtosis,
            metadata=self.metadata,
            multiplicity=self.multiplicity,
        )
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"Problem has no field(s) {sorted(unknown)}")
        fields.update(changes)
        return Problem(**fields)

    def __repr__(self) -> str:
        grouped = "" if self.has_unit_multiplicity else f", effective_dimension={self.effective_dimension:.6g}"
        return (
            f"Problem(d={self.dimension}{grouped}, trace={self.trace:.4g}, initial_risk={self.initial_risk:.4g}, "
            f"noise_variance={self.noise_variance:.4g}, kurtosis={self.kurtosis:.4g})"
        )
