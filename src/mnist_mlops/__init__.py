"""mnist-mlops: the course's Keras MNIST MLP as a reproducible, tracked pipeline.

The package is pure library code: no Prefect or DVC imports. Heavy dependencies
(TensorFlow, MLflow) are imported inside the modules that need them.
"""

__version__ = "0.1.0"
