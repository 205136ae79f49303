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
from pear_tf.exporting.int8_search import _counts_to_try
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
    steps = [layer["steps"] for layer in float_layers["layers"]]
    assert steps == sorted(steps, reverse=True) and steps[0] > 0, float_layers
    # Two layers in float cost size and time against all-int8; both are reported.
    assert float_layers["size_bytes"]["selected"] > float_layers["size_bytes"]["all_int8"]
    assert set(float_layers["invoke_ms"]) == {"selected", "all_int8"}
    assert result["spearman"] > 0.9 and TFLiteScorer(output).input_type == "uint8"
    # The search chose on images of its own, not on the check's 60 (which test the choice).
    assert float_layers["search_images"] == {"count": 60, "which": "separate"}
    assert 0.9 < float_layers["spearman"]["2"] <= 1 and float_layers["spearman"]["2"] != result["spearman"]
    assert set(float_layers["spearman"]) == {"0", "2"}  # all-int8 too: the baseline of the cost


def test_the_search_finds_the_fewest_float_layers_that_pass():
    calls = []

    def passes(count):
        calls.append(count)
        return count >= 5

    assert _counts_to_try(passes, 40, "auto") == (5, {0: False, 1: False, 2: False, 4: False, 8: True, 6: True,
                                                       5: True})  # fmt: skip
    assert _counts_to_try(lambda count: True, 40, "auto") == (0, {0: True})
    assert _counts_to_try(lambda count: False, 6, "auto")[0] is None
    assert _counts_to_try(passes, 40, 3) == (3, {3: False})


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


def test_int8_needs_a_representative_set(trained):
    _, path, _, _ = trained
    with pytest.raises(RuntimeError, match="representative"):
        tflite_lib.convert_in_subprocess(path, "int8", "/dev/null")


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
    run = subprocess.run(
        [sys.executable, "-m", "pear_tf.export", f"--saved_model_dir={os.path.dirname(path)}", "--tflite=int8",
         "--tflite_input=uint8", "--representative_data=synthetic", "--representative_count=60", f"--output={output}"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0 and "Wrote" in run.stdout, run.stderr[-2000:]
    assert "quantized layers kept in float" in run.stdout and "Cost against all-int8" in run.stdout, run.stdout
    assert "Agreement with the SavedModel on 100 held-out images from synthetic: Spearman 0.9" in run.stdout
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
    assert "savedmodels version 1, int8, uint8 input 32 px, trained on synthetic" in run.stdout, run.stdout
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
    assert "larger than a float16 file would be (about 46 MiB): --tflite=dynamic" in out
    report["size_bytes"]["selected"] = 30 * 2**20
    _print_report(report)
    assert "float16 file" not in capsys.readouterr().out
