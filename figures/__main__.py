"""``python -m figures [--only NAME …] [--quick] [--backend B] [--out DIR] [--list]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window

from figures import REGISTRY, load_all  # noqa: E402
from figures.registry import FigureContext  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    load_all()
    parser = argparse.ArgumentParser(prog="python -m figures", description=__doc__)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="build only these figures")
    parser.add_argument("--quick", action="store_true", help="CI size: small problems, few runs")
    parser.add_argument("--backend", default="numpy", help="array backend for Monte Carlo figures")
    parser.add_argument("--seed", type=int, default=0, help="root seed (each figure derives its own)")
    parser.add_argument("--out", type=Path, default=Path("figures/output"), help="output folder")
    parser.add_argument("--list", action="store_true", help="list the registered figures and exit")
    args = parser.parse_args(argv)

    if args.list:
        for spec in REGISTRY.values():
            print(f"{spec.name:32s} {spec.description}")
        return 0
    names = args.only or list(REGISTRY)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        parser.error(f"unknown figure(s) {unknown}; known: {sorted(REGISTRY)}")
    for name in names:
        spec = REGISTRY[name]
        ctx = FigureContext(name=name, out_dir=args.out, quick=args.quick, backend=args.backend,
                            seed=args.seed)
        start = time.perf_counter()
        print(f"[figures] {name}: {spec.description} …", flush=True)
        spec.build(ctx)
        took = time.perf_counter() - start
        files = ", ".join(p.name for p in ctx.written)
        print(f"[figures] {name}: done in {took:.1f} s → {args.out}/ ({files})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
