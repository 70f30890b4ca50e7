"""Real datasets: checksummed fetch from a local HTTP server, preprocessing, offline behaviour."""

import hashlib
import socket
import zipfile

import numpy as np
import pytest
import torch

from surrogate_study.plan.config import resolve_config
from surrogate_study.data.splits import load_splits
from surrogate_study.data.fetch import ChecksumMismatch, DatasetUnavailable, fetch
from surrogate_study.plan.dataset_catalog import RemoteFile
from surrogate_study.data.idx import read_idx, write_idx
from surrogate_study.data.latency import latency_times
from surrogate_study.data.real_datasets import load_processed, prepare_idx_dataset, prepare_mnist5k, prepare_shd
from surrogate_study.data.shd import bin_spikes, write_shd

LATENCY = {"steps": 50, "tau_eff": 20.0, "threshold": 0.2}
FAST = {"retries": 1, "backoff_s": 0.0, "timeout_s": 5.0}


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def make_idx_files(folder, n_train=30, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, array in arrays.items():
        write_idx(folder / name, array)
    return arrays


def remotes_for(folder, base, names):
    return tuple(RemoteFile(name, (base + name,), md5(folder / name)) for name in names)


def test_idx_round_trip(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), array)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")


def test_fetch_verify_and_preprocess_mnist_format(server, tmp_path):
    served, base = server
    arrays = make_idx_files(served)
    remotes = remotes_for(served, base, arrays)
    out = prepare_idx_dataset("mnist", tmp_path / "raw", tmp_path / "mnist.npz", LATENCY, remotes=remotes, **FAST)
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == sorted(arrays)
    splits = load_processed({"name": "mnist", "path": str(out), "valid_fraction": 0.2, "split_seed": 0,
                             "check_sizes": False})
    assert [len(s) for s in splits] == [24, 6, 10]
    test = splits.test.dense(torch.arange(10))
    images = arrays["t10k-images-idx3-ubyte.gz"].reshape(10, -1) / 255.0
    assert test.shape == (10, 50, 784)
    # one spike per pixel above threshold, none for dark pixels
    assert torch.equal(test.sum(dim=1), torch.as_tensor(images > 0.2, dtype=torch.float32))
    assert torch.equal(splits.test.labels, torch.as_tensor(arrays["t10k-labels-idx1-ubyte.gz"], dtype=torch.int64))
    with pytest.raises(ValueError, match="expected 60000 / 10000"):
        load_processed({"name": "mnist", "path": str(out), "valid_fraction": 0.2, "split_seed": 0,
                        "check_sizes": True})


def test_corrupted_download_fails_and_leaves_nothing(server, tmp_path):
    served, base = server
    make_idx_files(served)
    name = "train-labels-idx1-ubyte.gz"
    expected = md5(served / name)
    (served / name).write_bytes(b"corrupted" + (served / name).read_bytes())
    with pytest.raises(ChecksumMismatch) as error:
        fetch(RemoteFile(name, (base + name,), expected), tmp_path / "raw", **FAST)
    assert expected in str(error.value) and md5(served / name) in str(error.value)
    assert not any((tmp_path / "raw").iterdir())


def test_bad_local_file_is_removed_naming_both_hashes(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "f.gz").write_bytes(b"not the real file")
    actual = md5(raw / "f.gz")
    with pytest.raises(ChecksumMismatch, match=f"md5 {actual} does not match the expected {'0' * 32}"):
        fetch(RemoteFile("f.gz", (closed_port_url() + "f.gz",), "0" * 32), raw, **FAST)
    assert not (raw / "f.gz").exists()


def test_verified_local_file_is_used_without_network(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "f.gz").write_bytes(b"an air-gapped copy")
    remote = RemoteFile("f.gz", (closed_port_url() + "f.gz",), md5(raw / "f.gz"))
    assert fetch(remote, raw, **FAST) == raw / "f.gz"


def test_no_network_gives_one_clear_message(tmp_path):
    url = closed_port_url() + "train-images-idx3-ubyte.gz"
    with pytest.raises(DatasetUnavailable) as error:
        fetch(RemoteFile("train-images-idx3-ubyte.gz", (url,), "0" * 32), tmp_path / "raw", **FAST)
    message = str(error.value)
    assert "train-images-idx3-ubyte.gz" in message and url in message
    assert str(tmp_path / "raw" / "train-images-idx3-ubyte.gz") in message
    assert not (tmp_path / "raw" / "train-images-idx3-ubyte.gz").exists()


def test_latency_code_puts_brighter_pixels_earlier_and_drops_dark_ones():
    intensity = np.array([0.0, 0.1, 0.2, 0.21, 0.3, 0.5, 1.0])
    times = latency_times(intensity, tau_eff=20.0, threshold=0.2, t_max=99)
    assert list(times[:3]) == [-1, -1, -1]  # at or below threshold: silent
    spiking = times[3:]
    assert all(a >= b for a, b in zip(spiking, spiking[1:])) and spiking[0] > spiking[-1]
    assert spiking[-1] == int(20.0 * np.log(1.0 / 0.8))


def test_shd_binning_keeps_the_spikes_inside_the_window():
    times = np.array([0.0, 0.0139, 0.014, 0.5, 1.39, 1.4, 2.0])
    steps, units = bin_spikes(times, np.arange(7), steps=100, max_time=1.4)
    assert list(units) == [0, 1, 2, 3, 4]  # t ≥ 1.4 s dropped
    assert list(steps) == [0, 0, 1, 35, 99]


def test_shd_fetch_and_preprocess(server, tmp_path):
    served, base = server
    rng = np.random.default_rng(1)
    for split, n in (("train", 6), ("test", 3)):
        times = [np.sort(rng.uniform(0, 1.6, rng.integers(5, 40))).astype(np.float32) for _ in range(n)]
        units = [rng.integers(0, 700, len(t)).astype(np.uint16) for t in times]
        write_shd(str(tmp_path / f"shd_{split}.h5"), times, units, rng.integers(0, 20, n))
        with zipfile.ZipFile(served / f"shd_{split}.h5.zip", "w") as archive:
            archive.write(tmp_path / f"shd_{split}.h5", f"shd_{split}.h5")
        if split == "test":
            test_times = times
    remotes = remotes_for(served, base, ["shd_train.h5.zip", "shd_test.h5.zip"])
    out = prepare_shd(tmp_path / "raw", tmp_path / "shd.npz", {"steps": 100, "max_time": 1.4}, remotes=remotes,
                      **FAST)
    splits = load_processed({"name": "shd", "path": str(out), "valid_fraction": 0.5, "split_seed": 0,
                             "check_sizes": False})
    dense = splits.test.dense(torch.arange(3))
    assert dense.shape == (3, 100, 700)
    assert dense.sum(dim=(1, 2)).tolist() == [float((t < 1.4).sum()) for t in test_times]


def test_offline_mnist_subset_is_a_registered_dataset(tmp_path):
    path = prepare_mnist5k(tmp_path / "mnist5k.npz", LATENCY)
    config = resolve_config({"dataset": {"name": "mnist5k", "path": str(path)}})
    splits = load_splits(config["dataset"])
    assert [len(s) for s in splits] == [4050, 450, 500]
    assert splits.train.n_units == 784 and splits.train.n_steps == 50
    assert torch.bincount(torch.cat([s.labels for s in splits])).tolist() == [500] * 10


def test_missing_processed_file_says_how_to_make_it(tmp_path):
    config = resolve_config({"dataset": {"name": "mnist", "path": str(tmp_path / "none.npz")}})
    with pytest.raises(FileNotFoundError, match="python -m surrogate_study prepare mnist"):
        load_splits(config["dataset"])
