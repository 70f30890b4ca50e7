"""MNIST, Fashion-MNIST and SHD through the whole workflow without the internet.

A loopback HTTP server serves small files in the official formats (IDX .gz; SHD HDF5 in zip) under the
official names; a tiny config (Randman tiny, the three datasets added by the `real_datasets` switch and
fetched from the server through `raw_sources`) runs fetch -> preprocess -> train -> Fig. 4, Fig. 6, Table 1
and the claims. Each dataset must have its Table 1 column, Fig. 4 bars, Fig. 6 points and claim rows,
with the input and class counts of its files.
"""

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from surrogate_study.data.idx import write_idx
from surrogate_study.data.shd import write_shd

ROOT = Path(__file__).resolve().parents[2]
REAL = {"mnist": (784, 10), "fashion_mnist": (784, 10), "shd": (700, 20)}  # inputs, classes


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def serve_idx(folder: Path, seed: int, n_train: int = 40, n_test: int = 20) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir()
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n, dtype=np.uint8))


def serve_shd(folder: Path, scratch: Path, n_train: int = 40, n_test: int = 20) -> None:
    rng = np.random.default_rng(2)
    folder.mkdir()
    for split, n in (("train", n_train), ("test", n_test)):
        times = [np.sort(rng.uniform(0, 1.2, rng.integers(50, 200))).astype(np.float32) for _ in range(n)]
        units = [rng.integers(0, 700, len(t)).astype(np.uint16) for t in times]
        labels = np.concatenate([np.arange(20), rng.integers(0, 20, n - 20)])  # every class present
        write_shd(str(scratch / f"shd_{split}.h5"), times, units, labels)
        with zipfile.ZipFile(folder / f"shd_{split}.h5.zip", "w") as archive:
            archive.write(scratch / f"shd_{split}.h5", f"shd_{split}.h5")


def tiny_config(base_url: str, served: Path) -> dict:
    one = {"surrogate.shape": ["superspike"], "seed": [0]}
    return {
        "job_size": 64,
        "train_threads": 1,
        "real_datasets": list(REAL),  # the switch: Table 1 protocol, in `tasks` and `sparsity`
        "raw_sources": {name: {"base_urls": [f"{base_url}{name}/"],
                               "md5": {p.name: md5(p) for p in sorted((served / name).iterdir())}}
                        for name in REAL},
        "datasets": {"randman": {"classes": 4, "steps": 20, "samples_per_class": 10, "max_terms": 100},
                     **{name: {"check_sizes": False} for name in REAL}},  # small files, not 60000 / 10000
        "preprocessing": {"mnist": {"steps": 20}, "fashion_mnist": {"steps": 20}, "shd": {"steps": 20}},
        "base": {"model": {"hidden": [4], "init_gain": 10.0}, "training": {"epochs": 1, "batch_size": 20}},
        "studies": {
            "sg_vs_true": {"axes": {"surrogate.shape": ["superspike", "true"], "seed": [0]}},
            "shape": {"axes": {"surrogate.shape": ["superspike", "sigmoid", "esser"], "seed": [0]}},
            "shape_control": {"axes": {"surrogate.shape": ["constant"], "seed": [0]}},
            # the switch adds its cases to the `task` axis; the axis after it cuts their 30 / 50 epochs to 1
            "tasks": {"axes": {"task": {"randman-1": {}}, "training.epochs": [1],
                               "surrogate.shape": ["superspike", "sigmoid", "esser"], "seed": [0]}},
            "scale": {"axes": {"variant": {"sCtl": {}, "aDR": {"surrogate": {"scale": "asymptotic"},
                                                               "model": {"detach_reset": False}}}, "seed": [0]}},
            "scale_depth": {"axes": {"variant": {"sCtl": {}}, "model.hidden": [[4, 4]], "seed": [0]}},
            "scale_recurrent": {"fixed": {"model": {"recurrent": True}},
                                "axes": {"variant": {"sCtl": {}}, **one}},
            "sparsity": {"fixed": {"regularization": {"upper": {"strength": 10.0}}},
                         "axes": {"training.epochs": [1], "lower_bound": {"on": {}},
                                  "regularization.upper.threshold": [0.1, 1.0, 10.0], "seed": [0]}},
        },
        "figures": {"surrogate_betas": [10.0], "asymptotic_betas": [10.0], "randman_alphas": [1.0], "best_runs": 1,
                    "top_cells": 1},
        "claims": {"shape_spread_max": 0.1, "control_margin_min": 0.05, "large_beta": 100.0, "top_cells": 1,
                   "sensitivity_gap_min": 0.1, "control_gap_max": 0.1, "plateau_fraction": 0.9,
                   "collapse_fraction": 0.5},
    }


def table_columns(markdown: str) -> dict[str, dict[str, str]]:
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    return {column: {row[0]: row[i] for row in rows} for i, column in enumerate(header) if i > 0}


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """The tiny config run for Fig. 4, Fig. 6, Table 1 and the claims, fetching from a loopback server."""
    import functools
    import http.server
    import threading

    from helpers import QuietHandler

    tmp = tmp_path_factory.mktemp("real")
    served, work = tmp / "served", tmp / "work"
    served.mkdir()
    serve_idx(served / "mnist", seed=0)
    serve_idx(served / "fashion_mnist", seed=1)
    serve_shd(served / "shd", tmp)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(served)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        work.mkdir()
        for item in ("Snakefile", "workflow", "config"):
            source = ROOT / item
            (shutil.copytree if source.is_dir() else shutil.copy)(source, work / item)
        config = work / "config" / "real_tiny.yaml"
        config.write_text(yaml.safe_dump(tiny_config(f"http://127.0.0.1:{httpd.server_address[1]}/", served)))
        result = subprocess.run([sys.executable, "-m", "snakemake", "figures/fig4.png", "figures/fig6.png",
                                 "figures/table1.md", "figures/claims.md", "--cores", "2", "--configfile", str(config)],
                                cwd=work, capture_output=True, text=True, timeout=1800)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    finally:
        httpd.shutdown()
        httpd.server_close()
    return work


def test_raw_files_come_from_the_server_under_the_official_names(real_run):
    for name, files in (("mnist", 4), ("fashion_mnist", 4), ("shd", 2)):
        raw = sorted(p.name for p in (real_run / "data" / "raw" / name).iterdir())
        assert len(raw) == files and all(n.endswith((".gz", ".h5.zip")) for n in raw), raw
    with np.load(real_run / "data" / "processed" / "shd.npz") as shd:
        assert (int(shd["n_units"]), int(shd["n_classes"]), len(shd["train_labels"])) == (700, 20, 40)


def test_table1_has_a_column_per_dataset_with_its_inputs_and_classes(real_run):
    columns = table_columns((real_run / "figures" / "table1.md").read_text())
    assert set(columns) == {"randman", *REAL}
    for name, (inputs, classes) in REAL.items():
        column = columns[name]
        assert (column["inputs"], column["readout units"]) == (str(inputs), str(classes)), name
        assert column["batch size"] == "128" and column["time steps"] == "20", name
        assert column["samples train / valid / test"] == "36 / 4 / 20", name  # valid_fraction 0.1 of 40
    assert columns["shd"]["recurrent"] == "True" and columns["shd"]["hidden units (per layer)"] == "128"
    assert columns["mnist"]["epochs"] == columns["shd"]["epochs"] == "1"  # cut by the test config's axis
    assert columns["randman"]["inputs"] == "20"


def test_fig4_and_fig6_draw_every_dataset(real_run):
    fig4 = pd.read_csv(real_run / "results" / "panels" / "fig4.csv")
    assert set(fig4["dataset"]) == {"randman", *REAL}
    assert set(fig4.loc[fig4["dataset"] == "shd", "recurrent"]) == {True}
    for name in REAL:
        assert set(fig4.loc[fig4["dataset"] == name, "shape"]) == {"superspike", "sigmoid", "esser"}, name
    fig6 = pd.read_csv(real_run / "results" / "panels" / "fig6.csv")
    for name in ("randman", *REAL):
        assert sorted(fig6.loc[fig6["dataset"] == name, "nu_up"]) == [0.1, 1.0, 10.0], name
    for name in ("fig4", "fig6"):
        assert (real_run / "figures" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sparsity = pd.read_csv(real_run / "results" / "studies" / "sparsity.csv")
    counts = sparsity.groupby("dataset")[["n_inputs", "n_classes"]].first()
    assert {name: tuple(counts.loc[name]) for name in REAL} == REAL


def test_claims_1_and_3_have_a_row_per_dataset(real_run):
    rows = [line.split("|")[1].strip() for line in (real_run / "figures" / "claims.md").read_text().splitlines()
            if line.startswith("| ") and "---" not in line][1:]
    for name in ("randman", *REAL):
        assert f"1 shape robustness [{name}]" in rows, rows
        assert f"3 sparse activity [{name}]" in rows, rows
