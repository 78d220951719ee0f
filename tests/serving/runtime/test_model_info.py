"""Which model a server serves: models:/ URIs parsed, aliases resolved against a real registry."""

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from mnist_mlops.serving.runtime.model_info import ServedModel, parse_models_uri, resolve_model
from mnist_mlops.serving.runtime.pyfunc import log_classifier
from tests.helpers.models import tiny_model, use_test_store


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("models:/mnist-classifier@champion", ("mnist-classifier", None, "champion")),
        ("models:/mnist-classifier/3", ("mnist-classifier", "3", None)),
        ("models:/mnist-classifier/Production", ("mnist-classifier", None, None)),
        ("models:/m-0123456789abcdef", None),
        ("runs:/0123/model", None),
        ("/tmp/model", None),
    ],
)
def test_models_uris_are_split_into_name_version_and_alias(uri, parts):
    assert parse_models_uri(uri) == parts


def test_an_alias_is_pinned_to_the_version_it_points_to_at_start():
    use_test_store()
    model = tiny_model()
    for _ in range(2):
        with mlflow.start_run():
            log_classifier(model, registered_model_name="digits")
    client = MlflowClient()
    client.set_registered_model_alias("digits", "champion", "1")
    served = resolve_model("models:/digits@champion")
    assert served == ServedModel(
        "models:/digits@champion", "models:/digits/1", "digits", "1", "champion"
    )
    client.set_registered_model_alias("digits", "champion", "2")
    assert resolve_model("models:/digits@champion").load_uri == "models:/digits/2"
    assert served.load_uri == "models:/digits/1"  # resolved once: the alias moving is not seen
    assert resolve_model("models:/digits/1") == ServedModel(
        "models:/digits/1", "models:/digits/1", "digits", "1"
    )
    assert ServedModel.from_json(served.to_json()) == served
    for unknown in ("models:/digits@nope", "models:/digits/9", "models:/nope@champion"):
        with pytest.raises(MlflowException):
            resolve_model(unknown)


def test_a_uri_outside_the_registry_is_served_as_given():
    assert resolve_model("runs:/0123/model") == ServedModel("runs:/0123/model", "runs:/0123/model")
