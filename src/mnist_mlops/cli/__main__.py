"""``python -m mnist_mlops.cli``: the same as the ``mnist-mlops`` command."""

import sys

from mnist_mlops.cli.main import main

sys.exit(main())
