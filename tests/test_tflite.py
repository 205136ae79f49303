"""TFLite variants convert with builtin ops, run on ai_edge_litert, and agree with the SavedModel."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from pear_tf.exporting import tflite as tflite_lib
from pear_tf.exporting.representative import representative_images
from pear_tf.training import config as train_config
from pear_tf.training import run as train_lib
from pear_tf.config import ModelConfig
from pear_tf.data import splits
from pear_tf.exporting.int8_search import greedy_by_gain
from pear_tf.exporting.layer_ranking import _rounded, ranked_layers
from pear_tf.exporting.tflite_metadata import write_tflite_metadata
from pear_tf.inference.metadata import read_metadata
from pear_tf.inference.tflite import TFLiteScorer, read_tflite_metadata, xnnpack_partitions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny PEAR trained for a few epochs (a model with a real spread of scores)."""
    base = tmp_path_factory.mktemp("tflite")
    config = train_config.TrainConfig(
        model=ModelConfig(backbone="tiny", image_size=32, recon_size=16),
        data=splits.DataConfig(synthetic_sizes=(512, 32, 160)),
        model_dir=str(base / "run"),
        export_dir=str(base / "savedmodels"),
        batch_size=32,
        epochs=4,
        backbone_lr=1e-3,
        mc_samples=4,
        verbose=0,
    )
    path = train_lib.train_and_evaluate(config)["export_path"]
    test_images = representative_images("synthetic", 32, 160, seed=9)
    reference = tf.saved_model.load(path).signatures["predict_images"](images=tf.constant(test_images))
    return str(base), path, test_images, {k: v.numpy() for k, v in reference.items()}


def _scores(model_path, images):
    scorer = TFLiteScorer(model_path)
    outputs = [scorer.score(image) for image in images]
    return {key: np.stack([o[key] for o in outputs]) for key in outputs[0]}


@pytest.mark.parametrize("variant,tolerance", [("float32", 1e-4), ("float16", 1e-2)])
def test_float_variants_match_the_saved_model(trained, variant, tolerance):
    base, path, images, reference = trained
    output = tflite_lib.convert_in_subprocess(path, variant, os.path.join(base, f"{variant}.tflite"))
    outputs = _scores(output, images)
    # Calibrated outputs and the sampled score_std too: fixed noise and builtin-op maps (issue 27).
    for key in ("score", "distribution", "attributes", "score_std", "calibrated_score", "ood_score"):
        np.testing.assert_allclose(outputs[key], reference[key], atol=tolerance, rtol=tolerance, err_msg=key)
    # The file describes itself: no side file.
    metadata = read_tflite_metadata(output)
    assert metadata["bin_values"] == read_metadata(path)["bin_values"]
    assert len(metadata["bin_values"]) == reference["distribution"].shape[1]
    assert metadata["attribute_names"][8] == "RuleOfThirds" and metadata["dataset"] == "synthetic"
    assert metadata["model"] == {"name": "savedmodels", "version": os.path.basename(path)}
    assert metadata["preprocessing"]["input_size"] == [32, 32] and metadata["preprocessing"]["crop"] == "centre"
    assert metadata["tflite"]["variant"] == variant and metadata["tflite"]["input"]["dtype"] == "float32"
    assert TFLiteScorer(output).metadata == metadata


def test_metadata_is_replaced_not_duplicated_and_the_model_still_runs(trained, tmp_path):
    import shutil

    from ai_edge_litert import schema_py_generated as schema

    base, path, images, reference = trained
    converted = os.path.join(base, "float32.tflite")  # written by test_float_variants_match_the_saved_model
    if not os.path.exists(converted):
        tflite_lib.convert_in_subprocess(path, "float32", converted)
    output = shutil.copy(converted, str(tmp_path / "m.tflite"))
    before = _scores(output, images[:10])
    write_tflite_metadata(output, {"note": "replaced"})
    model = schema.Model.GetRootAs(open(output, "rb").read(), 0)
    names = [model.Metadata(i).Name().decode() for i in range(model.MetadataLength())]
    assert names.count("pear_metadata") == 1 and "min_runtime_version" in names
    assert read_tflite_metadata(output) == {"note": "replaced"}
    np.testing.assert_array_equal(_scores(output, images[:10])["score"], before["score"])


def test_uint8_input_takes_the_bytes_and_gives_the_same_outputs(trained, tmp_path):
    _, path, images, _ = trained
    output = tflite_lib.convert_in_subprocess(path, "float32", str(tmp_path / "u8.tflite"), input_type="uint8")
    scorer = TFLiteScorer(output)
    assert scorer.input_type == "uint8" and scorer.runner.get_input_details()["images"]["dtype"] == np.uint8
    assert read_tflite_metadata(output)["tflite"]["input"]["dtype"] == "uint8"
    rounded = np.round(images).clip(0, 255)
    expected = tf.saved_model.load(path).signatures["predict_images"](images=tf.constant(rounded, tf.float32))
    outputs = [scorer.runner(images=rounded[i : i + 1].astype(np.uint8)) for i in range(len(images))]
    for key in ("score", "distribution", "attributes"):
        got = np.concatenate([o[key] for o in outputs])
        np.testing.assert_allclose(got, expected[key].numpy(), atol=1e-4, err_msg=key)


def test_int8_keeps_the_named_number_of_worst_layers_in_float(trained, tmp_path):
    _, path, _, _ = trained
    output = str(tmp_path / "sel.tflite")
    # A bar of 0: this is about which layers stay float, not whether 2 of them are enough.
    _, result = tflite_lib.export_tflite(path, "int8", output, "synthetic", 60, 60, 0.0, "uint8", 2)
    float_layers = read_tflite_metadata(output)["tflite"]["float_layers"]
    assert float_layers["count"] == 2 and len(float_layers["layers"]) == 2
    # The two worst by error against their own spread, in the ranking's order: (rounded error, name). The
    # order is the code's, not the model's: two near-equal errors (0.3015 and 0.3049 steps) once swapped.
    keys = [(-_rounded(layer["relative"]), layer["tensor"]) for layer in float_layers["layers"]]
    assert keys == sorted(keys) and keys[0][0] < 0, float_layers
    # Two layers in float cost size and time against all-int8; both are reported.
    assert float_layers["size_bytes"]["selected"] > float_layers["size_bytes"]["all_int8"]
    assert set(float_layers["invoke_ms"]) == {"selected", "all_int8"}
    assert result["spearman"] > 0.9 and TFLiteScorer(output).input_type == "uint8"
    # The search chose on images of its own (twice the check's count), not on the check's 60.
    assert float_layers["search_images"] == {"count": 120, "which": "separate"}
    assert 0.9 < float_layers["spearman"]["2"] <= 1 and float_layers["spearman"]["2"] != result["spearman"]
    assert set(float_layers["spearman"]) == {"0", "2"}  # all-int8 too: the baseline of the cost


def test_layers_with_equal_or_nearly_equal_errors_rank_by_name():
    layers = [{"tensor": name, "op": "CONV_2D", "steps": steps, "relative": relative} for name, steps, relative in
              [("b", 0.3049, 0.12341), ("a", 0.3015, 0.12344), ("c", 0.9, 0.5), ("d", 0.2, float("nan")),
               ("e", 0.2, float("nan"))]]  # fmt: skip
    for order in (layers, layers[::-1], layers[2:] + layers[:2]):
        assert [layer["tensor"] for layer in ranked_layers(order)] == ["c", "a", "b", "d", "e"]


def test_the_gain_search_adds_layers_by_gain_per_byte_and_keeps_only_those_that_help():
    cost = {"a": 100, "b": 100, "c": 400, "d": 50, "e": 5000, "f": 100}
    gain = {"a": 0.004, "b": 0.004, "c": 0.012, "d": 0.001, "e": 0.05, "f": -0.001}
    calls = []

    def measure(layers):
        calls.append(layers)
        total = sum(gain[name] for name in layers) - (0.006 if {"a", "b"} <= layers else 0.0)  # a, b don't add up
        return {"spearman": 0.97 + total, "mse": 0.01 - total, "bytes": 1000 + sum(cost[name] for name in layers)}

    groups = {name: frozenset(name) for name in "fedcba"}
    kept, steps, stop = greedy_by_gain(groups, measure, 0.982, budget=2000, progress=lambda line: None)
    # Each candidate measured alone once; e (over the budget) and f (no gain) never tried together.
    assert sorted(tuple(c) for c in calls if len(c) == 1) == [(n,) for n in "abcdef"] and calls.count(frozenset()) == 1
    # Order by gain per byte, a before b by name; b does not help after a and is dropped; c reaches the target.
    assert [(step["candidate"], step["kept"]) for step in steps] == [("a", True), ("b", False), ("c", True)]
    assert kept == ["a", "c"] and stop == "reached the target"
    # A candidate is a group kept in float together (a layer and its readers); kept layers are their union.
    groups = {"a": frozenset("ab"), "b": frozenset("b"), "c": frozenset("cd"), "d": frozenset("d"),
              "e": frozenset("e"), "f": frozenset("f")}  # fmt: skip
    kept, steps, stop = greedy_by_gain(groups, measure, 0.99, budget=2000, progress=lambda line: None)
    assert [(step["candidate"], step["kept"]) for step in steps] == [("b", True), ("c", True), ("a", False)], steps
    assert kept == ["b", "c", "d"] and stop == "no candidate left that fits and helps"  # d came with c

    assert greedy_by_gain(groups, lambda layers: {"spearman": 0.99, "mse": 0, "bytes": 1}, 0.98, None) == (
        [], [], "plain int8 reaches the target")

    def worse_together(layers):
        spearman = 0.9 if not layers else 0.91 if len(layers) == 1 else 0.905
        return {"spearman": spearman, "mse": 1 - 0.01 * len(layers), "bytes": 10 * len(layers)}

    groups = {f"l{i:02d}": frozenset([f"l{i:02d}"]) for i in range(30)}
    kept, steps, stop = greedy_by_gain(groups, worse_together, 0.99, None, patience=3, progress=lambda line: None)
    assert kept == ["l00"] and len(steps) == 4 and stop == "3 candidates in a row did not help"


def test_int8_float_layers_flag_values():
    assert tflite_lib.parse_float_layers("auto") == "auto"
    assert tflite_lib.parse_float_layers("none") == 0 and tflite_lib.parse_float_layers("7") == 7
    with pytest.raises(ValueError, match="int8_float_layers"):
        tflite_lib.parse_float_layers("-1")


def test_quantized_variants_keep_the_ranking_and_shrink_the_model(trained):
    base, path, images, reference = trained
    representative = representative_images("synthetic", 32, 100)
    sizes = {}
    for variant in ("float32", "dynamic", "int8"):
        output = os.path.join(base, f"q_{variant}.tflite")
        tflite_lib.convert_in_subprocess(path, variant, output, representative if variant == "int8" else None)
        sizes[variant] = os.path.getsize(output)
        if variant != "float32":
            rho = stats.spearmanr(_scores(output, images)["score"], reference["score"])[0]
            # Plain full int8 (no layer kept in float) kept 0.95-0.97 on this model, the
            # gap issue 16 closes: the export's search (--int8_float_layers=auto, the CLI
            # test below) takes it over 0.98 with a layer or two in float.
            assert rho >= (0.98 if variant == "dynamic" else 0.95), (variant, rho)
    assert sizes["int8"] <= 0.35 * sizes["float32"], sizes


def test_calibrated_variants_need_a_representative_set():
    from pear_tf.exporting.converter import convert

    for variant in ("int8", "int16x8"):  # refused before any conversion (in this process: nothing leaks)
        with pytest.raises(ValueError, match="representative"):
            convert("/no/such/model", variant, "/dev/null")


def test_a_model_needing_select_ops_fails_at_conversion(tmp_path):
    module = tf.Module()
    module.predict_images_deterministic = tf.function(
        lambda images: {"score": tf.linalg.svd(images[0, :, :, 0], compute_uv=False)},
        input_signature=[tf.TensorSpec([1, 8, 8, 3], tf.float32)],
    )
    tf.saved_model.save(module, str(tmp_path / "sm"))
    with pytest.raises(RuntimeError, match="failed"):
        tflite_lib.convert_in_subprocess(str(tmp_path / "sm"), "float32", str(tmp_path / "x.tflite"))
    assert not os.path.exists(tmp_path / "x.tflite")


def test_export_and_tflite_score_clis(trained, tmp_path):
    base, path, _, _ = trained
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
    output = str(tmp_path / "m.tflite")
    # auto: calibrated on the model's own training split, judged on its own test split's ratings too.
    run = subprocess.run(
        [sys.executable, "-m", "pear_tf.export", f"--saved_model_dir={os.path.dirname(path)}", "--tflite=auto",
         "--tflite_input=uint8", "--representative_count=60", "--check_images=40", "--eval_data=test",
         f"--output={output}"],
        env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert run.returncode == 0 and "Wrote" in run.stdout, run.stdout[-3000:] + run.stderr[-2000:]
    assert "--tflite=auto tried" in run.stdout and "Picked " in run.stdout, run.stdout
    tflite = read_tflite_metadata(output)["tflite"]
    tried = {t["variant"]: t for t in tflite["auto"]["tried"]}
    assert set(tflite_lib.VARIANTS) <= set(tried), tried
    picked = tried[tflite["auto"]["picked"]]
    # Whichever it is (the speed rule depends on the machine): it passes, and every smaller file fails.
    assert picked["passes"] and all(t["reasons"] for t in tried.values() if t["bytes"] < picked["bytes"]), tried
    assert picked["spearman"] >= 0.98 and picked["srcc_drop"] <= 0.01 and tflite["agreement"]["spearman"] >= 0.98
    assert tflite["calibration"] == {"source": "the training split of the synthetic aadb-like set (seed 0)",
                                     "count": 60, "preprocessing": tflite["calibration"]["preprocessing"]}  # fmt: skip
    assert tflite["ratings"]["images"] == 160 and tflite["input"]["dtype"] == "uint8"
    # int16 activations (256 times int8's resolution) keep the ranking; LiteRT has no fast kernels for them.
    assert tried["int16x8"]["spearman"] > 0.99 and tried["float32"]["passes"], tried
    # The check fails the export when the ranking is not kept (here: a bar no model meets).
    strict = subprocess.run(
        [sys.executable, "-m", "pear_tf.export", f"--saved_model_dir={path}", "--tflite=dynamic",
         f"--output={tmp_path / 'strict.tflite'}", "--check_images=20", "--min_spearman=1.01"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert strict.returncode == 1 and "does not keep the SavedModel's ranking" in strict.stderr, strict.stderr[-2000:]
    assert os.path.exists(tmp_path / "strict.tflite"), "the file is kept for inspection"
    from pear_tf.data import synthetic

    image = synthetic.write_samples(str(tmp_path / "samples"), 1, size=37)[0]
    (tmp_path / "broken.jpg").write_bytes(b"no")
    run = subprocess.run(
        [sys.executable, "-m", "pear_tf.tflite_score", f"--model={output}", image, str(tmp_path / "broken.jpg")],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert "score" in run.stdout and "VividColor" in run.stdout and "broken.jpg: ERROR" in run.stdout
    # Read from the file itself: name, version, variant, input, data set, bins.
    variant = tflite["variant"]
    assert f"savedmodels version 1, {variant}, uint8 input 32 px, trained on synthetic" in run.stdout, run.stdout
    assert "WARNING: this model was trained on the synthetic demo set" in run.stdout


def _full_int8_of(model, tmp_path, representative):
    """A Keras model [1, 32, 32, 3] → [1, k] as the export's scoring graph, converted to full int8."""
    module = tf.Module()
    module.variables_ = model.variables
    module.predict_images_deterministic = tf.function(
        lambda images: {"score": model(images)}, input_signature=[tf.TensorSpec([1, 32, 32, 3], tf.float32)]
    )
    tf.saved_model.save(module, str(tmp_path / "sm"))
    return tflite_lib.convert_in_subprocess(str(tmp_path / "sm"), "int8", str(tmp_path / "int8.tflite"), representative)


def test_resnet50_input_normalization_survives_full_int8(tmp_path):
    """ResNet50's input path (BGR reorder, mean subtraction, padded 7x7 conv) through full int8.

    With keras.ops.flip (REVERSE_V2) in front of a convolution, the converter gave the
    flip's output other quantization parameters than its int8 values carry: the int8
    output was off by more than its own magnitude (relative error 1.08), and every int8
    ResNet50 PEAR lost its ranking. The gather keeps it at about 0.01.
    """
    import keras

    from pear_tf.model.backbone import CaffeNormalization

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.ZeroPadding2D(3)(CaffeNormalization()(inputs))
    x = keras.layers.ReLU()(keras.layers.BatchNormalization()(keras.layers.Conv2D(8, 7, strides=2)(x)))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
    images = representative_images("synthetic", 32, 60)
    output = _full_int8_of(model, tmp_path, images[:40])
    scorer = TFLiteScorer(output)
    errors = []
    for image in images[40:]:
        expected = model(image[np.newaxis]).numpy()[0]
        errors.append(np.abs(scorer.score(image)["score"] - expected).max() / np.abs(expected).max())
    assert np.mean(errors) < 0.05, np.mean(errors)


def test_mobilenet_v3_hard_swish_runs_in_int8_inside_one_xnnpack_partition(tmp_path):
    """An expand conv, BatchNorm and MobileNetV3's hard-swish, as the backbone builds them, in full int8.

    Keras's own hard-swish becomes TFLite's HARD_SWISH op, which XNNPACK runs in float
    only: in int8 each one split the graph (22 partitions for MobileNetV3-Large, int8
    slower than float). The backbone's hard_swish converts to ADD+RELU6, MUL, MUL.
    """
    import keras

    from pear_tf.model.backbone import hard_swish

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = keras.layers.Activation(hard_swish)(keras.layers.BatchNormalization()(keras.layers.Conv2D(16, 3)(x)))
    x = keras.layers.Activation(hard_swish)(keras.layers.BatchNormalization()(keras.layers.Conv2D(16, 1)(x)))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
    images = representative_images("synthetic", 32, 60)
    output = _full_int8_of(model, tmp_path, images[:40])
    scorer = TFLiteScorer(output)
    assert "HARD_SWISH" not in {op["op_name"] for op in scorer.interpreter._get_ops_details()}
    assert xnnpack_partitions(output) == 1
    errors = [np.abs(scorer.score(image)["score"] - model(image[np.newaxis]).numpy()[0]).max() for image in images[40:]]
    assert np.mean(errors) < 0.05 * np.abs(model(images[40:]).numpy()).max(), np.mean(errors)


def test_the_report_says_when_the_float_layers_outweigh_a_float16_file(capsys):
    from pear_tf.exporting.int8_search import _print_report

    report = {"count": 61, "total_layers": 83, "found": True, "layers": [], "spearman": {"0": 0.96, "61": 0.99},
              "search_images": {"count": 100, "which": "separate"},
              "size_bytes": {"selected": 90 * 2**20, "all_int8": 23 * 2**20},
              "invoke_ms": {"selected": 7.0, "all_int8": 1.5}}  # fmt: skip
    _print_report(report)
    out = capsys.readouterr().out
    assert "61 of 83 quantized layers kept in float" in out and "on 100 search images (separate)" in out
    assert "larger than a float16 file would be (about 48 MB): --tflite=dynamic" in out
    report["size_bytes"]["selected"] = 30 * 2**20
    _print_report(report)
    assert "float16 file" not in capsys.readouterr().out


def test_float_weights_stored_as_float16_keep_the_outputs_in_half_the_bytes(trained, tmp_path):
    from pear_tf.exporting.float16_weights import float32_weights_to_float16

    base, path, images, reference = trained
    converted = os.path.join(base, "float32.tflite")  # written by test_float_variants_match_the_saved_model
    if not os.path.exists(converted):
        tflite_lib.convert_in_subprocess(path, "float32", converted)
    data, count = float32_weights_to_float16(open(converted, "rb").read())
    output = tmp_path / "half.tflite"
    output.write_bytes(data)
    assert count > 5 and len(data) < 0.6 * os.path.getsize(converted)
    scorer = TFLiteScorer(str(output))
    half = {d["name"] for d in scorer.interpreter.get_tensor_details() if d["dtype"] == np.float16}
    assert len(half) == count and all(name.endswith("_float16") for name in half)
    # XNNPACK takes the float16 weights into the float32 file's partitions (a calibrated export has
    # more than one: the photo-likeness maps' ops are not all XNNPACK's).
    assert xnnpack_partitions(str(output)) == xnnpack_partitions(converted)
    np.testing.assert_allclose(_scores(str(output), images[:40])["score"], reference["score"][:40], atol=1e-2)
    assert read_tflite_metadata(str(output)) == read_tflite_metadata(converted)


def test_calibration_reads_the_training_split_and_a_file_that_loses_the_ratings_is_not_written(trained, tmp_path):
    import shutil

    from pear_tf.data import synthetic
    from pear_tf.data.preprocessing import preprocess, resize_size
    from pear_tf.exporting.ratings import LabelledSet, RatingsError
    from pear_tf.exporting.representative import training_split

    base, path, _, _ = trained
    split = training_split(path)
    assert str(split) == "the training split of the synthetic aadb-like set (seed 0)"
    # Through the serving preprocessing: the run's own training images 3..7, resized and centre-cropped.
    expected = [preprocess(image, 32).numpy() for image in synthetic.generate(8, "aadb", resize_size(32), 0)["image"]]
    np.testing.assert_array_equal(representative_images(split, 32, 5, skip=3), np.stack(expected[3:]))
    converted = os.path.join(base, "float32.tflite")  # written by test_float_variants_match_the_saved_model
    if not os.path.exists(converted):
        tflite_lib.convert_in_subprocess(path, "float32", converted)
    output = shutil.copy(converted, str(tmp_path / "f32.tflite"))
    labelled = LabelledSet(split.data, "test")
    images = tflite_lib.Images(split, 32, None, None)
    kept = tflite_lib._accept_ratings(path, output, images, tflite_lib.Acceptance(labelled=labelled))["ratings"]
    assert kept["images"] == 160 and kept["eval_data"] == "the test split of synthetic (aadb-like, seed 0)"
    assert abs(kept["srcc_drop"]) < 1e-3 and kept["srcc"]["float"] > 0.3, kept  # float32: the SavedModel's ranking
    # Against a bar no file meets, it is removed and the message names the loss.
    with pytest.raises(RatingsError, match="was not written: it loses"):
        tflite_lib._accept_ratings(path, output, images, tflite_lib.Acceptance(labelled=labelled, max_srcc_drop=-1))
    assert not os.path.exists(output)


def test_auto_picks_the_smallest_passing_file_and_says_why():
    from pear_tf.exporting.auto import Candidate, _lean_hint, _pick

    candidates = [Candidate("int8", "", 100, reasons=["Spearman < --min_spearman=0.98"]),
                  Candidate("int16x8", "", 110, reasons=["over --max_slowdown=1.5 × float32: not a phone model"]),
                  Candidate("dynamic", "", 105), Candidate("float16", "", 300), Candidate("float32", "", 600)]  # fmt: skip
    picked, why = _pick(candidates)
    assert picked.name == "dynamic" and why == "the smallest of the 3 files that pass; the smaller ones fail: int8"
    calibrated = ("score", "calibrated_score", "ood_score", "is_photo_like")  # the files' outputs
    assert _lean_hint(candidates, calibrated) == ""  # dynamic passes
    for candidate in candidates:
        candidate.reasons.append("over --max_size_mb=0.0001")
    assert _pick(candidates) == (None, "every variant fails a condition: see the table")
    # Too big alone (dynamic, float16, float32): the message points to the lean file, unless it was asked for.
    hint = _lean_hint(candidates, calibrated)
    assert "dynamic, float16, float32 failed on size alone: --notflite_photo_likeness" in hint, hint
    assert _lean_hint(candidates, ("score", "calibrated_score")) == ""  # already lean, or never calibrated


def test_auto_rejects_only_quantized_files_slower_than_the_bound():
    from pear_tf.exporting.auto import Candidate, reject_slow

    def judged(max_slowdown):
        candidates = [Candidate("int16x8", "", slowdown=18.7), Candidate("dynamic", "", slowdown=1.19),
                      Candidate("int8", "", slowdown=0.5), Candidate("float16", "", slowdown=2.0)]  # fmt: skip
        reject_slow(candidates, max_slowdown)
        return {c.name: c.reasons for c in candidates}

    assert judged(1.5) == {"int16x8": ["over --max_slowdown=1.5 × float32: not a phone model"], "dynamic": [],
                           "int8": [], "float16": []}  # fmt: skip
    assert judged(1.0)["dynamic"] == ["over --max_slowdown=1 × float32: not a phone model"]
    assert judged(1.0)["float16"] == []  # a float file is never judged on speed


def test_quantized_variants_convert_whichever_spread_score_std_exports(trained, tmp_path):
    """score_std chosen as `combined` has two square roots (the distribution's spread and the sum): 16x8 has no
    SQRT kernel, which broke int16x8 (and --tflite=auto) on runs whose validation picked a spread; it stays float."""
    import json
    import shutil

    from pear_tf.calibration import record
    from pear_tf.exporting.saved_model import export_run

    base, _, images, _ = trained
    run = str(tmp_path / "run")
    shutil.copytree(os.path.join(base, "run"), run)
    with open(os.path.join(run, record.FILE)) as f:
        calibration = json.load(f)
    calibration["uncertainty"]["source"] = "combined"
    with open(os.path.join(run, record.FILE), "w") as f:
        json.dump(calibration, f)
    path = export_run(run, str(tmp_path / "sm"), mc_samples=4, epoch="best", calibrate=True)
    outputs = [str(tmp_path / f"{variant}.tflite") for variant in ("int16x8", "int8")]
    tflite_lib.convert_in_subprocess(path, "int16x8,int8", ",".join(outputs), images[:32])
    reference = tf.saved_model.load(path).signatures["predict_images"](images=tf.constant(images[:16]))
    for output in outputs:  # both run (16x8 once had no SQRT, then a SQUARED_DIFFERENCE LiteRT could not invoke)
        scores = _scores(output, images[:16])
        assert np.all(np.isfinite(scores["score_std"])) and np.all(scores["score_std"] > 0), (output, scores)
        assert stats.spearmanr(scores["score"], reference["score"].numpy())[0] > 0.9, output
    # Quantized, the spread is approximate (here int8 about 5 % low, int16x8 about 20 %: BUILD_NOTES).
    np.testing.assert_allclose(scores["score_std"], reference["score_std"].numpy(), rtol=0.1)


def test_auto_keeps_going_when_one_variant_fails_to_convert(monkeypatch, tmp_path):
    from pear_tf.exporting import auto
    from pear_tf.exporting.tflite import Images

    def convert(path, variant, output, representative=None, input_type="float32", drop_outputs=()):
        if "int16x8" in variant.split(","):
            raise RuntimeError("conversion failed: ...\nRuntimeError: Quantization to 16x8-bit not yet supported")
        open(output, "wb").close()

    monkeypatch.setattr(auto, "convert_in_subprocess", convert)
    candidates = auto._convert("sm", str(tmp_path), Images("synthetic", 32, None, None), "float32")
    reasons = {c.name: c.reasons for c in candidates}
    assert reasons == {"int8": [], "int16x8": ["conversion failed: RuntimeError: Quantization to 16x8-bit not yet "
                                               "supported"], "dynamic": [], "float16": [], "float32": []}  # fmt: skip
    assert not os.path.exists(tmp_path / "int16x8.tflite") and os.path.exists(tmp_path / "float32.tflite")


def test_a_file_without_the_photo_likeness_outputs_leaves_their_density_out(trained):
    from pear_tf.exporting.tflite_metadata import PHOTO_LIKENESS_OUTPUTS

    base, path, images, reference = trained
    full = os.path.join(base, "float32.tflite")
    if not os.path.exists(full):
        tflite_lib.convert_in_subprocess(path, "float32", full)
    lean = tflite_lib.convert_in_subprocess(path, "float32", os.path.join(base, "lean.tflite"),
                                            drop_outputs=PHOTO_LIKENESS_OUTPUTS)  # fmt: skip
    outputs = _scores(lean, images[:4])
    assert set(outputs) == set(_scores(full, images[:4])) - set(PHOTO_LIKENESS_OUTPUTS), set(outputs)
    assert os.path.getsize(lean) < os.path.getsize(full)
    assert not set(PHOTO_LIKENESS_OUTPUTS) & set(read_tflite_metadata(lean)["tflite"]["outputs"])
    np.testing.assert_allclose(outputs["calibrated_score"], reference["calibrated_score"][:4], rtol=1e-4)
