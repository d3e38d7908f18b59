"""``ramplab bench [--suite NAME ...|all] [--quick] …``: the ratio benchmarks, side by side in one run.

Suites are sections of one report, registered in :data:`SECTIONS` (:func:`register`), each run in
the order registered:

- ``exact`` (:mod:`benchmarks.exact_solver`): the exact solver against a plain NumPy loop and JAX on
  the workloads W1/W2 (agreement and ratio), bandwidth, the full-scale curves and memory with checkpoints;
- ``kernels`` (:mod:`benchmarks.fused_kernel`): the fused kernel against the ideal plain loop, 1 vs 2
  threads, the first call with an empty and a filled numba cache, bandwidth against a triad of the same
  residency;
- ``samplers`` (:mod:`benchmarks.samplers`): per-step cost of the Monte Carlo samplers;
- ``critical-batch-figure`` (:mod:`benchmarks.critical_batch_figure`): the four-definition figure's data at
  d = 1000 through the sweep API on two processes, against its 2-minute target.
- ``gradient`` (:mod:`benchmarks.risk_gradient`): the exact gradient beside one forward solve.
- ``optimal`` (:mod:`benchmarks.optimal_schedule`): the optimal schedule and the serial-step frontier.

``all`` (the default) runs every section. Nothing is asserted; the report prints measurements and
their ratios. A new section is a function ``run(args) -> str`` (its printed report) registered with
a name and a line of help, e.g. ``register(Section("peer-scale", "…", run_peer_scale))`` below the
built-in ones; its options go in ``add_options``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Section:
    """One section of ``ramplab bench``: a name for ``--suite``, a line of help and what runs it.

    Parameters
    ----------
    name : str
        The ``--suite`` value.
    help : str
        One line for ``--help``.
    run : callable
        ``run(args)`` with the parsed arguments; returns the section's report (printed as is).
    add_options : callable, optional
        ``add_options(parser)`` adds the section's own options (an argument group).

    Examples
    --------
    >>> Section("demo", "a demo", lambda args: "demo report").run(None)
    'demo report'
    """

    name: str
    help: str
    run: Callable[[argparse.Namespace], str]
    add_options: Callable[[argparse.ArgumentParser], None] | None = None


#: The registered sections, in the order they run (name → Section).
SECTIONS: dict[str, Section] = {}


def register(section: Section) -> Section:
    """Add ``section`` to :data:`SECTIONS` (after those already there).

    Parameters
    ----------
    section : Section

    Returns
    -------
    Section
        ``section`` itself.

    Raises
    ------
    ValueError
        For a name already registered, or ``all``.

    Examples
    --------
    >>> "kernels" in SECTIONS and "exact" in SECTIONS
    True
    """
    if section.name in SECTIONS or section.name == "all":
        raise ValueError(f"section name {section.name!r} is taken")
    SECTIONS[section.name] = section
    return section


def _pick(value, full, quick, is_quick):
    return value if value is not None else (quick if is_quick else full)


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------- exact solver
def _exact_options(parser: argparse.ArgumentParser) -> None:
    exact = parser.add_argument_group("exact solver (--suite exact)")
    exact.add_argument("--parts", nargs="+", metavar="PART", default=None,
                       help="any of workloads, bandwidth, full, memory (default all)")
    exact.add_argument("--full-uncompressed", action="store_true",
                       help="also run the full-scale curves uncompressed and compare (takes long)")
    exact.add_argument("--m-fraction", type=float, default=0.5,
                       help="full-scale m as a fraction of the largest stable m (default 0.5)")
    exact.add_argument("--compress", type=float, default=1e-3, help="full-scale compress= rtol (default 1e-3)")
    exact.add_argument("--exact-repeat", type=int, default=None,
                       help="timed repetitions, best kept (default 3; 1 with --quick)")


def _run_exact(args: argparse.Namespace) -> str:
    from dataclasses import replace

    from .exact_solver import FULL_SIZES, PARTS, QUICK_SIZES, measure, report

    parts = args.parts or list(PARTS)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise _UsageError(f"unknown part(s) {unknown}; choose from {list(PARTS)}")
    if not 0.0 < args.m_fraction < 1.0:
        raise _UsageError(f"--m-fraction must lie in (0, 1); got {args.m_fraction}")
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    if args.exact_repeat is not None:
        sizes = replace(sizes, repeat=max(1, args.exact_repeat))
    rows = measure(sizes, parts=parts, full_uncompressed=args.full_uncompressed, m_fraction=args.m_fraction,
                   compress_rtol=args.compress, progress=_progress)
    return report(rows)


# --------------------------------------------------------------------------------------- kernels
def _kernel_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("fused kernel (--suite kernels)")
    group.add_argument("--kernel-parts", nargs="+", metavar="PART", default=None,
                       help="any of ideal, threads, first-call, residency (default all)")


def _run_kernels(args: argparse.Namespace) -> str:
    from .exact_solver import report
    from .fused_kernel import FULL_KERNEL_SIZES, KERNEL_PARTS, QUICK_KERNEL_SIZES, measure

    parts = [p.replace("-", " ") for p in (args.kernel_parts or KERNEL_PARTS)]
    unknown = [p for p in parts if p not in KERNEL_PARTS]
    if unknown:
        raise _UsageError(f"unknown kernel part(s) {unknown}; choose from {[p.replace(' ', '-') for p in KERNEL_PARTS]}")
    rows = measure(QUICK_KERNEL_SIZES if args.quick else FULL_KERNEL_SIZES, parts=parts, progress=_progress)
    return report(rows, title="Fused kernel benchmark: float64, uniform iterate averaging")


# -------------------------------------------------------------------------------------- samplers
def _sampler_options(parser: argparse.ArgumentParser) -> None:
    samplers = parser.add_argument_group("Monte Carlo samplers (--suite samplers)")
    samplers.add_argument("--backend", default="numpy", help="numpy (default), cupy, array_api_strict or auto")
    samplers.add_argument("--d", type=int, default=None, help="dimension (default 1000; 64 with --quick)")
    samplers.add_argument("--runs", type=int, default=None, help="Monte Carlo runs (default 256; 16 with --quick)")
    samplers.add_argument("--batch", type=int, default=1024, help="large batch size (default 1024)")
    samplers.add_argument("--steps", type=int, default=None,
                          help="steps timed for gaussian-exact (default 100; 10 with --quick)")
    samplers.add_argument("--direct-steps", type=int, default=None,
                          help="steps timed for direct (default 3; 1 with --quick)")
    samplers.add_argument("--repeat", type=int, default=3, help="interleaved repetitions, best kept (default 3)")


def _run_samplers(args: argparse.Namespace) -> str:
    from .samplers import measure as measure_samplers
    from .samplers import report as report_samplers

    d = _pick(args.d, 1000, 64, args.quick)
    runs = _pick(args.runs, 256, 16, args.quick)
    batch = args.batch if not args.quick else min(args.batch, 64)
    measurements = measure_samplers(d=d, runs=runs, batch=batch, steps=_pick(args.steps, 100, 10, args.quick),
                                    direct_steps=_pick(args.direct_steps, 3, 1, args.quick),
                                    repeat=1 if args.quick else args.repeat, backend=args.backend)
    text = report_samplers(measurements, d=d, runs=runs, backend=args.backend)
    if args.backend in ("numpy", "auto"):  # issue #20 item 5: the exact sampler against a plain direct loop
        from .samplers import against_plain_direct, report_against_plain

        rows = against_plain_direct(d=d, runs=runs, steps=_pick(args.steps, 100, 10, args.quick),
                                    repeat=1 if args.quick else args.repeat)
        text += "\n\n" + report_against_plain(rows, d=d, runs=runs)
    return text


# ------------------------------------------------------------------------------------ peer scale
def _peer_scale_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("quadrature reduction at the peer scale (--suite peer-scale)")
    group.add_argument("--peer-steps", type=int, default=None,
                       help="horizon of the 12 peer curves (default 50000, the issue's scale, when its shipped "
                            "uncompressed reference is complete, else 5000; another horizon without a shipped "
                            "reference computes it here, ≈ 15 CPU-minutes at 50000; 200 with --quick)")


def _run_peer_scale(args: argparse.Namespace) -> str:
    from .peer_scale import REFERENCE, peer_scale_rows, read_json_reference, report

    shipped = REFERENCE.with_name(f"{REFERENCE.stem}_50000.json")
    full = 50_000 if shipped.exists() and read_json_reference(shipped)["complete"] else 5_000
    steps = _pick(args.peer_steps, full, 200, args.quick)
    dimension = 3_000 if args.quick else 500_000
    return report(peer_scale_rows(dimension=dimension, steps=steps, repeat=1 if args.quick else 2))


# ---------------------------------------------------------------------------- critical batch figure
def _run_critical_batch_figure(args: argparse.Namespace) -> str:
    from .critical_batch_figure import measure, report

    return report(measure(quick=args.quick))
# ------------------------------------------------------------------------------------- gradient
def _gradient_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("exact gradient (--suite gradient)")
    group.add_argument("--gradient-parts", nargs="+", metavar="PART", default=None,
                       help="any of ratio, memory (default both; memory runs d = T = 10⁵, full size only)")


def _run_gradient(args: argparse.Namespace) -> str:
    from .exact_solver import report
    from .risk_gradient import FULL_GRADIENT_SIZES, GRADIENT_PARTS, QUICK_GRADIENT_SIZES, measure

    parts = args.gradient_parts or list(GRADIENT_PARTS)
    unknown = [p for p in parts if p not in GRADIENT_PARTS]
    if unknown:
        raise _UsageError(f"unknown gradient part(s) {unknown}; choose from {list(GRADIENT_PARTS)}")
    rows = measure(QUICK_GRADIENT_SIZES if args.quick else FULL_GRADIENT_SIZES, parts=parts, progress=_progress)
    return report(rows, title="Exact gradient (risk_gradient) beside one forward solve: float64, one thread")


register(Section("exact", "exact solver vs a NumPy loop and JAX (W1/W2), bandwidth, full scale, memory",
                 _run_exact, _exact_options))
register(Section("kernels", "fused kernel vs the ideal loop, 1 vs 2 threads, first call, same-residency triad",
                 _run_kernels, _kernel_options))
register(Section("samplers", "Monte Carlo samplers per step, and the exact sampler against a plain direct loop",
                 _run_samplers, _sampler_options))
register(Section("gradient", "risk_gradient beside one forward solve (d = 10⁴, 10⁵), and its memory at d = T = 10⁵",
                 _run_gradient, _gradient_options))
register(Section("peer-scale", "the 12 peer curves (d = 5·10⁵) by quadrature reduction against uncompressed values",
                 _run_peer_scale, _peer_scale_options))
register(Section("critical-batch-figure", "the four-definition figure's data at d = 1000 on 2 processes "
                 "(target ≤ 2 min)", _run_critical_batch_figure))


# ------------------------------------------------------------------------------------- optimal
def _optimal_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("optimal schedule and frontier (--suite optimal)")
    group.add_argument("--optimal-parts", nargs="+", metavar="PART", default=None,
                       help="any of optimum, unreduced, frontier (default all)")


def _run_optimal(args: argparse.Namespace) -> str:
    from .exact_solver import report
    from .optimal_schedule import FULL_OPTIMAL_SIZES, OPTIMAL_PARTS, QUICK_OPTIMAL_SIZES, measure

    parts = args.optimal_parts or list(OPTIMAL_PARTS)
    unknown = [p for p in parts if p not in OPTIMAL_PARTS]
    if unknown:
        raise _UsageError(f"unknown optimal part(s) {unknown}; choose from {list(OPTIMAL_PARTS)}")
    rows = measure(QUICK_OPTIMAL_SIZES if args.quick else FULL_OPTIMAL_SIZES, parts=parts, progress=_progress)
    return report(rows, title="Optimal schedule (SLSQP with the exact gradient) and the serial-step frontier: float64")


register(Section("optimal", "optimal_schedule at d = S = 10⁴, K = 32, and the frontier with 8 budgets",
                 _run_optimal, _optimal_options))


# ------------------------------------------------------------------------------------------- cli
class _UsageError(Exception):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ramplab bench`` options (every registered section's) to ``parser``."""
    parser.add_argument("--suite", nargs="+", choices=[*SECTIONS, "all"], default=["all"],
                        help="which sections to run, in registration order (default all: "
                             + ", ".join(SECTIONS) + ")")
    parser.add_argument("--quick", action="store_true", help="shrink every size so the run takes seconds")
    for section in SECTIONS.values():
        if section.add_options is not None:
            section.add_options(parser)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the chosen sections and print their reports; returns the exit status."""
    chosen = args.suite if isinstance(args.suite, list) else [args.suite]
    names = list(SECTIONS) if "all" in chosen else [n for n in SECTIONS if n in chosen]
    for i, name in enumerate(names):
        try:
            text = SECTIONS[name].run(args)
        except _UsageError as exc:
            parser.error(str(exc))
        if i:
            print()
        print(text, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``ramplab bench`` on its own: parse ``argv`` and run."""
    parser = argparse.ArgumentParser(prog="ramplab bench", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv), parser)
