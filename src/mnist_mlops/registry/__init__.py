"""The model registry: register a trained model and decide champion / challenger.

* :mod:`.register` - the register stage: load -> score -> decide -> publish;
* :mod:`.candidate` - its inputs (trained model, run, test metrics, data);
* :mod:`.scoring` - the current champion and the accuracy of a registered classifier;
* :mod:`.promotion` - the pure decision rule; :mod:`.card` - the version's tags and model card.
"""
