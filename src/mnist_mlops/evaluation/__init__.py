"""Evaluation: test metrics, the evaluate stage's outputs, scikit-learn baselines, PNG plots.

:mod:`.photos` renders held-out handwriting as seeded "photos" for the normalisation benchmark.
"""
