"""Study tables are read checked against the plan: a truncated or foreign table is one line naming it."""

import pandas as pd
import pytest

from surrogate_study.analysis.study_tables import (
    STUDY_COLUMNS,
    read_study_history,
    read_study_table,
    read_study_tables,
)
from surrogate_study.analysis.aggregate import HISTORY_KEYS
from surrogate_study.storage.atomic import CorruptFileError

CELLS = [f"cell{k}" for k in range(5)]


@pytest.fixture
def table(tmp_path):
    frame = pd.DataFrame([{column: 0.5 for column in STUDY_COLUMNS} | {"cell": c, "status": "ok"} for c in CELLS])
    path = tmp_path / "shape.csv"
    frame.to_csv(path, index=False)
    return path


def _message(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text and "delete it and rerun" in text
    return text


def test_a_complete_table_of_the_planned_cells_is_read(table):
    assert list(read_study_table(table, CELLS)["cell"]) == CELLS
    assert list(read_study_tables([table], {"shape": CELLS})) == ["shape"]


def test_a_table_cut_mid_row_is_named(table):
    text = table.read_text()
    table.write_text(text[: text.rindex("cell3") + 9])  # inside the row of cell3
    with pytest.raises(CorruptFileError) as error:
        read_study_table(table, CELLS)
    assert _message(error).startswith(f"{table}: its last line is cut short")


def test_a_table_cut_at_a_row_boundary_is_named_by_its_row_count(table):
    lines = table.read_text().splitlines(keepends=True)
    table.write_text("".join(lines[:3]))  # header + 2 complete rows
    with pytest.raises(CorruptFileError) as error:
        read_study_tables([table], {"shape": CELLS})
    assert _message(error).startswith(f"{table}: holds 2 row(s) for the 5 planned cells (3 planned cell(s) missing")


def test_a_table_of_other_cells_or_without_a_column_is_named(table):
    with pytest.raises(CorruptFileError, match="holds 5 row"):
        read_study_table(table, [*CELLS[:4], "another"])
    pd.read_csv(table).drop(columns="test_accuracy").to_csv(table, index=False)
    with pytest.raises(CorruptFileError) as error:
        read_study_table(table, CELLS)
    assert "missing column(s) test_accuracy" in _message(error)
    table.write_text("")
    with pytest.raises(CorruptFileError, match="is empty"):
        read_study_table(table, CELLS)


def test_a_history_is_checked_for_truncation_and_foreign_cells(tmp_path):
    path = tmp_path / "shape_history.csv"
    frame = pd.DataFrame([{"cell": c, **{k: 0 for k in HISTORY_KEYS}} for c in CELLS])
    frame.to_csv(path, index=False)
    assert len(read_study_history(path, CELLS)) == 5
    with pytest.raises(CorruptFileError, match="outside the plan"):
        read_study_history(path, CELLS[:3])
    path.write_text(path.read_text()[:-3])
    with pytest.raises(CorruptFileError, match="cut short"):
        read_study_history(path, CELLS)
