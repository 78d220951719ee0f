"""Evaluation: test metrics, the evaluate stage's outputs, the scikit-learn baselines, plots.

* :mod:`.metrics` - metric names shared by every run; :mod:`.outputs` - metrics and plots files;
* :mod:`.baselines` - the course's ``Perceptron`` and ``MLPClassifier``;
* :mod:`.plots` - PNG figures (history, confusion matrix, misclassified digits, curves);
* :mod:`.photos` - held-out handwriting as seeded "photos" for the image normalisation's
  benchmark, and the old plain-resize path it is compared with.
"""
