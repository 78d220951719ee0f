"""Names and numbers defined once: the digit images, the classes and the allowed choices.

The ``Literal`` types validate ``params.yaml`` (and type-check the code); the tuples derived
from them list the same names for messages and command-line choices.
"""

from __future__ import annotations

from typing import Literal, get_args

IMAGE_SIDE = 28
INPUT_DIM = IMAGE_SIDE * IMAGE_SIDE  # 784 pixels per digit
NUM_CLASSES = 10
MAX_PIXEL = 255.0  # raw 8-bit pixel values are scaled by this to [0, 1]
DIGIT_BOX = 20  # MNIST's digits are scaled to fit this box (their longer side spans it) ...
MNIST_CENTRE = (14.0, 14.0)  # ... and shifted to put their centre of mass here (row, column)
# The reproducibility promise (docs/reproducibility.md): one machine repeats a fit bit for
# bit; on another CPU (other float32 kernels, thread counts) each per-epoch loss of the same
# fit agrees within this relative tolerance over the default 5 epochs (measured: at most 1e-4).
CROSS_MACHINE_LOSS_RTOL = 1e-3

DataSource = Literal["auto", "mnist", "fashion_mnist", "mnist_5k", "idx"]
Activation = Literal[
    "relu", "sigmoid", "tanh", "leaky_relu", "elu", "selu", "gelu", "swish", "linear"
]
OptimizerName = Literal["adam", "sgd", "rmsprop", "adamw", "adagrad", "nadam"]
PrunerName = Literal["none", "median", "hyperband"]
ModelKind = Literal["mlp", "cnn"]

DATA_SOURCES: tuple[str, ...] = get_args(DataSource)
ACTIVATIONS: tuple[str, ...] = get_args(Activation)
OPTIMIZERS: tuple[str, ...] = get_args(OptimizerName)
PRUNERS: tuple[str, ...] = get_args(PrunerName)
MODEL_KINDS: tuple[str, ...] = get_args(ModelKind)

CHAMPION, CHALLENGER = "champion", "challenger"
DEFAULT_MODEL_NAME = "mnist-classifier"
DEFAULT_MODEL_URI = f"models:/{DEFAULT_MODEL_NAME}@{CHAMPION}"

# Pictures of digits sent to the server (PNG/JPEG bodies and uploads): the largest picture
# decoded (a 12-megapixel phone photo fits; decompression bombs do not), the pixels of all
# pictures of one request together, and the files of one upload.
MAX_IMAGE_PIXELS = 25_000_000
MAX_REQUEST_PIXELS = 4 * MAX_IMAGE_PIXELS
MAX_UPLOAD_FILES = 100

# The serving guard (mnist-mlops serve): the request head, then the body, must each arrive
# within SERVE_READ_TIMEOUT_S; at most SERVE_MAX_CONCURRENCY requests per worker are served
# at once (HTTP 503 beyond; idle connections do not count).
SERVE_READ_TIMEOUT_S = 30.0
SERVE_MAX_CONCURRENCY = 32
SERVE_DRAIN_TIMEOUT_S = 30  # after SIGTERM, requests in progress get this long to finish
METRICS_FOLDER_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's multiprocess folder
