"""Ratio benchmarks (``ramplab bench``); never part of the test suite and never asserted.

- :mod:`benchmarks.exact_solver` (``--suite exact``): the exact solver against a plain NumPy loop
  and a JAX ``lax.scan`` on two workloads, its effective memory bandwidth against a STREAM-style
  triad, the full-scale curves (``d = 5·10⁵``, 50 000 steps) with compression, and memory over
  10⁶ steps with checkpoints.
- :mod:`benchmarks.samplers` (``--suite samplers``): per-step cost of the Monte Carlo samplers (the
  ``gaussian-exact`` sampler is flat in the batch size and far cheaper than drawing the batch).
"""
