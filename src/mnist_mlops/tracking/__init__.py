"""MLflow tracking: the store and experiment, batched logging, provenance, logged models.

* :mod:`.setup` - tracking URI, artifact root, active experiment;
* :mod:`.log` - params / metrics / bytes in batched calls; :mod:`.provenance` - run tags;
* :mod:`.keras_model` - a Keras model logged with its signature;
* :mod:`.requirements` - pinned pip requirements of logged models.
"""
