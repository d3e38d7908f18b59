"""Where a sweep runs: in this process, in a local process pool, or on a Dask cluster.

Every executor is a :class:`concurrent.futures.Executor`; a ``distributed.Client`` is used through its
``get_executor()``. :func:`open_executor` builds one by name (what ``ramplab figures --executor``
does) and shuts it down afterwards. Each task runs inside :func:`pinned_threads`, so BLAS and numba
use the same number of threads whichever executor runs it (docs/design.md, "Sweeps").
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
from typing import Any, Callable, Iterator

import numpy as np

__all__ = ["EXECUTORS", "SerialExecutor", "open_executor", "pinned_threads"]

#: Seconds a Dask scheduler at an explicit address has, in all, to accept the connection, complete
#: Dask's handshake and say it is a scheduler (:func:`open_executor`, :func:`check_scheduler`); a
#: server that accepts and stays silent, or answers something else, is reported after at most this
#: long. Override it with ``scheduler_timeout=`` or the environment variable
#: ``RAMPLAB_SCHEDULER_TIMEOUT`` (seconds; what ``ramplab figures --scheduler`` reads).
SCHEDULER_CONNECT_TIMEOUT = 5

#: The longest deadline ``scheduler_timeout`` / ``RAMPLAB_SCHEDULER_TIMEOUT`` may ask for (a day).
MAX_SCHEDULER_TIMEOUT = 86400.0

#: The names :func:`open_executor` (and ``ramplab figures --executor``) accepts.
EXECUTORS = ("serial", "processes", "dask")


class SerialExecutor(cf.Executor):
    """A :class:`concurrent.futures.Executor` that runs each task at once, in the calling thread.

    The default executor of :func:`~ramplab.sweeps.sweep`: no processes, no pickling, the same task
    wrapper (and so the same thread pinning) as the parallel executors. ``submit`` returns a future
    that is already done, holding the result or the exception.

    Examples
    --------
    >>> with SerialExecutor() as ex:
    ...     ex.submit(pow, 2, 10).result()
    1024
    """

    def __init__(self) -> None:
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        """Run ``fn(*args, **kwargs)`` now, in the calling thread.

        Parameters
        ----------
        fn : callable
            The task.
        *args, **kwargs
            Its arguments.

        Returns
        -------
        concurrent.futures.Future
            Already done: holding the result, or the ``Exception`` the call raised (other
            ``BaseException``s, such as ``KeyboardInterrupt``, propagate at once).

        Raises
        ------
        RuntimeError
            After :meth:`shutdown`.
        """
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future: cf.Future = cf.Future()
        future.set_running_or_notify_cancel()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - delivered through the future, as executors do
            if not isinstance(exc, Exception):
                raise
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse further tasks (there is nothing running to wait for).

        Parameters
        ----------
        wait, cancel_futures : bool
            Accepted for the :class:`concurrent.futures.Executor` interface; every task has
            already finished.
        """
        self._shutdown = True


#: The most threads a task may ask for (a larger count is a typo, and overflows C ints below).
MAX_THREADS = 1024


def check_threads(threads: Any) -> int:
    if isinstance(threads, (bool, np.bool_)) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be a positive integer; got {threads!r}")
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be an integer from 1 to {MAX_THREADS}; got {threads!r}")
    return int(threads)


@contextlib.contextmanager
def pinned_threads(threads: int = 1) -> Iterator[None]:
    """Limit BLAS/OpenMP (threadpoolctl) and numba to ``threads`` threads inside the block.

    Reductions inside a multi-threaded BLAS call may add in a different order with a different
    thread count; pinning the count the same way in every executor keeps a sweep's numbers bitwise
    independent of where it ran. numba's setting is per thread and restored on exit.

    Parameters
    ----------
    threads : int, default 1
        Threads for BLAS and numba, 1 to :data:`MAX_THREADS` (numba's is capped at its
        ``NUMBA_NUM_THREADS``).

    Yields
    ------
    None

    Raises
    ------
    TypeError, ValueError
        If ``threads`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> with pinned_threads(1):
    ...     float(np.ones(3) @ np.ones(3))
    3.0
    """
    threads = check_threads(threads)
    from threadpoolctl import threadpool_limits

    try:
        import numba
    except ImportError:  # the `fast` extra is optional
        numba = None
    previous = None
    if numba is not None:
        previous = numba.get_num_threads()
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        if numba is not None and previous is not None:
            numba.set_num_threads(previous)


def _check_workers(workers: Any) -> int | None:
    if workers is None:
        return None
    if isinstance(workers, (bool, np.bool_)) or not isinstance(workers, (int, np.integer)):
        raise TypeError(f"workers must be a positive integer or None; got {workers!r}")
    if not 1 <= workers <= 65536:
        raise ValueError(f"workers must be an integer from 1 to 65536 or None; got {workers!r}")
    return int(workers)


def _scheduler_timeout(value: Any) -> float:
    """The handshake deadline: ``value``, else ``$RAMPLAB_SCHEDULER_TIMEOUT``, else the default."""
    name = "scheduler_timeout"
    if value is None:
        text = os.environ.get("RAMPLAB_SCHEDULER_TIMEOUT", "").strip()
        if not text:
            return float(SCHEDULER_CONNECT_TIMEOUT)
        name = "RAMPLAB_SCHEDULER_TIMEOUT"
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{name} must be a number of seconds; got {text!r}") from None
    elif isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number of seconds or None; got {value!r}")
    seconds = float(value)
    if not 0 < seconds <= MAX_SCHEDULER_TIMEOUT:  # also NaN
        raise ValueError(f"{name} must be a number of seconds in (0, {MAX_SCHEDULER_TIMEOUT:g}]; got {value!r}")
    return seconds


async def _identify(address: str, timeout: float) -> Any:
    """Connect (Dask's handshake) and ask the server who it is."""
    from distributed.comm import connect

    comm = await connect(address, timeout=timeout)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def check_scheduler(address: str, *, timeout: float | None = None) -> None:
    """Check that a Dask scheduler answers at ``address``, within one overall deadline.

    Dask's own connect timeout covers only the TCP connection: a server that accepts and never
    answers its handshake would block a ``distributed.Client`` for ever, and one that answers
    garbage makes it read a frame length of exabytes. Here the connection, Dask's handshake and an
    ``identity`` call must all finish within ``timeout`` seconds, and the answer must come from a
    scheduler.

    Parameters
    ----------
    address : str
        A Dask scheduler address such as ``"tcp://10.0.0.5:8786"``.
    timeout : float, optional
        Seconds in all (default: ``$RAMPLAB_SCHEDULER_TIMEOUT``, else
        :data:`SCHEDULER_CONNECT_TIMEOUT`).

    Raises
    ------
    TimeoutError
        If nothing answered at ``address`` within the deadline (message names the address).
    ConnectionError
        If the connection was refused or closed, or the server answered but not as a Dask scheduler.
    ValueError
        If ``address`` is not an address Dask can connect to, or ``timeout`` is not positive.
    TypeError
        If ``address`` is not a string or ``timeout`` not a number.
    """
    if not isinstance(address, str) or not address.strip():
        raise TypeError(f"scheduler must be a Dask scheduler address (str); got {address!r}")
    seconds = _scheduler_timeout(timeout)
    import asyncio

    from distributed.comm import parse_address

    try:
        parse_address(address)
    except Exception as exc:  # noqa: BLE001 - Dask's parser raises ValueError, TypeError, …
        raise ValueError(f"scheduler: {address!r} is not a Dask address ({exc})") from None
    limit = (f"{address!r} after {seconds:g} s (the connection, Dask's handshake and its answer must "
             "fit in that time; set RAMPLAB_SCHEDULER_TIMEOUT or scheduler_timeout= for a slower network)")

    async def bounded() -> Any:
        return await asyncio.wait_for(_identify(address, seconds), seconds)

    # A fresh event loop in its own thread: the caller's thread may be running one (Jupyter).
    with cf.ThreadPoolExecutor(1, thread_name_prefix="ramplab-scheduler-check") as pool:
        try:
            answer = pool.submit(asyncio.run, bounded()).result()
        except TimeoutError as exc:  # the overall deadline
            detail = f" ({exc})" if str(exc) else ""
            raise TimeoutError(f"no Dask scheduler answered at {limit}{detail}") from None
        except OSError as exc:  # refused, reset, closed (Dask's CommClosedError is an OSError)
            raise ConnectionError(f"no Dask scheduler at {address!r}: {type(exc).__name__}: {exc}") from None
        except (ValueError, TypeError) as exc:
            if not str(exc).strip():
                exc = type(exc)("(no message)")
            raise ConnectionError(f"the server at {address!r} did not answer as a Dask scheduler "
                                  f"({type(exc).__name__}: {str(exc)[:200]})") from None
        except Exception as exc:  # noqa: BLE001 - garbage can fail Dask's reader in any way (MemoryError, …)
            raise ConnectionError(f"the server at {address!r} did not answer as a Dask scheduler "
                                  f"({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        kind = answer.get("type") if isinstance(answer, dict) else type(answer).__name__
        raise ConnectionError(f"the server at {address!r} answered, but is not a Dask scheduler (it says {kind!r})")


@contextlib.contextmanager
def open_executor(kind: str = "serial", *, workers: int | None = None,
                  scheduler: str | None = None, scheduler_timeout: float | None = None) -> Iterator[cf.Executor]:
    """An executor by name, shut down (cluster and client closed) when the block ends.

    Parameters
    ----------
    kind : {"serial", "processes", "dask"}
        ``"serial"``: :class:`SerialExecutor`. ``"processes"``: a
        :class:`concurrent.futures.ProcessPoolExecutor` of ``workers`` spawned processes.
        ``"dask"``: the executor of a ``distributed.Client`` connected to ``scheduler``, or, without
        one, to a new ``distributed.LocalCluster`` of ``workers`` single-threaded worker processes
        on this machine (dashboard off).
    workers : int, optional
        Worker processes for ``"processes"`` and a local Dask cluster (default: the CPU count).
    scheduler : str, optional
        A Dask scheduler address such as ``"tcp://10.0.0.5:8786"`` (``kind="dask"`` only); the
        cluster's workers must have the same ``ramplab`` installed (the sweep checks). It must
        accept the connection, complete Dask's handshake and answer as a scheduler within
        ``scheduler_timeout`` seconds in all (:func:`check_scheduler`).
    scheduler_timeout : float, optional
        That overall deadline in seconds (default: ``$RAMPLAB_SCHEDULER_TIMEOUT``, else
        :data:`SCHEDULER_CONNECT_TIMEOUT` = 5), at most :data:`MAX_SCHEDULER_TIMEOUT`.

    Yields
    ------
    concurrent.futures.Executor

    Raises
    ------
    ValueError
        If ``kind`` is unknown, ``workers`` is not positive, ``scheduler`` is given for another kind
        or is not a Dask address, or ``scheduler_timeout`` is not positive.
    TypeError
        If ``workers``, ``scheduler`` or ``scheduler_timeout`` has the wrong type.
    TimeoutError, ConnectionError
        If no Dask scheduler answers at ``scheduler`` within the deadline (the message names the
        address); a silent or garbage-speaking server never blocks or crashes the caller.
    ImportError
        If ``kind="dask"`` and ``distributed`` is not installed (the ``sweeps`` extra).

    Examples
    --------
    >>> with open_executor("serial") as ex:
    ...     type(ex).__name__
    'SerialExecutor'
    """
    if not isinstance(kind, str) or kind not in EXECUTORS:
        raise ValueError(f"kind must be one of {EXECUTORS}; got {kind!r}")
    workers = _check_workers(workers)
    if scheduler_timeout is not None or scheduler is not None:  # $RAMPLAB_SCHEDULER_TIMEOUT only with a scheduler
        seconds = _scheduler_timeout(scheduler_timeout)
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler.strip():
            raise TypeError(f"scheduler must be a Dask scheduler address (str) or None; got {scheduler!r}")
        if kind != "dask":
            raise ValueError(f"scheduler is a Dask scheduler address; it needs kind='dask', got kind={kind!r}")
    n = workers or os.cpu_count() or 1
    if kind == "serial":
        with SerialExecutor() as ex:
            yield ex
    elif kind == "processes":
        # spawn, not fork: a forked child would inherit numba's and BLAS's thread pools mid-state.
        with cf.ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn")) as ex:
            yield ex
    else:
        from distributed import Client, LocalCluster

        if scheduler is not None:
            # A scheduler that is up answers within milliseconds; nothing listening, a silent server
            # or one speaking another protocol is reported after at most `seconds` (Dask's connect
            # timeout alone would wait for ever on the handshake of a silent server).
            check_scheduler(scheduler, timeout=seconds)
            with Client(scheduler, timeout=seconds) as client:
                yield client.get_executor(pure=False)
        else:
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                    Client(cluster) as client:
                yield client.get_executor(pure=False)
