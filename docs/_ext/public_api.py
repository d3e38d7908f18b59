"""The public names of the installed ``ramplab`` and where the API reference documents each one.

One definition serves the Sphinx build (``docs/conf.py`` writes the reference pages from it) and the
tests (``tests/docs/``: every public name has a page; numpydoc validation of every public name), so
a name a later change adds to some ``__all__`` is documented and validated without editing a list.

*Public module*: every module of the installed package whose dotted path has no component starting
with ``_`` (``ramplab._version``, ``ramplab.theory._validate`` and ``ramplab.figures._seesaw_setup``
are private), except the implementation modules of :data:`NOT_DOCUMENTED`. *Public name*: an entry
of a public module's ``__all__`` that is not itself a module (re-exported modules such as
``ramplab.theory.stability`` are documented as modules). A name that several modules export
(``ramplab.theory.bound_steps`` and ``ramplab.theory.complexity.bound_steps``) is one object with one
page, at its *canonical* path: the shortest public path that exports it — the one a user imports,
``ramplab.theory.bound_steps`` — whatever private module defines it. On its package's page it is
listed in the section of the deepest public module that exports it (``ramplab.theory.complexity``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from dataclasses import dataclass, field
from types import ModuleType

PACKAGE = "ramplab"


@dataclass
class PublicName:
    """One documented object: its canonical dotted path and every path it is exported under."""

    canonical: str
    kind: str  # "class", "exception", "function", "data"
    obj: object = field(repr=False)
    aliases: list[str] = field(default_factory=list)

    @property
    def module(self) -> str:
        return self.canonical.rpartition(".")[0]

    @property
    def section(self) -> str:
        """The deepest public module that exports it: its section on the package page."""
        return max(self.aliases, key=lambda p: (p.count("."), p)).rpartition(".")[0]

    @property
    def name(self) -> str:
        return self.canonical.rpartition(".")[2]

    @property
    def external(self) -> bool:
        """Re-exported from another distribution (``array_api_compat.array_namespace``): listed
        under ramplab's name but documented by its own project, and not validated here."""
        home = getattr(self.obj, "__module__", None) if self.kind != "data" else None
        return home is not None and home.split(".")[0] != PACKAGE.split(".")[0]

    @property
    def page(self) -> str:
        """Where the built site documents it, relative to the site root (``api/...html[#id]``)."""
        if self.external:
            return f"api/{group_of(self.module)}.html#{self.canonical}"
        return f"api/generated/{self.canonical}.html"


#: Modules without a leading underscore that are implementation detail all the same, so their
#: ``__all__`` is not documented: the solver kernels (their tile constants are no user's business).
#: Transitional — ``ramplab.theory.dynamics`` is being reorganised into private modules; when these
#: become ``_kernels``/``_cupy_kernels`` this set is emptied.
NOT_DOCUMENTED: frozenset[str] = frozenset()  # every implementation module is private (_name); none to list


def _is_private(dotted: str) -> bool:
    return dotted in NOT_DOCUMENTED or any(part.startswith("_") for part in dotted.split(".")[1:])


#: Public modules that could not be imported because an optional dependency of theirs is not
#: installed (``{module: missing distribution module}``), filled by :func:`public_modules`.
UNAVAILABLE: dict[str, str] = {}


def _missing_dependency(exc: BaseException) -> str | None:
    """The missing third-party module behind ``exc``, or None for any other failure."""
    name = getattr(exc, "name", None)
    if isinstance(exc, ModuleNotFoundError) and name and name.split(".")[0] != PACKAGE.split(".")[0]:
        return name
    return None


def public_modules(package: str = PACKAGE) -> list[ModuleType]:
    """Import and return every public module of ``package``, in a stable (sorted) order.

    A module whose import fails only because an optional third-party dependency is missing (an
    adapter for a framework this machine lacks) is left out and recorded in :data:`UNAVAILABLE`;
    any other import error propagates, so a broken module fails the build and the tests.
    """
    root = importlib.import_module(package)

    def onerror(name: str) -> None:
        exc = sys.exc_info()[1]
        if _missing_dependency(exc) is None:
            raise exc
        UNAVAILABLE[name] = _missing_dependency(exc)

    names = [package] + sorted(
        info.name for info in pkgutil.walk_packages(root.__path__, package + ".", onerror=onerror)
        if not _is_private(info.name))
    out = []
    for name in names:
        if name in UNAVAILABLE:
            continue
        try:
            out.append(importlib.import_module(name))
        except ImportError as exc:
            if _missing_dependency(exc) is None:
                raise
            UNAVAILABLE[name] = _missing_dependency(exc)
    return out


def _kind(obj: object) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if callable(obj):
        return "function"
    return "data"


def _key(name: str, obj: object) -> tuple:
    # Classes and functions are one object wherever they are exported; a constant is the same
    # public name only under the same name (two unrelated constants may share a small int).
    return (id(obj),) if (inspect.isclass(obj) or inspect.isroutine(obj)) else (name, id(obj))


def public_names(package: str = PACKAGE) -> list[PublicName]:
    """Every public name of ``package`` once, at its canonical path, with all its export paths."""
    modules = public_modules(package)
    found: dict[tuple, tuple[str, object, list[str]]] = {}
    for mod in modules:
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if inspect.ismodule(obj):
                continue
            entry = found.setdefault(_key(name, obj), (name, obj, []))
            entry[2].append(f"{mod.__name__}.{name}")
    out = []
    for name, obj, paths in found.values():
        canonical = min(paths, key=lambda p: (p.count("."), p))
        out.append(PublicName(canonical, _kind(obj), obj, sorted(paths)))
    return sorted(out, key=lambda n: n.canonical)


def group_of(module: str) -> str:
    """The package whose reference page holds ``module``'s names: the module itself if it is a
    package, else the package that contains it (``ramplab.theory.dynamics.problem`` →
    ``ramplab.theory.dynamics``)."""
    mod = importlib.import_module(module)
    return module if hasattr(mod, "__path__") else module.rpartition(".")[0]


def groups(package: str = PACKAGE) -> dict[str, dict[str, list[PublicName]]]:
    """``{package: {section: [names]}}`` for the reference: one page per package (that of each
    name's canonical module), one section per deepest exporting module (:attr:`PublicName.section`),
    in dotted-path order."""
    out: dict[str, dict[str, list[PublicName]]] = {}
    for item in public_names(package):
        out.setdefault(group_of(item.module), {}).setdefault(item.section, []).append(item)
    return {g: dict(sorted(mods.items())) for g, mods in sorted(out.items())}


#: The topical index (``api/topics``), like SciPy's: the user-facing functions and classes by what they are
#: for. Every function and class that ``ramplab.theory``, ``ramplab.simulations``, ``ramplab.plot``,
#: ``ramplab.interop``, ``ramplab.sweeps`` and ``ramplab.proofs`` export appears under one topic
#: (tests/docs/test_topics.py), so a new public name cannot be left out. Names are canonical paths
#: without the ``ramplab.`` prefix.
TOPICS: list[tuple[str, str, list[str]]] = [
    ("The problem", "Noisy linear regression: spectrum, initial error, label noise; problems built from sketches.",
     ["theory.Problem", "theory.sketched_problem", "theory.power_law_random_features", "theory.memory_estimate"]),
    ("Exact expected risk", "The one solver: any per-step learning rate and batch size, SGD, NSGD, heavy ball.",
     ["theory.expected_risk", "theory.RiskTrajectory", "theory.SolverState", "theory.DivergenceError",
      "theory.UnstableScheduleWarning",
      "theory.second_moment_step", "theory.momentum_moment_step", "theory.gradient_second_moment"]),
    ("Gradients of the risk in the schedule", "Exact adjoint gradients and Hessians in log learning rates and log "
     "batch sizes; flat directions.",
     ["theory.risk_gradient", "theory.RiskGradient", "theory.risk_hessian", "theory.RiskHessian",
      "theory.flat_direction", "theory.FlatDirection"]),
    ("Optimal schedules and the serial-step frontier", "The best joint (learning rate, batch) schedule for exact "
     "sample and serial-step budgets, the frontier over serial steps, and the named schedules placed on it.",
     ["theory.optimal_schedule", "theory.OptimalSchedule", "theory.serial_step_frontier",
      "theory.SerialStepFrontier", "theory.named_schedules", "theory.stretched_schedule"]),
    ("Iterate averaging", "Uniform, tail and exponential averages of the iterates.",
     ["theory.Averaging", "theory.UniformAverage", "theory.TailAverage", "theory.ExponentialAverage"]),
    ("Large spectra", "Quadrature reduction (exact to rounding) and spectral compression (a stated tolerance).",
     ["theory.reduce_problem", "theory.QuadratureReduction", "theory.gauss_rule", "theory.spectral_groups",
      "theory.SpectralGrouping"]),
    ("Stability", "Which constant (learning rate, batch) pairs converge, and where.",
     ["theory.is_stable", "theory.max_stable_lr", "theory.spectral_radius", "theory.stationary_risk",
      "theory.stationary_second_moment", "theory.is_stable_with_momentum", "theory.momentum_stability_limit",
      "theory.heavy_ball_momentum_of_torch_sgd"]),
    ("Learning-rate shapes", "Rates as functions of samples seen.",
     ["theory.LRShape", "theory.Constant", "theory.StepDecay", "theory.Linear", "theory.Cosine",
      "theory.WarmupCosine", "theory.WSD", "theory.InverseSqrt", "theory.PowerDecay"]),
    ("Schedules and equivalence", "Per-step (learning rate, batch) schedules, the (α, β) families, risk ratios.",
     ["theory.Schedule", "theory.Segments", "theory.phase_schedule", "theory.family_member",
      "theory.family_members", "theory.family_invariant", "theory.satisfies_ramp_bound",
      "theory.equivalence_report", "theory.EquivalenceReport"]),
    ("Learning-rate sweeps", "The published multiplier sweep: m/tr H and m/(tr H √t), the best m per family.",
     ["theory.lr_multiplier_sweep", "theory.LRMultiplierSweep", "theory.sweep_checkpoints"]),
    ("Seesaw and serial steps", "Turning a learning-rate decay into a batch ramp, and the serial steps it saves.",
     ["theory.seesaw_schedule", "theory.continuous_seesaw", "theory.milestones", "theory.phase_batches",
      "theory.phase_learning_rates", "theory.round_batch", "theory.phase_serial_steps",
      "theory.continuous_serial_steps", "theory.seesaw_step_reduction", "theory.step_reduction"]),
    ("Released runs", "The released Seesaw runs' token bookkeeping, step for step.",
     ["theory.released_seesaw_run", "theory.ReleasedRun", "theory.released_milestones", "theory.released_grid",
      "theory.format_released_table"]),
    ("SFO complexity and the critical batch size", "The master bound, exact hitting times, the SFO minimiser b*.",
     ["theory.BoundConstants", "theory.sfo_bound", "theory.bound_steps", "theory.bound_sfo",
      "theory.bound_critical_batch", "theory.gradient_target", "theory.gradient_variance",
      "theory.steps_to_target", "theory.schedule_to_target", "theory.TargetHitting", "theory.critical_batch",
      "theory.CriticalBatch"]),
    ("Other critical batch sizes and the noise scale",
     "McCandlish et al.'s, Zhang et al.'s and Merrill et al.'s definitions, and the gradient noise scale.",
     ["theory.gradient_noise_scale", "theory.GradientNoiseScale", "theory.tuned_steps",
      "theory.pareto_critical_batch", "theory.ParetoCriticalBatch", "theory.linear_scaling_critical_batch",
      "theory.local_critical_batch", "theory.LocalCriticalBatch", "theory.local_critical_batch_warmup",
      "simulations.noise_scale_estimators",
      "simulations.NoiseScaleEstimates", "simulations.ESTIMATORS"]),
    ("Growing batch size and learning rate together", "Growth schedules, their exponents, the adaptive rule.",
     ["theory.stage_schedule", "theory.exponential_growth", "theory.polynomial_growth", "theory.sfo_exponent",
      "theory.polynomial_sfo_exponent", "theory.growth_grid", "theory.GrowthGrid", "theory.GrowthCell",
      "theory.measure_growth_exponent", "theory.GrowthExponent", "theory.term_exponent", "theory.AdaptiveRule",
      "theory.AdaptiveRun"]),
    ("Monte Carlo", "Batched runs of the same problems: SGD, NSGD, heavy ball, Adam, SignSGD.",
     ["simulations.simulate", "simulations.SimulationResult", "simulations.SimulationDivergenceError",
      "simulations.SGD", "simulations.NSGD",
      "simulations.HeavyBall", "simulations.Adam", "simulations.SignSGD", "simulations.OptimizerSpec",
      "simulations.resolve_optimizer", "simulations.gradient_samples", "simulations.gradient_covariance"]),
    ("Array backends and numerics", "NumPy, CuPy or array_api_strict; dtype, kernel and chunking.",
     ["simulations.Numerics", "theory.resolve_backend", "theory.backend_name", "theory.cupy_available",
      "theory.to_numpy"]),
    ("Plotting", "Risk curves with bands, schedules, and one-call comparisons.",
     ["plot.plot_risk", "plot.plot_schedule", "plot.compare", "plot.Comparison", "plot.place_legend",
      "plot.covered_points"]),
    ("Schedules in training frameworks", "PyTorch LR schedulers, optax schedules, per-step batch sizes.",
     ["interop.torch_scheduler", "interop.optax_schedule", "interop.batch_sizes", "interop.learning_rate_at",
      "interop.torch_momentum"]),
    ("Sweeps", "One function over many specs, on any executor, cached.",
     ["sweeps.sweep", "sweeps.grid", "sweeps.SweepResult", "sweeps.open_executor", "sweeps.SerialExecutor",
      "sweeps.pinned_threads", "sweeps.spec_hash", "sweeps.spec_seed", "sweeps.code_hash"]),
    ("Derivations", "Sympy derivations that `ramplab proofs` verifies.",
     ["proofs.derivations", "proofs.Derivation", "proofs.Check", "proofs.substitute", "proofs.master_bound",
      "proofs.sfo_constant", "proofs.bound_critical_batch", "proofs.schedule_sums", "proofs.growth_exponential",
      "proofs.growth_polynomial", "proofs.growth_exponent", "proofs.polynomial_growth_exponent",
      "proofs.stationary_point", "proofs.temperature", "proofs.nsgd_invariant", "proofs.ramp_bound",
      "proofs.serial_step_integrals", "proofs.heavy_ball_moments", "proofs.heavy_ball_averaging",
      "proofs.heavy_ball_stability", "proofs.torch_momentum_mapping", "proofs.weight_decay_moments",
      "proofs.greedy_one_dimension", "proofs.greedy_learning_rates"]),
]

#: The packages whose functions and classes the topical index must cover.
TOPIC_PACKAGES = ("theory", "simulations", "plot", "interop", "sweeps", "proofs")
