"""Ratio benchmarks (``ramplab bench``); never part of the test suite and never asserted.

- :mod:`benchmarks.samplers`: per-step cost of the Monte Carlo samplers (the ``gaussian-exact``
  sampler is flat in the batch size and far cheaper than drawing the batch).
"""
