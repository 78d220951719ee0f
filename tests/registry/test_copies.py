from mlflow.entities.model_registry import ModelVersion

from mnist_mlops.registry.copies import _model_ids


def version(model_id, source):
    return ModelVersion(
        name="m", version="1", creation_timestamp=0, source=source, model_id=model_id
    )


def test_a_version_from_a_tracking_server_names_its_copy_by_its_source():
    # a tracking server's REST answer leaves model_id empty: the copy is still in use
    assert _model_ids(version(None, "models:/m-abc")) == {"m-abc"}
    assert _model_ids(version("m-abc", "models:/m-abc")) == {"m-abc"}


def test_a_version_of_other_sources_names_only_its_model_id():
    assert _model_ids(version(None, "runs:/123/model")) == set()
    assert _model_ids(version("m-1", "s3://bucket/x")) == {"m-1"}
