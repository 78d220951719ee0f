"""Where each dataset comes from: canonical URLs with their SHA-256 and sizes."""

from __future__ import annotations

from dataclasses import dataclass

KERAS_DATASETS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# Keras's MNIST archive (format ``npz``): arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``.
MNIST_NPZ = "mnist.npz"

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class RemoteFile:
    """One file of a remote dataset."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class RemoteDataset:
    """A dataset at ``base_url``; ``format`` (npz or idx) says how the preprocess stage reads it."""

    name: str
    base_url: str
    format: str
    files: tuple[RemoteFile, ...]


REMOTE_DATASETS = {
    # Keras' own MNIST archive (keras.datasets.mnist): 60,000 train + 10,000 test digits.
    "mnist": RemoteDataset(
        name="mnist",
        base_url=KERAS_DATASETS_URL,
        format="npz",
        files=(
            RemoteFile(
                MNIST_NPZ,
                "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
                11490434,
            ),
        ),
    ),
    # Zalando's Fashion-MNIST as mirrored for keras.datasets.fashion_mnist.
    "fashion_mnist": RemoteDataset(
        name="fashion_mnist",
        base_url=KERAS_DATASETS_URL,
        format="idx",
        files=(
            RemoteFile(
                "train-images-idx3-ubyte.gz",
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                26421880,
            ),
            RemoteFile(
                "train-labels-idx1-ubyte.gz",
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                29515,
            ),
            RemoteFile(
                "t10k-images-idx3-ubyte.gz",
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                4422102,
            ),
            RemoteFile(
                "t10k-labels-idx1-ubyte.gz",
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                5148,
            ),
        ),
    ),
}
