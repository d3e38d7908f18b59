"""``python -m benchmarks [--backend numpy|cupy|…] [--d 1000] [--runs 256] [--batch 1024] …``."""

from __future__ import annotations

import argparse
import sys

from benchmarks.samplers import measure, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--backend", default="numpy", help="numpy (default), cupy, array_api_strict or auto")
    parser.add_argument("--d", type=int, default=1000, help="dimension (default 1000)")
    parser.add_argument("--runs", type=int, default=256, help="Monte Carlo runs (default 256)")
    parser.add_argument("--batch", type=int, default=1024, help="large batch size (default 1024)")
    parser.add_argument("--steps", type=int, default=100, help="steps timed for gaussian-exact (default 100)")
    parser.add_argument("--direct-steps", type=int, default=3, help="steps timed for direct (default 3)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repetitions, best kept (default 3)")
    args = parser.parse_args(argv)
    measurements = measure(d=args.d, runs=args.runs, batch=args.batch, steps=args.steps,
                           direct_steps=args.direct_steps, repeat=args.repeat, backend=args.backend)
    print(report(measurements, d=args.d, runs=args.runs, backend=args.backend))
    return 0


if __name__ == "__main__":
    sys.exit(main())
