"""Monitoring of served predictions against the training data.

Drift tests, an accuracy estimate without labels (confidence-based), the measured accuracy
where labels exist, and the HTML report of ``mnist-mlops monitor``.
"""
