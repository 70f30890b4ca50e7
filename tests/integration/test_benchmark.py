"""The training-step benchmark prints one consistent JSON line."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_prints_consistent_ratios():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "train_step.py"), "--hidden", "16", "--batch", "8",
         "--steps-per-sample", "20", "--warmup", "1", "--steps", "3", "--cells", "1", "2", "--threads", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    timings = report["median_step_s"]
    assert timings["core"] > 0 and timings["plain"] > 0
    assert report["ratio_core_vs_plain"] == timings["core"] / timings["plain"]
    if timings["snntorch"] is not None:
        assert report["ratio_core_vs_snntorch"] == timings["core"] / timings["snntorch"]
    assert set(report["batched"]) == {"1", "2"}
    two = report["batched"]["2"]
    assert two["networks_per_hour"] == 3600 * 2 / (two["step_s"] * report["steps_per_network"])
    assert report["steps_per_network"] == 1000 * 50  # ceil(8000 / 8) batches x 50 epochs


def test_paper_scale_benchmark_reports_consistent_networks_per_hour():
    """Tiny sizes; the baseline is the commit itself (HEAD), so only the arithmetic is checked here."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "paper_scale.py"), "--baseline", "HEAD", "--cells", "2",
         "--hidden", "8", "--batch", "10", "--samples-per-class", "4", "--rounds", "1", "--train-batches", "1",
         "--warm-batches", "1", "--eval-samples", "4", "--configs", "ff1", "rec1"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert set(report["configs"]) == {"ff1", "rec1"}
    assert report["batches_per_epoch"] == 4 and report["eval_samples_per_epoch"] == 8  # 32 train, 4 + 4 eval
    for entry in report["configs"].values():
        for core in ("this", "baseline"):
            e = entry[core]
            assert e["step_s"] > 0 and e["eval_sample_s"] > 0
            assert e["epoch_s"] == report["batches_per_epoch"] * e["step_s"] + 8 * e["eval_sample_s"]
            assert e["networks_per_hour"] == 3600 * 2 / (50 * e["epoch_s"])
        assert entry["ratio"] == entry["this"]["networks_per_hour"] / entry["baseline"]["networks_per_hour"]


def test_small_gemm_benchmark_reports_every_way_with_consistent_ratios_and_the_same_product():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "small_gemm.py"), "--neurons", "20",
                             "--steps", "12", "--reps", "20", "--rounds", "2"], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    for product, ways in [("recurrent_term", {"np.dot", "tiles"}),
                          ("input_gradient", {"np.dot", "tiles", "np.dot_stacked"})]:
        entry = report[product]
        assert set(entry["us_per_product"]) == set(entry["ratio_to_np_dot"]) == set(entry["max_error_vs_float64"]) == ways
        us = entry["us_per_product"]
        for way in ways:
            assert us[way] > 0
            assert entry["ratio_to_np_dot"][way] == us["np.dot"] / us[way]
            assert entry["max_error_vs_float64"][way] < 1e-5  # each way computes the product
    from surrogate_study.kernels.runtime import small_gemm_in_blas

    assert report["small_gemm_in_blas"] == small_gemm_in_blas()
    assert isinstance(report["input_gradient"]["stacked_bit_equal"], bool)


def test_paper_scale_benchmark_rejects_bad_sizes():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "paper_scale.py"), "--eval-samples", "1001"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode != 0 and "--eval-samples" in result.stderr


def test_depth_probe_reports_each_case_at_its_best_epoch(tmp_path):
    """benchmarks/depth_probe.py: one row per case, with the accuracy that case's metrics.json reports for its
    best validation epoch, and the per-layer activity of that epoch."""
    import yaml

    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump({
        "seed": 0, "model": {"hidden": [12, 12], "init_gain": 10.0},
        "dataset": {"samples_per_class": 20, "classes": 3, "units": 6},
        "training": {"batch_size": 16, "lr": 0.05, "epochs": 1},
    }))
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "depth_probe.py"), "--base", str(base), "--epochs", "3",
         "--threads", "1", "--out", str(tmp_path / "out"), "--case", "training.lr=0.05",
         "--case", "training.lr=0.001,regularization.upper.strength=10,regularization.upper.threshold=1"],
        capture_output=True, text=True, check=True, timeout=600,
    )
    rows = [line for line in result.stdout.splitlines() if line.startswith("| training.lr")]
    assert len(rows) == 2
    for k, row in enumerate(rows):
        cells = [c.strip() for c in row.strip("|").split("|")]
        metrics = json.loads((tmp_path / "out" / f"case{k}" / "metrics.json").read_text())
        assert cells[1] == metrics["status"] and int(cells[2]) == metrics["best_epoch"]
        assert float(cells[4]) == round(metrics["test_accuracy"], 3)
        assert len(cells[6].split(" / ")) == 2  # two hidden layers


def test_history_appends_one_row_per_value_with_the_commit_and_machine(tmp_path):
    """benchmarks/history.py: what a benchmark run with --record adds to history.csv."""
    import csv

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import history
    finally:
        sys.path.pop(0)
    path = tmp_path / "history.csv"
    assert history.append("paper_scale.py", [("ff1", "ratio", 1.25), ("rec1", "ratio", 0.5)], note="K=8", path=path) == 2
    assert history.append("small_gemm.py", [("tiles", "us", 2.0)], path=path) == 1
    rows = list(csv.DictReader(path.open()))
    assert tuple(rows[0]) == history.COLUMNS  # the header once, then the rows in order
    assert [(r["benchmark"], r["network"], float(r["value"])) for r in rows] == [
        ("paper_scale.py", "ff1", 1.25), ("paper_scale.py", "rec1", 0.5), ("small_gemm.py", "tiles", 2.0)]
    assert rows[0]["commit"] and rows[0]["machine"].endswith("cores") and rows[0]["note"] == "K=8"
    shipped = list(csv.reader((ROOT / "benchmarks" / "history.csv").open()))
    assert tuple(shipped[0]) == history.COLUMNS and all(len(row) == len(history.COLUMNS) for row in shipped)


def test_compare_runs_finds_a_changed_number_and_ignores_wall_time(tmp_path):
    """benchmarks/compare_runs.py: equal runs (but for wall time and an extra cell) pass; one changed accuracy fails."""
    import pandas as pd

    def run(folder, accuracy, wall, extra=False):
        studies = folder / "results" / "studies"
        studies.mkdir(parents=True)
        rows = [{"cell": "a", "test_accuracy": 0.5, "wall_time_s": wall}, {"cell": "b", "test_accuracy": accuracy,
                                                                           "wall_time_s": wall}]
        pd.DataFrame(rows + ([{"cell": "c", "test_accuracy": 0.1, "wall_time_s": wall}] if extra else [])).to_csv(
            studies / "shape.csv", index=False)
        return folder

    script = [sys.executable, str(ROOT / "benchmarks" / "compare_runs.py")]
    old = run(tmp_path / "old", 0.9, 10.0)
    same = subprocess.run([*script, str(old), str(run(tmp_path / "same", 0.9, 99.0, extra=True))],
                          capture_output=True, text=True)
    assert same.returncode == 0 and "2 cells in both runs: bit for bit the same" in same.stdout
    moved = subprocess.run([*script, str(old), str(run(tmp_path / "moved", 0.9000001, 10.0))],
                           capture_output=True, text=True)
    assert moved.returncode == 1 and "shape.csv: test_accuracy differs in 1 rows" in moved.stdout
