"""Sub-commands of the ``mnist-mlops`` command line."""
