"""``ramplab bench [--suite exact|samplers|all] [--quick] …``: the ratio benchmarks.

``--suite exact`` (:mod:`benchmarks.exact_solver`): the exact solver against a plain NumPy loop and
JAX, bandwidth, the full-scale curves and memory with checkpoints. ``--suite samplers``
(:mod:`benchmarks.samplers`): per-step cost of the Monte Carlo samplers. ``all`` (the default)
runs both. Nothing is asserted; the report prints measurements and their ratios.
"""

from __future__ import annotations

import argparse
import sys

SUITES = ("exact", "samplers", "all")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ramplab bench`` options to ``parser``."""
    parser.add_argument("--suite", choices=SUITES, default="all", help="which benchmark to run (default all)")
    parser.add_argument("--quick", action="store_true", help="shrink every size so the run takes seconds")
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


def _pick(value, full, quick, is_quick):
    return value if value is not None else (quick if is_quick else full)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the chosen suites and print their reports; returns the exit status."""
    if args.suite in ("exact", "all"):
        from dataclasses import replace

        from .exact_solver import FULL_SIZES, PARTS, QUICK_SIZES, measure, report

        parts = args.parts or list(PARTS)
        unknown = [p for p in parts if p not in PARTS]
        if unknown:
            parser.error(f"unknown part(s) {unknown}; choose from {list(PARTS)}")
        if not 0.0 < args.m_fraction < 1.0:
            parser.error(f"--m-fraction must lie in (0, 1); got {args.m_fraction}")
        sizes = QUICK_SIZES if args.quick else FULL_SIZES
        if args.exact_repeat is not None:
            sizes = replace(sizes, repeat=max(1, args.exact_repeat))
        rows = measure(sizes, parts=parts, full_uncompressed=args.full_uncompressed, m_fraction=args.m_fraction,
                       compress_rtol=args.compress, progress=lambda line: print(line, file=sys.stderr, flush=True))
        print(report(rows))
        if args.suite == "all":
            print()
    if args.suite in ("samplers", "all"):
        from .samplers import measure as measure_samplers
        from .samplers import report as report_samplers

        d = _pick(args.d, 1000, 64, args.quick)
        runs = _pick(args.runs, 256, 16, args.quick)
        batch = args.batch if not args.quick else min(args.batch, 64)
        measurements = measure_samplers(d=d, runs=runs, batch=batch, steps=_pick(args.steps, 100, 10, args.quick),
                                        direct_steps=_pick(args.direct_steps, 3, 1, args.quick),
                                        repeat=1 if args.quick else args.repeat, backend=args.backend)
        print(report_samplers(measurements, d=d, runs=runs, backend=args.backend))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``ramplab bench`` on its own: parse ``argv`` and run."""
    parser = argparse.ArgumentParser(prog="ramplab bench", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv), parser)
