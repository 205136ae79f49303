"""The figures of benchmarks/gpu_check.sh, one section at a time, each written as JSON into --out.

    python benchmarks/gpu_check.py --sections=device,input,step --out=DIR [--dry_run]
    python benchmarks/gpu_check.py --sections=mirrored --out=DIR [--dry_run]
    python benchmarks/gpu_check.py --sections=summary --out=DIR [--dry_run]

Sections:
- device: what the GPU is, and that TensorFlow sees it and runs an op on it;
- input: images/s of the training pipeline from raw JPEG files and from the resized cache
  built from them, every core busy (benchmarks/input_pipeline.py);
- step: images/s and peak GPU memory of the PEAR and CE train steps (the training loop's
  own step function), float32, bfloat16 (--mixed_precision) and bfloat16 with XLA
  (--jit_compile); PEAR as AVA trains it, the frozen prior's outputs cached in the batch.
  A variant that would not fit in --budget_s is skipped (and listed so), XLA first;
- mirrored: one step under MirroredStrategy over 2 logical devices of the one chip against
  the same step on one device (its own process: logical devices are set before TensorFlow
  starts);
- summary: gpu_check.json from every section's JSON and the demo run's metrics, with the
  ratios PEAR ÷ CE and pipeline ÷ step, and the goals of issue 15.
--dry_run takes tiny sizes on the CPU through the same code, and says so: its figures are
not GPU figures. It times bfloat16+XLA only (see DRY_PRECISIONS) and skips nothing for time.
"""

import glob
import json
import os
import sys
import tempfile
import time
import traceback

from absl import app, flags

from pear_tf import startup

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import step_timing  # noqa: E402

SIZES = {
    "gpu": dict(backbone="resnet50", image_size=224, recon_size=256, batch_size=128, warmup=3, steps=20,
                mirrored_batch=16, photos=2048, distinct_photos=64, photo_size=448, input_images=4096),
    "dry": dict(backbone="tiny", image_size=32, recon_size=16, batch_size=4, warmup=1, steps=2,
                mirrored_batch=4, photos=16, distinct_photos=4, photo_size=64, input_images=32),
}  # fmt: skip
# (name, mixed_precision, jit_compile), most wanted first: a section out of time drops the last.
PRECISIONS = (("bfloat16_xla", True, True), ("bfloat16", True, False), ("float32", False, False))
# The dry run times bfloat16+XLA alone: it takes every code path of the others (float32 is
# what every other test trains in), and XLA compilation is what costs time on a CPU.
DRY_PRECISIONS = PRECISIONS[:1]
OBJECTIVES = ("ce", "pear")
GOALS = {"pear_over_ce_bfloat16_xla": 0.9, "input_over_step": 1.2}

flags.DEFINE_list("sections", ["device", "input", "step"], "Sections to run, in order.")
flags.DEFINE_string("out", None, "Folder for the JSON figures ($OUT).")
flags.DEFINE_boolean("dry_run", False, "Tiny sizes on the CPU, same code: checks the script, measures no GPU.")
flags.DEFINE_integer("budget_s", 270, "Seconds for this process's sections (a step variant that won't fit is skipped).")
flags.DEFINE_integer("variant_reserve_s", 40, "Seconds a step variant needs at least (70 with XLA) to be started.")
FLAGS = flags.FLAGS


def write(name, figures):
    with open(os.path.join(FLAGS.out, f"{name}.json"), "w") as f:
        json.dump(figures, f, indent=2, sort_keys=True)


def device_section(sizes, deadline):
    """The GPU's identity and a matmul placed on it."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    with tf.device("/GPU:0" if gpus else "/CPU:0"):
        product = tf.linalg.matmul(tf.ones([256, 256]), tf.ones([256, 256]))
    build = tf.sysconfig.get_build_info()
    return {
        "tensorflow": tf.__version__,
        "built_with_cuda": tf.test.is_built_with_cuda(),
        "cuda_version": build.get("cuda_version"),
        "cudnn_version": build.get("cudnn_version"),
        "gpus": [{"name": g.name, **tf.config.experimental.get_device_details(g)} for g in gpus],
        "matmul_device": product.device,
        "matmul_correct": bool(tf.reduce_all(product == 256.0)),
        "tensorflow_sees_gpu": bool(gpus) and "GPU" in product.device,
        "cpu_cores": os.cpu_count(),
    }


def input_section(sizes, deadline):
    """Raw JPEG files against the resized cache, through the training pipeline (every core)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import input_pipeline

    with tempfile.TemporaryDirectory() as work:
        data_dir = input_pipeline.write_photos(
            os.path.join(work, "ava"), sizes["photos"], sizes["photo_size"], sizes["distinct_photos"]
        )
        figures = input_pipeline.raw_and_cache(
            data_dir, os.path.join(work, "cache"), sizes["image_size"], sizes["batch_size"], sizes["input_images"]
        )
    return {**figures, "photo_size": sizes["photo_size"], "image_size": sizes["image_size"],
            "batch_size": sizes["batch_size"], "photos": sizes["photos"]}  # fmt: skip


def step_section(sizes, deadline):
    """Images/s and peak GPU memory of CE and PEAR per precision; written after every variant."""
    results = []
    for precision, mixed, jit in DRY_PRECISIONS if FLAGS.dry_run else PRECISIONS:
        for objective in OBJECTIVES:
            needed = FLAGS.variant_reserve_s * (1.75 if jit else 1.0)
            if deadline - time.time() < needed and not FLAGS.dry_run:
                results.append({"precision": precision, "objective": objective, "skipped": "out of time"})
                continue
            results.append({"precision": precision, "objective": objective, **time_step(sizes, objective, mixed, jit)})
            write("step", {"variants": results, **sizes})
    return {"variants": results, **sizes}


def time_step(sizes, objective, mixed_precision, jit_compile):
    """One variant: build, warm up (tracing, compilation), time ``steps`` steps; peak memory on a GPU."""
    from pear_tf.config import ModelConfig
    from pear_tf.training import run as train_lib
    from pear_tf.training.config import TrainConfig

    def build(strategy):
        model_config = ModelConfig(backbone=sizes["backbone"], image_size=sizes["image_size"],
                                   recon_size=sizes["recon_size"], objective=objective)  # fmt: skip
        model = train_lib.build_model(TrainConfig(model=model_config), model_config, strategy)
        return model, step_batches(sizes, model_config, objective)

    figures = step_timing.time_built_step(sizes, build, mixed_precision, jit_compile)
    figures.pop("trained_variables")
    return figures


def step_batches(sizes, model_config, objective):
    """One batch, repeated: the step alone, no input pipeline."""
    import tensorflow as tf

    n, side = sizes["batch_size"], sizes["image_size"]
    batch = {
        "image": tf.random.uniform([n, side, side, 3], 0, 255, seed=0),
        "distribution": tf.fill([n, model_config.num_bins], 1.0 / model_config.num_bins),
        "attributes": tf.fill([n, 11], 0.5),
        "attribute_mask": tf.zeros([n, 11]),  # AVA observes no attribute
    }
    if objective == "pear":
        batch["prior"] = tf.fill([n, 11], 0.5)  # the frozen prior's cached outputs
    return tf.data.Dataset.from_tensors(batch).repeat()


def split_into_two_logical_devices():
    """Two logical devices on the one GPU (or CPU); must run before TensorFlow starts its devices."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        # 32 GB each: far more than ResNet50 needs at the check's batch, well within an H200's 141 GB.
        config = [tf.config.LogicalDeviceConfiguration(memory_limit=32_768)] * 2
        tf.config.set_logical_device_configuration(gpus[0], config)
        return [device.name for device in tf.config.list_logical_devices("GPU")]
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def mirrored_section(sizes, deadline, devices):
    """One SGD step on one device and under MirroredStrategy over ``devices``, from the same weights.

    SGD, because Adam's first update hides the gradient's scale (a per-replica mean would
    double it); latents not sampled, since each replica draws its own noise; TF32 off, so
    the comparison is float32 against float32.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from pear_tf.config import ModelConfig
    from pear_tf.model import build_rating_model
    from pear_tf.training import loop

    tf.config.experimental.enable_tensor_float_32_execution(False)
    model_config = ModelConfig(
        backbone=sizes["backbone"],
        image_size=sizes["image_size"],
        recon_size=sizes["recon_size"],
        bin_values=tuple(float(v) for v in range(6)),
    )
    rng = np.random.default_rng(0)
    n = sizes["mirrored_batch"]
    votes = rng.integers(1, 6, (n, 6)).astype(np.float32)
    batch = {
        "image": tf.constant(rng.uniform(0, 255, (n, sizes["image_size"], sizes["image_size"], 3)), tf.float32),
        "distribution": tf.constant(votes / votes.sum(1, keepdims=True)),
        "attributes": tf.constant(rng.uniform(size=(n, 11)), tf.float32),
        "attribute_mask": tf.constant(rng.uniform(size=(n, 11)) < 0.5, tf.float32),
    }

    def one_step(strategy, initial=None):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model = build_rating_model(model_config, seed=0)
            model.build_all()
            model.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), jit_compile=False)
            model.build_optimizers()
            if initial is not None:
                model.set_weights(initial)
        model.sample_in_training = False
        before = [w.copy() for w in model.get_weights()]
        step = loop.make_train_function(model, strategy)
        logs, _ = step(iter(strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(batch))),
                       tf.constant(0))  # fmt: skip
        return before, model.get_weights(), float(logs["loss"])

    before, single, single_loss = one_step(tf.distribute.OneDeviceStrategy(devices[0]))
    mirrored_strategy = tf.distribute.MirroredStrategy(devices)
    _, mirrored, mirrored_loss = one_step(mirrored_strategy, before)
    max_update = max(float(np.abs(s - b).max()) for s, b in zip(single, before))
    max_difference = max(float(np.abs(s - m).max()) for s, m in zip(single, mirrored))
    return {
        "devices": devices,
        "replicas": mirrored_strategy.num_replicas_in_sync,
        "cross_device_ops": cross_device_ops_name(mirrored_strategy),
        "global_batch": n,
        "max_update": max_update,
        "max_difference": max_difference,
        "single_loss": single_loss,
        "mirrored_loss": mirrored_loss,
        "same_update": max_update > 1e-6 and max_difference <= 1e-4 * max(1.0, max_update),
    }


def cross_device_ops_name(strategy):
    """How the replicas' gradients are summed (TensorFlow picks it; NCCL cannot join two logical GPUs of one chip)."""
    extended = strategy.extended
    chosen = getattr(extended, "_cross_device_ops", None) or getattr(extended, "_inferred_cross_device_ops", None)
    return type(chosen).__name__ if chosen is not None else "unknown"


def summary_section(mode):
    """gpu_check.json: every section's figures, the ratios, the demo run, and the goals."""
    figures = {}
    for path in sorted(glob.glob(os.path.join(FLAGS.out, "*.json"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if name != "gpu_check":
            with open(path) as f:
                figures[name] = json.load(f)
    rates = {(v["precision"], v["objective"]): v["images_per_s"]
             for v in figures.get("step", {}).get("variants", []) if "images_per_s" in v}  # fmt: skip
    ratios = {f"pear_over_ce_{p}": rates[(p, "pear")] / rates[(p, "ce")]
              for p, _, _ in PRECISIONS if (p, "pear") in rates and (p, "ce") in rates}  # fmt: skip
    consumed = next((rates[(p, "pear")] for p, _, _ in PRECISIONS if (p, "pear") in rates), None)
    fed = figures.get("input", {})
    if consumed and fed:
        ratios["raw_over_step"] = fed["raw_images_per_s"] / consumed
        ratios["cache_over_step"] = fed["cache_images_per_s"] / consumed
        ratios["input_over_step"] = ratios["cache_over_step"]
    if fed:
        ratios["cache_over_raw"] = fed["cache_images_per_s"] / fed["raw_images_per_s"]
    gpu = mode == "gpu" and any(figures.get("device", {}).get("gpus", []))
    report = {
        "gpu_figures": "measured" if gpu else "still to be measured: this was a dry run on the CPU (tiny sizes)",
        "dry_run": mode == "dry",
        "ratios": ratios,
        "goals": {
            name: {"goal": goal, "value": ratios.get(name), "met": (ratios.get(name) or 0) >= goal}
            for name, goal in GOALS.items()
        },
        **figures,
    }
    write("gpu_check", report)
    return report


def main(argv):
    del argv
    if not FLAGS.out:
        raise app.UsageError("--out=DIR is needed ($OUT).")
    os.makedirs(FLAGS.out, exist_ok=True)
    mode = "dry" if FLAGS.dry_run else "gpu"
    sizes = SIZES[mode]
    if FLAGS.sections == ["summary"]:
        report = summary_section(mode)
        print(json.dumps({"gpu_figures": report["gpu_figures"], "ratios": report["ratios"]}, indent=2))
        return
    devices = split_into_two_logical_devices() if "mirrored" in FLAGS.sections else None
    if devices is not None and FLAGS.sections != ["mirrored"]:
        raise app.UsageError("--sections=mirrored runs alone (its logical devices would split the other sections').")
    deadline = time.time() + FLAGS.budget_s
    failed = []
    for name in FLAGS.sections:
        start = time.perf_counter()
        try:
            if name == "mirrored":
                figures = mirrored_section(sizes, deadline, devices)
            else:
                section = {"device": device_section, "input": input_section, "step": step_section}[name]
                figures = section(sizes, deadline)
        except Exception as error:  # noqa: BLE001 - one failing section must not lose the others' figures
            figures = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()[-4000:]}
            failed.append(name)
        figures = {**figures, "section_s": time.perf_counter() - start, "dry_run": FLAGS.dry_run}
        write(name, figures)
        scalars = {key: value for key, value in figures.items() if not isinstance(value, (list, dict))}
        print(f"{name}: {json.dumps(scalars)}", flush=True)
    if failed:
        sys.exit(f"Failed sections: {', '.join(failed)} (their JSON holds the error).")


if __name__ == "__main__":
    app.run(main)
