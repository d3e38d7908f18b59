"""The size guards of ``ramplab.theory``, in one place.

Each constant bounds how much memory or Python-level work one call may ask for; past it the call
raises a ``ValueError`` that names the argument (and the constant) instead of failing inside
NumPy's allocator or running for hours. They are package-internal: modules import them from here,
and ``docs/design.md`` ("Size guards") lists them with what each protects.
"""

from __future__ import annotations

__all__ = [
    "MAX_CELL_STAGES",
    "MAX_DIMENSION",
    "MAX_EXACT_INTEGER",
    "MAX_INT64",
    "MAX_MILESTONES",
    "MAX_REFINE",
    "MAX_RELEASED_MILESTONES",
    "MAX_SEESAW_STEPS",
    "MAX_SEGMENTS",
    "MAX_STAGES",
    "MAX_STEP_ARRAY",
    "MAX_TABLE_ENTRIES",
    "MAX_WARMUP_STEPS",
]

#: Largest integer a float64 holds exactly (2**53): batch sizes and sample counts stay below it.
MAX_EXACT_INTEGER = 2**53
#: Largest int64: step and cumulative sample counts stay below it.
MAX_INT64 = 2**63 - 1
#: Largest dimension ``d`` the ``Problem`` factories build (2**31 coordinates are 16 GiB per float64 array).
MAX_DIMENSION = 2**31
#: Most entries (rows × columns) of a per-step table that the exact solver builds (16 GiB of float64).
MAX_TABLE_ENTRIES = 2**31
#: Longest schedule (in steps) whose per-step arrays are materialised (2**27 steps are 1 GiB per float64 array).
MAX_STEP_ARRAY = 2**27
#: Most constant segments (phases, or steps of the continuous limit) a Seesaw builder emits one by one.
MAX_SEGMENTS = 2**19
#: Most warmup steps a Seesaw builder emits (each at its own base rate, built as one array).
MAX_WARMUP_STEPS = 2**24
#: Most Seesaw milestones listed one by one (``milestones``' default ``max_count``, phases of ``phase_*``).
MAX_MILESTONES = 2**20
#: Most steps a Seesaw schedule may take (a Schedule counts steps in int64; 2**62 leaves headroom).
MAX_SEESAW_STEPS = 2**62
#: Most milestones a released-run replay may have (``k_max = int(log α_f / log r)``).
MAX_RELEASED_MILESTONES = 10**6
#: Most stages of a growth schedule (each stage is one segment, built in Python).
MAX_STAGES = 2**20
#: Most stages one growth-exponent cell (``GrowthCell.max_stages``) may run.
MAX_CELL_STAGES = 100_000
#: Most zoom rounds of ``critical_batch`` (beyond them the grid is below float64 resolution anyway).
MAX_REFINE = 64
