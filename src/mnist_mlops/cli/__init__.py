"""The ``mnist-mlops`` command line: :mod:`.main` and one module per sub-command."""
