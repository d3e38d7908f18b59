"""``ramplab figures [--only NAME …] [--quick] [--backend B] [--seed N] [--out DIR] [--list]
[--executor {serial,processes,dask}] [--scheduler ADDRESS] [--workers N] [--no-cache] [--cache-dir DIR]``:
build figures.

By default the figures are built side by side on all the cores this process may use, one worker
process per core (``--workers N`` to change; ``--workers 1`` builds them one after another in this
process), each figure's sweeps inside its worker. With ``--executor processes`` or ``dask`` the
figures are built one after another and the sweep-heavy figures' sweeps (:mod:`ramplab.sweeps`)
run on that executor instead: a pool of ``--workers`` processes, or Dask — the scheduler at
``--scheduler`` (a cluster of any size) or, without one, a ``LocalCluster`` of ``--workers``
processes on this machine. The numbers do not depend on where they ran: every figure runs with one
BLAS/numba thread and derives its seeds from ``--seed``. Rows computed before, by the same code, are
served from the cache in ``--cache-dir`` (default ``$RAMPLAB_CACHE_DIR`` or
``~/.cache/ramplab/sweeps``) unless ``--no-cache``.

Progress: one line when a figure starts and one when it is done (wall and CPU seconds), and inside
long computations a bar on a terminal or plain lines every 30 s in a log
(:mod:`ramplab.simulations.progress`).

Cache entries are pickles: a cache folder that is not the user's own or that group or others can
write is refused (a cache is trusted code). A scheduler must answer Dask's handshake within
``$RAMPLAB_SCHEDULER_TIMEOUT`` seconds (default 5), else a usage error names it.

Every argument is checked before any figure is computed: a bad one ends in a one-line usage error
(exit status 2), never in a traceback after minutes of work. Each figure's four files change
together, in one rename, and the output folder is locked while a run writes into it (a second run
into the same ``--out`` waits for the first; see :mod:`figures._sets` for the layout, where
``OUT/NAME.<ext>`` are symlinks into the figure's current set): an interrupted, killed or failed
figure leaves its earlier files as they were, all four, and the next run removes what it left.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import time
import traceback
from pathlib import Path


def _integer_at_least(text: str, minimum: int, what: str) -> int:
    """``text`` as an integer ``≥ minimum``, or argparse's error saying it must be ``what``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}; got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {what}; got {text!r}")
    return value


def _seed(text: str) -> int:
    """``--seed``: a non-negative integer (NumPy seed sequences take no negative entropy)."""
    return _integer_at_least(text, 0, "a non-negative integer")


def _workers(text: str) -> int:
    """``--workers``: a positive integer."""
    return _integer_at_least(text, 1, "a positive integer")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ramplab figures`` options to ``parser``."""
    parser.add_argument("--only", nargs="+", metavar="NAME", help="build only these figures")
    parser.add_argument("--quick", action="store_true", help="CI size: small problems, few runs")
    parser.add_argument("--backend", default="numpy",
                        help="array backend for Monte Carlo figures: numpy, cupy, array_api_strict or auto")
    parser.add_argument("--seed", type=_seed, default=0, help="root seed ≥ 0 (each figure derives its own)")
    parser.add_argument("--out", type=Path, default=Path("figures/output"), help="output folder")
    parser.add_argument("--list", action="store_true", help="list the registered figures and exit")
    parser.add_argument("--executor", choices=("serial", "processes", "dask"), default="serial",
                        help="where sweeps run: this process, a local process pool, or Dask (default: serial)")
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --executor dask; "
                             "without it a LocalCluster on this machine); it must answer Dask's handshake "
                             "within $RAMPLAB_SCHEDULER_TIMEOUT seconds (default 5)")
    parser.add_argument("--workers", type=_workers, default=None,
                        help="processes that build figures side by side (default: the usable cores; 1: one after "
                             "another in this process), or, with --executor processes or dask, the sweeps' workers")
    parser.add_argument("--no-cache", action="store_true", help="recompute every sweep row; read and write no cache")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="folder of the sweep result cache (default: $RAMPLAB_CACHE_DIR or ~/.cache/ramplab/sweeps)")


def _check_backend(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from ..theory import resolve_backend

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


def _check_sweep_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Check ``--executor``, ``--scheduler`` and ``--workers`` (nothing is created)."""
    executor = getattr(args, "executor", "serial")
    scheduler = getattr(args, "scheduler", None)
    workers = getattr(args, "workers", None)
    if executor not in ("serial", "processes", "dask"):
        parser.error(f"argument --executor: must be serial, processes or dask; got {executor!r}")
    if scheduler is not None and executor != "dask":
        parser.error("argument --scheduler: a Dask scheduler address needs --executor dask")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        parser.error(f"argument --workers: must be a positive integer; got {workers!r}")
    if workers is not None and scheduler is not None:
        parser.error("argument --workers: the cluster at --scheduler has its own workers")
    if executor == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            parser.error("argument --executor: dask needs the sweeps extra: pip install 'ramplab[sweeps]'")


def _cache_folder(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Path | None:
    """The sweep cache folder of ``--cache-dir`` / ``--no-cache`` (``None``: no cache).

    An explicit ``--cache-dir`` is created and checked like ``--out``; the default one is created
    when a sweep first stores a row.
    """
    if getattr(args, "no_cache", False):
        return None
    cache_dir = getattr(args, "cache_dir", None)
    try:
        import joblib  # noqa: F401
    except ImportError:
        if cache_dir is not None:
            parser.error("argument --cache-dir: the cache needs the sweeps extra: pip install 'ramplab[sweeps]'")
        return None
    from ..sweeps.cache import check_cache_folder, default_cache_dir

    option = "--cache-dir" if cache_dir is not None else "--cache-dir (default $RAMPLAB_CACHE_DIR)"
    try:  # a cache is trusted code: refuse a folder that others can write (#19)
        check_cache_folder(default_cache_dir() if cache_dir is None else cache_dir)
    except ValueError as exc:
        parser.error(f"argument {option}: {exc}")
    if cache_dir is None:
        return default_cache_dir()
    cache_dir = Path(cache_dir)
    if cache_dir.exists() and not cache_dir.is_dir():
        parser.error(f"argument --cache-dir: {str(cache_dir)!r} exists and is not a folder")
    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, whatever the umask
    except OSError as exc:
        parser.error(f"argument --cache-dir: cannot create folder {str(cache_dir)!r}: {exc.strerror or exc}")
    if not os.access(cache_dir, os.W_OK | os.X_OK):
        parser.error(f"argument --cache-dir: cannot write into {str(cache_dir)!r}")
    return cache_dir


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Check ``args``, then build the figures they name; returns the process exit status.

    Exit status 0 when every figure was built, 1 when some figure failed (its traceback is printed
    and the others are still built), 130 on Ctrl-C, 143 on SIGTERM; bad arguments exit with status 2 through
    ``parser.error`` before anything is computed.
    """
    _check_seed(args, parser)
    _check_backend(args, parser)
    _check_sweep_options(args, parser)

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
    cache_dir = _cache_folder(args, parser)
    for ctx in contexts:
        ctx.cache = cache_dir

    from ..sweeps.executors import open_executor
    from . import _sets

    kind, scheduler = getattr(args, "executor", "serial"), getattr(args, "scheduler", None)
    workers = getattr(args, "workers", None)
    parallel = kind == "serial" and (workers or _cpu_count()) > 1 and len(contexts) > 1
    lock = _sets.output_lock(args.out)
    previous_term = _term_raises()
    try:
        _take_lock(lock, args.out)
        try:
            removed = _sets.clean_orphans(args.out)
            if removed:
                print(f"[figures] removed {len(removed)} leftover file(s) of an interrupted run from {args.out}/",
                      flush=True)
            if parallel:
                return _build_parallel(contexts, min(workers or _cpu_count(), len(contexts)), cache_dir, args.out)
            try:
                executor_scope = open_executor(kind, workers=workers, scheduler=scheduler)
                executor = executor_scope.__enter__()
            except (OSError, TimeoutError, ValueError) as exc:  # no scheduler answering there (in time)
                parser.error(f"argument --scheduler: cannot connect to {scheduler!r}: {exc}")
            if kind != "serial":
                where = scheduler or "this machine"
                print(f"[figures] sweeps run on {kind} ({where}); cache: {cache_dir or 'off'}", flush=True)
            try:
                return _build_all(contexts, executor, args.out)
            finally:
                executor_scope.__exit__(None, None, None)
        finally:
            _sets.clean_orphans(args.out)
            lock.release()
    finally:
        _restore_term(previous_term)


def _cpu_count() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _take_lock(lock: object, out: Path) -> None:
    """Take the output folder's lock, saying so when another writer holds it (then wait for it)."""
    from filelock import Timeout

    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f"[figures] another 'ramplab figures' is writing into {out}/; waiting for it to finish", flush=True)
        lock.acquire()


def _term_raises() -> object:
    """Let SIGTERM end the run like Ctrl-C (SystemExit 143), so half-written files are removed."""
    def handler(signum: int, frame: object) -> None:
        raise SystemExit(143)

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        return None


def _restore_term(previous: object) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _report(ctx: object, took: float, out: Path, cpu: float | None = None) -> None:
    files = ", ".join(p.name for p in ctx.outputs())
    served = sum(s["cached"] for s in ctx.sweeps)
    rows = sum(s["rows"] for s in ctx.sweeps)
    note = f"; sweep rows from cache {served}/{rows}" if ctx.sweeps else ""
    cpu_note = f" ({cpu:.1f} CPU-s)" if cpu is not None else ""
    print(f"[figures] {ctx.name}: done in {took:.1f} s{cpu_note}{note} → {out}/ ({files})", flush=True)


def _pinned() -> object:
    """One BLAS/numba thread per figure (what its worker process gets), so numbers match in every mode."""
    try:
        from ..sweeps.executors import pinned_threads

        import threadpoolctl  # noqa: F401
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return pinned_threads(1)


def _build_all(contexts: list, executor: object, out: Path) -> int:
    """Build each context's figure with sweeps on ``executor``; the exit status of :func:`run`."""
    from . import REGISTRY
    from ..simulations.progress import progress_prefix

    failed = []
    for ctx in contexts:
        ctx.executor = executor
        spec = REGISTRY[ctx.name]
        start = time.perf_counter()
        print(f"[figures] {ctx.name}: {spec.description} …", flush=True)
        try:
            with progress_prefix(f"[figures] {ctx.name}: "), _pinned():
                table = spec.data(ctx)
                ctx.seconds = time.perf_counter() - start
                ctx.save(table, spec.draw)
        except (KeyboardInterrupt, SystemExit) as exc:
            print(f"[figures] {ctx.name}: interrupted; its files in {out}/ are as they were", flush=True)
            return 143 if isinstance(exc, SystemExit) else 130
        except Exception:
            traceback.print_exc()
            print(f"[figures] {ctx.name}: FAILED; its files in {out}/ are as they were", flush=True)
            failed.append(ctx.name)
            continue
        _report(ctx, time.perf_counter() - start, out)
    return _summary(failed, len(contexts))


def _summary(failed: list, total: int) -> int:
    if failed:
        print(f"[figures] {len(failed)} of {total} failed: {', '.join(failed)}", flush=True)
        return 1
    return 0


def _stage_in_worker(ctx: object) -> tuple[str, list, float, float]:
    """In a worker process: compute a figure and write its set folder (not yet current).

    Returns the folder, the sweeps' records, and the wall and CPU seconds it took.
    """
    import matplotlib

    matplotlib.use("Agg")
    os.environ["RAMPLAB_PROGRESS"] = os.environ.get("RAMPLAB_PROGRESS") or "lines"  # one terminal, many workers
    from . import REGISTRY, load_all
    from ..simulations.progress import progress_prefix

    load_all()
    spec = REGISTRY[ctx.name]
    start, cpu = time.perf_counter(), time.process_time()
    print(f"[figures] {ctx.name}: {spec.description} …", flush=True)
    with progress_prefix(f"[figures] {ctx.name}: "), _pinned():
        table = spec.data(ctx)
        ctx.seconds = time.perf_counter() - start
        folder = ctx.stage(table, spec.draw)
    return str(folder), ctx.sweeps, time.perf_counter() - start, time.process_time() - cpu


def _build_parallel(contexts: list, workers: int, cache_dir: Path | None, out: Path) -> int:
    """Build the figures in ``workers`` processes; commit each one here as it arrives."""
    import concurrent.futures as cf
    import multiprocessing

    print(f"[figures] {len(contexts)} figures on {workers} processes (--workers to change); "
          f"cache: {cache_dir or 'off'}", flush=True)
    failed: list[str] = []
    done = 0
    start = time.perf_counter()
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {pool.submit(_stage_in_worker, ctx): ctx for ctx in _slowest_first(contexts, out)}
        for future in cf.as_completed(futures):
            ctx = futures[future]
            done += 1
            try:
                folder, sweeps, took, cpu = future.result()
            except Exception as exc:
                traceback.print_exception(exc)
                print(f"[figures] {ctx.name}: FAILED; its files in {out}/ are as they were", flush=True)
                failed.append(ctx.name)
                continue
            ctx.sweeps[:] = sweeps
            ctx.commit(Path(folder))
            _report(ctx, took, out, cpu)
            print(f"[figures] {done}/{len(contexts)} figures done after {time.perf_counter() - start:.0f} s",
                  flush=True)
    except (KeyboardInterrupt, SystemExit) as exc:
        print(f"[figures] interrupted; unfinished figures' files in {out}/ are as they were", flush=True)
        _stop_workers(pool)
        return 143 if isinstance(exc, SystemExit) else 130
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return _summary(failed, len(contexts))


def _slowest_first(contexts: list, out: Path) -> list:
    """The figures in the order to start them: slowest first by the previous run's JSON in ``out``
    (figures without one first, in the given order), so a long figure does not start last."""
    import json

    def previous(ctx: object) -> float:
        try:
            return float(json.loads((out / f"{ctx.name}.json").read_text())["data_seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return float("inf")

    return sorted(contexts, key=previous, reverse=True)


def _stop_workers(pool: object) -> None:
    """Terminate a process pool's workers at once (an interrupted run does not wait for them)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.terminate()
        except Exception:  # noqa: BLE001 - already gone
            pass


def main(argv: list[str] | None = None) -> int:
    """``ramplab figures`` on its own: parse ``argv`` and run."""
    parser = argparse.ArgumentParser(prog="ramplab figures", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv), parser)
