"""tf.data service: a dispatcher and a worker in this process, training a few steps through them."""

import os

import numpy as np
import pytest

from pear_tf.config import ModelConfig
from pear_tf.data import build, pipeline, service
from pear_tf.data.splits import DataConfig
from pear_tf.training import config as train_config
from pear_tf.training import run as train_lib

SIZES = (32, 8, 8)


@pytest.fixture(scope="module")
def servers():
    dispatcher = service.start_dispatcher()
    worker = service.start_worker(dispatcher.target)
    yield dispatcher, worker
    worker._stop()
    dispatcher._stop()


def test_training_reads_its_batches_from_the_service_workers(servers, tmp_path):
    dispatcher, worker = servers
    cache_dir = str(tmp_path / "cache")
    build.build_resized(DataConfig(synthetic_sizes=SIZES), 32, cache_dir)
    data = DataConfig(synthetic_sizes=SIZES, data_format="resized", cache_dir=cache_dir,
                      data_service_address=dispatcher.target)  # fmt: skip
    config = train_config.TrainConfig(
        model=ModelConfig(backbone="tiny", image_size=32, recon_size=16),
        data=data,
        model_dir=str(tmp_path / "run"),
        export_dir=None,
        batch_size=8,
        epochs=1,
        mc_samples=0,
        verbose=0,
    )
    result = train_lib.train_and_evaluate(config)
    with open(os.path.join(config.model_dir, "history.jsonl")) as f:
        assert len(f.readlines()) == 4  # 32 images in batches of 8
    assert np.isfinite(result["history"]["loss"]).all() and result["metrics"]["num_images"] == 8
    assert dispatcher._num_workers() == 1 and worker._num_tasks() >= 1  # the batches came through the service


def test_every_example_once_per_epoch_across_two_workers(servers):
    dispatcher, _ = servers
    second = service.start_worker(dispatcher.target)
    try:
        split = {"image": np.zeros([12, 37, 37, 3], np.uint8), "index": np.arange(12),
                 "distribution": np.full([12, 6], 1 / 6, np.float32), "attributes": np.zeros([12, 11], np.float32),
                 "attribute_mask": np.zeros([12, 11], np.float32)}  # fmt: skip
        ds = pipeline.make_dataset(split, 32, 1, training=True, data_service_address=dispatcher.target)
        assert sorted(int(b["index"][0]) for b in ds) == list(range(12))
        assert dispatcher._num_workers() == 2
    finally:
        second._stop()


def test_raw_files_are_refused_with_the_way_out():
    split = {"path": np.array(["a.jpg", "b.jpg"]), "distribution": np.ones([2, 6], np.float32) / 6,
             "attributes": np.zeros([2, 11], np.float32), "attribute_mask": np.zeros([2, 11], np.float32)}  # fmt: skip
    with pytest.raises(ValueError, match="--data_format=resized"):
        pipeline.make_dataset(split, 32, 2, training=True, data_service_address="grpc://localhost:1")
