"""The foundation-encoder step of benchmarks/gpu_check.sh: DINOv2-small under PEAR, each way it trains.

    python benchmarks/foundation_check.py --out=DIR [--dry_run] [--budget_s=80]

Writes ``foundation.json``: images/s and peak GPU memory of one train step (the training
loop's own step function) for DINOv2-small at 224 px, batch 64, random weights (speed does
not depend on them), in three routes:
- ``full``: every variable trains on images (float32, bfloat16, bfloat16 + XLA);
- ``last_blocks``: the last 4 transformer blocks train on images (--unfreeze_blocks=4);
- ``cached``: the latents and heads train on cached features (--frozen_epochs), no encoder;
and ``cached_over_full``, the speed-up of a cached step over a full one at the same precision.
A variant that would not fit in --budget_s is skipped (and listed so). --dry_run builds a tiny
DINOv2 at 32 px on the CPU through the same code: its figures are not GPU figures.
"""

import json
import os
import sys
import time

from absl import app, flags

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import step_timing  # noqa: E402

flags.DEFINE_string("out", None, "Folder for foundation.json ($OUT).")
flags.DEFINE_boolean("dry_run", False, "A tiny DINOv2 on the CPU, same code: checks the script, measures no GPU.")
flags.DEFINE_integer("budget_s", 80, "Seconds for the variants (one that won't fit is skipped).")
FLAGS = flags.FLAGS

TINY_DINOV2 = {"patch_size": 8, "hidden_dim": 16, "num_layers": 2, "num_heads": 2, "intermediate_dim": 32,
               "position_embedding_shape": [32, 32, 3]}  # fmt: skip
SIZES = {
    "gpu": dict(backbone_config=None, image_size=224, recon_size=64, batch_size=64, warmup=2, steps=10, blocks=4),
    "dry": dict(backbone_config=TINY_DINOV2, image_size=32, recon_size=16, batch_size=4, warmup=1, steps=2, blocks=1),
}
# (route, precision name, mixed precision, XLA), most wanted first: what runs out of time is the last.
VARIANTS = (("full", "bfloat16_xla", True, True), ("cached", "bfloat16_xla", True, True),
            ("last_blocks", "bfloat16_xla", True, True), ("full", "bfloat16", True, False),
            ("full", "float32", False, False))  # fmt: skip
DRY_VARIANTS = VARIANTS[:2]  # CI's time: the full and the cached step
RESERVE_S = 20


def batches(sizes, model, route):
    """One batch, repeated: images, or (cached) the encoder's features and reconstruction targets."""
    import tensorflow as tf

    n, side, recon = sizes["batch_size"], sizes["image_size"], sizes["recon_size"]
    batch = {"distribution": tf.fill([n, model.config.num_bins], 1.0 / model.config.num_bins),
             "attributes": tf.fill([n, 11], 0.5), "attribute_mask": tf.zeros([n, 11]),
             "prior": tf.fill([n, 11], 0.5)}  # fmt: skip
    if route == "cached":
        batch["features"] = tf.random.normal([n, model.backbone.output.shape[-1]], seed=0)
        batch["recon_target"] = tf.random.uniform([n, recon, recon, 3], seed=0)
    else:
        batch["image"] = tf.random.uniform([n, side, side, 3], 0, 255, seed=0)
    return tf.data.Dataset.from_tensors(batch).repeat()


def time_variant(sizes, route, mixed_precision, jit_compile):
    """Builds PEAR on DINOv2-small for ``route``, warms up, times ``steps`` steps; peak memory on a GPU."""
    from pear_tf.config import ModelConfig
    from pear_tf.training import run as train_lib
    from pear_tf.training.config import TrainConfig

    def build(strategy):
        model_config = ModelConfig(backbone="dinov2_small", backbone_config=sizes["backbone_config"],
                                   image_size=sizes["image_size"], recon_size=sizes["recon_size"])  # fmt: skip
        config = TrainConfig(model=model_config, unfreeze_blocks=sizes["blocks"] if route == "last_blocks" else 0)
        model = train_lib.build_model(config, model_config, strategy)
        if route == "cached":
            model.set_trainable("latents_and_heads")
        return model, batches(sizes, model, route)

    return step_timing.time_built_step(sizes, build, mixed_precision, jit_compile)


def main(argv):
    del argv
    if not FLAGS.out:
        raise app.UsageError("--out=DIR is needed ($OUT).")
    os.makedirs(FLAGS.out, exist_ok=True)
    sizes = SIZES["dry" if FLAGS.dry_run else "gpu"]
    deadline, results = time.time() + FLAGS.budget_s, []
    for route, precision, mixed, jit in DRY_VARIANTS if FLAGS.dry_run else VARIANTS:
        if deadline - time.time() < RESERVE_S and not FLAGS.dry_run:
            results.append({"route": route, "precision": precision, "skipped": "out of time"})
            continue
        results.append({"route": route, "precision": precision, **time_variant(sizes, route, mixed, jit)})
    rates = {(r["route"], r["precision"]): r["images_per_s"] for r in results if "images_per_s" in r}
    ratios = {f"cached_over_full_{p}": rates[("cached", p)] / rates[("full", p)]
              for _, p, _, _ in VARIANTS if ("cached", p) in rates and ("full", p) in rates}  # fmt: skip
    figures = {"encoder": "dinov2_small", "variants": results, "ratios": ratios, "dry_run": FLAGS.dry_run,
               **{k: v for k, v in sizes.items() if k != "backbone_config"}}  # fmt: skip
    with open(os.path.join(FLAGS.out, "foundation.json"), "w") as f:
        json.dump(figures, f, indent=2, sort_keys=True)
    print(json.dumps({"ratios": ratios, "variants": len(results)}))


if __name__ == "__main__":
    app.run(main)
