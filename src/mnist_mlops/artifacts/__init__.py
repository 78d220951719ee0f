"""The files one stage hands to another, each a typed model with its one home.

Each module owns one hand-off: its file names, its schema and its read/write (atomic).
No other module spells these file names (project-level locations such as
``metrics/evaluate.json`` are spelled once, in :mod:`mnist_mlops.config.paths`).

* :mod:`.manifest` - ``data/raw/manifest.json`` (download -> preprocess, provenance);
* :mod:`.processed` - ``data/processed/`` splits and ``meta.json`` (preprocess -> the rest);
* :mod:`.best_params` - ``tuning/best_params.json`` (tune -> train);
* :mod:`.trained` - ``models/trained/`` model, run info and history (train -> evaluate, register);
* :mod:`.metrics` - the ``metrics/*.json`` files (evaluate -> register; ``dvc metrics``).
"""
