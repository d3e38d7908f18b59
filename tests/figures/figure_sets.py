"""Helpers shared by the figure-set tests and audits/hostile/kind_04: what generation each file is."""

from __future__ import annotations

import csv
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

DRIVER = Path(__file__).with_name("fake_figures_driver.py")
EXTS = ("png", "pdf", "csv", "json")


def plant_old(out: Path, names) -> None:
    """Files of an 'old' run (what an earlier ramplab left): every file starts with b'old'."""
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        for ext in EXTS:
            (out / f"{name}.{ext}").write_bytes(f"old {ext}\n".encode())


def generation(path: Path) -> str:
    """'old', 'missing', '1' or '2' (the run tag), or 'bad' for a file of neither."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "bad"
    if data.startswith(b"old"):
        return "old"
    ext = path.suffix[1:]
    try:
        if ext == "csv":
            rows = list(csv.DictReader(data.decode().splitlines()))
            return str(int(rows[0]["tag"]))
        if ext == "json":
            return str(int(json.loads(data)["tag"]))
        if ext == "png":
            width = struct.unpack(">I", data[16:20])[0]
            return "1" if width < 600 else "2"
        if ext == "pdf":
            m = re.search(rb"/MediaBox \[ *[-\d.]+ +[-\d.]+ +([\d.]+)", data)
            return "1" if float(m.group(1)) < 288 else "2"
    except Exception:  # noqa: BLE001 - a torn or foreign file
        return "bad"
    return "bad"


def generations(out: Path, name: str) -> dict[str, str]:
    return {ext: generation(out / f"{name}.{ext}") for ext in EXTS}


def consistent(out: Path, names) -> bool:
    """Every figure's four files are of one generation (none missing, none torn)."""
    for name in names:
        gens = set(generations(out, name).values())
        if len(gens) != 1 or gens & {"missing", "bad"}:
            return False
    return True


def leftovers(out: Path) -> list[str]:
    """Half-written files a reader could trip over: hidden .part/.link files, unreferenced sets."""
    found = [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".ramplab"]
    store = out / ".ramplab"
    if store.is_dir():
        live = {os.readlink(p) for p in store.iterdir() if p.is_symlink()}
        found += [f".ramplab/{p.name}" for p in store.iterdir()
                  if not (p.is_symlink() and not p.name.startswith(".")) and p.name not in live and p.name != "lock"]
    return found


def run_driver(out: Path, env: dict | None = None, *args: str, python: str | None = None, timeout: float = 120,
               wait: bool = True):
    """Run the fake-figures driver as a child ``ramplab figures --out OUT --workers 1 …``."""
    full_env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
    cmd = [python or sys.executable, str(DRIVER), "--out", str(out), "--workers", "1", "--no-cache", *args]
    if not wait:
        return subprocess.Popen(cmd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout)
