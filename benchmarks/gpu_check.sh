#!/usr/bin/env bash
# The device checks, as one script, for a session that is lent a CUDA machine (never part of `make test`).
# Runs the gpu-marked tests (CuPy exact solver with its fused element-wise kernels, CuPy Monte Carlo),
# the sampler benchmark on CuPy and a side-by-side exact-solver timing (CuPy vs the NumPy/numba kernel).
# Needs: CuPy, numpy, scipy, sympy, matplotlib, pytest, hypothesis on the machine; array-api-compat and
# array-api-strict as wheels in .whl/ (pip download ... -d .whl). Writes logs under ${OUT:-/tmp/gpu-out}.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --target /tmp/site "$REPO"/.whl/*.whl || exit 1
rm -rf /tmp/pkg && mkdir -p /tmp/pkg/ramplab && cp -r "$REPO"/src/ramplab/. /tmp/pkg/ramplab/
for p in theory simulations proofs figures benchmarks; do cp -r "$REPO/$p" /tmp/pkg/ramplab/$p; done
export PYTHONPATH=/tmp/pkg:/tmp/site MPLBACKEND=Agg PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import cupy, numpy; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'available', cupy.is_available())"
cd /tmp
echo "== gpu-marked tests"
python3 -m pytest -c "$REPO/pyproject.toml" --rootdir "$REPO" -p no:cacheprovider -q -m gpu \
    -o addopts="--strict-markers -ra --import-mode=importlib" "$REPO/tests" 2>&1 | tee "$OUT/gpu_tests.log" | tail -25
echo "== sampler benchmark (cupy)"
timeout 120 python3 -m ramplab bench --suite samplers --backend cupy 2>&1 | tee "$OUT/bench_samplers_cupy.log" | tail -15
echo "== exact solver: cupy vs numpy"
timeout 240 python3 - <<'PY' 2>&1 | tee "$OUT/exact_gpu.log"
import time
import numpy as np
import cupy
from ramplab.theory import Problem, Schedule, expected_risk

def timed(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter(); out = fn(); cupy.cuda.Device().synchronize(); best = min(best, time.perf_counter() - t0)
    return best, out

for d, steps, n in [(2000, 5000, 22), (20000, 1500, 22), (500000, 1000, 1)]:
    p = Problem(np.arange(1, d + 1) ** -1.5, np.arange(1, d + 1) ** -1.5, noise_variance=0.01)
    lrs = np.geomspace(0.95, 0.00095, n) if n > 1 else [0.5]
    scheds = [Schedule.constant(float(lr), 1, steps=steps) for lr in lrs]
    cps = [0, steps // 2, steps]
    ref_t, ref = timed(lambda: expected_risk(p, scheds, average="uniform", checkpoints=cps), repeat=2)
    gpu_t, got = timed(lambda: expected_risk(p, scheds, average="uniform", checkpoints=cps, backend="cupy"))
    err = max(float(np.max(np.abs(g.averaged_risk / r.averaged_risk - 1))) for g, r in zip(got, ref))
    print(f"d={d:>6} steps={steps} schedules={n:>2}: numpy-fused {ref_t:7.3f} s  cupy {gpu_t:7.3f} s  "
          f"ratio {ref_t / gpu_t:5.2f}x  max rel diff {err:.1e}")
PY
