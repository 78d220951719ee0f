"""Training: the Keras model from params, the one fit loop, its callbacks, tracked runs.

* :mod:`.model` builds the MLP; :mod:`.fit` is the only fit loop (seeded, early stopping,
  non-finite loss guard), used by the train stage, the exercises and every tuning trial;
* :mod:`.callbacks` holds the Keras callbacks; :mod:`.tracked` records a fit as an MLflow run;
* :mod:`.tuned_params` lays tune's best params over the ``model`` / ``train`` sections;
* :mod:`.exercises` is the course's exercise grid.
"""

import os

# TensorFlow's C++ start-up chatter; set before any submodule imports Keras.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
