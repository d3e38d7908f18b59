"""The exact expected dynamics: the problem, the second-moment recursion and what is read off it.

- ``problem`` — :class:`Problem`, the spectrum, initial second moments and label noise
  (``docs/math.md#noisy-linear-regression``);
- ``recursion`` — :func:`expected_risk`, the exact SGD / NSGD recursion with iterate averaging
  (``docs/math.md#sgd-second-moment-recursion``, ``docs/math.md#normalized-sgd``,
  ``docs/math.md#iterate-averaging``);
- ``momentum`` — heavy-ball momentum: the moment recursion, its stability, torch's convention
  (``docs/math.md#heavy-ball-momentum``);
- ``stability`` — stability of a constant (η, B) and the stationary point (``docs/math.md#stability``);
- ``equivalence`` — risk ratios between schedules of one family (``docs/math.md#equivalence``).
"""
