"""Fused element-wise kernels of the exact recursion for CuPy (docs/math.md#exact-solver-layout).

On a GPU the reference step of :func:`~ramplab.theory.second_moment_step` costs
about ten element-wise launches and temporaries per step; these two ``cupy.ElementwiseKernel``
objects do the same arithmetic in one launch each, updating the state in place:

- :func:`second_moment_kernel` — ``s ← (1 − x(2 − c x)) s + η(η(q + σ²)/B) λ`` with ``x = ηλ`` and
  ``c = 1 + (κ − 2)/B`` (docs/math.md#sgd-second-moment-recursion);
- :func:`averaging_kernel` — the three-moment update of the iterate average with weight ``ρ``:
  ``c ← (1 − ηλ) c`` (using the rate of the step just taken), ``a ← (1 − ρ)² a + ρ² s + 2ρ(1 − ρ) c``,
  ``c ← (1 − ρ) c + ρ s`` (docs/math.md#iterate-averaging).

They spell, in CUDA C and in the same order, the formulas that :mod:`._step` holds once
(``sgd_second_moment``, ``sgd_moved_cross``, ``averaged_second_moment``, ``averaged_cross``); they are
the CuPy backend of the one loop (:class:`._loop.ReferenceBackend`). The reductions (``q = Σ m λ s``
and ``Σ m λ² s``) stay one matrix product per step. CuPy is imported
by the caller; nothing here runs without a CUDA device, and the gpu-marked tests hold these kernels
to the NumPy reference at 1e-12.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

#: Internal plumbing of ``expected_risk(numerics=Numerics(backend="cupy"))`` (nothing outside the package
#: builds these kernels), hence no public names.
__all__: list[str] = []


@lru_cache(maxsize=None)
def second_moment_kernel(cp: Any) -> Any:
    """In-place SGD second-moment step: ``kernel(lam, eta, batch, noise, kappa, q, s)``.

    ``lam`` has shape (d,), ``eta``, ``batch``, ``noise``, ``q`` shape (rows, 1), ``kappa`` is a
    scalar and ``s`` (rows, d) is overwritten with the new state.
    """
    return cp.ElementwiseKernel(
        "T lam, T eta, T batch, T noise, T kappa, T q",
        "T s",
        """
        T x = eta * lam;
        T c = (T)1 + (kappa - (T)2) / batch;
        s = ((T)1 - x * ((T)2 - c * x)) * s + (eta * (eta * ((q + noise) / batch))) * lam;
        if (s < (T)0) s = (T)0;
        """,
        "ramplab_second_moment_step",
    )


@lru_cache(maxsize=None)
def averaging_kernel(cp: Any) -> Any:
    """In-place averaging update: ``kernel(lam, eta, rho, s_new, avg, cross)``.

    ``eta`` (rows, 1) is the rate of the step just taken, ``rho`` a scalar, ``s_new`` the state
    after it; ``avg`` and ``cross`` (rows, d) are overwritten.
    """
    return cp.ElementwiseKernel(
        "T lam, T eta, T rho, T s_new",
        "T avg, T cross",
        """
        T moved = ((T)1 - eta * lam) * cross;
        avg = ((T)1 - rho) * ((T)1 - rho) * avg + rho * rho * s_new + (T)2 * rho * ((T)1 - rho) * moved;
        cross = ((T)1 - rho) * moved + rho * s_new;
        """,
        "ramplab_iterate_average_step",
    )
