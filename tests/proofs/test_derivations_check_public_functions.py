"""A wrong public formula fails ``ramplab proofs`` itself: the derivations check the numeric functions at sample
points (docs/math.md#growth-schedules, docs/math.md#critical-batch-size). Each test swaps in a mutated public
function and rebuilds the derivation without its cache."""

from __future__ import annotations

import math

from ramplab.proofs import growth as proofs_growth
from ramplab.proofs import sfo as proofs_sfo
import ramplab.theory as theory


def failed_descriptions(derivation):
    return [c.description for c in derivation.failed]


def test_a_wrong_middle_branch_in_theory_fails_the_derivation(monkeypatch):
    def wrong(gamma, delta):
        x = math.log(delta) / math.log(gamma)
        if gamma <= 1 or delta <= gamma:
            return math.inf
        return 2 * x / (x + 1) if x < 2 else 2 * x  # mutated: x + 1 for x − 1

    assert proofs_growth.growth_exponential().verified
    monkeypatch.setattr(theory, "sfo_exponent", wrong)  # what the derivation imports
    d = proofs_growth.growth_exponential.__wrapped__()
    assert not d.verified
    assert any("13/10" in t and "theory.sfo_exponent" in t for t in failed_descriptions(d))


def test_a_wrong_polynomial_exponent_in_proofs_fails_the_derivation(monkeypatch):
    monkeypatch.setattr(proofs_growth, "polynomial_growth_exponent", lambda p, q: 2 * (p + 1) / (q + 1))
    d = proofs_growth.growth_polynomial.__wrapped__()
    assert not d.verified
    assert any("proofs.polynomial_growth_exponent" in t for t in failed_descriptions(d))


def test_a_wrong_critical_batch_in_theory_fails_the_derivation(monkeypatch):
    original = theory.bound_critical_batch
    monkeypatch.setattr(theory, "bound_critical_batch", lambda *a, **k: 0.5 * original(*a, **k))
    d = proofs_sfo._sfo_constant.__wrapped__("general", "norm")
    assert failed_descriptions(d) == ["theory bound_critical_batch = derived b* at the sample point"]
