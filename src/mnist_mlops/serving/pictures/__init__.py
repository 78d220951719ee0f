"""A picture of one handwritten digit to MNIST's 28x28 form, as MNIST was made.

:mod:`.images` decodes and normalises (the entry point), :mod:`.ink` finds the ink
(:mod:`.marks` its connected marks), :mod:`.fit` scales and centres it, with
``scipy.ndimage`` and Pillow's resampling (:mod:`.resample`).
"""
