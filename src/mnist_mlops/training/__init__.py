"""Training: the Keras model, the one fit loop, tracked runs, tuned params, the exercises."""

import os

# TensorFlow's C++ start-up chatter; set before any submodule imports Keras.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
