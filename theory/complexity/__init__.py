"""SFO complexity, the critical batch size and growth schedules on noisy linear regression.

- ``sfo`` — the master bound, its critical batch size, and the measured steps / SFO to a target
  (``docs/math.md#master-bound``, ``docs/math.md#critical-batch-size``,
  ``docs/math.md#sfo-on-linear-regression``);
- ``growth`` — exponential and polynomial growth of batch size and learning rate, the bound's
  ε-exponents and the adaptive rule (``docs/math.md#growth-schedules``, ``docs/math.md#adaptive-rule``);
- ``growth_exponents`` — the ε-exponent measured on the exact dynamics, one ``(γ, δ)`` cell at a time,
  with the term of the bias/variance split that decides it (``docs/math.md#growth-exponent-measurement``).

"Critical batch size" means only the SFO minimiser ``b*`` here (``docs/math.md#attribution``).
"""
