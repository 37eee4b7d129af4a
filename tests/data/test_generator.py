import numpy as np
import pandas as pd

from slipway.data.generator import ChurnSettings, generate_churn


def test_same_seed_same_table_and_other_seed_other_table():
    a = generate_churn(ChurnSettings(rows=500, seed=1))
    b = generate_churn(ChurnSettings(rows=500, seed=1))
    c = generate_churn(ChurnSettings(rows=500, seed=2))
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_ids_are_unique_and_offset_keeps_periods_apart():
    first = generate_churn(ChurnSettings(rows=300, seed=1))
    second = generate_churn(ChurnSettings(rows=300, seed=2, id_offset=300))
    ids = pd.concat([first.customer_id, second.customer_id])
    assert ids.is_unique and len(ids) == 600


def test_churn_rate_is_realistic(churn_frame):
    assert 0.2 < churn_frame.churned.mean() < 0.45


def test_longer_contracts_churn_less(churn_frame):
    rate = churn_frame.groupby("contract").churned.mean()
    assert rate["month-to-month"] > rate["one-year"] > rate["two-year"]


def test_numeric_shift_moves_only_the_named_feature():
    base = generate_churn(ChurnSettings(rows=5000, seed=3))
    shifted = generate_churn(ChurnSettings(rows=5000, seed=3, numeric_shift={"monthly_charges": 1.0}))
    assert shifted.monthly_charges.mean() - base.monthly_charges.mean() > 15
    np.testing.assert_array_equal(base.age, shifted.age)


def test_category_weights_change_the_mix():
    shifted = generate_churn(
        ChurnSettings(
            rows=4000, seed=3, category_weights={"contract": {"month-to-month": 1, "one-year": 0, "two-year": 0}}
        )
    )
    assert set(shifted.contract) == {"month-to-month"}


def test_concept_shift_removes_the_signal():
    from sklearn.metrics import roc_auc_score

    usual = generate_churn(ChurnSettings(rows=8000, seed=4))
    broken = generate_churn(ChurnSettings(rows=8000, seed=4, concept_shift=1.0))
    score = lambda df: roc_auc_score(df.churned, -df.tenure_months)  # noqa: E731
    assert score(usual) > 0.65
    assert abs(score(broken) - 0.5) < 0.05


def test_zero_rows_is_an_empty_table_with_all_columns():
    empty = generate_churn(ChurnSettings(rows=0))
    assert empty.empty and "churned" in empty.columns
