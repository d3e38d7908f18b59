"""Hostile inputs to ramplab.theory's schedules part: families, released runs, Schedule, learning-rate shapes,
Seesaw and serial steps (the machinery, and how a table works: tests/hostile.py)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Mapping

import numpy as np

from ramplab.theory import Schedule

from hostile import (
    FLOAT_MAX, Public, S, Table, choice, close, finite, flag, integer, make_tests, real, same_segments,
    schedule_segments, vector,
)

TABLE = Table()
entry, exempt = TABLE.entry, TABLE.exempt


# --- theory.schedules.families -------------------------------------------------------------
def _register_families() -> None:
    families = Public("ramplab.theory.schedules.families")

    M = "ramplab.theory.schedules.families"
    exempt(f"{M}:RELEASED_ALPHA_BETA", "constant")

    def o_invariant(r, kw):
        a, b = real(kw["alpha"]), real(kw["beta"])
        assert a > 0 and b > 0
        opt = choice(kw["optimizer"], ("sgd", "nsgd"))
        ref = Fraction(a) * Fraction(b) if opt == "sgd" else None
        ref = float(ref) if ref is not None and ref <= Fraction(FLOAT_MAX) else (
            a * math.sqrt(b) if opt == "nsgd" else math.inf)
        finite(r, nonnegative=True)
        close(r, ref, 1e-14)
        assert r > 0

    entry(f"{M}:family_invariant", families.family_invariant, {"alpha": 2.0, "beta": 1.0, "optimizer": "sgd"},
          {"alpha": "real", "beta": "real", "optimizer": "choice"}, o_invariant)

    def member_ref(c, beta, p, opt):
        c = real(c)
        assert c > 0
        if p is not None:
            p = real(p)
            b = math.exp(p * math.log(c))
            a = math.exp(((1 - p) if opt == "sgd" else (1 - p / 2)) * math.log(c))
        else:
            b = real(beta)
            assert b > 0
            a = c / b if opt == "sgd" else c / math.sqrt(b)
        return a, b

    def o_member(r, kw):
        opt = choice(kw["optimizer"], ("sgd", "nsgd"))
        assert (kw["beta"] is None) != (kw["p"] is None)
        ref = member_ref(kw["c"], kw["beta"], kw["p"], opt)
        finite(r, nonnegative=True)
        assert r[0] > 0 and r[1] > 0, f"member {r} not positive"
        close(r, ref, 1e-9)

    entry(f"{M}:family_member", families.family_member, {"c": 2.0, "beta": None, "p": 1.0, "optimizer": "nsgd"},
          {"c": "real", "p": "real", "optimizer": "choice"}, o_member)
    entry(f"{M}:family_member[beta]", families.family_member,
          {"c": 2.0, "beta": 2.0, "p": None, "optimizer": "sgd"}, {"beta": "real"}, o_member)

    def o_members(r, kw):
        opt = choice(kw["optimizer"], ("sgd", "nsgd"))
        if kw["betas"] is not None:
            ref = [member_ref(kw["c"], b, None, opt) for b in vector(kw["betas"])]
        else:
            ref = [member_ref(kw["c"], None, p, opt) for p in vector(kw["ps"])]
        assert len(ref) > 0 and len(r) == len(ref)
        for got, want in zip(r, ref):
            finite(got, nonnegative=True)
            assert got[0] > 0 and got[1] > 0
            close(got, want, 1e-9)

    entry(f"{M}:family_members", families.family_members,
          {"c": 4.0, "betas": [1.0, 2.0, 4.0], "ps": None, "optimizer": "sgd"},
          {"c": "real", "betas": "vector", "optimizer": "choice"}, o_members)
    entry(f"{M}:family_members[ps]", families.family_members,
          {"c": 2.0, "betas": None, "ps": [0.0, 1.0, 2.0], "optimizer": "nsgd"}, {"ps": "vector"}, o_members)

    def o_ramp(r, kw):
        a, b = real(kw["alpha"]), real(kw["beta"])
        assert a > 0 and b > 0
        assert isinstance(r, bool) and r == (a * (1 + 1e-12) >= math.sqrt(b))

    entry(f"{M}:satisfies_ramp_bound", families.satisfies_ramp_bound, {"alpha": 2.0, "beta": 1.0},
          {"alpha": "real", "beta": "real"}, o_ramp)

    def o_phase(r, kw):
        lr0, b0, a, beta = (real(kw[k]) for k in ("lr0", "batch0", "alpha", "beta"))
        assert lr0 > 0 and b0 > 0 and a > 0 and beta > 0
        samples = [real(x) for x in kw["phase_samples"]]
        assert samples and all(x > 0 for x in samples)
        integer_batch = flag(kw["integer_batch"])
        assert isinstance(kw["label"], str)
        runs = []
        for k, d in enumerate(samples):
            lr = float(Fraction(lr0) / Fraction(a) ** k) if a != 1 else lr0
            b = float(Fraction(b0) * Fraction(beta) ** k)
            assert 1 <= b and math.isfinite(b)
            if integer_batch:
                assert b == int(b) and d == int(d) and b <= 2**53
                full, rest = divmod(int(d), int(b))
                if full:
                    runs.append((lr, b, full))
                if rest:
                    runs.append((lr, float(rest), 1))
            else:
                assert d >= 1
                n = max(1, min(round(d / b), math.floor(d)))
                runs.append((lr, d / n, n))
        same_segments(r, runs, 1e-12)

    entry(f"{M}:phase_schedule", families.phase_schedule,
          {"lr0": 1.0, "batch0": 4.0, "alpha": 2.0, "beta": 2.0, "phase_samples": [16.0, 16.0],
           "integer_batch": False, "label": ""},
          {"lr0": "real", "batch0": "real", "alpha": "real", "beta": "real", "phase_samples": "vector",
           "integer_batch": "flag", "label": "label"}, o_phase)


# --- theory.schedules.released -------------------------------------------------------------
def _register_released() -> None:
    released = Public("ramplab.theory.schedules.released")

    M = "ramplab.theory.schedules.released"
    exempt(f"{M}:RELEASED_MODELS {M}:RELEASED_SEQ_LEN {M}:RELEASED_MANIFEST_FACTORS", "constant")
    exempt(f"{M}:ReleasedRun", "result record, built by released_seesaw_run (its methods are driven)")

    def milestones_ref(total, r, w, floor):
        warm = w * total
        k_max = int(math.log(floor) / math.log(r))
        assert k_max <= 10**6, "accepted a milestone count beyond any plausible run"
        out = []
        for k in range(1, k_max + 1):
            c = min(1.0, max(-1.0, 2.0 * (r**k - floor) / (1.0 - floor) - 1.0))
            out.append(warm + round((total - warm) * math.acos(c) / math.pi))
        return out

    def o_milestones(r, kw):
        total = real(kw["total_tokens"])
        assert total >= 1 and total == int(total)
        rr, w, f = real(kw["milestone_factor"]), real(kw["warmup_fraction"]), real(kw["alpha_f"])
        assert 0 < rr < 1 and 0 <= w < 1 and 0 < f < 1
        ref = milestones_ref(int(kw["total_tokens"]) if isinstance(kw["total_tokens"], int) else int(total), rr, w, f)
        finite(r, nonnegative=True)
        close(r, ref, 1e-15, "milestones")

    entry(f"{M}:released_milestones", released.released_milestones,
          {"total_tokens": 1000, "milestone_factor": 0.5, "warmup_fraction": 0.1, "alpha_f": 0.1},
          {"total_tokens": "real", "milestone_factor": "real", "warmup_fraction": "real", "alpha_f": "real"},
          o_milestones)

    def replay(kw):
        """The released rule, one batch at a time (the module docstring)."""
        total = integer(kw["total_tokens"])
        L, b0 = integer(kw["seq_len"]), integer(kw["initial_batch"])
        bf, lf = real(kw["batch_factor"]), real(kw["lr_factor"])
        assert total >= 1 and L >= 1 and b0 >= 1 and bf >= 1 and lf > 0
        peak, start = real(kw["peak_lr"]), real(kw["warmup_start"])
        assert peak > 0 and 0 <= start <= 1
        mode = choice(kw["lr_mode"], ("auto", "staircase", "cosine"))
        w, f = real(kw["warmup_fraction"]), real(kw["alpha_f"])
        taus = milestones_ref(total, real(kw["milestone_factor"]), w, f)
        if total // (b0 * L) > 200_000:
            return None  # too long to replay one batch at a time here: the caller checks invariants
        tokens, acc, k, level = 0, float(b0), 0, peak
        batches, lrs = [], []
        warm = w * total
        while tokens < total:
            if k < len(taus) and tokens >= taus[k]:
                acc *= bf
                level = max(level * lf, f * peak)
                k += 1
            b = math.floor(acc)
            if b % 32 == 1:
                b = math.ceil(acc)
            if mode == "cosine" or (mode == "auto" and bf == 1 and lf == 1):
                if tokens < warm:
                    lr = peak * (start + (1 - start) * tokens / warm)
                else:
                    x = min(1.0, (tokens - warm) / (total - warm))
                    lr = peak * (f + (1 - f) * 0.5 * (1 + math.cos(math.pi * x)))
            else:
                lr = peak * (start + (1 - start) * tokens / warm) if tokens < warm else level
            batches.append(b)
            lrs.append(lr)
            tokens += b * L
        return batches, lrs

    def o_run(r, kw):
        replayed = replay(kw)
        if replayed is None:
            assert r.tokens >= integer(kw["total_tokens"]) > r.tokens_before[-1]
            assert np.all(np.diff(r.batch) >= 0) and np.all(np.diff(r.tokens_before) > 0)
            finite(r.lr, nonnegative=True)
            return
        batches, lrs = replayed
        assert r.batch.tolist() == batches, "batches differ from the per-batch replay"
        finite(r.lr, nonnegative=True)
        close(r.lr, lrs, 1e-9, "lr")

    run_valid = {"total_tokens": 20000, "seq_len": 4, "initial_batch": 8, "milestone_factor": 1 / 1.1,
                 "batch_factor": 1.1, "lr_factor": 1.1**-0.5, "warmup_fraction": 0.1, "alpha_f": 0.1,
                 "peak_lr": 1.0, "warmup_start": 0.1, "lr_mode": "auto"}
    entry(f"{M}:released_seesaw_run", released.released_seesaw_run, run_valid,
          {k: ("choice" if k == "lr_mode" else "int" if k in ("seq_len", "initial_batch") else
               "tokens" if k == "total_tokens" else "real") for k in run_valid}, o_run)

    def base_run():
        return released.released_seesaw_run(20000, 4, 8, batch_factor=1.0, lr_factor=1.0)

    def o_reduction(r, kw):
        assert isinstance(kw["baseline"], released.ReleasedRun)
        ref = 1 - released.released_seesaw_run(20000, 4, 8).steps / kw["baseline"].steps
        close(r, ref, 1e-15)

    entry(f"{M}:ReleasedRun.reduction_vs",
          lambda **kw: released.released_seesaw_run(20000, 4, 8).reduction_vs(**kw),
          lambda: {"baseline": base_run()}, {"baseline": "any"}, o_reduction)

    def o_as_schedule(r, kw):
        unit = choice(kw["unit"], ("sequences", "tokens"))
        assert isinstance(kw["label"], str)
        run = released.released_seesaw_run(20000, 4, 8)
        lr, b = r.step_arrays()
        close(lr, run.lr, 0, "lr")
        close(b, run.batch * (4 if unit == "tokens" else 1), 0, "batch")

    entry(f"{M}:ReleasedRun.schedule", lambda **kw: released.released_seesaw_run(20000, 4, 8).schedule(**kw),
          {"unit": "sequences", "label": ""}, {"unit": "choice", "label": "label"}, o_as_schedule)

    grid_valid = {"models": (("t", 20000.0),), "seq_len": 4, "main_batches": (8,), "large_batches": (16,),
                  "factors": "manifest"}

    def o_grid(r, kw):
        models = kw["models"]
        assert isinstance(models, (tuple, list)) and models
        for m in models:
            assert isinstance(m, (tuple, list)) and len(m) == 2 and isinstance(m[0], str)
            integer(m[1])
        L = integer(kw["seq_len"])
        main = [integer(b) for b in kw["main_batches"]]
        large = [integer(b) for b in kw["large_batches"]]
        assert L >= 1 and all(b >= 1 for b in main + large)
        choice(kw["factors"], ("manifest", "exact"))
        assert len(r) == len(models) * (6 * len(main) + len(large))
        for row in r:
            assert row["steps"] >= 1 and row["baseline_steps"] >= 1
            close(row["reduction"], 1 - row["steps"] / row["baseline_steps"], 1e-15)
            assert row["tokens"] >= row["total_tokens"]

    entry(f"{M}:released_grid", released.released_grid, grid_valid,
          {"models": "models", "seq_len": "int", "main_batches": "vector", "large_batches": "vector",
           "factors": "choice"}, o_grid)

    ROWS = released.released_grid(**grid_valid)

    def o_table(r, kw):
        rows = kw["rows"]
        assert isinstance(rows, list) and all(isinstance(x, dict) for x in rows)
        assert isinstance(r, str) and len(r.splitlines()) == len(rows) + 1

    entry(f"{M}:format_released_table", released.format_released_table, lambda: {"rows": list(ROWS)},
          {"rows": "rows"}, o_table)


# --- theory.schedules.schedule / lr_shapes / seesaw / serial_steps ---------------------------
def _steps_of(lr, batch, integer_batch):
    """Per-step float64 ``(lr, batch)`` a valid ``Schedule(lr, batch)`` must store (broadcast scalars)."""
    lr_v, b_v = vector(lr), vector(batch)
    if lr_v.ndim == 0 and b_v.ndim == 1:
        lr_v = np.full(b_v.shape, float(lr_v))
    if b_v.ndim == 0 and lr_v.ndim == 1:
        b_v = np.full(lr_v.shape, float(b_v))
    assert lr_v.ndim == 1 and lr_v.shape == b_v.shape and lr_v.size, f"accepted shapes {lr_v.shape}, {b_v.shape}"
    assert np.all(lr_v >= 0) and np.all(b_v >= 1) and np.all(b_v <= 2.0**53), "accepted lr < 0 or batch < 1"
    if integer_batch:
        assert np.all(b_v == np.floor(b_v)), "accepted a non-integer batch"
    return lr_v, b_v


def _same_steps(s: Schedule, lr_v: np.ndarray, b_v: np.ndarray) -> None:
    seg = s.segments
    close(np.repeat(seg.lr.astype(float), seg.steps), lr_v, 0.0, "lr")
    close(np.repeat(seg.batch.astype(float), seg.steps), b_v, 0.0, "batch")
    close(s.samples_at(np.arange(len(lr_v) + 1)), np.concatenate([[0.0], np.cumsum(b_v)]), 1e-12, "samples")


def _label_meta(kw) -> None:
    assert isinstance(kw.get("label", ""), str), f"accepted label {kw.get('label')!r}"
    m = kw.get("metadata")
    assert m is None or isinstance(m, Mapping), f"accepted metadata {m!r}"


def _register_schedules() -> None:
    lr_shapes, schedule = Public("ramplab.theory.schedules.lr_shapes"), Public("ramplab.theory.schedules.schedule")

    M = "ramplab.theory.schedules.schedule"
    exempt(f"{M}:Segments", "result record (a NamedTuple of arrays), returned by Schedule.segments")

    def o_schedule(r, kw):
        ib = flag(kw["integer_batch"])
        _label_meta(kw)
        _same_steps(r, *_steps_of(kw["lr"], kw["batch"], ib))

    entry(f"{M}:Schedule", Schedule,
          {"lr": [0.1, 0.1, 0.05], "batch": [2, 2, 4], "label": "x", "metadata": None, "integer_batch": True},
          {"lr": "vector", "batch": "vector", "label": "label", "metadata": "mapping", "integer_batch": "flag"},
          o_schedule)

    def o_from_segments(r, kw):
        ib = flag(kw["integer_batch"])
        _label_meta(kw)
        n = vector(kw["steps"])
        assert n.ndim == 1 and np.all(n >= 1) and np.all(n == np.floor(n)), f"accepted steps {kw['steps']!r}"
        lr_v, b_v = vector(kw["lr"]), vector(kw["batch"])
        assert lr_v.shape == b_v.shape == n.shape, "accepted mismatched shapes"
        _same_steps(r, *_steps_of(np.repeat(lr_v, n.astype(int)), np.repeat(b_v, n.astype(int)), ib))

    entry(f"{M}:Schedule.from_segments", Schedule.from_segments,
          {"lr": [0.1, 0.05], "batch": [2, 4], "steps": [2, 3], "label": "", "metadata": None, "integer_batch": True},
          {"lr": "vector", "batch": "vector", "steps": "vector", "label": "label", "metadata": "mapping",
           "integer_batch": "flag"}, o_from_segments)

    def o_constant(r, kw):
        ib = flag(kw["integer_batch"])
        lr, b = real(kw["lr"]), real(kw["batch"])
        assert lr >= 0 and b >= 1 and (not ib or b == int(b))
        _label_meta(kw)
        if kw["samples"] is None:
            n = integer(kw["steps"])
            assert n >= 1
            seg = r.segments
            assert len(seg.lr) == 1 and int(seg.steps[0]) == n and float(seg.lr[0]) == lr and float(seg.batch[0]) == b
        else:
            assert kw["steps"] is None
            d = real(kw["samples"])
            assert d > 0
            close(float(r.total_samples), d, 1e-12, "total_samples")

    entry(f"{M}:Schedule.constant", Schedule.constant,
          {"lr": 0.1, "batch": 4, "steps": 3, "samples": None, "label": "", "integer_batch": True},
          {"lr": "real", "batch": "real", "steps": "int", "samples": "real", "label": "label",
           "integer_batch": "flag"}, o_constant, skip={"samples": (None,)})
    entry(f"{M}:Schedule.constant[samples]", Schedule.constant,
          {"lr": 0.1, "batch": 4, "steps": None, "samples": 10, "label": "", "integer_batch": True},
          {"samples": "tokens", "integer_batch": "flag"}, o_constant, skip={"samples": (None,)})

    def o_from_phases(r, kw):
        ib = flag(kw["integer_batch"])
        _label_meta(kw)
        lrs, bs = [], []
        for lr, b, d in kw["phases"]:
            lr, b, d = real(lr), real(b), real(d)
            assert lr >= 0 and b >= 1 and d > 0
            if ib:
                assert b == int(b) and d == int(d)
                full, rest = divmod(int(d), int(b))
                lrs += [lr] * (full + (rest > 0))
                bs += [b] * full + ([float(rest)] if rest else [])
            else:
                assert d >= 1
                n = max(1, min(round(d / b), math.floor(d)))
                lrs += [lr] * n
                bs += [d / n] * n
        _same_steps(r, np.array(lrs), np.array(bs))

    entry(f"{M}:Schedule.from_phases", Schedule.from_phases,
          {"phases": [(0.1, 2, 6), (0.05, 4, 9)], "label": "", "metadata": None, "integer_batch": True},
          {"phases": "sequence", "label": "label", "metadata": "mapping", "integer_batch": "flag"}, o_from_phases)

    def o_from_shape(r, kw):
        shape = kw["shape"]
        assert isinstance(shape, lr_shapes.LRShape)
        ib = flag(kw["integer_batch"])
        _label_meta(kw)
        b = real(kw["batch"])
        assert b >= 1 and (not ib or b == int(b))
        close(float(r.total_samples), shape.total_samples, 1e-12, "total_samples")
        lr_v, b_v = r.step_arrays()
        before = np.concatenate([[0.0], np.cumsum(b_v)[:-1]])
        close(lr_v, shape(before), 1e-12, "lr")

    entry(f"{M}:Schedule.from_shape", Schedule.from_shape,
          lambda: {"shape": lr_shapes.Linear(1.0, 8, final=0.0), "batch": 2, "label": "", "integer_batch": True},
          {"shape": "any", "batch": "real", "label": "label", "integer_batch": "flag"}, o_from_shape)

    def o_concatenate(r, kw):
        ss = kw["schedules"]
        assert isinstance(ss, (list, tuple)) and ss and all(isinstance(s, Schedule) for s in ss)
        _label_meta(kw)
        same_segments(r, [run for s in ss for run in schedule_segments(s)])

    entry(f"{M}:Schedule.concatenate", Schedule.concatenate, lambda: {"schedules": [S, S], "label": ""},
          {"schedules": "schedules", "label": "label"}, o_concatenate)

    S3 = Schedule([0.1, 0.1, 0.05], [2, 2, 4])

    def o_step_arrays(r, kw):
        start = integer(kw["start"])
        stop = 3 if kw["stop"] is None else integer(kw["stop"])
        assert 0 <= start <= stop <= 3, f"accepted start={start}, stop={stop}"
        close(r[0], [0.1, 0.1, 0.05][start:stop], 0.0, "lr")
        close(r[1], [2.0, 2.0, 4.0][start:stop], 0.0, "batch")

    entry(f"{M}:Schedule.step_arrays", S3.step_arrays, {"start": 1, "stop": None}, {"start": "int", "stop": "int"},
          o_step_arrays)

    def o_samples_at(r, kw):
        t = vector(kw["steps"])
        assert np.all(t == np.floor(t)) and np.all((t >= 0) & (t <= 3)), f"accepted steps {kw['steps']!r}"
        close(r, np.array([0.0, 2.0, 4.0, 8.0])[t.astype(int)], 0.0, "samples_at")

    entry(f"{M}:Schedule.samples_at", S3.samples_at, {"steps": [0, 2, 3]}, {"steps": "vector"}, o_samples_at)

    def o_with_label(r, kw):
        assert isinstance(kw["label"], str) and r.label == kw["label"]
        _same_steps(r, *S3.step_arrays())

    entry(f"{M}:Schedule.with_label", S3.with_label, {"label": "y"}, {"label": "label"}, o_with_label)


def _decay_profile(v: float, kind: str) -> float:
    """Decreasing profiles ``h(0) = 1``, ``h(1) = 0`` of docs/math.md#lr-shapes, written out."""
    return {"linear": 1.0 - v, "cosine": 0.5 * (1.0 + math.cos(math.pi * v)),
            "quarter": math.cos(math.pi * v / 2.0), "sqrt": 1.0 - math.sqrt(v)}[kind]


def _register_shapes() -> None:
    lr_shapes = Public("ramplab.theory.schedules.lr_shapes")

    M = "ramplab.theory.schedules.lr_shapes"
    exempt(f"{M}:LRShape", "base class: its constructor and methods run through every subclass entry below")

    def frac(v, *, open_right=False):
        x = real(v)
        assert 0 <= x <= 1 and not (open_right and x == 1), f"accepted a fraction {v!r}"
        return x

    def check(r, kw, rate):
        peak, total = real(kw["peak"]), real(kw["total_samples"])
        assert peak > 0 and total > 0
        grid = [total * (k / 16) for k in range(17)]
        got = r(np.array(grid))
        for tau, g in zip(grid, got.tolist()):
            u = min(tau / total, 1.0)
            ref = rate(u)
            if ref is None:
                continue
            assert abs(g - peak * ref) <= 1e-9 * max(peak, abs(peak * ref)), f"rate {g!r} at u={u} != reference {peak * ref!r}"

    def o_constant(r, kw):
        check(r, kw, lambda u: 1.0)

    shape_kinds = {"peak": "real", "total_samples": "real"}
    entry(f"{M}:Constant", lr_shapes.Constant, {"peak": 0.5, "total_samples": 100.0}, shape_kinds, o_constant)

    def o_linear(r, kw):
        f = frac(kw["final"])
        check(r, kw, lambda u: 1.0 - (1.0 - f) * u)

    entry(f"{M}:Linear", lr_shapes.Linear, {"peak": 0.5, "total_samples": 100.0, "final": 0.1},
          {**shape_kinds, "final": "real"}, o_linear)

    def o_cosine(r, kw):
        f = frac(kw["final"])
        kind = "quarter" if flag(kw["quarter"]) else "cosine"
        check(r, kw, lambda u: f + (1.0 - f) * _decay_profile(u, kind))

    entry(f"{M}:Cosine", lr_shapes.Cosine, {"peak": 0.5, "total_samples": 100.0, "final": 0.1, "quarter": False},
          {**shape_kinds, "final": "real", "quarter": "flag"}, o_cosine)

    def o_step(r, kw):
        bs = kw["boundaries"]
        assert isinstance(bs, (list, tuple)) or (isinstance(bs, np.ndarray) and bs.ndim == 1), f"accepted {bs!r}"
        bounds = [frac(b) for b in bs]
        assert all(a < b for a, b in zip(bounds, bounds[1:])), f"accepted unsorted boundaries {bs!r}"
        f = real(kw["factor"])
        assert f > 0

        def rate(u):
            if any(abs(u - b) < 1e-9 for b in bounds):
                return None  # at a jump either side is right
            return f ** sum(u >= b for b in bounds)

        check(r, kw, rate)

    entry(f"{M}:StepDecay", lr_shapes.StepDecay,
          {"peak": 0.5, "total_samples": 100.0, "boundaries": (0.5, 0.75), "factor": 0.1},
          {**shape_kinds, "boundaries": "sequence", "factor": "real"}, o_step)

    def warm(u, w, start):
        return start + (1.0 - start) * u / w

    def o_wcos(r, kw):
        w, ws, fl = frac(kw["warmup_fraction"], open_right=True), frac(kw["warmup_start"]), frac(kw["floor"])

        def rate(u):
            if abs(u - w) < 1e-9:
                return None
            if u < w:
                return warm(u, w, ws)
            return fl + (1.0 - fl) * _decay_profile((u - w) / (1.0 - w), "cosine")

        check(r, kw, rate)

    entry(f"{M}:WarmupCosine", lr_shapes.WarmupCosine,
          {"peak": 0.5, "total_samples": 100.0, "warmup_fraction": 0.1, "warmup_start": 0.1, "floor": 0.1},
          {**shape_kinds, "warmup_fraction": "real", "warmup_start": "real", "floor": "real"}, o_wcos)

    def o_wsd(r, kw):
        w, d, fl = frac(kw["warmup_fraction"]), frac(kw["decay_fraction"]), frac(kw["floor"])
        ws = frac(kw["warmup_start"])
        kind = choice(kw["decay"], ("linear", "cosine", "sqrt", "quarter"))
        assert w + d <= 1 + 1e-12, f"accepted warmup + decay fractions {w} + {d} > 1"

        def rate(u):
            if min(abs(u - w), abs(u - (1 - d))) < 1e-9:
                return None
            if u < w:
                return warm(u, w, ws)
            if u < 1 - d or d == 0:
                return 1.0
            return fl + (1.0 - fl) * _decay_profile((u - (1 - d)) / d, kind)

        check(r, kw, rate)

    entry(f"{M}:WSD", lr_shapes.WSD,
          {"peak": 0.5, "total_samples": 100.0, "warmup_fraction": 0.1, "decay_fraction": 0.2, "floor": 0.0,
           "decay": "linear", "warmup_start": 0.1},
          {**shape_kinds, "warmup_fraction": "real", "decay_fraction": "real", "floor": "real", "decay": "choice",
           "warmup_start": "real"}, o_wsd)

    def o_rsqrt(r, kw):
        w, c, start = frac(kw["warmup_fraction"]), frac(kw["constant_fraction"]), frac(kw["warmup_start"])
        s = w + c
        assert 0 < s <= 1, f"accepted warmup_fraction + constant_fraction = {s!r}"

        def rate(u):
            if u < w:
                return start + (1.0 - start) * u / w
            return math.sqrt(s / max(u, s))

        check(r, kw, rate)

    entry(f"{M}:InverseSqrt", lr_shapes.InverseSqrt,
          {"peak": 0.5, "total_samples": 100.0, "warmup_fraction": 0.05, "constant_fraction": 0.1, "warmup_start": 0.1},
          {**shape_kinds, "warmup_fraction": "real", "constant_fraction": "real", "warmup_start": "real"}, o_rsqrt)

    def o_power(r, kw):
        p, f = real(kw["power"]), frac(kw["final"])
        assert p > 0 and math.isfinite(p), f"accepted power={p!r}"
        check(r, kw, lambda u: f + (1.0 - f) * (1.0 - u) ** p)

    entry(f"{M}:PowerDecay", lr_shapes.PowerDecay, {"peak": 0.5, "total_samples": 100.0, "power": 2.0, "final": 0.1},
          {**shape_kinds, "power": "real", "final": "real"}, o_power)

    LIN = lr_shapes.Linear(1.0, 8.0, final=0.0)

    def o_call(r, kw):
        tau = vector(kw["samples"])
        assert np.all(tau >= 0), f"accepted negative samples {tau!r}"
        u = np.minimum(tau / 8.0, 1.0)
        close(r, 1.0 - u, 1e-12, "Linear(1, 8)(samples)")

    entry(f"{M}:Linear.__call__", LIN.__call__, {"samples": [0.0, 2.0, 9.0]}, {"samples": "vector"}, o_call)

    def o_integral(r, kw):
        a = real(kw["start"])
        b = 8.0 if kw["stop"] is None else real(kw["stop"])
        assert 0 <= a <= b, f"accepted start={a}, stop={b}"
        prim = lambda x: min(x, 8.0) - min(x, 8.0) ** 2 / 16.0  # ∫₀ˣ (1 − τ/8) dτ, 0 past the horizon
        close(r, prim(b) - prim(a), 1e-12, "integral")

    entry(f"{M}:Linear.integral", LIN.integral, {"start": 1.0, "stop": 4.0}, {"start": "real", "stop": "real"},
          o_integral, skip={"stop": (None,)})

    def o_crossing(r, kw):
        level = real(kw["level"])
        assert level > 0
        ref = 0.0 if level >= 1.0 else 8.0 * (1.0 - level)
        close(r, ref, 1e-9, "crossing")

    entry(f"{M}:Linear.crossing", LIN.crossing, {"level": 0.25}, {"level": "real"}, o_crossing)


def _register_seesaw() -> None:
    """Seesaw and serial steps on a half cosine ``η(τ) = ½(1 + cos(πτ/D))`` (D = 1000 samples), whose
    level crossings and integrals the oracles write out independently (docs/math.md#seesaw-rule,
    docs/math.md#serial-step-reduction)."""
    from ramplab.theory import Cosine
    seesaw, serial_steps = Public("ramplab.theory.schedules.seesaw"), Public("ramplab.theory.schedules.serial_steps")

    M, N = "ramplab.theory.schedules.seesaw", "ramplab.theory.schedules.serial_steps"
    exempt(f"{M}:ROUNDINGS", "constant")
    total = 1000.0
    base = Cosine(1.0, total)

    def rate(tau):
        return 0.5 * (1.0 + np.cos(np.pi * np.asarray(tau, dtype=np.float64) / total))

    def log_batches(kw, phases):
        """log B_k: B_0 f^{pk} until the next would pass the cap, then frozen (as the rule freezes)."""
        b0, f, pp = real(kw["initial_batch"]), real(kw["factor"]), real(kw.get("p", 1.0))
        cap = kw.get("batch_cap")
        logs = np.log(b0) + pp * np.log(f) * np.arange(phases, dtype=np.float64)
        if cap is not None:
            over = logs > np.log(real(cap)) + 1e-12
            if over.any():
                first = int(np.argmax(over))
                logs[first:] = logs[first - 1] if first > 0 else np.log(b0)
        return logs

    def batches(kw, phases):
        with np.errstate(over="ignore"):
            return np.exp(log_batches(kw, phases))

    def o_round(r, kw):
        b = real(kw["batch"])
        assert b >= 1 and isinstance(r, (int, np.integer)) and abs(r - math.floor(b)) <= max(1.0, 1e-12 * b)

    entry(f"{M}:round_batch", seesaw.round_batch, {"batch": 7.3, "rounding": "floor"},
          {"batch": "real", "rounding": "choice"}, o_round)

    def o_milestones(r, kw):
        f = real(kw["factor"])
        m = np.asarray(r, dtype=np.float64)
        assert m.ndim == 1 and np.all(np.diff(m) > 0) and np.all((m >= 0) & (m <= total))
        k = np.arange(1, m.size + 1, dtype=np.float64)
        # Positions of the crossings η(τ_k) = f^{-k}, written out: τ_k = (D/π) arccos(2 f^{-k} − 1).
        want = total / np.pi * np.arccos(np.clip(2 * np.exp(-k * np.log(f)) - 1, -1, 1))
        assert np.all(np.abs(m - want) <= 1e-9 * total), "milestone positions"

    entry(f"{M}:milestones", seesaw.milestones, {"base": base, "factor": 2.0},
          {"base": "any", "factor": "real", "min_level": "real", "max_count": "int"}, o_milestones,
          skip={"max_count": (2**31, 2**53, 2**53 + 1, 2**62, np.uint64(2**64 - 1))})

    def o_phase_batches(r, kw):
        close(r, batches(kw, int(kw["phases"])), 1e-12, "phase batches")

    entry(f"{M}:phase_batches", seesaw.phase_batches, {"initial_batch": 2.0, "factor": 2.0, "phases": 4},
          {"initial_batch": "real", "factor": "real", "phases": "int", "p": "real", "batch_cap": "real"},
          o_phase_batches)

    def o_phase_lrs(r, kw):
        n, f = int(kw["phases"]), real(kw["factor"])
        kw_b = {"initial_batch": kw.get("initial_batch", 1.0), "factor": f, "p": kw.get("p", 1.0),
                "batch_cap": kw.get("batch_cap")}
        logs = log_batches(kw_b, n)  # η_k / √B_k = (η_0 / √B_0) f^{-k}, in logs (no overflow)
        want = np.exp(np.log(real(kw["peak"])) - np.log(f) * np.arange(n) + 0.5 * (logs - logs[0]))
        close(r, want, 1e-9, "phase learning rates")

    entry(f"{M}:phase_learning_rates", seesaw.phase_learning_rates, {"peak": 1.0, "factor": 2.0, "phases": 4},
          {"peak": "real", "factor": "real", "phases": "int", "p": "real", "initial_batch": "real",
           "batch_cap": "real"}, o_phase_lrs)

    def o_schedule(r, kw):
        assert isinstance(r, Schedule)
        seg = r.segments
        assert abs(r.total_samples - total) <= 1e-9 * total, r.total_samples
        assert np.all(np.diff(seg.batch.astype(np.float64)) >= -1e-9 * float(seg.batch.max()))
        finite(seg.lr, nonnegative=True)
        assert float(seg.batch[0]) >= 1

    schedule_kinds = {"base": "any", "initial_batch": "real", "factor": "real", "p": "real", "batch_cap": "real",
                      "rounding": "choice", "label": "label"}
    entry(f"{M}:seesaw_schedule", seesaw.seesaw_schedule, {"base": base, "initial_batch": 4.0, "factor": 2.0},
          schedule_kinds, o_schedule)
    entry(f"{M}:continuous_seesaw", seesaw.continuous_seesaw, {"base": base, "initial_batch": 4.0},
          {k: v for k, v in schedule_kinds.items() if k != "factor"}, o_schedule)

    def integral(kw):
        b0, pp, cap = real(kw["initial_batch"]), real(kw.get("p", 1.0)), kw.get("batch_cap")
        h = total / 400_000
        tau = (np.arange(400_000) + 0.5) * h  # midpoint rule: never on the zero of the rate at τ = D
        density = rate(tau) ** pp / b0
        if cap is not None:
            density = np.maximum(density, 1.0 / real(cap))
        return float(np.sum(density) * h)

    def o_continuous(r, kw):
        close(r, integral(kw), 1e-6, "continuous serial steps")

    serial_kinds = {"base": "any", "initial_batch": "real", "p": "real", "batch_cap": "real"}
    entry(f"{N}:continuous_serial_steps", serial_steps.continuous_serial_steps, {"base": base, "initial_batch": 4.0},
          serial_kinds, o_continuous)

    def phase_sum(kw):
        f = real(kw["factor"])
        levels = f ** -np.arange(1, 4000, dtype=np.float64)
        taus = total / np.pi * np.arccos(np.clip(2 * levels[levels > 1e-300] - 1, -1, 1))
        bounds = np.concatenate([[0.0], taus[taus < total], [total]])
        b = batches({**kw, "factor": f}, bounds.size - 1)
        return float(np.sum(np.diff(bounds) / b))

    def o_phase_serial(r, kw):
        close(r, phase_sum(kw), 1e-6, "phase serial steps")

    entry(f"{N}:phase_serial_steps", serial_steps.phase_serial_steps,
          {"base": base, "initial_batch": 4.0, "factor": 2.0}, {**serial_kinds, "factor": "real"}, o_phase_serial)

    def o_reduction(r, kw):
        b0 = real(kw.get("initial_batch", 1.0))
        steps = integral({**kw, "initial_batch": b0}) if kw.get("factor") is None else phase_sum(
            {**kw, "initial_batch": b0})
        assert abs(float(r) - (1.0 - steps * b0 / total)) <= 1e-6, f"step reduction {r!r}"  # a fraction

    entry(f"{N}:seesaw_step_reduction", serial_steps.seesaw_step_reduction, {"base": base, "factor": 2.0},
          {**serial_kinds, "factor": "real"}, o_reduction)

    ref, other = Schedule.constant(0.1, 2, steps=8), Schedule.constant(0.1, 4, steps=4)

    def o_step_reduction(r, kw):
        close(r, 1.0 - len(kw["other"]) / len(kw["reference"]), 1e-12, "step reduction")

    entry(f"{N}:step_reduction", serial_steps.step_reduction, {"reference": ref, "other": other},
          {"reference": "schedule", "other": "schedule"}, o_step_reduction)


for _register in (_register_families, _register_released, _register_schedules, _register_shapes, _register_seesaw):
    _register()

test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)
