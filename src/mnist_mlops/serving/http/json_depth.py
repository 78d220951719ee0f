"""How deeply a JSON body nests arrays and objects, counted on its bytes before parsing.

``json.loads`` recurses once per level: 100,000 ``[`` raise ``RecursionError``. The guard
refuses deep bodies first (:mod:`.json_requests`), with this count: linear in the body's size
whatever it holds, in bounded memory.
"""

from __future__ import annotations

import re

import numpy as np

_ESCAPES = re.compile(rb"(?:\\.)+", re.DOTALL)  # \" and \\ inside strings, a run at a time
_QUOTE = ord('"')
_STRUCTURE = b'[]{}"'
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(_STRUCTURE)))
_SMALL = 4096  # brackets counted in Python up to this many, with NumPy beyond
_CHUNK = 1 << 20  # ... per chunk of this many: memory stays small for any body


def nesting_depth(body: bytes) -> int:
    """Return how deeply arrays and objects nest in a JSON body, without parsing it.

    Brackets inside strings do not count. Linear in the body's size whatever it holds (an
    unterminated string or unbalanced brackets included), in bounded memory; exact for valid
    JSON.

    Args:
        body: The raw request body.

    Returns:
        The deepest level of nesting (``0`` for a bare number or string).
    """
    if b"\\" in body:
        body = _ESCAPES.sub(b"", body)
    structure = body.translate(None, _NOT_STRUCTURE)  # only [ ] { } and quotes are left
    deepest = level = 0
    if len(structure) <= _SMALL:  # a request of a few digits: {[[]]}
        inside = False
        for code in structure:
            if code == _QUOTE:
                inside = not inside
            elif not inside:
                level += 1 if code & 2 else -1  # [ and { have bit 1 set, ] and } do not
                deepest = max(deepest, level)
        return deepest
    quotes = 0
    for start in range(0, len(structure), _CHUNK):
        codes = np.frombuffer(structure[start : start + _CHUNK], dtype=np.uint8)
        quote = codes == _QUOTE
        seen = np.cumsum(quote) + quotes  # a bracket after an odd number of quotes is text
        steps = np.where(quote | (seen & 1 == 1), 0, np.where(codes & 2, 1, -1))
        levels = np.cumsum(steps) + level
        deepest, level, quotes = max(deepest, int(levels.max())), int(levels[-1]), int(seen[-1])
    return deepest
