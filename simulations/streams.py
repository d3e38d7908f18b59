"""Random streams for Monte Carlo: one small shim over the backends' generators.

The runs of a simulation are cut into fixed *blocks* of ``block`` consecutive runs. Block ``j`` owns
one generator seeded by the child ``SeedSequence(entropy, spawn_key=(*spawn_key, j))`` of the root
seed, and every draw it makes is for the whole block, even when only its first rows are used. A
run's random numbers therefore depend only on the seed, the block size, its index and the sequence
of draws (fixed by the problem, schedule and sampler), never on how many runs there are or how they
are chunked: asking for more runs *extends* the earlier ones instead of reshuffling them.

The array API standard has no random numbers, hence the shim: NumPy's ``Generator`` (PCG64) for
NumPy and for every host namespace (``array_api_strict`` included: draws are made with NumPy and
passed through ``xp.asarray``), CuPy's own ``default_rng`` on a GPU so that draws stay on the device.
Streams are reproducible on one backend; NumPy and CuPy give different numbers for the same seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Sequence

import numpy as np

from ..theory._validate import describe, nonnegative_int, positive_int, strict_real_array
from ..theory import backend_name
from ..theory._limits import MAX_STEP_ARRAY

__all__ = ["BlockStream", "block_streams", "concat_draws", "default_block", "namespace", "root_seed_sequence"]

#: Most blocks (one generator each) one call of :func:`block_streams` sets up.
MAX_BLOCKS = 2**20


def namespace(xp: Any, name: str = "xp") -> ModuleType:
    """Return ``xp`` if it looks like an array namespace (a module with ``asarray`` and ``float64``).

    Parameters
    ----------
    xp : module
        The candidate namespace.
    name : str, default "xp"
        The argument's name, quoted in the error.

    Returns
    -------
    module
        ``xp`` itself.

    Raises
    ------
    TypeError
        If ``xp`` is not an array namespace.

    Examples
    --------
    >>> namespace(3)
    Traceback (most recent call last):
    ...
    TypeError: xp must be an array namespace (a module such as numpy); got 3
    """
    if not (isinstance(xp, ModuleType) and hasattr(xp, "asarray") and hasattr(xp, "float64")):
        raise TypeError(f"{name} must be an array namespace (a module such as numpy); got {describe(xp)}")
    return xp

# Runs per stream. Larger blocks mean fewer generator calls per step (each call launches a kernel
# on a GPU) but more wasted draws when ``runs`` is not a multiple of the block.
_HOST_BLOCK = 64
_DEVICE_BLOCK = 1024


def default_block(xp: ModuleType) -> int:
    """Runs per random stream on namespace ``xp``: 64 on the host, 1024 on CuPy.

    Parameters
    ----------
    xp : module
        The array namespace.

    Returns
    -------
    int
        Runs per stream.

    Examples
    --------
    >>> from ramplab.theory import resolve_backend
    >>> default_block(resolve_backend("numpy"))
    64
    """
    xp = namespace(xp)
    return _DEVICE_BLOCK if backend_name(xp) == "cupy" else _HOST_BLOCK


def root_seed_sequence(seed: Any) -> np.random.SeedSequence:
    """Return the root ``SeedSequence`` of a simulation.

    Parameters
    ----------
    seed : int, sequence of int, SeedSequence or None
        ``None`` draws fresh entropy from the operating system (read it back from the result's
        ``seed`` to reproduce the run).

    Returns
    -------
    numpy.random.SeedSequence
        ``seed`` itself when it is one.

    Raises
    ------
    ValueError
        For a negative integer, a bool, an empty sequence or anything else.

    Examples
    --------
    >>> root_seed_sequence(7).entropy
    7
    >>> root_seed_sequence(-1)
    Traceback (most recent call last):
    ...
    ValueError: seed must be None, a non-negative integer, a sequence of them or a SeedSequence; got -1
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    bad = ValueError(
        f"seed must be None, a non-negative integer, a sequence of them or a SeedSequence; got {seed!r}"
    )
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool):
        raise bad
    if isinstance(seed, (int, np.integer)):
        if seed < 0:
            raise bad
        return np.random.SeedSequence(int(seed))
    if isinstance(seed, (list, tuple)) and seed and all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in seed
    ):
        return np.random.SeedSequence([int(s) for s in seed])
    raise bad


class _HostGenerator:
    """NumPy ``Generator`` whose draws are handed to any host namespace through ``xp.asarray``."""

    def __init__(self, seq: np.random.SeedSequence, xp: ModuleType, dtype: Any) -> None:
        self._gen = np.random.Generator(np.random.PCG64(seq))
        self._xp, self._dtype = xp, dtype
        self._np_dtype = np.float32 if dtype == xp.float32 else np.float64
        self._passthrough = backend_name(xp) == "numpy"

    def _out(self, arr: np.ndarray) -> Any:
        if self._passthrough and arr.dtype == self._np_dtype:
            return arr
        return self._xp.asarray(arr.astype(self._np_dtype, copy=False), dtype=self._dtype)

    def normal(self, shape: tuple[int, ...]) -> Any:
        return self._out(self._gen.standard_normal(shape, dtype=self._np_dtype))

    def gamma(self, shape_parameter: Any, size: tuple[int, ...]) -> Any:
        return self._out(self._gen.standard_gamma(shape_parameter, size=size))

    def signs(self, shape: tuple[int, ...]) -> Any:
        bits = self._gen.integers(0, 2, size=shape, dtype=np.int8)
        return self._out((2 * bits - 1).astype(self._np_dtype))

    def uniform(self, shape: tuple[int, ...]) -> Any:
        return self._out(self._gen.random(shape, dtype=self._np_dtype))


class _CupyGenerator:
    """CuPy's ``default_rng`` (XORWOW), so that draws never leave the device."""

    def __init__(self, seq: np.random.SeedSequence, xp: ModuleType, dtype: Any) -> None:
        import cupy

        self._cp = cupy
        self._gen = cupy.random.default_rng(int(seq.generate_state(1, np.uint64)[0]))
        self._dtype = dtype

    def normal(self, shape: tuple[int, ...]) -> Any:
        return self._gen.standard_normal(shape, dtype=self._dtype)

    def gamma(self, shape_parameter: Any, size: tuple[int, ...]) -> Any:
        k = self._cp.asarray(shape_parameter, dtype=self._cp.float64)
        return self._gen.standard_gamma(self._cp.broadcast_to(k, size), size=size).astype(self._dtype)

    def signs(self, shape: tuple[int, ...]) -> Any:
        return (2 * self._gen.integers(0, 2, size=shape) - 1).astype(self._dtype)

    def uniform(self, shape: tuple[int, ...]) -> Any:
        return self._gen.random(shape, dtype=self._dtype)


@dataclass(frozen=True)
class BlockStream:
    """The random stream of one block of runs.

    Every draw has ``rows`` (the block size) as its leading axis and returns the first ``used``
    rows, so that the numbers a run sees do not depend on how many runs share its block.

    Attributes
    ----------
    generator : object
        Backend generator (see the module docstring).
    rows : int
        Block size.
    used : int
        Rows returned by each draw, ``1 ≤ used ≤ rows``.

    Examples
    --------
    >>> import numpy as np
    >>> stream = block_streams(root_seed_sequence(0), 0, 3, 64, np, np.float64)[0]
    >>> stream.rows, stream.used, stream.normal(5).shape
    (64, 3, (3, 5))
    """

    generator: Any
    rows: int
    used: int

    def __post_init__(self) -> None:
        if not all(callable(getattr(self.generator, m, None)) for m in ("normal", "gamma", "signs", "uniform")):
            raise TypeError(f"generator must have normal, gamma, signs and uniform methods; got "
                            f"{describe(self.generator)}")
        object.__setattr__(self, "rows", positive_int(self.rows, "rows"))
        used = positive_int(self.used, "used")
        if used > self.rows:
            raise ValueError(f"used must be ≤ rows = {self.rows}; got used={used}")
        object.__setattr__(self, "used", used)

    def _shape(self, tail: tuple) -> tuple[int, ...]:
        dims = tuple(nonnegative_int(t, f"tail[{i}]") for i, t in enumerate(tail))
        size = self.rows
        for t in dims:
            size *= t
        if size > MAX_STEP_ARRAY:
            raise ValueError(f"tail {dims} asks for {size} draws per call ({self.rows} rows), more than "
                             f"MAX_STEP_ARRAY = {MAX_STEP_ARRAY}")
        return (self.rows, *dims)

    def normal(self, *tail: int) -> Any:
        """Standard normals of shape ``(used, *tail)``.

        Parameters
        ----------
        *tail : int
            Trailing dimensions of the draw.

        Returns
        -------
        array
            On the stream's namespace and dtype.
        """
        return self.generator.normal(self._shape(tail))[: self.used, ...]

    def gamma(self, shape_parameter: Any, *tail: int) -> Any:
        """Standard gamma variates (``shape_parameter`` broadcast over the trailing axes).

        Parameters
        ----------
        shape_parameter : array_like
            Positive gamma shape, broadcast against ``(rows, *tail)``.
        *tail : int
            Trailing dimensions of the draw.

        Returns
        -------
        array
            Shape ``(used, *tail)``.
        """
        shape = self._shape(tail)
        k = strict_real_array(shape_parameter, "shape_parameter")
        if not np.all(np.isfinite(k) & (k > 0)):
            raise ValueError(f"shape_parameter must be positive and finite; got {describe(shape_parameter)}")
        try:
            if np.broadcast_shapes(k.shape, shape) != shape:
                raise ValueError("shapes differ")
        except ValueError as exc:
            raise ValueError(f"shape_parameter of shape {k.shape} does not broadcast over the draws' shape "
                             f"{shape} (rows, *tail) with tail={tail!r}") from exc
        return self.generator.gamma(k, shape)[: self.used, ...]

    def signs(self, *tail: int) -> Any:
        """Rademacher ±1 of shape ``(used, *tail)``.

        Parameters
        ----------
        *tail : int
            Trailing dimensions of the draw.

        Returns
        -------
        array
            Entries ``−1`` and ``+1``.
        """
        return self.generator.signs(self._shape(tail))[: self.used, ...]

    def uniform(self, *tail: int) -> Any:
        """Uniform on ``[0, 1)`` of shape ``(used, *tail)``.

        Parameters
        ----------
        *tail : int
            Trailing dimensions of the draw.

        Returns
        -------
        array
            On the stream's namespace and dtype.
        """
        return self.generator.uniform(self._shape(tail))[: self.used, ...]


def block_streams(
    root: np.random.SeedSequence,
    first_run: int,
    runs: int,
    block: int,
    xp: ModuleType,
    dtype: Any,
) -> list[BlockStream]:
    """Streams covering runs ``first_run … first_run + runs − 1`` (``first_run`` a multiple of ``block``).

    Parameters
    ----------
    root : numpy.random.SeedSequence
        The simulation's root (:func:`root_seed_sequence`).
    first_run : int
        Index of the first run covered.
    runs : int
        Number of runs covered.
    block : int
        Runs per stream (:func:`default_block`).
    xp : module
        Array namespace of the draws.
    dtype : dtype
        ``xp.float32`` or ``xp.float64``.

    Returns
    -------
    list of BlockStream
        One per block; stream ``j`` of the root is the same whatever ``runs`` is.

    Examples
    --------
    Run 70 is the same in a simulation of 71 runs and in one of 200:

    >>> from ramplab.theory import resolve_backend, to_numpy
    >>> xp = resolve_backend("numpy")
    >>> root = root_seed_sequence(3)
    >>> few = block_streams(root, 64, 7, 64, xp, xp.float64)
    >>> many = block_streams(root, 64, 136, 64, xp, xp.float64)
    >>> bool((few[0].normal(2)[6] == many[0].normal(2)[6]).all())
    True
    """
    if not isinstance(root, np.random.SeedSequence):
        raise TypeError(f"root must be a SeedSequence (see root_seed_sequence); got {describe(root)}")
    first_run = nonnegative_int(first_run, "first_run")
    runs = positive_int(runs, "runs")
    block = positive_int(block, "block")
    xp = namespace(xp)
    try:
        known = any(dtype is d or dtype == d for d in (xp.float32, xp.float64))
    except Exception:  # noqa: BLE001 - an array or odd object compared with dtypes
        known = False
    if not known:
        raise TypeError(f"dtype must be xp.float32 or xp.float64; got {describe(dtype)}")
    if first_run % block:
        raise ValueError(f"first_run must be a multiple of block={block}; got {first_run}")
    if math.ceil(runs / block) > MAX_BLOCKS:
        raise ValueError(f"runs / block = {runs} / {block} needs more than MAX_BLOCKS = {MAX_BLOCKS} streams in "
                         f"one call; split the runs into chunks")
    make = _CupyGenerator if backend_name(xp) == "cupy" else _HostGenerator
    streams = []
    for j in range(first_run // block, first_run // block + math.ceil(runs / block)):
        seq = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, j))
        used = min(block, first_run + runs - j * block)
        streams.append(BlockStream(make(seq, xp, dtype), block, used))
    return streams


def concat_draws(xp: ModuleType, parts: Sequence[Any]) -> Any:
    """Concatenate per-block draws along the run axis (no copy for a single block).

    Parameters
    ----------
    xp : module
        Array namespace of the parts.
    parts : sequence of array
        Non-empty; the same shape beyond the leading run axis.

    Returns
    -------
    array
        Shape ``(Σ rows, *rest)``.

    Examples
    --------
    >>> import numpy as np
    >>> concat_draws(np, [np.zeros((2, 3)), np.ones((1, 3))]).shape
    (3, 3)
    """
    xp = namespace(xp)
    if isinstance(parts, (str, bytes)) or not isinstance(parts, Sequence) or not parts:
        raise TypeError(f"parts must be a non-empty sequence of arrays; got {describe(parts)}")
    if any(getattr(p, "shape", None) is None or len(p.shape) == 0 for p in parts):
        raise TypeError(f"parts must hold arrays with a leading run axis; got {describe(parts)}")
    if len(parts) == 1:
        return parts[0]
    if len({tuple(p.shape[1:]) for p in parts}) != 1:
        raise ValueError(f"parts must agree beyond the run axis; got shapes {[tuple(p.shape) for p in parts]}")
    return xp.concat(list(parts), axis=0)
