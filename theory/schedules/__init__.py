"""The schedule algebra: per-step learning rates and batch sizes and the rules that build them.

- ``lr_shapes`` — learning-rate shapes as functions of samples (``docs/math.md#lr-shapes``);
- ``schedule`` — :class:`Schedule`, the step ↔ sample mapping (``docs/math.md#schedules``);
- ``families`` — the (α, β) phase families (``docs/math.md#equivalence``);
- ``seesaw`` — the Seesaw scheduler (``docs/math.md#seesaw-rule``);
- ``serial_steps`` — serial-step accounting (``docs/math.md#serial-step-reduction``);
- ``released`` — the released runs' token mode (``docs/math.md#token-mode``).
"""
