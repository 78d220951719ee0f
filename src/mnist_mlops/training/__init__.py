"""Training: the Keras model from params, the one fit loop and its callbacks, tracked runs.

:mod:`.tuned_params` lays tune's best params over ``model`` / ``train``; :mod:`.grid` and
:mod:`.exercises` hold the course's exercises.
"""

import os

# TensorFlow's C++ start-up chatter; set before any submodule imports Keras.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
