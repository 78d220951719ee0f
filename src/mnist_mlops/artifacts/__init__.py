"""The files one stage hands to another: one module per hand-off (names, schema, atomic I/O).

Project-level locations (``metrics/evaluate.json``, ...) live in :mod:`mnist_mlops.config.paths`.
"""
