"""Measuring what DVC prints."""


def width(text: str) -> int:
    """Return the widest line, in characters."""
    return max(len(line.rstrip()) for line in text.splitlines())
