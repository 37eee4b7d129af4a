"""Loading a model runs no code: crafted skops files are refused by exact type name before anything is built.

Each crafted file is a real model archive whose ``schema.json`` gained one attribute holding a gadget: a callable
reachable under a module the loader once trusted by prefix (builtins, sklearn, numpy, collections) or outside it
(os). Every gadget leaves a trace when it runs; the control test shows each one does run when its types are
trusted, the refusal tests show that ``load_model``, the evaluate stage and the serving API refuse it first.
"""

from __future__ import annotations

import io
import json
import pickle
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from fastapi.testclient import TestClient
from support import REPO_ROOT
from support.demo import DEMO_PARAMS, demo_params_file, demo_params_text

from slipway.artifact.persistence import UnsafeModelError, load_model, save_model
from slipway.artifact.trusted_types import BUILTIN_TRUSTED_TYPES
from slipway.config import ConfigError, Task, TrainConfig, load_config
from slipway.pipeline.model import build_pipeline
from slipway.serving import create_app

# ---------------------------------------------------------------- building crafted archives


def _json(value: object) -> dict:
    return {"__class__": type(value).__name__, "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}  # fmt: skip


def _type(module: str, name: str) -> dict:
    return {"__class__": name, "__module__": module, "__loader__": "TypeNode"}


def _list(items: list[dict]) -> dict:
    return {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "content": items}


def _dict(content: dict[str, dict], key_types: list[dict]) -> dict:
    return {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode",
            "content": content, "key_types": _list(key_types)}  # fmt: skip


def _call(module: str, name: str, *args: dict) -> dict:
    """``module.name(*args)`` at load time (skops rebuilds an object from its reduce tuple)."""
    arguments = {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode", "content": list(args)}
    return {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode", "content": arguments}


def _keyed(key_type: dict, key: str) -> dict:
    """A dict whose one key is rebuilt as ``key_type(key)`` at load time."""
    return _dict({key: _json(1)}, [key_type])


def _method(module: str, name: str, *attributes: str) -> dict:
    """``getattr(getattr(module.name, a1), a2)...`` at load time."""
    node = _type(module, name)
    for attribute in attributes:
        node = {"__class__": name, "__module__": module, "__loader__": "MethodNode",
                "content": {"func": attribute, "obj": node}}  # fmt: skip
    return node


def craft(real: Path, gadget: dict, out: Path) -> Path:
    """A copy of a real skops archive whose top-level object gains the attribute ``gadget``."""
    with zipfile.ZipFile(real) as source:
        members = {name: source.read(name) for name in source.namelist()}
    schema = json.loads(members["schema.json"])
    attributes = schema["content"]
    attributes["content"]["gadget"] = gadget
    attributes["key_types"]["content"].append(_type("builtins", "str"))
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    return out


# ---------------------------------------------------------------- the gadgets


class _Pickled:
    """What an attacker's pickle runs when numpy.load unpickles it."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return exec, (self.code,)


@dataclass(frozen=True)
class Gadget:
    name: str
    refused: str
    """A type name the refusal must name."""
    build: Callable[[Path], dict]
    """The gadget's node, given a scratch folder; running it creates ``scratch/ran`` (or the trace ``ran`` reads)."""
    ran: Callable[[Path, BaseException | None], bool] = lambda scratch, error: (scratch / "ran").exists()


def _code(scratch: Path) -> str:
    return f"open({str(scratch / 'ran')!r}, 'w').write('ran')"


def _numpy_load(scratch: Path) -> dict:
    (scratch / "payload.npy").write_bytes(pickle.dumps(_Pickled(_code(scratch))))
    return _call("numpy", "load", _json(str(scratch / "payload.npy")), _json(None), _json(True))


def _shared_library(scratch: Path) -> dict:
    """Any shared library the attacker placed (here a copy of one of numpy's): dlopen maps it into the process."""
    shutil.copy(np.random.bit_generator.__file__, scratch / "libgadget.so")
    return _call("numpy.ctypeslib", "load_library", _json("libgadget"), _json(str(scratch)))


def _victim(scratch: Path) -> Path:
    (scratch / "victim").mkdir(exist_ok=True)
    return scratch / "victim"


GADGETS = [
    Gadget("exec as a dict key type", "builtins.exec", lambda s: _keyed(_type("builtins", "exec"), _code(s))),
    Gadget("eval as a dict key type", "builtins.eval", lambda s: _keyed(_type("builtins", "eval"), _code(s))),
    Gadget("eval called with an argument", "builtins.eval", lambda s: _call("builtins", "eval", _json(_code(s)))),
    Gadget(
        "os.system called with a command",
        "os.system",
        lambda s: _call("os", "system", _json(f"touch {shlex.quote(str(s / 'ran'))}")),
    ),
    Gadget(
        "a scikit-learn test helper running a Python script",
        "sklearn.utils._testing.assert_run_python_script_without_output",
        lambda s: _call("sklearn.utils._testing", "assert_run_python_script_without_output", _json(_code(s))),
    ),
    Gadget(
        "a scikit-learn test helper deleting a folder",
        "sklearn.utils._testing._delete_folder",
        lambda s: _call("sklearn.utils._testing", "_delete_folder", _json(str(_victim(s)))),
        ran=lambda scratch, error: not (scratch / "victim").exists(),
    ),
    Gadget(
        "a numpy test helper executing a string",
        "numpy.testing._private.utils.runstring",
        lambda s: _call("numpy.testing._private.utils", "runstring", _json(_code(s)), _dict({}, [])),
    ),
    Gadget("numpy.load unpickling a file", "numpy.load", _numpy_load),
    Gadget(
        "numpy.ctypeslib loading a shared library",
        "numpy.ctypeslib.load_library",
        _shared_library,
        ran=lambda scratch, error: str(scratch / "libgadget.so") in Path("/proc/self/maps").read_text(),
    ),
    Gadget(
        "collections' sys.exit as a dict key type",
        "collections._sys.exit",
        lambda s: _keyed(_method("collections", "_sys", "exit"), "stopped by a model file"),
        ran=lambda scratch, error: isinstance(error, SystemExit),
    ),
    Gadget(
        "collections' sys.path.append as a dict key type",
        "collections._sys.append",
        lambda s: _keyed(_method("collections", "_sys", "path", "append"), str(s / "ran")),
        ran=lambda scratch, error: str(scratch / "ran") in sys.path,
    ),
]


@pytest.fixture(scope="module")
def real_model(tmp_path_factory: pytest.TempPathFactory, config, churn_frame: pd.DataFrame) -> Path:
    """A real model archive (logistic regression behind the feature transformer), to graft gadgets onto."""
    rows = churn_frame.head(400)
    model = build_pipeline(config.features, config.train).fit(rows[config.features.all], rows[config.data.target])
    path = tmp_path_factory.mktemp("real") / "model.skops"
    save_model(model, path)
    return path


@pytest.fixture
def restore_sys_path():
    saved = list(sys.path)
    yield
    sys.path[:] = saved


@pytest.mark.parametrize("gadget", GADGETS, ids=lambda g: g.name)
def test_each_gadget_runs_code_when_its_types_are_trusted(gadget, real_model, tmp_path, restore_sys_path) -> None:
    """The control: every crafted file is a live attack (so the refusals below prove something)."""
    crafted = craft(real_model, gadget.build(tmp_path), tmp_path / "model.skops")
    assert gadget.refused in sio.get_untrusted_types(file=crafted)
    error: BaseException | None = None
    try:
        sio.load(crafted, trusted=sio.get_untrusted_types(file=crafted))
    except BaseException as raised:  # sys.exit (a SystemExit) is one of the attacks
        error = raised
    assert gadget.ran(tmp_path, error), error


@pytest.mark.parametrize("gadget", GADGETS, ids=lambda g: g.name)
def test_load_model_refuses_each_gadget_before_it_runs(gadget, real_model, tmp_path, restore_sys_path) -> None:
    crafted = craft(real_model, gadget.build(tmp_path), tmp_path / "model.skops")
    with pytest.raises(UnsafeModelError) as refused:
        load_model(crafted)
    message = str(refused.value)
    assert gadget.refused in message and "train.trusted_types" in message and "\n" not in message
    assert not gadget.ran(tmp_path, refused.value)


@pytest.mark.slow
def test_the_evaluate_stage_refuses_a_crafted_model_in_one_line(real_model, tmp_path) -> None:
    crafted = craft(real_model, GADGETS[0].build(tmp_path), tmp_path / "model.skops")
    result = subprocess.run(
        [sys.executable, "pipelines/evaluate.py", "--model", str(crafted), "--metrics", str(tmp_path / "m.json")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "builtins.exec" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "ran").exists() and not (tmp_path / "m.json").exists()


def test_the_api_reports_a_crafted_model_on_ready_and_runs_nothing(real_model, tmp_path) -> None:
    folder = tmp_path / "served"
    folder.mkdir()
    craft(real_model, GADGETS[4].build(tmp_path), folder / "model.skops")
    with TestClient(create_app(folder, params_path=demo_params_file(tmp_path / "params"))) as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
    assert ready.status_code == 503
    assert "UnsafeModelError" in ready.json()["detail"] and GADGETS[4].refused in ready.json()["detail"]
    assert not (tmp_path / "ran").exists()


# ---------------------------------------------------------------- what still loads


def _targets(frame: pd.DataFrame) -> dict[Task, pd.Series]:
    return {
        "binary": frame["churned"],
        "multiclass": pd.cut(frame["tenure_months"], [-1, 12, 36, 10_000], labels=["new", "settled", "loyal"]),
        "regression": frame["monthly_charges"],
    }


@pytest.fixture(scope="module")
def family_models(tmp_path_factory, config, churn_frame) -> dict[tuple[str, Task], Path]:
    """Every built-in family for every task, trained and saved as the train stage does."""
    rows = churn_frame.head(600)
    folder = tmp_path_factory.mktemp("families")
    saved: dict[tuple[str, Task], Path] = {}
    for family in ("logreg", "hgb"):
        train = TrainConfig(model=family, logreg={"max_iter": 500}, hgb={"max_iter": 15})
        for task, target in _targets(rows).items():
            features = config.features
            if task == "regression":
                features = features.model_copy(
                    update={"numeric": [n for n in features.numeric if n != "monthly_charges"]}
                )
            model = build_pipeline(features, train, task).fit(
                rows[features.all], target.astype(str) if task == "multiclass" else target
            )
            saved[(family, task)] = folder / f"{family}-{task}.skops"
            save_model(model, saved[(family, task)])
    return saved


@pytest.mark.slow
def test_every_built_in_family_loads_and_predicts_as_trained(family_models, churn_frame) -> None:
    rows = churn_frame.head(50)
    for (family, task), path in family_models.items():
        loaded = load_model(path)
        again = sio.load(path, trusted=sio.get_untrusted_types(file=path))
        columns = list(loaded.feature_names_in_)
        if task == "regression":
            assert np.array_equal(loaded.predict(rows[columns]), again.predict(rows[columns])), family
        else:
            assert np.array_equal(loaded.predict_proba(rows[columns]), again.predict_proba(rows[columns])), family


def test_the_reviewed_list_is_exactly_what_the_built_in_families_need(family_models) -> None:
    needed = set().union(*(sio.get_untrusted_types(file=path) for path in family_models.values()))
    assert needed == set(BUILTIN_TRUSTED_TYPES)
    assert all(reason.strip() for reason in BUILTIN_TRUSTED_TYPES.values())


def test_an_estimator_by_import_path_loads_only_with_its_types_declared(config, churn_frame, tmp_path) -> None:
    rows = churn_frame.head(400)
    train = TrainConfig(model="sklearn.ensemble.RandomForestClassifier", estimator_params={"n_estimators": 5})
    model = build_pipeline(config.features, train).fit(rows[config.features.all], rows[config.data.target])
    save_model(model, tmp_path / "forest.skops")
    with pytest.raises(
        UnsafeModelError, match=r"\['sklearn\.tree\._tree\.Tree'\].*params\.yaml under train\.trusted_types"
    ):
        load_model(tmp_path / "forest.skops")
    declared = TrainConfig(model=train.model, trusted_types=["sklearn.tree._tree.Tree"]).trusted_types
    loaded = load_model(tmp_path / "forest.skops", declared)
    assert np.array_equal(
        loaded.predict_proba(rows[config.features.all]), model.predict_proba(rows[config.features.all])
    )


def test_the_api_trusts_what_its_params_declare(config, churn_frame, tmp_path) -> None:
    rows = churn_frame.head(400)
    train = TrainConfig(model="sklearn.ensemble.ExtraTreesClassifier", estimator_params={"n_estimators": 5})
    model = build_pipeline(config.features, train).fit(rows[config.features.all], rows[config.data.target])
    (tmp_path / "model").mkdir()
    save_model(model, tmp_path / "model" / "model.skops")
    params = demo_params_text()
    (tmp_path / "params.yaml").write_text(params)
    with TestClient(create_app(tmp_path / "model", backend="sklearn", params_path=tmp_path / "params.yaml")) as client:
        detail = client.get("/ready").json()["detail"]
    assert "sklearn.tree._tree.Tree" in detail and "train.trusted_types" in detail
    declared = params.replace(
        "  estimator_params: {}", "  estimator_params: {}\n  trusted_types: [sklearn.tree._tree.Tree]"
    )
    assert declared != params
    (tmp_path / "params.yaml").write_text(declared)
    with TestClient(create_app(tmp_path / "model", backend="sklearn", params_path=tmp_path / "params.yaml")) as client:
        assert client.get("/ready").status_code == 200


@pytest.mark.parametrize("name", ["sklearn.", "sklearn.*", "sklearn", "xgboost.sklearn.XGB Classifier"])
def test_trusted_types_are_exact_names_not_prefixes(name: str, tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(
        DEMO_PARAMS.read_text().replace("  estimator_params: {}", f"  trusted_types: [{name!r}]")
    )
    with pytest.raises(ConfigError, match=r"train\.trusted_types.*not an exact type name"):
        load_config(tmp_path / "params.yaml")


# ---------------------------------------------------------------- gradient-boosted trees with bad indices


def _first_tree_nodes(node: object) -> str | None:
    """The archive member holding the node table of the first TreePredictor in a schema."""
    if isinstance(node, dict):
        if node.get("__class__") == "TreePredictor":
            return node["content"]["content"]["nodes"]["file"]
        children: list[object] = list(node.values())
    elif isinstance(node, list):
        children = node
    else:
        return None
    return next((found for child in children if (found := _first_tree_nodes(child))), None)


def _edit_first_tree(path: Path, out: Path, edit: Callable[[np.ndarray], None]) -> Path:
    """A copy of an HGB archive whose first TreePredictor's node table went through ``edit``."""
    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in source.namelist()}
    file_name = _first_tree_nodes(json.loads(members["schema.json"]))
    assert file_name is not None
    nodes = np.load(io.BytesIO(members[file_name]), allow_pickle=False)
    edit(nodes)
    buffer = io.BytesIO()
    np.save(buffer, nodes, allow_pickle=False)
    members[file_name] = buffer.getvalue()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    return out


def _root(field: str, value: int) -> Callable[[np.ndarray], None]:
    def edit(nodes: np.ndarray) -> None:
        assert not nodes["is_leaf"][0]
        nodes[field][0] = value

    return edit


@pytest.mark.parametrize(
    ("field", "value", "what"),
    [
        ("left", 10**6, "left child far outside the tree"),
        ("right", 0, "a cycle back to the root (predict would never end)"),
        ("feature_idx", 500, "a feature outside the input"),
    ],
)
def test_a_tree_with_out_of_range_indices_is_refused(family_models, tmp_path, field, value, what) -> None:
    crafted = _edit_first_tree(family_models[("hgb", "binary")], tmp_path / "model.skops", _root(field, value))
    sio.load(crafted, trusted=sio.get_untrusted_types(file=crafted))  # skops alone accepts it: predict() would not
    with pytest.raises(UnsafeModelError, match="HistGradientBoostingClassifier has a tree whose node 0 points outside"):
        load_model(crafted)
