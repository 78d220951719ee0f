"""``mnist-mlops predict``'s work: digits read from files and folders, then scored.

:mod:`.reading` reads image, ``.npy`` and ``.csv`` files; :mod:`.scoring` scores them.
"""
