"""bfloat16 scoring (issue 25): the export's bfloat16 copy and its check, and the scorers' runtime rewrite."""

import collections
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from pear_tf.exporting import bfloat16
from pear_tf.exporting import saved_model as export_lib
from pear_tf.inference import precision
from pear_tf.inference.saved_model import SavedModelScorer
from pear_tf.inference.versions import METADATA_FILE, list_versions
from pear_tf.model import PEAR
from tests.conftest import TINY
from tests.real_images import encode, photo

PHOTOS = ("china", "flower", "astronaut", "coffee", "chelsea")


def _model(policy="float32"):
    keras.utils.set_random_seed(0)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = PEAR(TINY, seed=0)
        model.build_all()
    finally:
        keras.mixed_precision.set_global_policy(previous)
    return model


def _metadata(path):
    with open(os.path.join(path, "assets", METADATA_FILE)) as f:
        return json.load(f)


def _conv_dtypes(path):
    """{dtype: how many} of the Conv2D ops of a SavedModel's predict_images."""
    graph = tf.saved_model.load(path).signatures["predict_images"].graph.as_graph_def()
    nodes = [n for f in graph.library.function for n in f.node_def] + list(graph.node)
    return collections.Counter(tf.dtypes.as_dtype(n.attr["T"].type).name for n in nodes if n.op == "Conv2D")


def _photo_bytes():
    return [encode(photo(name, (120, 160)), "JPEG", quality=92) for name in PHOTOS]


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """The same tiny PEAR exported in float32 and in bfloat16 (versions 1 and 2 of one base folder)."""
    base = str(tmp_path_factory.mktemp("precision") / "pear")
    model = _model()
    float32 = export_lib.export_saved_model(model, base, export_lib.export_metadata(model, "synthetic"), 0)
    bf16 = export_lib.export_saved_model(model, base, export_lib.export_metadata(model, "synthetic"), 0, "bfloat16")
    return {"base": base, "float32": float32, "bfloat16": bf16}


def test_auto_asks_the_cpu_and_onednn(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags : fpu sse avx512f avx512_bf16 amx_bf16 amx_tile\n")
    flags = precision.cpu_flags(str(cpuinfo))
    assert {"avx512_bf16", "amx_bf16"} <= flags
    native = precision.platform.machine().lower() in ("x86_64", "amd64") and precision.onednn_enabled()
    assert precision.resolve("auto", flags)[0] == ("bfloat16" if native else "float32")
    assert precision.resolve("auto", {"avx2", "fma"}) == ("float32", "auto: the CPU has neither AMX-BF16 nor AVX512-BF16")
    assert precision.resolve("bfloat16", set()) == ("bfloat16", "asked for")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert precision.resolve("auto", flags)[0] == "float32"
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_AMX")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert precision.native_bfloat16(flags)[0] is False
    with pytest.raises(precision.PrecisionError, match="--precision='half'"):
        precision.resolve("half")


def test_a_bfloat16_export_computes_in_bfloat16_records_its_check_and_outputs_float32(exports):
    assert set(_conv_dtypes(exports["float32"])) == {"float32"}
    dtypes = _conv_dtypes(exports["bfloat16"])  # the tiny backbone's five convolutions, the first (stem) float32
    assert set(dtypes) == {"bfloat16", "float32"} and dtypes["bfloat16"] == 4 * dtypes["float32"], dtypes
    float32, bf16 = _metadata(exports["float32"]), _metadata(exports["bfloat16"])
    assert (float32["precision"], bf16["precision"]) == ("float32", "bfloat16")
    assert "precision_check" not in float32
    check = bf16["precision_check"]
    assert check["spearman"] >= 0.999 and check["images"] >= 10 and 0 < check["max_abs_score_diff"] < 0.05
    assert "china" in check["image_sources"] and "astronaut" in check["image_sources"]
    a, b = (SavedModelScorer(exports[key]).score_bytes(_photo_bytes()) for key in ("float32", "bfloat16"))
    assert all(value.dtype == np.float32 for value in b.values()) and set(a) == set(b)
    difference = np.abs(a["score"] - b["score"])
    assert 0 < difference.max() <= check["max_abs_score_diff"] * 2 + 1e-3


def test_a_model_trained_in_mixed_precision_exports_true_float32_when_asked(exports, tmp_path):
    mixed = _model("mixed_bfloat16")  # the fixture's float32 export is the same seed: the same weights
    path = export_lib.export_saved_model(mixed, str(tmp_path / "mixed"), export_lib.export_metadata(mixed, "x"), 0)
    assert set(_conv_dtypes(path)) == {"float32"}
    outputs = [SavedModelScorer(p).score_bytes(_photo_bytes()) for p in (path, exports["float32"])]
    np.testing.assert_allclose(outputs[0]["score"], outputs[1]["score"], atol=1e-5)


def test_a_bfloat16_copy_that_loses_the_ranking_is_never_written(exports, monkeypatch, capsys):
    monkeypatch.setattr(bfloat16, "MIN_SPEARMAN", 1.01)  # no copy can pass: the refusal path
    before = list_versions(exports["base"])
    model = _model()
    with pytest.raises(bfloat16.PrecisionCheckError, match="nothing was written"):
        export_lib.export_saved_model(model, exports["base"], export_lib.export_metadata(model, "x"), 0, "bfloat16")
    assert list_versions(exports["base"]) == before
    assert not [name for name in os.listdir(exports["base"]) if name.startswith(".export-")]
    assert "bfloat16 against float32 on" in capsys.readouterr().out


def test_the_runtime_rewrite_scores_a_float32_export_in_bfloat16_and_only_where_asked(exports):
    data = _photo_bytes()
    reference = SavedModelScorer(exports["float32"]).score_bytes(data)
    rewritten = SavedModelScorer(exports["float32"], precision="bfloat16")
    assert rewritten.precision == "bfloat16"
    outputs = rewritten.score_bytes(data)
    assert all(value.dtype == np.float32 for value in outputs.values())
    difference = np.abs(outputs["score"] - reference["score"]).max()
    if precision.onednn_enabled():  # the rewrite is oneDNN's: without it the graph stays float32
        assert 0 < difference < 0.05
        # The heads stay float32: scores are not rounded to bfloat16's 8 bits.
        assert not np.array_equal(outputs["score"], outputs["score"].astype(tf.bfloat16.as_numpy_dtype))
    # Per call, not per process: a float32 scorer loaded after it still scores exactly as before.
    again = SavedModelScorer(exports["float32"], precision="float32").score_bytes(data)
    np.testing.assert_array_equal(again["score"], reference["score"])


def test_a_bfloat16_export_cannot_be_asked_for_float32(exports):
    with pytest.raises(precision.PrecisionError, match="exported in bfloat16"):
        SavedModelScorer(exports["bfloat16"], precision="float32")
    scorer = SavedModelScorer(exports["bfloat16"])
    assert scorer.precision == "bfloat16" and scorer.precision_note is None
    _, rewrite, note = precision.scoring_precision("auto", _metadata(exports["bfloat16"]), flags=set())
    assert not rewrite and "emulated" in note


def test_the_server_computes_in_the_precision_it_is_given(exports):
    from pear_tf.serving.core import ServingConfig
    from pear_tf.serving.model_config import ModelSpec
    from pear_tf.serving.server import build_model_server

    spec = ModelSpec("pear", exports["base"], policy="all")  # version 1 float32, version 2 bfloat16
    data = _photo_bytes()
    served = build_model_server([spec], ServingConfig(precision="bfloat16"))
    assert [served.registry.get("pear", v).precision for v in (1, 2)] == ["bfloat16", "bfloat16"]
    outputs = served.run_signature(served.registry.get("pear", 1), "serving_default", data)
    reference = SavedModelScorer(exports["float32"]).score_bytes(data)
    assert np.abs(outputs["score"] - reference["score"]).max() < 0.05
    # float32 asked: the bfloat16 version cannot have it and is not loaded (the log says why); version 1 is.
    strict = build_model_server([spec], ServingConfig(precision="float32"))
    assert strict.registry.versions("pear") == [1] and strict.registry.get("pear").precision == "float32"


def test_batch_norms_after_biased_convolutions_fold_into_them():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(8, 3, use_bias=True, name="biased")(inputs)
    x = keras.layers.BatchNormalization(name="folds")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(8, 3, use_bias=False, name="unbiased")(x)
    x = keras.layers.BatchNormalization(name="stays")(x)
    inner = keras.Model(inputs, x)
    outer = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Rescaling(1 / 255), inner])  # a nested model
    rng = np.random.default_rng(0)
    for layer in inner.layers:
        if isinstance(layer, keras.layers.BatchNormalization):  # statistics far from the identity
            layer.set_weights([rng.uniform(0.5, 1.5, 8), rng.normal(0, 0.5, 8), rng.normal(0, 0.5, 8),
                               rng.uniform(0.2, 3, 8)])  # fmt: skip
    images = rng.uniform(0, 255, (2, 12, 12, 3)).astype(np.float32)
    before = outer(images, training=False).numpy()
    assert bfloat16.fold_batch_norms(outer) == ["folds"]
    np.testing.assert_allclose(outer(images, training=False).numpy(), before, rtol=1e-4, atol=1e-5)
    assert inner.get_layer("folds")(np.full((1, 2, 2, 8), 3.0, np.float32)).numpy().max() == 3.0  # passes through
