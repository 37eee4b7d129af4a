import pytest

from slipway.data.tables import DataReadError, read_table, split, write_table


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_then_read_round_trips(churn_frame, tmp_path, suffix):
    path = tmp_path / f"table{suffix}"
    write_table(churn_frame.head(50), path)
    again = read_table(path)
    assert list(again.columns) == list(churn_frame.columns) and len(again) == 50


def test_read_errors_say_why(tmp_path):
    with pytest.raises(DataReadError, match="not found"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataReadError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DataReadError, match="cannot be read"):
        read_table(tmp_path / "broken.parquet")
    (tmp_path / "table.xlsx").write_bytes(b"x")
    with pytest.raises(DataReadError, match="unknown format"):
        read_table(tmp_path / "table.xlsx")


def test_split_is_seeded_stratified_and_disjoint(churn_frame):
    train, test = split(churn_frame, "churned", 0.25, seed=5)
    again, _ = split(churn_frame, "churned", 0.25, seed=5)
    assert train.equals(again)
    assert len(test) == 500
    assert set(train.customer_id).isdisjoint(test.customer_id)
    assert abs(train.churned.mean() - test.churned.mean()) < 0.01
