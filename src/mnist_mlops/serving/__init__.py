"""Serving: the registered classifier over REST, on a draw-a-digit page and on files of digits.

* :mod:`.runtime` - the logged MLflow model, its ONNX forward pass, the digits it accepts and
  the model folder or registry version it is loaded from;
* :mod:`.pictures` - a picture of one digit to MNIST's 28x28 form (every path uses it);
* :mod:`.http` - ``mnist-mlops serve``: MLflow's scoring app behind a guard, pictures in
  requests, the page;
* :mod:`.files` - ``mnist-mlops predict``: image, ``.npy`` and ``.csv`` files scored.
"""
