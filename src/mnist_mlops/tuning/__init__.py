"""Optuna tuning: search space, objective, storage, crash safety, workers and MLflow runs.

Modules: :mod:`.space` (trial suggestions), :mod:`.objective` (one trial = one Keras fit),
:mod:`.storage` (journal file or database URL), :mod:`.journal` (heartbeats for the journal
file), :mod:`.study` (sampler, pruner, counts), :mod:`.trial_runs` (MLflow child runs),
:mod:`.parent_run` (the launch's parent run), :mod:`.plots` (Optuna figures),
:mod:`.summary` (best trial, top-k table), :mod:`.worker` (the trial loop of one process),
:mod:`.launch` (a whole launch) and :mod:`.outputs` (the tune stage's files).
"""
