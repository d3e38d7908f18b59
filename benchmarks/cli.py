"""``ramplab bench [--backend numpy|cupy|…] [--d 1000] [--runs 256] [--batch 1024] …``."""

from __future__ import annotations

import argparse

from .samplers import measure, report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ramplab bench`` options to ``parser``."""
    parser.add_argument("--backend", default="numpy", help="numpy (default), cupy, array_api_strict or auto")
    parser.add_argument("--d", type=int, default=1000, help="dimension (default 1000)")
    parser.add_argument("--runs", type=int, default=256, help="Monte Carlo runs (default 256)")
    parser.add_argument("--batch", type=int, default=1024, help="large batch size (default 1024)")
    parser.add_argument("--steps", type=int, default=100, help="steps timed for gaussian-exact (default 100)")
    parser.add_argument("--direct-steps", type=int, default=3, help="steps timed for direct (default 3)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repetitions, best kept (default 3)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the benchmarks and print their ratios; returns the exit status."""
    measurements = measure(d=args.d, runs=args.runs, batch=args.batch, steps=args.steps,
                           direct_steps=args.direct_steps, repeat=args.repeat, backend=args.backend)
    print(report(measurements, d=args.d, runs=args.runs, backend=args.backend))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``ramplab bench`` on its own: parse ``argv`` and run."""
    parser = argparse.ArgumentParser(prog="ramplab bench", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv), parser)
