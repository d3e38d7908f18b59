"""The ``ramplab`` command: ``ramplab figures``, ``ramplab proofs``, ``ramplab bench``.

Each subcommand's options live beside the code they drive (``figures/cli.py``, ``proofs/cli.py``,
``benchmarks/cli.py``); this module only puts them under one parser. Subcommand modules are
imported when their subcommand runs, so ``ramplab proofs`` never imports matplotlib.
"""

from __future__ import annotations

import argparse
import importlib

from . import __version__

#: subcommand → (module holding ``add_arguments``/``run``, one-line help)
SUBCOMMANDS = {
    "figures": ("ramplab.figures.cli", "build every figure (PNG, PDF, CSV, JSON) into --out; sweeps run on "
                "--executor serial, processes or dask and are cached"),
    "proofs": ("ramplab.proofs.cli", "build and verify the sympy derivations"),
    "bench": ("ramplab.benchmarks.cli", "run the ratio benchmarks and print their report"),
}


def build_parser() -> argparse.ArgumentParser:
    """The ``ramplab`` parser with one subparser per entry of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="ramplab",
        description="Learning-rate decay versus batch-size ramps: exact solvers, Monte Carlo, "
        "symbolic proofs and figures.",
    )
    parser.add_argument("--version", action="version", version=f"ramplab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(sub_parser)
        sub_parser.set_defaults(_module=module, _parser=sub_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: the command line) and run the chosen subcommand."""
    args = build_parser().parse_args(argv)
    return importlib.import_module(args._module).run(args, args._parser)
