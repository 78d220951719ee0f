"""The project's exceptions: printed without a traceback, exit code 2 for ConfigError, else 1."""

from __future__ import annotations


class MnistMlopsError(Exception):
    """Base of the errors the project raises on purpose."""


class ConfigError(MnistMlopsError, ValueError):
    """``params.yaml`` cannot be read or holds invalid values (exit code 2)."""


class MissingArtifactError(MnistMlopsError, FileNotFoundError):
    """A file that an earlier stage writes is missing: that stage has not run (or failed)."""


class DataError(MnistMlopsError, ValueError):
    """Raw or processed data is missing, corrupted or invalid."""


class DownloadError(MnistMlopsError, OSError):
    """A download failed: unreachable network, HTTP error, timeout or bad checksum."""


class NetworkUnreachableError(DownloadError):
    """The server could not be reached; ``offline``: not even its name resolved (no retry)."""

    def __init__(self, message: str, offline: bool = False) -> None:
        super().__init__(message)
        self.offline = offline


class ModelLoadError(MnistMlopsError):
    """A model URI cannot be loaded (unknown name, version or alias, or unreadable files)."""


class TrainingDivergedError(MnistMlopsError):
    """The loss became NaN or infinite: training stopped and the stage fails."""


class TuneError(MnistMlopsError):
    """Tuning cannot start or go on (bad storage, unknown study, failing trials)."""


class InputError(MnistMlopsError, ValueError):
    """The digits sent for prediction have a wrong shape, type or value."""


class UnsupportedNetworkError(MnistMlopsError):
    """The Keras model cannot be exported to ONNX, or a file is not a digit classifier's graph."""


class ExportMismatchError(MnistMlopsError):
    """The ONNX export of a model answers differently from the Keras model: not registered."""


class BelowFloorError(MnistMlopsError):
    """A model below ``register.min_accuracy`` was not registered."""


class PromotionLockedError(MnistMlopsError):
    """Another register holds the model's promotion lock for longer than the wait allows."""


class FeedbackError(MnistMlopsError, ValueError):
    """A label cannot be stored; ``status`` is the HTTP status that says why (404, 409, 422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class RequestRejectedError(MnistMlopsError):
    """A request the serving guard answers itself with a 4xx JSON error."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message
