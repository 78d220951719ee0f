"""Serving: the registered classifier over REST and on files of digits.

* :mod:`.pyfunc` - the logged MLflow model (:class:`~.pyfunc.DigitClassifier`), :mod:`.network`
  its NumPy forward pass, :mod:`.inputs` the validation and scaling of the digits it gets;
* :mod:`.app` - MLflow's scoring server behind a guard, :mod:`.asgi` the guard's plumbing;
* :mod:`.predict` - predictions in batches and for files, :mod:`.files` reading those files.
"""
