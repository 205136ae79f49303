"""Phone models across trainings: what ``--tflite=auto`` picks for each, against the issue-24 goals.

    python benchmarks/phone_table.py --runs=name=RUN_FOLDER,... [--max_size_mb=6] [--eval_data=test]

For each pear_tf.train run folder: its exported SavedModel (``--export_dir`` of the run,
read from its flags; the latest version) goes through ``export_tflite(..., "auto")`` as
``python -m pear_tf.export --tflite=auto --max_size_mb=6 --eval_data=test`` runs it:
calibration on 500 images of the run's own training split, the agreement check on 100
held-out ones, and the SRCC against the ratings of the run's own test split. Then the
picked file, that model's float32 file and a float32 ResNet50 PEAR of the same input
size (random weights: a float32 file's speed does not depend on its values) are timed
side by side (``interleaved_invoke_ms``: rounds of every file in turn, 1 and 2 threads).
Every row is printed, also the ones that miss a goal: ≤ 6 MB (10⁶ bytes), Spearman ≥ 0.98,
ΔSRCC ≤ 0.01, invoke ≤ 0.15× ResNet50 float32. The speed goal is judged with 1 thread, the
convention of the phone-model papers (MobileNetV3's and MnasNet's latencies are a single
large core's); the 2-thread ratio is printed beside it and named when it misses.
"""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

from absl import app, flags  # noqa: E402

from pear_tf.exporting import tflite  # noqa: E402
from pear_tf.exporting.agreement import AgreementError  # noqa: E402
from pear_tf.exporting.ratings import LabelledSet  # noqa: E402
from pear_tf.exporting.tflite_metadata import PHOTO_LIKENESS_OUTPUTS  # noqa: E402
from pear_tf.exporting.representative import training_split  # noqa: E402
from pear_tf.inference.metadata import image_size, read_metadata  # noqa: E402
from pear_tf.inference.tflite import as_input, interleaved_invoke_ms, read_tflite_metadata  # noqa: E402
from pear_tf.inference.versions import latest_version_dir  # noqa: E402

flags.DEFINE_list("runs", [], "name=RUN_FOLDER pairs (pear_tf.train runs with an exported SavedModel).")
flags.DEFINE_float("max_size_mb", 6.0, "The size budget of --tflite=auto, megabytes (10^6 bytes).")
flags.DEFINE_enum("eval_data", "test", ["train", "validation", "test", "all"], "The run's split scored against ratings.")
flags.DEFINE_integer("rounds", 5, "Timing rounds (each times every file once per thread count).")
flags.DEFINE_boolean("photo_likeness", True, "Keep ood_score/is_photo_like (export --tflite_photo_likeness).")
flags.DEFINE_integer("repeats", 10, "invoke() calls per file per round.")
FLAGS = flags.FLAGS


def saved_model_of(run):
    """The latest SavedModel version a run exported (its --export_dir flag)."""
    with open(os.path.join(run, "flags.txt")) as f:
        recorded = dict(line.strip()[2:].split("=", 1) for line in f if line.startswith("--") and "=" in line)
    return latest_version_dir(recorded["export_dir"])


def resnet50_float32(size, scratch):
    """A float32 .tflite of a random-weight ResNet50 PEAR at ``size`` px: the reference of the speed goal."""
    import keras

    from pear_tf.config import ModelConfig
    from pear_tf.exporting.saved_model import export_metadata, export_saved_model
    from pear_tf.model import PEAR

    keras.utils.set_random_seed(0)
    model = PEAR(ModelConfig(backbone="resnet50", image_size=size, recon_size=16))
    model.build_all()
    path = export_saved_model(model, os.path.join(scratch, "resnet50"), export_metadata(model, "random weights"), 0)
    return tflite.convert_in_subprocess(path, "float32", os.path.join(scratch, f"resnet50_{size}.tflite"))


def export_run(name, run, scratch):
    """(the SavedModel, the picked file or None, its metadata or the error, the model's float32 file)."""
    path = saved_model_of(run)
    labelled = LabelledSet(training_split(path).data, FLAGS.eval_data)
    picked = os.path.join(scratch, f"{name}.tflite")
    try:
        tflite.export_tflite(path, "auto", picked, max_size_mb=FLAGS.max_size_mb, eval_data=labelled,
                             photo_likeness=FLAGS.photo_likeness)  # fmt: skip
        outcome = read_tflite_metadata(picked)["tflite"]
    except AgreementError as error:
        picked, outcome = None, str(error)
    dropped = () if FLAGS.photo_likeness else PHOTO_LIKENESS_OUTPUTS
    float32 = tflite.convert_in_subprocess(path, "float32", os.path.join(scratch, f"{name}_float32.tflite"),
                                           drop_outputs=dropped)  # fmt: skip
    return path, picked, outcome, float32


def row(name, outcome, times, reference, size):
    """One markdown row: the picked variant and its figures against the goals."""
    if isinstance(outcome, str):
        return f"| {name} | {size} | nothing passed | | | | | | {outcome[:300]} |"
    tried = {t["variant"]: t for t in outcome["auto"]["tried"]}
    picked = tried[outcome["auto"]["picked"]]
    one, two = times[(name, 1)], times[(name, 2)]
    ratings = outcome["ratings"]
    goals = {"size": picked["bytes"] <= 6 * 10**6, "agreement": outcome["agreement"]["spearman"] >= 0.98,
             "ΔSRCC": ratings["srcc_drop"] <= 0.01, "speed": one / reference[1] <= 0.15}  # fmt: skip
    missed = [goal for goal, met in goals.items() if not met]
    if two / reference[2] > 0.15:
        missed.append("speed with 2 threads")
    others = "; ".join(f"{t['variant']}: {', '.join(t['reasons'])}" for t in tried.values() if t["reasons"])
    return (f"| {name} | {size} | {picked['variant']} | {picked['bytes'] / 1e6:.2f} | "
            f"{outcome['agreement']['spearman']:.4f} | {ratings['float_srcc']:.4f} → {ratings['srcc']:.4f} "
            f"({-ratings['srcc_drop']:+.4f}) | {one:.3f} ({one / reference[1]:.3f}) | {two:.3f} ({two / reference[2]:.3f}) "
            f"| {'all met' if not missed else 'missed: ' + ', '.join(missed)}; {others} |")  # fmt: skip


def main(argv):
    del argv
    with tempfile.TemporaryDirectory() as scratch:
        runs = dict(pair.split("=", 1) for pair in FLAGS.runs)
        exported = {name: export_run(name, run, scratch) for name, run in runs.items()}
        sizes = {name: image_size(read_metadata(path)) for name, (path, *_) in exported.items()}
        references = {size: resnet50_float32(size, scratch) for size in set(sizes.values())}
        files = {f"resnet50_{size}": (path, None, size) for size, path in references.items()}
        files.update({name: (picked, None, sizes[name]) for name, (_, picked, _, _) in exported.items() if picked})
        files.update({f"{name}_float32": (f32, None, sizes[name]) for name, (_, _, _, f32) in exported.items()})
        from pear_tf.exporting.representative import representative_images

        image = {size: representative_images("synthetic", size, 1, seed=11)[0] for size in references}
        inputs = {key: (path, as_input(image[size], "float32")) for key, (path, _, size) in files.items()}
        times = interleaved_invoke_ms(inputs, FLAGS.rounds, FLAGS.repeats)
        print(f"--tflite=auto --max_size_mb={FLAGS.max_size_mb:g} --eval_data={FLAGS.eval_data} "
              f"--{'' if FLAGS.photo_likeness else 'no'}tflite_photo_likeness; invoke median of "
              f"{FLAGS.rounds}×{FLAGS.repeats}, ratios to a float32 ResNet50 PEAR of the same size")  # fmt: skip
        print("| training | px | picked | MB | Spearman (check) | SRCC vs labels: float → tflite (Δ) | "
              "invoke ms 1 thr (× R50) | invoke ms 2 thr (×) | goals; what else failed |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, (path, picked, outcome, _) in exported.items():
            reference = {t: times[(f"resnet50_{sizes[name]}", t)] for t in (1, 2)}
            print(row(name, outcome, times, reference, sizes[name]))
            float_one = times[(f"{name}_float32", 1)]
            print(f"|  ↳ {name} float32 | {sizes[name]} | | | | | {float_one:.3f} ({float_one / reference[1]:.3f}) | "
                  f"{times[(f'{name}_float32', 2)]:.3f} | |")  # fmt: skip


if __name__ == "__main__":
    app.run(main)
