"""Distribution strategies; multi-worker training with two local workers."""

import json
import os
import re
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from training import strategy

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

DUMPER = textwrap.dedent("""
    import os, gin, keras, numpy as np

    @gin.configurable
    class DumpWeights(keras.callbacks.Callback):
        def __init__(self, folder):
            super().__init__()
            self.folder = folder

        def dump(self, name):
            index = int(os.environ["WORKER_INDEX"])
            np.savez(os.path.join(self.folder, f"{name}_{index}.npz"),
                     *self.model.get_weights())

        def on_train_begin(self, logs=None):
            self.dump("initial")

        def on_train_end(self, logs=None):
            self.dump("final")
    """)


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_strategy_names_and_tf_config(monkeypatch):
    assert strategy.get_strategy("default") is tf.distribute.get_strategy()
    default = strategy.get_strategy()
    assert strategy.is_chief(default) and strategy.worker_index(default) == 0
    assert isinstance(strategy.get_strategy("mirrored"),
                      tf.distribute.MirroredStrategy)
    with pytest.raises(ValueError, match="strategy must be one of"):
        strategy.get_strategy("parameter_server")
    with pytest.raises(ValueError, match="strategy='tpu': no TPU found"):
        strategy.get_strategy("tpu")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="needs the TF_CONFIG"):
        strategy.get_strategy("multi_worker")
    monkeypatch.setenv("TF_CONFIG", "{cluster: 1")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        strategy.get_strategy("multi_worker")
    monkeypatch.setenv("TF_CONFIG", '{"task": {}}')
    with pytest.raises(ValueError, match="with 'cluster' and 'task'"):
        strategy.read_tf_config()


@pytest.mark.large
def test_two_workers_end_with_identical_weights(tmp_path):
    (tmp_path / "dumper.py").write_text(DUMPER)
    cluster = [f"127.0.0.1:{port}" for port in free_ports(2)]
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
            f"import dumper; from training import train; train.run()")
    args = ["--gin_files=gin_configs/tasks/digit_debris.gin",
            "--gin_files=gin_configs/tasks/smoke.gin",
            f"--base_dir={tmp_path / 'run'}",
            "--gin_bindings=DeviceSettings.strategy = 'multi_worker'",
            "--gin_bindings=ScheduleSettings.epochs = 2",
            "--gin_bindings=train.num_sample_movies = 0",
            f"--gin_bindings=DumpWeights.folder = '{tmp_path}'",
            "--gin_bindings=train.callbacks = [@DumpWeights()]"]
    workers = []
    for index in range(2):
        tf_config = {"cluster": {"worker": cluster},
                     "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config),
               "WORKER_INDEX": str(index), "TF_CPP_MIN_LOG_LEVEL": "3"}
        workers.append(subprocess.Popen(
            [sys.executable, "-c", code, *args], cwd=REPO, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=240))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for worker, (_, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    chief = np.load(tmp_path / "final_0.npz")
    other = np.load(tmp_path / "final_1.npz")
    initial = np.load(tmp_path / "initial_0.npz")
    assert len(chief.files) == len(other.files) > 10
    for key in chief.files:
        np.testing.assert_array_equal(chief[key], other[key])
    # The workers trained on different halves of each batch: identical
    # weights after training mean the gradients were all-reduced.
    changed = [not np.array_equal(chief[k], initial[k])
               for k in chief.files]
    assert sum(changed) > len(changed) // 2
    # Only the chief writes the run's outputs; the other worker's go apart.
    assert (tmp_path / "run" / "export" / "saved_model.pb").is_file()
    assert (tmp_path / "run" / "checkpoints" / "last.keras").is_file()
    assert not (tmp_path / "run" / "workers" / "worker_1" /
                "export").exists()
    history = (tmp_path / "run" / "logs" / "history.csv").read_text()
    assert len(history.strip().splitlines()) == 3  # header + 2 epochs
    # Every path the non-chief worker prints exists (issue 10).
    printed = outputs[1][0]
    shown = re.findall(r"SavedModel: (\S+)|--logdir (\S+)|gin config in "
                       r"([^;]+);", printed)
    paths = [p for match in shown for p in match if p]
    assert len(paths) == 3, printed
    assert all(os.path.exists(p) for p in paths), paths
