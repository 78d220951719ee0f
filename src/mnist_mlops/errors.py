"""Errors that stop a stage with a clear message (the CLI prints them without a traceback)."""


class MnistMlopsError(Exception):
    """Base of the errors the project raises on purpose."""


class DataError(MnistMlopsError, ValueError):
    """Raw or processed data is missing, corrupted or invalid."""


class DownloadError(MnistMlopsError, OSError):
    """A download failed: unreachable network, HTTP error, timeout or bad checksum."""


class NetworkUnreachableError(DownloadError):
    """The server could not be reached at all (no route, DNS failure, refused, timeout).

    ``offline`` is true when even the host name could not be resolved: retrying is pointless.
    """

    def __init__(self, message: str, offline: bool = False) -> None:
        super().__init__(message)
        self.offline = offline
