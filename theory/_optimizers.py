"""Optimizer specs: which update rule to run and its hyper-parameters, as one small immutable value.

The exact solver (:func:`ramplab.theory.expected_risk`) and the Monte Carlo
(:func:`ramplab.simulations.simulate`) take the same ``optimizer=`` argument: a spec, or its string
shorthand (the spec with default hyper-parameters). Each spec is a frozen dataclass, validated once
when it is built (errors name the argument), with value equality, a hash, and a pickle/copy round
trip that validates again:

- :class:`SGD` — plain SGD (docs/math.md#sgd-second-moment-recursion);
- :class:`NSGD` — normalized SGD with the expected or the conditional denominator
  (docs/math.md#normalized-sgd; the conditional one is Monte Carlo only);
- :class:`HeavyBall` — heavy-ball momentum on SGD or NSGD, one ``μ`` or one ``μ_t`` per step
  (docs/math.md#heavy-ball-momentum);
- :class:`Adam`, :class:`SignSGD` — Monte Carlo only, optionally in rotated coordinates
  (docs/math.md#monte-carlo-optimizers);
- :func:`resolve_optimizer` — a shorthand or a spec to a spec, optionally refusing what the exact
  solver cannot run.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from ._validate import as_numpy, describe, finite_real, strict_real_array

__all__ = [
    "NORMALIZATIONS",
    "OPTIMIZER_NAMES",
    "ROTATION_ATOL",
    "Adam",
    "HeavyBall",
    "NSGD",
    "OptimizerSpec",
    "SGD",
    "SignSGD",
    "resolve_optimizer",
]

#: The string shorthands of :func:`resolve_optimizer`, one per spec class.
OPTIMIZER_NAMES = ("sgd", "nsgd", "momentum", "adam", "signsgd")
#: Denominators of :class:`NSGD` (docs/math.md#normalized-sgd).
NORMALIZATIONS = ("expected", "conditional")
#: A ``rotation`` matrix must satisfy ``max |QᵀQ − I| ≤`` this.
ROTATION_ATOL = 1e-8
#: Values of ``where`` in :func:`resolve_optimizer`.
_WHERE = (None, "exact", "monte_carlo")


def _fraction(value: Any, name: str) -> float:
    """A real number in ``[0, 1)``, or ValueError/TypeError naming ``name``."""
    out = finite_real(value, name, minimum=0.0)
    if out >= 1.0:
        raise ValueError(f"{name} must lie in [0, 1); got {describe(value)}")
    return out


def _frozen(arr: np.ndarray) -> np.ndarray:
    """``arr`` as a read-only float64 copy with ``-0.0`` made ``+0.0`` (so equal arrays hash equally)."""
    out = np.array(arr, dtype=np.float64) + 0.0
    out.flags.writeable = False
    return out


def _per_step_array(value: Any, name: str) -> np.ndarray:
    """``value`` as a read-only non-empty 1-D float64 array of finite values ``≥ 0``, or ValueError naming ``name``."""
    arr = strict_real_array(value, name)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a number or a non-empty 1-D array of per-step values; got shape "
                         f"{arr.shape}")
    bad = ~(np.isfinite(arr) & (arr >= 0.0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must be finite and ≥ 0 at every step; got {float(arr[i])!r} at index {i}")
    return _frozen(arr)


def _is_scalar(value: Any, name: str, expected: str) -> bool:
    """Whether ``value`` is one number (else a per-step sequence); TypeError naming ``name`` for a bool,
    ``None``, a string, bytes or a dict, saying that ``name`` must be ``expected`` or a 1-D array."""
    if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, (str, bytes, dict)):
        raise TypeError(f"{name} must be {expected} or a 1-D array of per-step values; got {describe(value)}")
    return not isinstance(value, (list, tuple)) and as_numpy(value, name).ndim == 0


def checked_momentum(value: Any) -> float | np.ndarray:
    """``momentum`` of :class:`HeavyBall` checked: a float in ``[0, 1)`` or a read-only 1-D array ``μ_t ≥ 0``.

    The rules of heavy ball in ``expected_risk`` (docs/math.md#heavy-ball-momentum): a constant
    ``μ ≥ 1`` never contracts, but single entries ``≥ 1`` of an array are allowed (torch's
    convention gives them during a warmup).
    """
    if _is_scalar(value, "momentum", "a number in [0, 1)"):
        return _fraction(value, "momentum")
    return _per_step_array(value, "momentum")


def _weight_decay(value: Any) -> float | np.ndarray:
    """``weight_decay`` of :class:`SGD`, :class:`NSGD` and :class:`HeavyBall` checked: a float ``ω ≥ 0``
    or a read-only 1-D array of per-step ``ω_t ≥ 0`` (docs/math.md#weight-decay)."""
    if _is_scalar(value, "weight_decay", "a number ≥ 0"):
        return finite_real(value, "weight_decay", minimum=0.0) + 0.0
    return _per_step_array(value, "weight_decay")


def _per_step(value: float | np.ndarray, steps: int, name: str) -> np.ndarray:
    """A checked field (a float or a per-step array) expanded to ``steps`` steps: a new float64 array of
    shape ``(steps,)``, or ValueError naming ``name`` for a per-step array of another length."""
    if not isinstance(value, np.ndarray):
        return np.full(steps, value)
    if value.shape != (steps,):
        raise ValueError(f"{name} must be a number or one value per step (shape ({steps},)); got shape "
                         f"{value.shape}")
    return np.array(value)


class _DecayMixin:
    """``weight_decay`` helpers shared by :class:`SGD`, :class:`NSGD` and :class:`HeavyBall`."""

    @property
    def decays(self) -> bool:
        """Whether the spec decays the weights at some step (``weight_decay`` not 0 everywhere)."""
        wd = self.weight_decay  # type: ignore[attr-defined]
        return bool(np.any(wd != 0.0)) if isinstance(wd, np.ndarray) else wd != 0.0

    def weight_decays(self, steps: int) -> np.ndarray:
        """The per-step ``ω_t`` of ``steps`` steps, float64 of shape ``(steps,)``.

        Parameters
        ----------
        steps : int
            ``T``, the steps of the schedule the spec runs along.

        Returns
        -------
        ndarray, shape (steps,)
            ``weight_decay`` repeated, or the per-step array itself (a new writable copy).

        Raises
        ------
        ValueError
            For a per-step ``weight_decay`` whose length is not ``steps`` (named).
        """
        return _per_step(self.weight_decay, steps, "weight_decay")  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        # ``weight_decay=0.0`` (the default, no decay) is left out: ``SGD()`` reads as before.
        parts = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)  # type: ignore[arg-type]
                 if not (f.name == "weight_decay" and isinstance(self.weight_decay, float)  # type: ignore[attr-defined]
                         and self.weight_decay == 0.0)]  # type: ignore[attr-defined]
        return f"{type(self).__name__}({', '.join(parts)})"


def _rotation(value: Any) -> str | np.ndarray | None:
    """``rotation`` checked: ``None``, ``"random"`` or an orthogonal square matrix (read-only float64)."""
    if value is None:
        return None
    if isinstance(value, str):
        if value != "random":
            raise ValueError(f"rotation must be None, 'random' or an orthogonal (d, d) matrix; got {value!r:.80}")
        return value
    try:
        q = strict_real_array(value, "rotation")
    except (TypeError, ValueError) as exc:
        raise TypeError(f"rotation must be None, 'random' or an orthogonal (d, d) matrix; got "
                        f"{describe(value)}") from exc
    if q.ndim != 2 or q.shape[0] != q.shape[1] or q.shape[0] == 0:
        raise ValueError(f"rotation must be a square (d, d) matrix; got shape {q.shape}")
    if not np.all(np.isfinite(q)):
        raise ValueError("rotation must be finite")
    with np.errstate(over="ignore", invalid="ignore"):
        defect = np.max(np.abs(q.T @ q - np.eye(q.shape[0])))
    if not defect <= ROTATION_ATOL:
        raise ValueError(f"rotation must be orthogonal: max |QᵀQ − I| = {defect:.3g} > {ROTATION_ATOL:g}")
    return _frozen(q)


def _key(value: Any) -> Any:
    """A hashable stand-in of a field: arrays by shape and bytes (``-0.0`` was made ``+0.0``)."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.shape, value.tobytes())
    return value


@dataclass(frozen=True, eq=False)
class OptimizerSpec:
    """Base of the optimizer specs: an update rule and its hyper-parameters, immutable and validated.

    Subclasses are frozen dataclasses. Two specs are equal when they are of the same class and
    their fields are equal (arrays element by element); equal specs hash equally. Pickling and
    copying rebuild the spec through its constructor, so the copy is validated and its arrays are
    read-only again.

    Attributes
    ----------
    name : str
        The string shorthand of the rule (``"sgd"``, ``"nsgd"``, ``"momentum"``, ``"adam"`` or
        ``"signsgd"``), as in :data:`OPTIMIZER_NAMES`.

    See Also
    --------
    resolve_optimizer : turns a shorthand or a spec into a spec.

    Examples
    --------
    >>> isinstance(SGD(), OptimizerSpec), SGD() == SGD(), SGD().name
    (True, True, 'sgd')
    """

    name: ClassVar[str] = ""

    @property
    def exact_supported(self) -> bool:
        """Whether :func:`ramplab.theory.expected_risk` can run this spec (docs/math.md#heavy-ball-momentum)."""
        return False

    def _values(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return tuple(map(_key, self._values())) == tuple(map(_key, other._values()))

    def __hash__(self) -> int:
        return hash((type(self).__name__, *map(_key, self._values())))

    def __reduce__(self) -> tuple:
        return (type(self), self._values())


@dataclass(frozen=True, eq=False, repr=False)
class SGD(_DecayMixin, OptimizerSpec):
    """Plain SGD, ``w ← w − η_t g_t`` (docs/math.md#sgd-second-moment-recursion), with optional decoupled weight decay.

    The schedule gives ``η_t`` and ``B_t``. The exact solver and the Monte Carlo both run it; the
    shorthand is ``"sgd"``.

    Parameters
    ----------
    weight_decay : float or array_like of shape (T,), default 0.0
        Decoupled weight decay ``ω ≥ 0`` as in PyTorch's AdamW: ``w ← (1 − η_t ω_t) w − η_t g_t``
        (docs/math.md#weight-decay). A number, or one ``ω_t ≥ 0`` per step indexed like the
        schedule's ``lr`` (its length is checked where the spec is used). ``0`` is plain SGD, bit for
        bit. The exact solver assumes ``w_0 = 0``.

    Attributes
    ----------
    weight_decay : float or ndarray
    name : str
        ``"sgd"``.

    Raises
    ------
    TypeError, ValueError
        Naming ``weight_decay`` (not a number or 1-D array of numbers, negative, not finite).

    Examples
    --------
    >>> SGD(), SGD().name, SGD().exact_supported
    (SGD(), 'sgd', True)
    >>> SGD(weight_decay=0.1), SGD(weight_decay=0.1).decays
    (SGD(weight_decay=0.1), True)
    """

    weight_decay: Any = 0.0
    name: ClassVar[str] = "sgd"

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight_decay", _weight_decay(self.weight_decay))

    @property
    def exact_supported(self) -> bool:
        """True: the exact solver runs plain SGD."""
        return True


@dataclass(frozen=True, eq=False, repr=False)
class NSGD(_DecayMixin, OptimizerSpec):
    """Normalized SGD, ``w ← w − η_t g_t / sqrt(G_t)`` (docs/math.md#normalized-sgd).

    Parameters
    ----------
    normalization : {"expected", "conditional"}, default "expected"
        ``"expected"``: ``G_t = E‖g_t‖²``, deterministic, so the step is SGD's with rate
        ``η_t/sqrt(G_t)`` and the exact solver runs it (the Monte Carlo takes these rates from it).
        ``"conditional"``: each Monte Carlo run divides by its realised ``‖g_t‖`` (no step when
        ``g_t = 0``); no closed recursion exists, so the exact solver refuses it.
    weight_decay : float or array_like of shape (T,), default 0.0
        Decoupled weight decay as in PyTorch's AdamW, ``w ← (1 − η_t ω_t) w − η_t g_t/sqrt(G_t)``:
        the decay takes the *schedule's* rate ``η_t``, not the normalized step (AdamW's convention,
        docs/math.md#weight-decay). As for :class:`SGD`.

    Attributes
    ----------
    normalization : str
    weight_decay : float or ndarray
    name : str
        ``"nsgd"``.

    Raises
    ------
    ValueError
        For any other ``normalization`` (named), or a bad ``weight_decay`` (named; TypeError for a
        non-number).

    Examples
    --------
    >>> NSGD(), NSGD().exact_supported, NSGD("conditional").exact_supported
    (NSGD(normalization='expected'), True, False)
    >>> NSGD("median")
    Traceback (most recent call last):
    ...
    ValueError: normalization must be one of ('expected', 'conditional'); got 'median'
    """

    normalization: str = "expected"
    weight_decay: Any = 0.0
    name: ClassVar[str] = "nsgd"

    def __post_init__(self) -> None:
        if not isinstance(self.normalization, str) or self.normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}; got {self.normalization!r:.80}")
        object.__setattr__(self, "weight_decay", _weight_decay(self.weight_decay))

    @property
    def exact_supported(self) -> bool:
        """True for the expected denominator only (the conditional one has no closed recursion)."""
        return self.normalization == "expected"


@dataclass(frozen=True, eq=False, repr=False)
class HeavyBall(_DecayMixin, OptimizerSpec):
    """Heavy-ball momentum on SGD or NSGD (docs/math.md#heavy-ball-momentum).

    ``w_{t+1} = w_t − η_t g_t + μ_t (w_t − w_{t−1})`` with ``w_{−1} = w_0``, in the 0-based per-step
    indexing of the schedule's rates (so the first step has no momentum term and ``μ_0`` is never
    used). With ``optimizer="nsgd"`` the step ``η_t g_t`` is divided by ``sqrt(E‖g_t‖²)`` (the
    expected denominator, docs/math.md#normalized-sgd); the momentum term is not normalized. The
    exact solver and the Monte Carlo both run it; the shorthand ``"momentum"`` is
    ``HeavyBall(0.9)``.

    Parameters
    ----------
    momentum : float or array_like of shape (T,), default 0.9
        A number ``μ`` in ``[0, 1)`` (a constant ``μ ≥ 1`` never contracts), or one finite
        ``μ_t ≥ 0`` per step, indexed like the schedule's ``lr`` (single entries ``≥ 1`` are
        allowed: torch's convention gives them during a warmup, see
        :func:`ramplab.theory.heavy_ball_momentum_of_torch_sgd`). An array is stored as a read-only
        float64 copy; its length is checked against the schedule where the spec is used.
    optimizer : {"sgd", "nsgd"}, default "sgd"
        The step the momentum is added to.
    weight_decay : float or array_like of shape (T,), default 0.0
        Decoupled weight decay, ``w_{t+1} = (1 − η_t ω_t) w_t − η_t g_t + μ_t (w_t − w_{t−1})``
        (the schedule's ``η_t`` also on NSGD; docs/math.md#weight-decay). As for :class:`SGD`.

    Attributes
    ----------
    momentum : float or ndarray
    optimizer : str
    weight_decay : float or ndarray
    name : str
        ``"momentum"``.

    Raises
    ------
    TypeError, ValueError
        Naming ``momentum`` (not a number or 1-D array of numbers, out of range, not finite) or
        ``optimizer``.

    Examples
    --------
    >>> HeavyBall(0.5), HeavyBall(0.5, optimizer="nsgd").exact_supported
    (HeavyBall(momentum=0.5, optimizer='sgd'), True)
    >>> HeavyBall([0.0, 0.9, 0.9]).momenta(3).tolist()
    [0.0, 0.9, 0.9]
    >>> HeavyBall(1.0)
    Traceback (most recent call last):
    ...
    ValueError: momentum must lie in [0, 1); got 1.0
    """

    momentum: Any = 0.9
    optimizer: str = "sgd"
    weight_decay: Any = 0.0
    name: ClassVar[str] = "momentum"

    def __post_init__(self) -> None:
        object.__setattr__(self, "momentum", checked_momentum(self.momentum))
        if not isinstance(self.optimizer, str) or self.optimizer not in ("sgd", "nsgd"):
            raise ValueError(f"optimizer must be 'sgd' or 'nsgd' (the step heavy ball adds momentum to); got "
                             f"{self.optimizer!r:.80}")
        object.__setattr__(self, "weight_decay", _weight_decay(self.weight_decay))

    @property
    def exact_supported(self) -> bool:
        """True: the exact solver runs heavy ball on SGD and on NSGD (expected denominator)."""
        return True

    @property
    def per_step(self) -> bool:
        """Whether ``momentum`` is an array of per-step values (else one number)."""
        return isinstance(self.momentum, np.ndarray)

    def momenta(self, steps: int) -> np.ndarray:
        """The ``μ_t`` of ``steps`` steps, float64 of shape ``(steps,)``.

        Parameters
        ----------
        steps : int
            ``T``, the steps of the schedule the spec runs along.

        Returns
        -------
        ndarray, shape (steps,)
            ``momentum`` repeated, or the per-step array itself (a new writable copy).

        Raises
        ------
        ValueError
            For a per-step ``momentum`` whose length is not ``steps`` (named).
        """
        return _per_step(self.momentum, steps, "momentum")


@dataclass(frozen=True, eq=False)
class Adam(OptimizerSpec):
    """Adam with AdamW's decoupled weight decay, Monte Carlo only (docs/math.md#monte-carlo-optimizers).

    ``m_t = β_1 m_{t−1} + (1 − β_1) g_t``, ``v_t = β_2 v_{t−1} + (1 − β_2) g_t²`` from 0, and
    ``w_t = w_{t−1} − η_t [m̂_t/(sqrt(v̂_t) + ε) + λ w_{t−1}]`` with the bias corrections
    ``m̂_t = m_t/(1 − β_1^t)``, ``v̂_t = v_t/(1 − β_2^t)``. The shorthand is ``"adam"``.

    Parameters
    ----------
    betas : pair of float, default (0.9, 0.999)
        ``(β_1, β_2)``, each in ``[0, 1)``.
    eps : float, default 1e-8
        ``ε ≥ 0``, in gradient units.
    weight_decay : float, default 0.0
        Decoupled decay ``λ ≥ 0`` (``w ← w − η_t λ w`` besides the Adam step).
    rotation : None, "random" or array_like of shape (d, d), default None
        The coordinates Adam acts in (it is coordinate-wise, so they matter). ``None``: the
        eigenbasis of ``H``. An orthogonal ``Q`` (``max |QᵀQ − I| ≤ 1e-8``, stored read-only): Adam
        sees ``θ = Qᵀ e``. ``"random"``: a Haar rotation the simulation draws from its seed.

    Attributes
    ----------
    betas : tuple of float
    eps, weight_decay : float
    rotation : None, str or ndarray
    name : str
        ``"adam"``.

    Raises
    ------
    TypeError, ValueError
        Naming ``betas``, ``eps``, ``weight_decay`` or ``rotation``.

    Examples
    --------
    >>> Adam()
    Adam(betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, rotation=None)
    >>> Adam(betas=[0.9, 0.95]) == Adam(betas=(0.9, 0.95)), Adam().exact_supported
    (True, False)
    >>> Adam(betas=(0.9, 1.0))
    Traceback (most recent call last):
    ...
    ValueError: betas must lie in [0, 1); got 1.0
    """

    betas: Any = (0.9, 0.999)
    eps: Any = 1e-8
    weight_decay: Any = 0.0
    rotation: Any = None
    name: ClassVar[str] = "adam"

    def __post_init__(self) -> None:
        b = self.betas
        if isinstance(b, (str, bytes)) or not isinstance(b, (list, tuple, np.ndarray)) or np.ndim(b) != 1 \
                or len(b) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2); got {describe(b)}")
        object.__setattr__(self, "betas", (_fraction(b[0], "betas"), _fraction(b[1], "betas")))
        object.__setattr__(self, "eps", finite_real(self.eps, "eps", minimum=0.0))
        object.__setattr__(self, "weight_decay", finite_real(self.weight_decay, "weight_decay", minimum=0.0))
        object.__setattr__(self, "rotation", _rotation(self.rotation))


@dataclass(frozen=True, eq=False)
class SignSGD(OptimizerSpec):
    """SignSGD, or Signum with ``momentum > 0``; Monte Carlo only (docs/math.md#monte-carlo-optimizers).

    ``m_t = μ m_{t−1} + g_t`` from ``m_0 = 0`` and ``w_t = w_{t−1} − η_t sign(m_t)`` (``sign 0 = 0``).
    The shorthand ``"signsgd"`` is ``SignSGD()``, plain SignSGD.

    Parameters
    ----------
    momentum : float, default 0.0
        The buffer's ``μ`` in ``[0, 1)``.
    rotation : None, "random" or array_like of shape (d, d), default None
        The coordinates the sign is taken in, as for :class:`Adam`.

    Attributes
    ----------
    momentum : float
    rotation : None, str or ndarray
    name : str
        ``"signsgd"``.

    Raises
    ------
    TypeError, ValueError
        Naming ``momentum`` or ``rotation``.

    Examples
    --------
    >>> SignSGD(0.9, rotation="random")
    SignSGD(momentum=0.9, rotation='random')
    >>> q = [[0.6, -0.8], [0.8, 0.6]]
    >>> SignSGD(rotation=q) == SignSGD(rotation=q), hash(SignSGD(rotation=q)) == hash(SignSGD(rotation=q))
    (True, True)
    """

    momentum: Any = 0.0
    rotation: Any = None
    name: ClassVar[str] = "signsgd"

    def __post_init__(self) -> None:
        object.__setattr__(self, "momentum", _fraction(self.momentum, "momentum"))
        object.__setattr__(self, "rotation", _rotation(self.rotation))


_SHORTHANDS: dict[str, type[OptimizerSpec]] = {"sgd": SGD, "nsgd": NSGD, "momentum": HeavyBall, "adam": Adam,
                                               "signsgd": SignSGD}


def resolve_optimizer(optimizer: Any, *, where: str | None = None) -> OptimizerSpec:
    """The spec of ``optimizer``: a spec as given, or a string shorthand with default hyper-parameters.

    Parameters
    ----------
    optimizer : OptimizerSpec or {"sgd", "nsgd", "momentum", "adam", "signsgd"}
        ``"sgd"`` is ``SGD()``, ``"nsgd"`` is ``NSGD()`` (expected denominator), ``"momentum"`` is
        ``HeavyBall(0.9)``, ``"adam"`` is ``Adam()``, ``"signsgd"`` is ``SignSGD()``.
    where : {None, "exact", "monte_carlo"}, default None
        Who will run it. ``"exact"`` refuses the specs the exact solver cannot run (Adam, SignSGD,
        NSGD with the conditional denominator) with a ValueError saying so; ``"monte_carlo"`` and
        ``None`` accept every spec.

    Returns
    -------
    OptimizerSpec

    Raises
    ------
    ValueError
        For an unknown ``optimizer`` (named; a value that is neither a string nor a spec included),
        for an unknown ``where``, and for a spec the exact solver cannot run with ``where="exact"``.

    Examples
    --------
    >>> resolve_optimizer("momentum")
    HeavyBall(momentum=0.9, optimizer='sgd')
    >>> resolve_optimizer(NSGD("conditional"), where="monte_carlo").normalization
    'conditional'
    >>> resolve_optimizer("adam", where="exact")
    Traceback (most recent call last):
    ...
    ValueError: optimizer=Adam(...) has no exact solver: expected_risk runs SGD, NSGD ... HeavyBall; ...
    """
    if not (where is None or isinstance(where, str)) or where not in _WHERE:
        raise ValueError(f"where must be one of {_WHERE}; got {where!r:.80}")
    if isinstance(optimizer, OptimizerSpec):
        spec = optimizer
    elif isinstance(optimizer, str) and optimizer in _SHORTHANDS:
        spec = _SHORTHANDS[optimizer]()
    else:
        raise ValueError(f"optimizer must be one of {OPTIMIZER_NAMES} or an optimizer spec (SGD(), NSGD(), "
                         f"HeavyBall(), Adam(), SignSGD()); got {describe(optimizer)}")
    if where == "exact" and not spec.exact_supported:
        label = repr(spec) if isinstance(spec, NSGD) else f"{type(spec).__name__}(...)"
        raise ValueError(f"optimizer={label} has no exact solver: expected_risk runs SGD, NSGD "
                         f"(normalization='expected') and HeavyBall; run it with ramplab.simulations.simulate")
    return spec

