"""``ramplab figures [--only NAME …] [--quick] [--backend B] [--out DIR] [--list]``: build figures."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ramplab figures`` options to ``parser``."""
    parser.add_argument("--only", nargs="+", metavar="NAME", help="build only these figures")
    parser.add_argument("--quick", action="store_true", help="CI size: small problems, few runs")
    parser.add_argument("--backend", default="numpy", help="array backend for Monte Carlo figures")
    parser.add_argument("--seed", type=int, default=0, help="root seed (each figure derives its own)")
    parser.add_argument("--out", type=Path, default=Path("figures/output"), help="output folder")
    parser.add_argument("--list", action="store_true", help="list the registered figures and exit")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Build the figures ``args`` names; returns the process exit status."""
    import matplotlib

    matplotlib.use("Agg")  # figures are files; never open a window

    from . import REGISTRY, load_all
    from .registry import FigureContext

    load_all()
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


def main(argv: list[str] | None = None) -> int:
    """``ramplab figures`` on its own: parse ``argv`` and run."""
    parser = argparse.ArgumentParser(prog="ramplab figures", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv), parser)
