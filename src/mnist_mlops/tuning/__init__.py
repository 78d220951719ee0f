"""Optuna tuning: search space, objective, storage, crash safety, workers and MLflow runs.

Modules: :mod:`.space` (trial suggestions), :mod:`.objective` (one trial = one call of the
training fit loop), :mod:`.storage` (journal file or database URL), :mod:`.journal` (heartbeats
for the journal file), :mod:`.study` (sampler, pruner, counts), :mod:`.trial_runs` (MLflow
child runs), :mod:`.parent_run` (the launch's parent run), :mod:`.plots` (Optuna figures),
:mod:`.summary` (best trial, top-k table), :mod:`.worker` (the trial loop of one process),
:mod:`.pool` (a launch's worker processes), :mod:`.launch` (a whole launch), :mod:`.result`
(what it returns) and :mod:`.outputs` (the study's identity and the tune stage's files).
"""
