"""Configuration: ``params.yaml`` loaded once into typed, validated sections.

* :mod:`.params` - one frozen pydantic model per ``params.yaml`` section, and the loader;
* :mod:`.space` - the Optuna search space (``tune.space``);
* :mod:`.paths` - every file and folder of a project, relative to its root;
* :mod:`.constants` - names and numbers defined once (784 pixels, 10 classes, allowed names).
"""
