"""Serving: the registered classifier over REST, on a draw-a-digit page and on files of digits.

* :mod:`.pyfunc` - the logged MLflow model (:class:`~.pyfunc.DigitClassifier`), :mod:`.network`
  its NumPy forward pass, :mod:`.inputs` the validation and scaling of the digits it gets;
* :mod:`.app` - MLflow's scoring server behind a guard, :mod:`.asgi` and :mod:`.request_body`
  the guard's plumbing, :mod:`.protocol` uvicorn's HTTP protocol with read timeouts,
  :mod:`.json_requests` JSON bodies checked, :mod:`.image_requests` pictures in requests,
  :mod:`.page` the page (its files in ``static/``), :mod:`.model_info` which model version
  is served;
* :mod:`.predict` - the classifier's records and predictions in batches;
  :mod:`.predict_files` - predictions for files (:mod:`.files` reads them), with the model
  loaded by :mod:`.fast_model` (its NumPy network, found by :mod:`.model_dir`, without MLflow);
* :mod:`.images` - a picture of one digit to MNIST's 28x28 form (every path uses it):
  :mod:`.ink` finds the ink (:mod:`.marks` its connected marks), :mod:`.fit` scales and
  centres it; :mod:`.morphology` and :mod:`.resample` are their NumPy and Pillow operations.
"""
