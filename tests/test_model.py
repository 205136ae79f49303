"""PEAR's parts: the paper's ResNet50 shapes and parameter counts, samplers, gradients."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from pear_tf.attributes import AADB_SCALE
from pear_tf.config import ModelConfig
from pear_tf.model import PEAR
from pear_tf.model.backbone import build_backbone
from pear_tf.model.latents import PhotographicLatents, sample_latents
from tests.conftest import make_batch


def _dense(n_in, n_out):
    return n_in * n_out + n_out


def _deconv(c_in, c_out):
    return 4 * 4 * c_in * c_out + c_out


def test_resnet50_configuration_shapes_and_parameter_counts():
    model = PEAR(ModelConfig(backbone="resnet50", image_size=224, bin_values=AADB_SCALE.bin_values))
    outputs = model(tf.zeros([1, 224, 224, 3]), training=False, reconstruct=True)
    assert model.backbone.output.shape == (None, 2048)
    # keras.applications.ResNet50(include_top=False, pooling="avg"): 23,587,712 weights.
    assert model.backbone.count_params() == 23_587_712
    latents = model.latents
    assert latents.photographic_encoder.count_params() == _dense(2048, 11)
    assert latents.mu_encoder.count_params() == _dense(2048, 100)
    assert latents.log_var_encoder.count_params() == _dense(2048, 100)
    assert model.aesthetic_head.count_params() == _dense(111, 6)
    channels = (128, 64, 32, 16, 8, 3)
    deconvs = sum(_deconv(a, b) for a, b in zip(channels, channels[1:]))
    batch_norms = 4 * sum(channels[1:-1])  # γ, β, moving mean and variance per channel
    assert model.reconstruction_head.count_params() == _dense(111, 8 * 8 * 128) + deconvs + batch_norms
    assert [d.filters for d in model.reconstruction_head.deconvs] == [64, 32, 16, 8, 3]
    expected_shapes = {
        "z_logits": (1, 11), "z": (1, 11), "mu": (1, 100), "log_var": (1, 100), "s": (1, 100),
        "logits": (1, 6), "distribution": (1, 6), "reconstruction": (1, 256, 256, 3),
    }  # fmt: skip
    assert {k: tuple(v.shape) for k, v in outputs.items()} == expected_shapes
    assert (
        0.0 <= float(tf.reduce_min(outputs["reconstruction"])) <= float(tf.reduce_max(outputs["reconstruction"])) <= 1.0
    )


def test_resnet50_loads_a_local_weights_file(tmp_path):
    source = build_backbone("resnet50", 64)
    path = str(tmp_path / "resnet50_notop.weights.h5")
    source.layers[-1].save_weights(path)
    loaded = build_backbone("resnet50", 64, weights=path)
    for a, b in zip(source.weights[:3], loaded.weights[:3]):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_missing_weights_file_is_named_in_the_error():
    with pytest.raises(FileNotFoundError, match="no_such.h5"):
        build_backbone("resnet50", 64, weights="no_such.h5")


def test_latents_are_deterministic_means_at_inference():
    layer = PhotographicLatents(11, 100, seed=0)
    features = tf.random.normal([4, 32], seed=1)
    out = layer(features, training=False)
    np.testing.assert_allclose(out["z"], tf.sigmoid(out["z_logits"]), rtol=1e-6)
    np.testing.assert_allclose(out["s"], out["mu"])
    sampled = layer(features, training=True)
    assert not np.allclose(sampled["s"], sampled["mu"])
    assert 0.0 < float(tf.reduce_min(sampled["z"])) and float(tf.reduce_max(sampled["z"])) < 1.0


def test_samplers_have_the_right_moments():
    n = 20_000
    z_logits, mu, log_var = tf.fill([n, 1], 0.8), tf.fill([n, 1], 1.5), tf.fill([n, 1], float(np.log(0.25)))
    z, s = sample_latents(z_logits, mu, log_var, seed=tf.constant([1, 2]))
    # RelaxedBernoulli at temperature 1: z = sigmoid(logit + logistic noise), a median at sigmoid(logit).
    assert np.median(z.numpy()) == pytest.approx(float(tf.sigmoid(0.8)), abs=0.01)
    assert float(tf.reduce_mean(s)) == pytest.approx(1.5, abs=0.02)
    assert float(tf.math.reduce_std(s)) == pytest.approx(0.5, abs=0.02)


def test_gradients_reach_every_trainable_variable_and_are_finite(tiny_model):
    batch = make_batch(4)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tiny_model.loss_terms(batch, training=True)["loss"])
    grads = tape.gradient(loss, tiny_model.trainable_variables)
    for variable, grad in zip(tiny_model.trainable_variables, grads):
        assert grad is not None, variable.path
        assert np.isfinite(grad.numpy()).all(), variable.path


def test_aesthetic_loss_reaches_the_encoders_through_both_samplers(tiny_model):
    # With λ=0, β=0 and attributes unobserved, the CE term reaches the photographic and
    # σ encoders only through the sampled z and s (σ sits on ε alone).
    tiny_model.lambda_recon, tiny_model.beta = 0.0, 0.0
    batch = make_batch(4, observed=0.0)
    encoders = [
        tiny_model.latents.photographic_encoder,
        tiny_model.latents.mu_encoder,
        tiny_model.latents.log_var_encoder,
    ]
    kernels = [e.kernel for e in encoders]
    with tf.GradientTape() as tape:
        ce = tf.reduce_mean(tiny_model.loss_terms(batch, training=True)["ce"])
    for kernel, grad in zip(kernels, tape.gradient(ce, kernels)):
        assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0.0, kernel.path


def test_score_outputs(tiny_model):
    images = make_batch(3)["image"]
    out = tiny_model.score(images, mc_samples=8)
    assert out["score"].shape == (3,) and out["attributes"].shape == (3, 11)
    np.testing.assert_allclose(tf.reduce_sum(out["distribution"], -1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(out["score"], out["distribution"].numpy() @ np.arange(6.0), rtol=1e-5)
    assert (out["score_std"].numpy() > 0).all()
    assert (tiny_model.score(images)["score_std"].numpy() == 0).all()


def test_a_few_steps_reduce_the_loss_on_a_fixed_batch(tiny_model):
    # Training-mode losses of one step per epoch (inference-mode BatchNorm statistics
    # lag behind over only 30 steps, so evaluate() would measure them instead).
    history = tiny_model.fit(tf.data.Dataset.from_tensors(make_batch(8)), epochs=30, verbose=0).history
    first, last = np.mean(history["loss"][:3]), np.mean(history["loss"][-3:])
    assert last < 0.7 * first, history["loss"]


def test_optimizers_split_backbone_and_heads(tiny_model):
    backbone = {id(v) for v in tiny_model.backbone.trainable_variables}
    heads = {id(v) for v in tiny_model.head_variables()}
    assert backbone and heads and not backbone & heads
    assert backbone | heads == {id(v) for v in tiny_model.trainable_variables}
    # Two learning rates (the paper's 1e-4 and 1e-3), each on its side after one step.
    tiny_model.compile(keras.optimizers.SGD(1e-4), keras.optimizers.SGD(1e-3), jit_compile=False)
    tiny_model.build_optimizers()
    tiny_model.sample_in_training = False  # the same gradient twice: no latent noise
    before = [v.numpy() for v in tiny_model.trainable_variables]
    with tf.GradientTape() as tape:
        loss = tf.nn.compute_average_loss(tiny_model.loss_terms(make_batch(4), training=True)["loss"])
    variables = tiny_model.trainable_variables
    grads = dict(zip((id(v) for v in variables), tape.gradient(loss, variables)))
    tiny_model.update(make_batch(4))
    for variable, old in zip(tiny_model.trainable_variables, before):
        rate = 1e-4 if id(variable) in backbone else 1e-3
        step = old - variable.numpy()
        np.testing.assert_allclose(step, rate * grads[id(variable)].numpy(), atol=1e-7, err_msg=variable.path)
