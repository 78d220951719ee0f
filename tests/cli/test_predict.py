import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from PIL import Image

from mnist_mlops.cli.main import main
from mnist_mlops.serving.files.reading import read_image
from mnist_mlops.serving.runtime.predictions import probabilities_of
from mnist_mlops.serving.runtime.pyfunc import log_classifier
from tests.helpers.models import tiny_model, use_test_store
from tests.helpers.predictions import record_probabilities

NAME = "mnist-classifier"


@pytest.fixture
def champion(tiny_splits):
    use_test_store()
    with mlflow.start_run():
        info = log_classifier(tiny_model(tiny_splits["train"]), registered_model_name=NAME)
    MlflowClient().set_registered_model_alias(NAME, "champion", info.registered_model_version)
    return mlflow.pyfunc.load_model(f"models:/{NAME}@champion")


def cli(capsys, *args):
    code = main(["--params", "no-such-params.yaml", "predict", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def printed_digits(out):
    return [int(line.split("\t")[1]) for line in out.splitlines()]


def test_png_and_jpeg_images_light_or_dark(champion, tiny_splits, tmp_path, capsys):
    x = tiny_splits["test"].x[:4]
    images = np.round(x.reshape(-1, 28, 28) * 255).astype(np.uint8)
    files = []
    for i, image in enumerate(images):
        big = Image.fromarray(image).resize((84, 84), Image.Resampling.NEAREST)
        if i % 2:  # dark digit on a light background, in colour
            big = Image.fromarray(255 - np.asarray(big)).convert("RGB")
        files.append(tmp_path / f"digit{i}.{'jpg' if i == 3 else 'png'}")
        big.save(files[-1])
    light_on_dark = tmp_path / "light.png"
    Image.fromarray(images[1]).resize((84, 84), Image.Resampling.NEAREST).save(light_on_dark)
    normalised = read_image(files[1])
    assert normalised.shape == (28, 28) and normalised[0].max() == 0  # bright on black
    np.testing.assert_array_equal(normalised, read_image(light_on_dark))
    code, out, _ = cli(capsys, *files)
    assert code == 0
    seen = np.stack([read_image(path) for path in files]).reshape(-1, 784) / np.float32(255)
    expected = champion.predict(seen)
    assert printed_digits(out) == expected["digit"].tolist()
    assert out.splitlines()[0].startswith(f"{files[0]}#0\t")


def test_npy_and_csv_batches_with_json_output(champion, tiny_splits, tmp_path, capsys):
    x = tiny_splits["test"].x[:5]
    np.save(tmp_path / "images.npy", np.round(x * 255).astype(np.uint8).reshape(-1, 28, 28))
    header = ",".join(f"pixel{i}" for i in range(784))
    np.savetxt(tmp_path / "rows.csv", x, delimiter=",", header=header, comments="")
    output = tmp_path / "predictions.json"
    code, out, err = cli(capsys, tmp_path / "images.npy", tmp_path / "rows.csv", "--output", output)
    assert code == 0 and "10 predictions written" in out, err
    records = json.loads(output.read_text())
    expected = champion.predict(x)
    assert [r["digit"] for r in records] == expected["digit"].tolist() * 2
    assert [r["index"] for r in records] == [0, 1, 2, 3, 4] * 2
    np.testing.assert_allclose(
        record_probabilities(records), np.tile(probabilities_of(expected), (2, 1)), atol=1e-2
    )
    assert all(r["confidence"] == max(record_probabilities([r])[0]) for r in records)


def test_bad_files_fail_with_a_clear_message(champion, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("7")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    np.save(tmp_path / "short.npy", np.zeros((2, 100)))
    for name, message in [
        ("notes.txt", "unsupported file type '.txt'"),
        ("broken.png", "not a readable image"),
        ("short.npy", "shape (2, 100)"),
        ("missing.png", "file not found"),
    ]:
        code, _, err = cli(capsys, tmp_path / name)
        assert code == 1 and message in err, err
    code, _, err = cli(capsys, tmp_path / "short.npy", "--model", "models:/nope@champion")
    assert code == 1


def test_a_folder_is_scored_in_batches_with_a_progress_bar(champion, tiny_splits, tmp_path, capsys):
    x = tiny_splits["test"].x
    many = np.resize(np.round(x * 255).astype(np.uint8), (2500, 784))  # 3 scoring batches
    folder = tmp_path / "digits"
    (folder / "scans" / ".thumbnails").mkdir(parents=True)
    np.save(folder / "many.npy", many)
    image = np.round(x[0] * 255).astype(np.uint8).reshape(28, 28)
    Image.fromarray(image).save(folder / "scans" / "one.png")
    Image.fromarray(image).save(folder / "scans" / ".thumbnails" / "hidden.png")
    (folder / "notes.txt").write_text("not a digit")
    output = tmp_path / "predictions.parquet"
    code, out, err = cli(capsys, folder, "--output", output, "--progress")
    assert code == 0 and "2501 predictions written" in out, err
    assert "scoring" in err and "2501/2501" in err and "reading" in err
    frame = pd.read_parquet(output)
    assert list(frame.columns[:4]) == ["file", "index", "digit", "confidence"]
    assert frame["file"].tolist() == [str(folder / "many.npy")] * 2500 + [
        str(folder / "scans" / "one.png")
    ]
    expected = champion.predict(many.astype(np.float32))
    assert frame["digit"].tolist()[:2500] == expected["digit"].tolist()
    assert frame["index"].tolist()[-2:] == [2499, 0]
    code, _, err = cli(capsys, folder / "many.npy", "--no-progress")
    assert code == 0 and "scoring" not in err
    (tmp_path / "empty").mkdir()
    code, _, err = cli(capsys, tmp_path / "empty")
    assert code == 1 and "folder holds no digit files" in err


def test_a_folder_with_a_blank_and_a_broken_picture_scores_the_rest(
    champion, tiny_splits, tmp_path, capsys
):
    folder = tmp_path / "pictures"
    folder.mkdir()
    digit = np.round(tiny_splits["test"].x[0] * 255).astype(np.uint8).reshape(28, 28)
    Image.fromarray(digit).save(folder / "a_digit.png")
    Image.new("L", (64, 64), 255).save(folder / "b_blank.png")
    (folder / "c_broken.jpg").write_bytes(b"not a jpeg")
    Image.fromarray(255 - digit).save(folder / "d_digit.png")
    code, out, err = cli(capsys, folder)
    assert code == 0, err
    assert [line.split("#")[0] for line in out.splitlines()] == [
        str(folder / "a_digit.png"),
        str(folder / "d_digit.png"),
    ]
    assert f"skipped {folder / 'b_blank.png'}: no digit found" in err
    assert f"skipped {folder / 'c_broken.jpg'}: not a readable image" in err
    code, out, err = cli(capsys, folder, "--strict")
    assert code == 1 and out == "" and "b_blank.png: no digit found" in err
    (folder / "a_digit.png").unlink()
    (folder / "d_digit.png").unlink()
    code, out, err = cli(capsys, folder)
    assert code == 1 and out == "", err
    assert "nothing could be scored" in err and "b_blank.png" in err and "c_broken.jpg" in err
