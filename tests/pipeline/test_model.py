import hashlib

import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from slipway.artifact.persistence import UnsafeModelError, load_model, save_model, untrusted_types
from slipway.config import ConfigError, TrainConfig
from slipway.pipeline.model import build_estimator, build_pipeline


def test_builtin_families_get_their_params_and_seed():
    logreg = build_estimator(TrainConfig(model="logreg", seed=3, logreg={"C": 0.5}))
    assert isinstance(logreg, LogisticRegression) and logreg.C == 0.5 and logreg.random_state == 3
    hgb = build_estimator(TrainConfig(model="hgb", hgb={"max_iter": 20}))
    assert isinstance(hgb, HistGradientBoostingClassifier) and hgb.max_iter == 20


def test_estimator_by_import_path():
    forest = build_estimator(
        TrainConfig(model="sklearn.ensemble.RandomForestClassifier", estimator_params={"n_estimators": 7}, seed=9)
    )
    assert type(forest).__name__ == "RandomForestClassifier"
    assert forest.n_estimators == 7 and forest.random_state == 9


@pytest.mark.parametrize(
    ("train", "message"),
    [
        (TrainConfig(model="sklearn.ensemble.NoSuchForest"), r"train\.model: cannot import"),
        (TrainConfig(model="logreg", logreg={"n_trees": 3}), r"train\.logreg: parameters do not fit"),
        (TrainConfig(model="os.path.join"), r"train\.model: .* is not a scikit-learn style estimator"),
    ],
)
def test_bad_model_settings_name_the_key(train, message):
    with pytest.raises(ConfigError, match=message):
        build_estimator(train)


def test_saved_model_is_byte_reproducible_and_loads_with_trusted_types(config, churn_frame, tmp_path):
    x, y = churn_frame[config.features.all], churn_frame[config.data.target]
    paths = []
    for name in ("a", "b"):
        model = build_pipeline(config.features, config.train).fit(x, y)
        save_model(model, tmp_path / f"{name}.skops")
        paths.append(tmp_path / f"{name}.skops")
    digests = {hashlib.md5(p.read_bytes()).hexdigest() for p in paths}
    assert len(digests) == 1
    loaded = load_model(paths[0])
    assert (loaded.predict_proba(x) == model.predict_proba(x)).all()


def test_load_refuses_types_outside_the_allow_list(config, churn_frame, tmp_path, monkeypatch):
    model = build_pipeline(config.features, config.train).fit(
        churn_frame[config.features.all], churn_frame[config.data.target]
    )
    save_model(model, tmp_path / "m.skops")
    assert untrusted_types(tmp_path / "m.skops") == []
    monkeypatch.setattr("slipway.artifact.persistence.BUILTIN_TRUSTED_TYPES", {})
    assert untrusted_types(tmp_path / "m.skops") == ["numpy.dtype"]
    with pytest.raises(UnsafeModelError, match=r"refusing to load untrusted types \['numpy.dtype'\]"):
        load_model(tmp_path / "m.skops")
    assert load_model(tmp_path / "m.skops", ["numpy.dtype"]).steps  # declared in params.yaml: trusted
