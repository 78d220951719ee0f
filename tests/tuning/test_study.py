import optuna

from mnist_mlops.tuning.study import STARTUP_TRIALS, make_pruner


def test_the_median_pruner_lets_slow_starters_train_three_epochs():
    study = optuna.create_study(direction="maximize", pruner=make_pruner("median"))
    for _ in range(STARTUP_TRIALS):
        trial = study.ask()
        for step in range(1, 6):
            trial.report(0.85 + 0.01 * step, step)
        study.tell(trial, 0.90)
    slow = study.ask()
    for step in (1, 2):  # below every finished trial, yet not pruned in its first epochs
        slow.report(0.80, step)
        assert not slow.should_prune(), step
    slow.report(0.80, 3)
    assert slow.should_prune()
