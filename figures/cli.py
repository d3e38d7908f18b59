"""``ramplab figures [--only NAME …] [--quick] [--backend B] [--seed N] [--out DIR] [--list]``: build figures.

Every argument is checked before any figure is computed: a bad one ends in a one-line usage error
(exit status 2), never in a traceback after minutes of work. Each figure's files are replaced
together (see :mod:`figures.registry`), so an interrupted or failed figure leaves its earlier files
as they were.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
import traceback
from pathlib import Path


def _seed(text: str) -> int:
    """``--seed``: a non-negative integer (NumPy seed sequences take no negative entropy)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer; got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ramplab figures`` options to ``parser``."""
    parser.add_argument("--only", nargs="+", metavar="NAME", help="build only these figures")
    parser.add_argument("--quick", action="store_true", help="CI size: small problems, few runs")
    parser.add_argument("--backend", default="numpy",
                        help="array backend for Monte Carlo figures: numpy, cupy, array_api_strict or auto")
    parser.add_argument("--seed", type=_seed, default=0, help="root seed ≥ 0 (each figure derives its own)")
    parser.add_argument("--out", type=Path, default=Path("figures/output"), help="output folder")
    parser.add_argument("--list", action="store_true", help="list the registered figures and exit")


def _check_backend(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from ..theory.backend import resolve_backend

    try:
        resolve_backend(args.backend)
    except ValueError as exc:  # unknown name, or cupy without a usable device
        parser.error(f"argument --backend: {exc}")


def _check_seed(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    # The parser's type already checks the command line; this covers a Namespace built by hand.
    seed = args.seed
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        parser.error(f"argument --seed: must be a non-negative integer; got {seed!r}")


def _check_out(out: Path, targets: list[Path], parser: argparse.ArgumentParser) -> None:
    """``--out`` must be (or become) a folder we can write into, with no folder where a file goes.

    Creates the folder (as building would) and writes and removes one hidden probe file in it.
    """
    if out.exists() and not out.is_dir():
        parser.error(f"argument --out: {str(out)!r} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"argument --out: cannot create folder {str(out)!r}: {exc.strerror or exc}")
    probe = out / f".ramplab-write-probe-{secrets.token_hex(4)}"
    try:
        with probe.open("x"):
            pass
        probe.unlink()
    except OSError as exc:
        parser.error(f"argument --out: cannot write into {str(out)!r}: {exc.strerror or exc}")
    if not os.access(out, os.W_OK | os.X_OK):  # e.g. a read-only mount the probe did not reach
        parser.error(f"argument --out: cannot write into {str(out)!r}")
    blocked = [str(p) for p in targets if p.is_dir()]
    if blocked:
        parser.error(f"argument --out: these outputs are folders, not files: {blocked}")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Check ``args``, then build the figures they name; returns the process exit status.

    Exit status 0 when every figure was built, 1 when some figure failed (its traceback is printed
    and the others are still built), 130 on Ctrl-C; bad arguments exit with status 2 through
    ``parser.error`` before anything is computed.
    """
    _check_seed(args, parser)
    _check_backend(args, parser)

    import matplotlib

    matplotlib.use("Agg")  # figures are files; never open a window

    from . import REGISTRY, load_all
    from .registry import FigureContext

    load_all()
    if args.list:
        for spec in REGISTRY.values():
            print(f"{spec.name:32s} {spec.description}")
        return 0
    names = list(dict.fromkeys(args.only or REGISTRY))  # keep order, drop repeats
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        parser.error(f"unknown figure(s) {unknown}; known: {sorted(REGISTRY)}")
    contexts = [FigureContext(name=name, out_dir=args.out, quick=args.quick, backend=args.backend, seed=args.seed)
                for name in names]
    _check_out(args.out, [p for ctx in contexts for p in ctx.outputs()], parser)

    failed = []
    for ctx in contexts:
        spec = REGISTRY[ctx.name]
        start = time.perf_counter()
        print(f"[figures] {ctx.name}: {spec.description} …", flush=True)
        try:
            spec.build(ctx)
        except KeyboardInterrupt:
            print(f"[figures] {ctx.name}: interrupted; its files in {args.out}/ are as they were", flush=True)
            return 130
        except Exception:
            traceback.print_exc()
            print(f"[figures] {ctx.name}: FAILED; its files in {args.out}/ are as they were", flush=True)
            failed.append(ctx.name)
            continue
        took = time.perf_counter() - start
        files = ", ".join(p.name for p in ctx.written)
        print(f"[figures] {ctx.name}: done in {took:.1f} s → {args.out}/ ({files})", flush=True)
    if failed:
        print(f"[figures] {len(failed)} of {len(names)} failed: {', '.join(failed)}", flush=True)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """``ramplab figures`` on its own: parse ``argv`` and run."""
    parser = argparse.ArgumentParser(prog="ramplab figures", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv), parser)
