"""Serving: the registered classifier over REST, on a draw-a-digit page and on files of digits.

* :mod:`.pyfunc` - the logged MLflow model (:class:`~.pyfunc.DigitClassifier`), :mod:`.network`
  its NumPy forward pass, :mod:`.inputs` the validation and scaling of the digits it gets;
* :mod:`.app` - MLflow's scoring server behind a guard, :mod:`.asgi` and :mod:`.request_body`
  the guard's plumbing, :mod:`.protocol` uvicorn's HTTP protocol with read timeouts,
  :mod:`.json_requests` JSON bodies checked, :mod:`.image_requests` pictures in requests,
  :mod:`.page` the page (its files in ``static/``), :mod:`.model_info` which model version
  is served;
* :mod:`.images` - a picture of a digit made into MNIST's 28x28 form (every path uses it);
* :mod:`.predict` - predictions in batches and for files, :mod:`.files` reading those files.
"""
