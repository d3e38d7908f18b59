"""Stable content hashes of sweep specs and of the code that computes them; seeds derived from specs.

A spec is a mapping of plain values (``None``, ``bool``, ``int``, ``float``, ``str``, NumPy scalars and
arrays, and lists, tuples or mappings of these). Its hash is SHA-256 over a canonical, type-tagged
encoding: mapping keys sorted, floats written exactly (``float.hex``), arrays by dtype, shape and
little-endian bytes. Long doubles (scalars and arrays) are written by their exact value: as the
equal float64 when there is one, else as an exact fraction — never by their padded bytes, never
rounded into another spec's key. Masked arrays are refused (a key cannot tell what is masked). It does not depend on dict order, the process, the platform or the Python
version, so it can key an on-disk cache and seed a random stream (docs/design.md, "Sweeps").
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import marshal
import math
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

__all__ = ["code_hash", "spec_hash", "spec_seed"]

#: Bumped when the encoding below changes, so old cache entries are never misread.
ENCODING_VERSION = b"ramplab-spec-v1"


def _encode(value: Any, where: str, out: list[bytes]) -> None:
    """Append the canonical, type-tagged bytes of ``value`` to ``out`` (``where``: its path, for errors)."""
    if value is None:
        out.append(b"N;")
    elif isinstance(value, (bool, np.bool_)):
        out.append(b"B1;" if value else b"B0;")
    elif isinstance(value, (int, np.integer)):
        out.append(b"I" + str(int(value)).encode() + b";")
    elif isinstance(value, (float, np.floating)):
        out.append(_float_bytes(value))
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        out.append(b"S" + str(len(raw)).encode() + b":" + raw)
    elif isinstance(value, np.ndarray):
        if isinstance(value, np.ma.MaskedArray):
            raise TypeError(f"specs: {where} is a masked array; its mask cannot be part of a spec's key "
                            "(fill or compress it first)")
        if value.dtype.kind not in "biuf":
            raise TypeError(f"specs: {where} is an array of dtype {value.dtype}; only bool, integer and "
                            "real arrays can be hashed")
        if value.dtype.kind == "f" and value.dtype.itemsize > 8:
            # Long double: its storage has padding bytes of no meaning, and its precision depends on
            # the platform, so it is encoded by the exact value of each element (never its bytes).
            out.append(b"X" + repr(value.shape).encode() + b"[")
            for item in value.ravel(order="C"):
                out.append(_float_bytes(item))
            out.append(b"]")
            return
        arr = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        out.append(b"A" + arr.dtype.str.encode() + b"|" + repr(arr.shape).encode() + b"|"
                   + str(arr.nbytes).encode() + b":" + arr.tobytes())
    elif isinstance(value, (list, tuple)):
        out.append(b"L" + str(len(value)).encode() + b"[")
        for i, item in enumerate(value):
            _encode(item, f"{where}[{i}]", out)
        out.append(b"]")
    elif isinstance(value, Mapping):
        keys = list(value)
        bad = [k for k in keys if not isinstance(k, str)]
        if bad:
            raise TypeError(f"specs: {where} has a non-string key {bad[0]!r}; spec keys must be str")
        out.append(b"M" + str(len(keys)).encode() + b"{")
        for k in sorted(keys):
            _encode(k, where, out)
            _encode(value[k], f"{where}[{k!r}]", out)
        out.append(b"}")
    else:
        raise TypeError(f"specs: {where} is a {type(value).__name__}; a spec holds only None, bool, int, "
                        "float, str, NumPy scalars and real arrays, and lists, tuples or mappings of these")


def _float_bytes(value: Any) -> bytes:
    """A real number's exact encoding: ``F<float.hex>;`` when it is a float64 value (so NumPy scalars of
    any width hash as the equal Python float), else ``Q<numerator>/<denominator>;`` (a long double that
    float64 cannot hold, never rounded into another value's key)."""
    if isinstance(value, np.floating) and value.dtype.itemsize > 8:
        if np.isnan(value):
            return b"Fnan;"
        if np.isfinite(value):
            num, den = (int(v) for v in value.as_integer_ratio())
            x = float(value)
            if not math.isfinite(x) or x.as_integer_ratio() != (num, den):
                return b"Q" + f"{num}/{den}".encode() + b";"
    x = float(value)
    text = "nan" if math.isnan(x) else x.hex()  # every NaN payload is one value
    return b"F" + text.encode() + b";"


def _check_spec(spec: Any, name: str = "spec") -> None:
    if not isinstance(spec, Mapping):
        raise TypeError(f"{name} must be a mapping of parameter names to values; got {type(spec).__name__}")


def spec_hash(spec: Mapping[str, Any]) -> str:
    """The SHA-256 content hash of one sweep spec, as 64 hex digits.

    Parameters
    ----------
    spec : mapping of str to value
        Parameter names to ``None``, ``bool``, ``int``, ``float``, ``str``, NumPy scalars, real or
        integer arrays, or lists, tuples and mappings of these. ``1`` and ``1.0`` are different
        values (a function may treat them differently); a NumPy scalar hashes as the Python value.

    Returns
    -------
    str
        64 lowercase hex digits, independent of key order, process and platform
        (docs/design.md, "Sweeps").

    Raises
    ------
    TypeError
        If ``spec`` is not a mapping, has a non-string key, or holds a value of another type.

    See Also
    --------
    spec_seed : a random seed derived from this hash.

    Examples
    --------
    >>> spec_hash({"lr": 0.1, "batch": 4}) == spec_hash({"batch": 4, "lr": 0.1})
    True
    >>> spec_hash({"lr": 0.1}) == spec_hash({"lr": 0.1000001})
    False
    >>> len(spec_hash({}))
    64
    """
    _check_spec(spec)
    out: list[bytes] = [ENCODING_VERSION]
    _encode(spec, "spec", out)
    return hashlib.sha256(b"".join(out)).hexdigest()


def spec_seed(spec: Mapping[str, Any], root_seed: int = 0) -> np.random.SeedSequence:
    """A NumPy ``SeedSequence`` derived from the spec's content, never from its place in a sweep.

    Parameters
    ----------
    spec : mapping of str to value
        As for :func:`spec_hash`.
    root_seed : int, default 0
        A non-negative integer mixed in (the ``--seed`` of ``ramplab figures``).

    Returns
    -------
    numpy.random.SeedSequence
        Entropy: ``root_seed`` followed by the spec hash as four 64-bit words. The same spec gives
        the same stream whatever the executor, the order of the sweep or which specs sit beside it
        (docs/design.md, "Sweeps").

    Raises
    ------
    TypeError
        If ``spec`` is not hashable by :func:`spec_hash`, or ``root_seed`` is not an integer.
    ValueError
        If ``root_seed`` is negative.

    Examples
    --------
    >>> a = spec_seed({"lr": 0.1, "runs": 64})
    >>> b = spec_seed({"runs": 64, "lr": 0.1})
    >>> bool((a.generate_state(4) == b.generate_state(4)).all())
    True
    >>> bool((a.generate_state(4) == spec_seed({"lr": 0.1, "runs": 64}, 1).generate_state(4)).all())
    False
    """
    if isinstance(root_seed, (bool, np.bool_)) or not isinstance(root_seed, (int, np.integer)):
        raise TypeError(f"root_seed must be a non-negative integer; got {root_seed!r}")
    if root_seed < 0:
        raise ValueError(f"root_seed must be a non-negative integer; got {root_seed!r}")
    digest = spec_hash(spec)
    words = [int(digest[i : i + 16], 16) for i in range(0, 64, 16)]
    return np.random.SeedSequence([int(root_seed), *words])


#: The subpackages ``ramplab`` maps from top-level folders (pyproject ``package-dir``); each is
#: located through the import system, so an editable install hashes the same files.
_SUBPACKAGES = ("theory", "simulations", "proofs", "figures", "benchmarks", "sweeps")


def _source_files() -> list[tuple[str, Path]]:
    """``(name, path)`` of every ``.py`` file of ``ramplab``, named ``<subpackage>/<relative path>``."""
    import importlib.util

    found: dict[Path, str] = {}
    for sub in (*_SUBPACKAGES, ""):
        name = f"ramplab.{sub}" if sub else "ramplab"
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            root = Path(location).resolve()
            for path in root.rglob("*.py"):
                resolved = path.resolve()
                rel = path.relative_to(root).as_posix()
                if "__pycache__" in rel or resolved in found:
                    continue
                found[resolved] = f"{sub or 'ramplab'}/{rel}"
    return sorted(((n, p) for p, n in found.items()), key=lambda item: item[0])


@functools.lru_cache(maxsize=1)
def package_hash() -> str:
    """SHA-256 over every ``.py`` file of the installed ``ramplab`` (names and bytes), once per process.

    ``_version.py`` is left out: it changes with the commit and the date, not with the code.
    """
    h = hashlib.sha256(b"ramplab-code-v1")
    for name, path in _source_files():
        if name == "ramplab/_version.py":
            continue
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _code_bytes(code: Any) -> bytes:
    """Bytecode, names and constants of ``code`` (nested code objects included), independent of the
    process (unlike ``marshal``, whose output depends on reference counts)."""
    def const(value: Any) -> bytes:
        if inspect.iscode(value):
            return _code_bytes(value)
        if isinstance(value, frozenset):
            return b"frozenset" + b",".join(sorted(const(v) for v in value))
        if isinstance(value, tuple):
            return b"(" + b",".join(const(v) for v in value) + b")"
        return f"{type(value).__name__}:{value!r}".encode()

    return b"|".join([code.co_code, repr(code.co_names).encode(), repr(code.co_varnames).encode(),
                      *(const(c) for c in code.co_consts)])


def _function_source_hash(func: Callable[..., Any]) -> bytes:
    """Bytes identifying the code of a function defined outside ``ramplab``: its module's source file,
    else its own source, else its compiled code."""
    target = inspect.unwrap(func)
    # The function's compiled code as well: two functions of one file (two lambdas on one line,
    # say) share the file and the name but not the code.
    code = getattr(target, "__code__", None)
    own = _code_bytes(code) if code is not None else b""
    try:
        path = inspect.getsourcefile(target)
        if path and Path(path).is_file():
            return Path(path).read_bytes() + own
    except TypeError:
        pass
    try:
        return inspect.getsource(target).encode()
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        if code is None:
            raise TypeError(f"func: cannot identify the code of {func!r} for the cache key") from None
        return marshal.dumps(code)


def code_hash(func: Callable[..., Any] | None = None) -> str:
    """The hash of the code a sweep runs: the installed ``ramplab`` sources, plus ``func``'s own
    module when ``func`` is defined outside ``ramplab``.

    A version string stays the same while the code changes between commits; hashing the sources does
    not. The package part is computed once per process.

    Parameters
    ----------
    func : callable, optional
        The function of one spec. Its module's source file is added unless it belongs to
        ``ramplab`` (already covered); an interactive function adds its source or compiled code.

    Returns
    -------
    str
        64 lowercase hex digits (docs/design.md, "Sweeps").

    Raises
    ------
    TypeError
        If ``func`` is not callable, or its code cannot be read.

    Examples
    --------
    >>> len(code_hash())
    64
    >>> from ramplab.theory import Problem
    >>> code_hash(Problem.power_law) == code_hash()  # ramplab's own code is already in the package hash
    True
    """
    package = package_hash()
    if func is None:
        return package
    if not callable(func):
        raise TypeError(f"func must be callable; got {func!r}")
    module = getattr(inspect.unwrap(func), "__module__", "") or ""
    if module == "ramplab" or module.startswith("ramplab."):
        return package
    h = hashlib.sha256(package.encode())
    h.update(module.encode() + b"\0" + _function_source_hash(func))
    return h.hexdigest()
