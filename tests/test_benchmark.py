"""The training-step benchmark prints one consistent JSON line."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
