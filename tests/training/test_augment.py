"""train.augment: seeded random shifts/rotations/zoom of training batches only."""

import numpy as np
import pytest
from pydantic import ValidationError

from mnist_mlops.config.params import AugmentConfig, ModelConfig, TrainConfig
from mnist_mlops.training.augment import augmentation_layers, augmented_batches
from mnist_mlops.training.fit import fit

ON = AugmentConfig(enabled=True)


def batches(splits, config=ON, seed=7, batch_size=16):
    train = splits["train"]
    data = augmented_batches(train.x, train.y, config, batch_size, seed)
    return [(x.numpy(), y.numpy()) for x, y in data]


def test_augmented_batches_move_the_pixels_keep_labels_range_and_repeat_for_a_seed(tiny_splits):
    train = tiny_splits["train"]
    first, again, other = batches(tiny_splits), batches(tiny_splits), batches(tiny_splits, seed=8)
    x = np.concatenate([batch for batch, _ in first])
    y = np.concatenate([labels for _, labels in first])
    assert x.shape == train.x.shape and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert sorted(y.tolist()) == sorted(train.y.tolist())  # every digit once, labels kept
    for (a, _), (b, _) in zip(first, again, strict=True):  # the same seed, the same batches
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(x, np.concatenate([batch for batch, _ in other]))
    # the images changed: match each augmented image to its original by label and order
    order = np.argsort(y, kind="stable")
    originals = train.x[np.argsort(train.y, kind="stable")]
    assert np.abs(x[order] - originals).mean() > 0.01


def test_strength_zero_turns_a_change_off_and_all_zero_changes_nothing(tiny_splits):
    assert [type(layer).__name__ for layer in augmentation_layers(ON, 0)] == [
        "RandomTranslation",
        "RandomRotation",
        "RandomZoom",
    ]
    assert [
        type(layer).__name__ for layer in augmentation_layers(AugmentConfig(shift=0, zoom=0), 0)
    ] == ["RandomRotation"]
    none = AugmentConfig(enabled=True, shift=0, rotation_deg=0, zoom=0)
    x = np.concatenate([batch for batch, _ in batches(tiny_splits, config=none, batch_size=500)])
    train = tiny_splits["train"]
    assert sorted(map(bytes, x)) == sorted(map(bytes, train.x.astype(np.float32)))


@pytest.mark.parametrize(
    "values, field",
    [({"shift": 0.6}, "shift"), ({"rotation_deg": -1}, "rotation_deg"), ({"zoom": 1}, "zoom")],
)
def test_out_of_range_strengths_are_refused(values, field):
    with pytest.raises(ValidationError, match=field):
        AugmentConfig(**values)


def test_a_fit_with_augmentation_trains_and_leaves_no_augmentation_in_the_model(tiny_splits):
    train = TrainConfig(epochs=1, batch_size=32, augment=ON)
    result = fit(ModelConfig(hidden_layers=[16]), train, tiny_splits["train"], tiny_splits["val"])
    assert len(result.history["loss"]) == 1 and np.isfinite(result.history["loss"][0])
    names = [type(layer).__name__ for layer in result.model.layers]
    assert not any(name.startswith("Random") for name in names), names
    again = fit(ModelConfig(hidden_layers=[16]), train, tiny_splits["train"], tiny_splits["val"])
    assert again.history == result.history  # seeded: the same augmented batches
