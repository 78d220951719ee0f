"""One source of defaults: the typed defaults are the values of the repository's params.yaml."""

import subprocess
import sys
from pathlib import Path

import yaml
from pydantic import BaseModel

from mnist_mlops.config.params import Params, parse_params
from mnist_mlops.config.space import COURSE_SPACE, SearchSpace
from tests.helpers.workspace import repository_params_text


def differences(ours: dict, theirs: dict, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested mappings."""
    found = []
    for key in sorted(set(ours) | set(theirs)):
        a, b = ours.get(key), theirs.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found += differences(a, b, f"{prefix}{key}.")
        elif a != b:
            found.append(f"{prefix}{key}: default {a!r}, params.yaml {b!r}")
    return found


def test_every_default_is_the_value_in_params_yaml():
    defaults = Params().model_dump(mode="json")
    from_file = parse_params(yaml.safe_load(repository_params_text())).model_dump(mode="json")
    assert differences(defaults, from_file) == []
    assert parse_params(yaml.safe_load(repository_params_text())) == Params() == parse_params({})


def section_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every dotted key of the sections (the dimensions of tune.space, not their insides)."""
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(prefix + name)
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel) and nested is not SearchSpace:
            keys |= section_keys(nested, f"{prefix}{name}.")
        elif nested is SearchSpace:
            keys |= {f"{prefix}{name}.{dimension}" for dimension in SearchSpace.model_fields}
    return keys


def yaml_keys(mapping: dict, prefix: str = "") -> set[str]:
    keys = set()
    for name, value in mapping.items():
        keys.add(prefix + name)
        if isinstance(value, dict) and prefix != "tune.space.":
            keys |= yaml_keys(value, f"{prefix}{name}.")
    return keys


def test_params_yaml_spells_out_every_key():
    raw = yaml.safe_load(repository_params_text())
    assert yaml_keys(raw) == section_keys(Params)


def test_the_default_space_is_the_course_space_and_searches_every_mlp_dimension():
    assert Params().tune.space == COURSE_SPACE
    # augmentation and the CNN are opt-in (tune.space.augment: [false, true], kind: [mlp, cnn],
    # then the CNN's filters and kernel_size): the course's study searches the MLP
    opt_in = ("augment", "kind", "filters", "kernel_size")
    searched = [name for name in SearchSpace.model_fields if name not in opt_in]
    assert COURSE_SPACE.searched() == searched
    assert (COURSE_SPACE.augment, COURSE_SPACE.kind) == (False, "mlp")
    assert (COURSE_SPACE.filters, COURSE_SPACE.kernel_size) == (None, None)
    assert Params().tune.n_trials == 8  # within 20x one course fit on 60k (pipeline_scale)
    assert Params().tune.workers == 2  # one trial per core of a 2-core machine
    # a space given in a file replaces the default: the dimensions it leaves out are fixed
    assert parse_params({"tune": {"space": {"epochs": 3}}}).tune.space.searched() == []


def test_the_register_section_is_the_attribute_register():
    params = parse_params({"register": {"model_name": "digits", "min_improvement": 0.01}})
    assert (params.register.model_name, params.register.min_improvement) == ("digits", 0.01)
    assert Params().register.model_name == "mnist-classifier"
    assert "registry" not in Params.model_fields


def test_the_resolved_dump_reads_back_to_the_same_params():
    # `mnist-mlops params` prints this dump: it is a valid params.yaml with the same values
    params = parse_params(yaml.safe_load(repository_params_text()))
    assert parse_params(yaml.safe_load(yaml.safe_dump(params.model_dump(mode="json")))) == params


def test_importing_the_params_warns_about_nothing():
    # the field `register` shadows the metaclass's `register`: the warning is silenced there
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import mnist_mlops.config.params"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_tests_read_the_committed_params_not_the_workspace_file(tmp_path):
    """After `dvc exp run -S ...` (workspace params.yaml rewritten) the suite still passes."""
    (tmp_path / "params.yaml").write_text("train:\n  epochs: 5\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "params.yaml"], cwd=tmp_path, check=True)
    (tmp_path / "params.yaml").write_text("train:\n  epochs: 20\n")  # as dvc exp run leaves it
    assert repository_params_text(tmp_path) == "train:\n  epochs: 5\n"
    tests = Path(__file__).resolve().parents[1]
    readers = [
        str(path.relative_to(tests))
        for path in tests.rglob("*.py")
        if 'REPO_ROOT / "params.yaml"' in path.read_text(encoding="utf-8")
        and path != Path(__file__).resolve()
    ]
    assert readers == []


def test_the_default_space_holds_the_course_network():
    """The study can find the course's network (784-512 relu, adam 1e-3, 5 epochs, batch 128)."""
    from optuna.trial import FixedTrial

    from mnist_mlops.tuning.space import suggest

    course = {"epochs": 5, "n_layers": 1, "neurons_1": 512, "activation": "relu", "dropout": 0.0}
    course |= {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 128}
    defaults = Params()
    model, train = suggest(FixedTrial(course), COURSE_SPACE, defaults.model, defaults.train)
    assert (model.hidden_layers, model.activation, model.dropout) == ([512], "relu", 0.0)
    assert (train.epochs, train.batch_size, train.optimizer.name) == (5, 128, "adam")
    assert train.optimizer.learning_rate == 0.001
    # and reaches beyond it: the literature's MLPs train longer, wider and with dropout
    assert COURSE_SPACE.epochs.high >= 20 and COURSE_SPACE.neurons.high >= 1024
    assert COURSE_SPACE.dropout.high >= 0.5
