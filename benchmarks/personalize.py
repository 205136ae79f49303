"""Wall time of personalising a generic PEAR from k = 10 and k = 100 ratings, features and export included.

    python benchmarks/personalize.py                         # demo model (tiny, 64 px) and ResNet50 at 224
    python benchmarks/personalize.py --models=demo=savedmodels/demo --ks=10,100

Each generic model is a random-weight PEAR exported as the training run would (time not
counted), or a SavedModel given with --models. The person's photos are 640×480 JPEGs
with random 1..5 ratings; timed is pear_tf.personal.run.personalize: reading the CSV,
decoding and scoring every photo through the generic model (the features, computed
once), fitting the correction, exporting the personal SavedModel and writing taste.json
and taste.png. One warm-up personalisation per model (k=10) is not counted. Goals on 2
CPU cores (issue 17): under 30 s for the demo model and under 2 minutes for ResNet50 at k = 100.
"""

import dataclasses
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402
from PIL import Image  # noqa: E402

from pear_tf.config import ModelConfig  # noqa: E402
from pear_tf.exporting import saved_model as export_lib  # noqa: E402
from pear_tf.model import build_rating_model  # noqa: E402
from pear_tf.personal.run import PersonalizeConfig, personalize  # noqa: E402

flags.DEFINE_list("models", [], "name=SavedModel pairs; default: random-weight demo and ResNet50 PEARs.")
flags.DEFINE_list("ks", ["10", "100"], "Numbers of ratings.")
flags.DEFINE_integer("repeats", 1, "Timed runs per model and k (the median is printed).")

# The random-weight generic models: (backbone, image size, reconstruction size).
DEFAULT_MODELS = {"demo (tiny, 64 px)": ("tiny", 64, 32), "ResNet50 (224 px)": ("resnet50", 224, 64)}


def generic_model(backbone, image_size, recon_size, folder):
    config = dataclasses.replace(ModelConfig(), backbone=backbone, backbone_weights=None, image_size=image_size,
                                 recon_size=recon_size, bin_values=tuple(float(v) for v in range(1, 6)))  # fmt: skip
    model = build_rating_model(config)
    model.build_all()
    return export_lib.export_saved_model(model, folder, export_lib.export_metadata(model, "flickr_aes"))


def ratings_csv(folder, count, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    rows = ["path,score"]
    for i in range(count):
        pixels = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8).repeat(10, axis=0).repeat(10, axis=1)
        Image.fromarray(pixels).save(os.path.join(folder, f"{i}.jpg"), quality=90)
        rows.append(f"{i}.jpg,{rng.integers(1, 6)}")
    path = os.path.join(folder, "ratings.csv")
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")
    return path


def main(argv):
    del argv
    ks = [int(k) for k in flags.FLAGS.ks]
    work = tempfile.mkdtemp(prefix="personalize-bench-")
    csvs = {k: ratings_csv(os.path.join(work, f"photos{k}"), k, seed=k) for k in ks}
    models = dict(m.split("=", 1) for m in flags.FLAGS.models) or {
        name: generic_model(*spec, os.path.join(work, f"generic{i}"))
        for i, (name, spec) in enumerate(DEFAULT_MODELS.items())
    }
    print(f"cpu cores visible: {os.cpu_count()}")
    print("| model | " + " | ".join(f"k={k} (s)" for k in ks) + f" | k={ks[-1]} / k={ks[0]} |")
    print("|---|" + "---|" * (len(ks) + 1))
    for index, (name, path) in enumerate(models.items()):
        personalize(PersonalizeConfig(path, csvs[ks[0]], os.path.join(work, f"warm{index}")))
        seconds = []
        for k in ks:
            times = []
            for repeat in range(flags.FLAGS.repeats):
                start = time.perf_counter()
                personalize(PersonalizeConfig(path, csvs[k], os.path.join(work, f"p{index}_{k}_{repeat}")))
                times.append(time.perf_counter() - start)
            seconds.append(float(np.median(times)))
        print(f"| {name} | " + " | ".join(f"{s:.1f}" for s in seconds) + f" | {seconds[-1] / seconds[0]:.2f} |")


if __name__ == "__main__":
    app.run(main)
