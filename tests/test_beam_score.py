"""pear_tf.beam_score on DirectRunner: each image scored once as pear_tf.predict scores it, or listed with why."""

import csv
import dataclasses
import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from pear_tf.exporting import saved_model as export_lib
from pear_tf.inference import beam as beam_lib
from pear_tf.inference import rows as rows_lib
from pear_tf.inference import signatures
from pear_tf.inference.saved_model import SavedModelScorer
from pear_tf.inference.versions import latest_version_dir
from pear_tf.model import build_rating_model
from tests.conftest import TINY

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IN_PROCESS = ["--runner=DirectRunner"]
GOOD = ("good_0.jpg", "good_1.jpg", "good_2.jpg", "good_3.jpg", "gray.jpg", "cmyk.jpg", "png_named.jpg", "photo.png")
# The reasons a user reads in PREFIX-errors-*.jsonl, by file.
BAD = {
    "truncated.jpg": "could not decode: jpeg::Uncompress failed",
    "empty.jpg": "could not decode: empty (zero bytes)",
    "garbage.jpg": "could not decode: unknown image format",
}


def _save(path, pixels, mode=None, format=None):
    Image.fromarray(pixels, mode).save(path, format=format)


def _write_images(folder):
    rng = np.random.default_rng(0)
    pixels = lambda *channels: rng.integers(0, 255, (40, 47, *channels), dtype=np.uint8)  # noqa: E731
    for i in range(4):
        _save(folder / f"good_{i}.jpg", pixels(3))
    _save(folder / "gray.jpg", pixels())
    _save(folder / "cmyk.jpg", pixels(4), "CMYK")
    _save(folder / "png_named.jpg", pixels(3), format="PNG")
    _save(folder / "photo.png", pixels(3))
    jpeg = (folder / "good_0.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "garbage.jpg").write_bytes(b"not an image at all " * 20)


def _export(objective, base):
    tf.keras.utils.set_random_seed(0)
    model = build_rating_model(dataclasses.replace(TINY, objective=objective))
    model.build_all()
    return export_lib.export_saved_model(model, str(base), export_lib.export_metadata(model, "synthetic"), 4)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A PEAR and a baseline SavedModel, a folder of good and broken images, and predict's rows for them."""
    root = tmp_path_factory.mktemp("beam")
    images = root / "images"
    images.mkdir()
    _write_images(images)
    pear, baseline = _export("pear", root / "savedmodels" / "pear"), _export("ce", root / "savedmodels" / "baseline")
    paths = sorted(str(p) for p in images.iterdir())
    predicted = {r["path"]: r for r in rows_lib.score_paths(SavedModelScorer(pear), paths, batch_size=4)}
    assert sorted(os.path.basename(p) for p, r in predicted.items() if "error" not in r) == sorted(GOOD)
    return {"root": root, "images": images, "pear": pear, "baseline": baseline, "predicted": predicted}


def _shards(prefix, suffix):
    """Rows of PREFIX-SSSSS-of-NNNNN.suffix (not the -errors / -selected files)."""
    return sorted(glob.glob(f"{prefix}-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9].{suffix}"))


def _jsonl(pattern):
    return [json.loads(line) for path in sorted(glob.glob(pattern)) for line in open(path)]


def _assert_like_predict(rows, predicted, attributes=True):
    """Each readable image exactly once, with predict's score, distribution and attributes (1e-5)."""
    assert sorted(r["path"] for r in rows) == sorted(p for p, r in predicted.items() if "error" not in r)
    for row in rows:
        expected = predicted[row["path"]]
        np.testing.assert_allclose(row["score"], expected["score"], atol=1e-5)
        np.testing.assert_allclose(row["distribution"], expected["distribution"], atol=1e-5)
        if attributes:
            np.testing.assert_allclose(list(row["attributes"].values()), expected["attributes"], atol=1e-5)
        assert row["score_std"] >= 0


def _assert_errors(errors, expected):
    assert sorted(os.path.basename(e["path"]) for e in errors) == sorted(expected)
    for error in errors:
        assert error["error"].startswith(expected[os.path.basename(error["path"])]), error


def test_a_folder_pattern_scores_every_good_image_once_and_lists_every_bad_one(world, tmp_path):
    predicted = world["predicted"]
    good_scores = sorted(r["score"] for r in predicted.values() if "error" not in r)
    threshold = good_scores[len(good_scores) // 2]
    prefix = str(tmp_path / "out" / "scores")
    config = beam_lib.BeamScoreConfig(
        model=os.path.dirname(world["pear"]),  # the base folder: its latest version
        inputs=(str(world["images"] / "*.jpg"), str(world["images"] / "*.png")),
        output=prefix,
        min_score=threshold,
        batch_size=16,  # good and bad images share a batch: the bad ones must not take the good ones down
    )
    summary = beam_lib.run(config, IN_PROCESS)
    rows = [r for path in _shards(prefix, "jsonl") for r in _jsonl(path)]
    _assert_like_predict(rows, predicted)
    assert {(r["model"], r["version"]) for r in rows} == {("pear", 1)}
    assert list(rows[0]["attributes"])[:2] == ["BalacingElements", "ColorHarmony"]
    _assert_errors(_jsonl(f"{prefix}-errors-*.jsonl"), BAD)
    assert (summary["scored"], summary["failed"]) == (len(GOOD), len(BAD))  # Beam's counters; 11 files in
    selected = [line.strip() for path in glob.glob(f"{prefix}-selected-*.txt") for line in open(path)]
    assert sorted(selected) == sorted(r["path"] for r in rows if r["score"] >= threshold)
    assert 0 < len(selected) < len(rows)


def test_an_input_list_through_the_command_with_two_worker_processes_writes_csv(world, tmp_path):
    missing = str(world["images"] / "missing.jpg")
    listed = sorted(str(p) for p in world["images"].iterdir()) + [missing]
    list_file = tmp_path / "paths.txt"
    list_file.write_text("# every image, and one that does not exist\n\n" + "\n".join(listed) + "\n")
    prefix = str(tmp_path / "scores")
    command = [sys.executable, "-m", "pear_tf.beam_score", f"--model={world['pear']}", f"--input_list={list_file}"]
    command += [f"--output={prefix}", "--format=csv", "--batch_size=4"]
    command += ["--runner=DirectRunner", "--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    process = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    assert f"Scored {len(GOOD)} images, {len(BAD) + 1} failed" in process.stdout
    with_header = [list(csv.DictReader(open(path))) for path in _shards(prefix, "csv")]
    rows = [row for shard in with_header for row in shard]
    names = list(rows[0])
    assert list(names)[:4] == ["path", "score", "score_std", "distribution"] and "Symmetry" in names
    # The calibrated outputs come last (an uncalibrated export has calibrated_score only: the identity map).
    assert names[-1] == "calibrated_score"
    columns = ("path", "score", "score_std", "distribution", "model", "version", "calibrated_score")
    attributes = [n for n in names if n not in columns]
    parsed = [
        {
            "path": r["path"],
            "score": float(r["score"]),
            "score_std": float(r["score_std"]),
            "distribution": [float(p) for p in r["distribution"].split()],
            "attributes": {n: float(r[n]) for n in attributes},
        }
        for r in rows
    ]
    _assert_like_predict(parsed, world["predicted"])
    assert {(r["model"], r["version"]) for r in rows} == {("pear", "1")}
    _assert_errors(_jsonl(f"{prefix}-errors-*.jsonl"), {**BAD, "missing.jpg": "could not read: No such file"})


def _example(path, data):
    feature = {}
    if path is not None:
        feature["image/filename"] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[path.encode()]))
    if data is not None:
        feature["image/encoded"] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[data]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_tfrecords_of_examples_are_scored_like_the_files_and_read_back_as_parquet(world, tmp_path):
    import pyarrow.parquet as pq

    paths = sorted(str(p) for p in world["images"].iterdir())
    records = [_example(p, open(p, "rb").read()) for p in paths]
    records += [_example("no_image.jpg", None), b"not a tf.train.Example"]
    shard_name = "images.tfrecord-{:05d}-of-00002"
    for shard in range(2):  # two files, as TFDS and ExampleGen write shards
        with tf.io.TFRecordWriter(str(tmp_path / shard_name.format(shard))) as writer:
            for record in records[shard::2]:
                writer.write(record)
    prefix = str(tmp_path / "scores")
    config = beam_lib.BeamScoreConfig(
        model=world["pear"], input_tfrecord=str(tmp_path / "images.tfrecord-*"), output=prefix, format="parquet"
    )
    summary = beam_lib.run(config, IN_PROCESS)
    rows = [r for path in _shards(prefix, "parquet") for r in pq.read_table(path).to_pylist()]
    _assert_like_predict(rows, world["predicted"])
    not_an_example = shard_name.format((len(records) - 1) % 2) + " (a record)"  # named by its file
    expected = {"no_image.jpg": "not a tf.train.Example with image/encoded"}
    expected[not_an_example] = "not a tf.train.Example with image/filename and image/encoded"
    _assert_errors(_jsonl(f"{prefix}-errors-*.jsonl"), {**BAD, **expected})
    assert summary["scored"] + summary["failed"] == len(records)


def test_a_baseline_model_writes_rows_without_attributes(world, tmp_path):
    prefix = str(tmp_path / "scores")
    good = [str(world["images"] / name) for name in GOOD[:3]]
    list_file = tmp_path / "paths.txt"
    list_file.write_text("\n".join(good))
    config = beam_lib.BeamScoreConfig(model=world["baseline"], input_list=str(list_file), output=prefix)
    summary = beam_lib.run(config, IN_PROCESS)
    rows = _jsonl(f"{prefix}-00000-of-*.jsonl")
    expected = {r["path"]: r for r in rows_lib.score_paths(SavedModelScorer(world["baseline"]), good)}
    _assert_like_predict(rows, expected, attributes=False)
    assert all("attributes" not in r for r in rows) and {r["model"] for r in rows} == {"baseline"}
    assert (summary["scored"], summary["failed"]) == (3, 0) and _jsonl(f"{prefix}-errors-*.jsonl") == []


def test_bad_flags_get_a_clear_error_before_the_pipeline_starts(world, tmp_path):
    good = beam_lib.BeamScoreConfig(
        model=world["pear"], inputs=(str(world["images"] / "*.jpg"),), output=str(tmp_path / "out" / "s")
    )
    (tmp_path / "a_file").write_text("")
    (tmp_path / "empty_list.txt").write_text("# nothing\n\n")
    cases = {
        "holds no SavedModel versions": {"model": str(tmp_path / "nowhere")},
        "matches no files": {"inputs": (str(world["images"] / "*.tiff"),)},
        "is not writable": {"output": str(tmp_path / "a_file" / "scores")},
        "is a folder": {"output": str(tmp_path)},
        "is a folder: give a pattern": {"inputs": (str(world["images"]),)},
        "--input_list='.*' does not exist": {"inputs": (), "input_list": str(tmp_path / "no_list.txt")},
        "lists no paths": {"inputs": (), "input_list": str(tmp_path / "empty_list.txt")},
        "Nothing to score": {"inputs": ()},
        "--format='xml'": {"format": "xml"},
    }
    for message, change in cases.items():
        with pytest.raises((ValueError, FileNotFoundError), match=message):
            beam_lib.run(dataclasses.replace(good, **change), IN_PROCESS)
    assert not (tmp_path / "out").exists()  # nothing ran, nothing was written
    info = beam_lib.check_config(good)
    assert (info.name, info.version, len(info.attribute_names)) == ("pear", 1, 11)


def test_a_batch_that_fails_is_scored_image_by_image():
    calls = []

    class Scorer:
        def score_bytes(self, data):
            calls.append(len(data))
            if b"bad" in data:
                raise tf.errors.InvalidArgumentError(
                    None, None, "Graph execution error:\n\nBad JPEG.\n\t [[{{node d}}]]"
                )
            n = len(data)
            return {"score": np.arange(n, dtype=np.float32), "score_std": np.zeros(n, np.float32),
                    "distribution": np.full((n, 2), 0.5, np.float32)}  # fmt: skip

    info = beam_lib.ModelInfo("m/1", "m", 1, ())
    rows = beam_lib.score_batch(Scorer(), [("a", b"ok"), ("b", b"bad"), ("c", b"ok")], info)
    assert calls == [3, 1, 1, 1]
    assert [r.get("error") for r in rows] == [None, "could not decode: Bad JPEG.", None]
    assert [r["path"] for r in rows] == ["a", "b", "c"]


def test_the_launcher_checks_its_model_and_inputs_without_loading_tensorflow(world, tmp_path):
    # Only the workers score: a launcher that imported TensorFlow spent seconds of every run on it (issue 25).
    config = f"model={str(world['pear'])!r}, inputs=({str(world['images'] / '*.jpg')!r},), output={str(tmp_path / 's')!r}"
    probe = (
        "import sys; import pear_tf.beam_score; from pear_tf.inference import beam; "
        f"info = beam.check_config(beam.BeamScoreConfig({config})); "
        "loaded = {'tensorflow', 'keras', 'tensorflow_probability', 'tf_keras'} & set(sys.modules); "
        "print(info.name, info.version, len(info.attribute_names), sorted(loaded))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "pear 1 11 []", result.stdout


def test_the_signature_reader_agrees_with_tensorflows_protos(world, tmp_path):
    from tensorflow.core.protobuf import saved_model_pb2

    def inputs(data):
        return {name: sorted(names) for name, names in signatures.signature_inputs(data).items()}

    exported = open(os.path.join(latest_version_dir(world["pear"]), "saved_model.pb"), "rb").read()
    meta_graph = saved_model_pb2.SavedModel.FromString(exported).meta_graphs[0]
    assert inputs(exported) == {name: sorted(s.inputs) for name, s in meta_graph.signature_def.items()}
    assert "image_bytes" in inputs(exported)["serving_default"] and len(inputs(exported)) > 1

    def saved_model(signature_inputs):
        proto = saved_model_pb2.SavedModel(saved_model_schema_version=1)
        meta = proto.meta_graphs.add()
        meta.meta_info_def.tags.append("serve")
        for name, names in signature_inputs.items():
            for input_name in names:
                meta.signature_def[name].inputs[input_name].name = f"{input_name}:0"
            meta.signature_def[name].method_name = "tensorflow/serving/predict"
        return proto.SerializeToString()

    cases = {
        "ok": saved_model({"serving_default": ["image_bytes", "key"], "images": ["images"]}),
        "other input": saved_model({"serving_default": ["images"]}),
        "no signature": saved_model({"images": ["image_bytes"]}),
        "not a proto": b"\xff\xff\xff\x0fnot a SavedModel",
    }
    for case, data in cases.items():
        folder = tmp_path / case.replace(" ", "_")
        folder.mkdir()
        (folder / "saved_model.pb").write_bytes(data)
        if case == "ok":
            signatures.check_serving_signature(str(folder))
            assert inputs(data) == {"serving_default": ["image_bytes", "key"], "images": ["images"]}
        else:
            with pytest.raises(ValueError, match="has no serving_default signature on image_bytes"):
                signatures.check_serving_signature(str(folder))
