"""The reconstruction choices line of captions and Table 1: values away from the documented defaults, read only
from the cells a choice applies to."""

import pandas as pd

from surrogate_study.analysis.choices import CHOICES, choices_line, non_default
from surrogate_study.analysis.tables import parameter_table
from surrogate_study.plan.config import default_config


def table(**overrides):
    row = {"cell": "c0", "dataset": "randman", "recurrent": False, "shape": "superspike", "init_gain": 1.0,
           "recurrent_init_gain": None, "recurrent_delay": 2, "tau_readout": 0.02, "sigmoid_peak": "one",
           "task_seed": 1}
    return pd.DataFrame([{**row, **overrides}])


def test_the_defaults_are_the_package_defaults():
    defaults = {choice.key: choice.default() for choice in CHOICES}
    config = default_config()
    assert defaults["model.recurrent_delay"] == config["model"]["recurrent_delay"] == 2
    assert defaults["dataset.seed"] == config["dataset"]["seed"] == 1
    assert defaults["surrogate.sigmoid_peak"] == "one"


def test_only_values_away_from_the_default_are_named_and_only_where_they_apply():
    assert choices_line([table()]) == "Reconstruction choices: all at their defaults (docs/science.md)."
    # a delay of 1 in a feed-forward cell changes nothing: not named; in a recurrent cell it is
    assert non_default([table(recurrent_delay=1)]) == {}
    found = non_default([table(recurrent=True, recurrent_delay=1, init_gain=10.0, tau_readout=0.01)])
    assert found == {"init gain g of W and W_out (model.init_gain)": ["10"],
                     "recurrent delay d (steps) (model.recurrent_delay)": ["1"],
                     "readout τ (s) (model.tau_readout)": ["0.01"]}
    # Sigmoid′'s peak only under Sigmoid′, the task seed only on Randman
    assert non_default([table(sigmoid_peak="quarter_beta")]) == {}
    assert "Sigmoid′ peak (surrogate.sigmoid_peak)" in non_default([table(shape="sigmoid", sigmoid_peak="quarter_beta")])
    assert non_default([table(dataset="mnist5k", task_seed=None)]) == {}
    line = choices_line([table(init_gain=10.0), table(init_gain=1.0, cell="c1")])
    assert line == ("Reconstruction choices away from their defaults (docs/science.md): "
                    "init gain g of W and W_out (model.init_gain) = 10.")


def test_table_one_lists_every_choice_per_dataset():
    cells = table(recurrent=True, init_gain=10.0)
    for column, value in {"n_inputs": 20, "hidden": "100", "n_hidden_layers": 1, "n_classes": 10, "dt": 1e-3,
                          "n_steps": 100, "seed": 0, "batch_size": 250, "epochs": 40, "lr": 0.05, "beta": 10.0,
                          "lambda_low": 100.0, "nu_low": 1e-3, "lambda_up": 0.0, "nu_up": 0.0, "status": "ok",
                          "valid_accuracy": 0.9}.items():
        cells[column] = value
    rows = parameter_table(cells)["randman"]
    assert rows["recurrent delay d (steps) [model.recurrent_delay]"] == "2"
    assert rows["init gain of V (empty: g) [model.recurrent_init_gain]"] == "as g"
    assert rows["Sigmoid′ peak [surrogate.sigmoid_peak]"] == "–"  # no Sigmoid′ cell
