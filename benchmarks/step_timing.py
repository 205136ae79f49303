"""Timing one train step as the training loop runs it: what gpu_check.py and foundation_check.py share."""

import gc
import time


def time_built_step(sizes, build, mixed_precision, jit_compile):
    """Builds with ``build(strategy)`` → (model, dataset of batches), warms up, times ``steps`` steps.

    The model is built under the precision policy; the step is the training loop's own
    (pear_tf.training.loop.make_train_function). Returns images/s, the peak GPU memory
    (None on a CPU), the build and warm-up time and whether the last loss was finite.
    """
    import keras
    import tensorflow as tf

    from pear_tf.training import distribution, loop

    gpu = bool(tf.config.list_physical_devices("GPU"))
    keras.backend.clear_session()
    gc.collect()
    if gpu:
        tf.config.experimental.reset_memory_stats("GPU:0")
    strategy = tf.distribute.get_strategy()
    start = time.perf_counter()
    with distribution.global_policy(distribution.precision_policy(mixed_precision)):
        model, dataset = build(strategy)
        step = loop.make_train_function(model, strategy, jit_compile)
        iterator = iter(strategy.experimental_distribute_dataset(dataset))
        for _ in range(sizes["warmup"]):
            logs, _ = step(iterator, tf.constant(0))
        float(logs["loss"])
        ready = time.perf_counter()
        for _ in range(sizes["steps"]):
            logs, _ = step(iterator, tf.constant(0))
        loss = float(logs["loss"])  # waits for the last step
        timed = time.perf_counter() - ready
    return {
        "images_per_s": sizes["steps"] * sizes["batch_size"] / timed,
        "peak_memory_mb": tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20 if gpu else None,
        "build_and_warmup_s": ready - start,
        "loss_finite": bool(tf.math.is_finite(loss)),
        "trained_variables": len(model.backbone_variables()) + len(model.head_variables()),
    }
