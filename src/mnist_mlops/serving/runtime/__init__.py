"""The model runtime: the registered classifier, its ONNX forward pass and how it is found.

:mod:`.pyfunc` the logged MLflow model, :mod:`.onnx_network` its ONNX graph,
:mod:`.inputs` the digits it accepts, :mod:`.predictions` its answer, :mod:`.model_info`
the served registry version, :mod:`.fast_model` (with :mod:`.model_dir`) the model loaded
without importing MLflow.
"""
