"""Fine-tuning: warm start from a run or a SavedModel, partial training, early stopping on the best epoch."""

import dataclasses
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from pear_tf.data.splits import DataConfig
from pear_tf.exporting import saved_model
from pear_tf.model import build_rating_model
from pear_tf.training import config as train_config
from pear_tf.training import run, warm_start
from tests.conftest import TINY

SMALL = DataConfig(dataset="synthetic", synthetic_sizes=(32, 16, 16), seed=3)


def _config(tmp_path, name, **changes):
    base = train_config.TrainConfig(
        model=dataclasses.replace(TINY), data=SMALL, model_dir=str(tmp_path / name),
        export_dir=str(tmp_path / "savedmodels" / name), batch_size=8, epochs=1, mc_samples=0, verbose=0,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


@pytest.fixture(scope="module")
def generic(tmp_path_factory):
    """A tiny trained PEAR on the synthetic AADB-like set (6 bins): (its config, its result)."""
    tmp_path = tmp_path_factory.mktemp("generic")
    config = _config(tmp_path, "generic", epochs=1)
    return config, run.train_and_evaluate(config)


def _fresh(bins):
    keras.utils.set_random_seed(11)  # Keras' initializers draw from the global seed
    model = build_rating_model(dataclasses.replace(TINY, bin_values=tuple(float(b) for b in bins)), seed=11)
    model.build_all()
    return model


def _equal(a, b):
    return all(np.array_equal(x.numpy(), y.numpy()) for x, y in zip(warm_start.weights(a), warm_start.weights(b)))


def test_warm_start_from_a_run_loads_every_part_by_value(generic):
    config, _ = generic
    source, _ = warm_start.load_source(config.model_dir)
    target = _fresh(range(6))
    report = warm_start.warm_start(target, config.model_dir)
    assert report == {"copied": list(warm_start.PARTS), "fresh": []}
    for part in warm_start.PARTS:
        assert _equal(getattr(target, part), getattr(source, part)), part


def test_warm_start_from_a_saved_model_with_other_bins_starts_the_head_fresh(generic):
    config, result = generic
    source, parts = warm_start.load_source(os.path.dirname(result["export_path"]))
    assert parts == ("backbone", "latents", "aesthetic_head")
    target = _fresh(range(1, 11))  # a 10-bin data set: the 6-bin head does not fit
    untouched = _fresh(range(1, 11))  # the same global seed: what a fresh head is
    report = warm_start.warm_start(target, result["export_path"])
    assert report["copied"] == ["backbone", "latents"]
    assert [part for part, _ in report["fresh"]] == ["aesthetic_head", "reconstruction_head"]
    assert _equal(target.backbone, source.backbone) and _equal(target.latents, source.latents)
    assert _equal(target.aesthetic_head, untouched.aesthetic_head)
    assert not _equal(target.backbone, untouched.backbone)
    # The SavedModel's scores come back from the rebuilt source exactly.
    images = tf.random.uniform([2, 32, 32, 3], 0, 255, seed=1)
    exported = tf.saved_model.load(result["export_path"]).signatures["predict_images"](images=images)
    np.testing.assert_allclose(source.score(images)["score"], exported["score"], rtol=1e-5)


def test_a_bad_init_from_is_named():
    with pytest.raises(FileNotFoundError, match="--init_from='/nowhere'"):
        warm_start.load_source("/nowhere")


def test_heads_only_fine_tuning_on_a_custom_csv_trains_the_head_and_keeps_the_backbone_and_latents(
    generic, tmp_path, capsys
):
    config, result = generic
    from pear_tf.data import synthetic

    data = synthetic.generate(40, "aadb", 37, seed=5)
    rows = ["path,score"]
    for i, (image, distribution) in enumerate(zip(data["image"], data["distribution"])):
        path = tmp_path / f"photo_{i}.png"
        tf.keras.utils.save_img(str(path), image)
        rows.append(f"{path},{float(distribution @ np.arange(6)):.3f}")  # the generic model's 0..5 scale
    (tmp_path / "ratings.csv").write_text("\n".join(rows) + "\n")
    # The same six bins as the generic model: its head is copied in, so a trained head is one that moved.
    custom = DataConfig(dataset="custom", data_dir=str(tmp_path / "ratings.csv"), custom_bins=(0, 1, 2, 3, 4, 5))
    tuned = _config(tmp_path, "tuned", data=custom, init_from=result["export_path"], trainable="heads", epochs=2)
    tuned_result = run.train_and_evaluate(tuned)
    assert ": loaded backbone, latents, aesthetic_head." in capsys.readouterr().out
    source, _ = warm_start.load_source(result["export_path"])
    model, _ = saved_model.restore_model(tuned.model_dir)
    assert _equal(model.backbone, source.backbone) and _equal(model.latents, source.latents)
    moved = [float(np.abs(a.numpy() - b.numpy()).max()) for a, b in
             zip(warm_start.weights(model.aesthetic_head), warm_start.weights(source.aesthetic_head))]  # fmt: skip
    assert len(moved) == 2 and min(moved) > 1e-4, moved  # kernel and bias both trained
    with open(os.path.join(tuned_result["export_path"], "assets", "pear_metadata.json")) as f:
        assert json.load(f)["bin_values"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_early_stopping_keeps_and_exports_the_best_epoch(tmp_path):
    # A high learning rate makes the validation SRCC move around, so "best" is not simply "last".
    config = _config(tmp_path, "early", epochs=6, early_stopping_patience=2, head_lr=3e-2, backbone_lr=3e-2)
    result = run.train_and_evaluate(config)
    srcc = result["history"]["val_srcc"]
    with open(os.path.join(config.model_dir, "best.json")) as f:
        best = json.load(f)
    assert best["epoch"] == int(np.nanargmax(srcc)) + 1 and best["val_srcc"] == pytest.approx(np.nanmax(srcc))
    assert len(srcc) == config.epochs or len(srcc) == best["epoch"] + config.early_stopping_patience
    # The export holds the best epoch's weights: the same scores as the best checkpoint.
    model, _ = saved_model.restore_model(config.model_dir)
    best_path = tf.train.latest_checkpoint(os.path.join(config.model_dir, "best"))
    tf.train.Checkpoint(model=model).restore(best_path).expect_partial()  # the optimizers stay behind
    images = tf.random.uniform([3, 32, 32, 3], 0, 255, seed=2)
    exported = tf.saved_model.load(result["export_path"]).signatures["predict_images"](images=images)
    np.testing.assert_allclose(model.score(images)["score"], exported["score"], rtol=1e-5)


def test_best_checkpoint_counts_patience_across_a_resume(tmp_path, tiny_model):
    from pear_tf.training.checkpointing import BestCheckpoint

    best = BestCheckpoint(tiny_model, str(tmp_path), str(tmp_path), patience=2)
    assert [best.update(e, 10 * (e + 1), s) for e, s in enumerate([0.1, 0.3, 0.2])] == [False, False, False]
    assert best.record == {"epoch": 2, "step": 20, "val_srcc": 0.3, "epochs_since": 1}
    resumed = BestCheckpoint(tiny_model, str(tmp_path), str(tmp_path), patience=2)  # a restarted run reads best.json
    assert resumed.update(3, 40, float("nan")) is True and resumed.exhausted
    assert BestCheckpoint(tiny_model, str(tmp_path), str(tmp_path), patience=2).exhausted
    assert os.path.basename(resumed.manager.latest_checkpoint) == "ckpt-20"
    # Another worker's scratch folder (not the run folder) restores the run folder's best epoch.
    scratch = BestCheckpoint(tiny_model, str(tmp_path), str(tmp_path / ".worker_1"), patience=2)
    assert scratch.record["step"] == 20 and scratch.restore()["epoch"] == 2


@pytest.mark.parametrize("objective", ["pear", "ce"])
def test_a_model_only_checkpoint_holds_every_learned_variable(tmp_path, objective):
    # Keras layers kept in a Python list are invisible to tf.train.Checkpoint: the best
    # epoch, the export and the warm start restore through the model alone.
    model = build_rating_model(dataclasses.replace(TINY, recon_size=64, objective=objective))
    model.build_all()
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    saved = [k for k in tf.train.load_checkpoint(path).get_variable_to_shape_map() if k.startswith("model/")]
    learned = [v for part in model.scoring_layers() + (getattr(model, "reconstruction_head", None),) if part
               for v in warm_start.weights(part)]  # fmt: skip
    assert len(saved) >= len(learned) == len([v for v in model.variables if "seed_generator" not in v.path])
