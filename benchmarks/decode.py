"""Camera-size photos: full decode vs the DCT-scaled decode, side by side in one run.

    python benchmarks/decode.py --model=savedmodels/demo [--megapixels=24 --rounds=5]

Makes one camera-size JPEG (--megapixels, 3:2, quality 92, with sensor-like noise) from each of
five real photographs shipped in packages (scikit-learn's china and flower, scikit-image's
astronaut, coffee and chelsea), then times, alternating for --rounds rounds (medians):

1. graph: the SavedModel's decode (pear_tf/data/decode.py) + preprocessing to the model input,
   at full size (``target_side=None``) and at the DCT scale the model needs;
2. host: Pillow's full decode and its ``draft()`` (the host decode's path for CMYK JPEGs with a
   print profile) + the same preprocessing;

for the model's input size and for ResNet50's 224 px, and prints images/s, the scaled ÷ full
ratio, and the mean and max |Δscore| of --model's scores between the two inputs of each photo.
"""

import io
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from PIL import Image  # noqa: E402

from pear_tf.data import decode  # noqa: E402
from pear_tf.data.preprocessing import preprocess, resize_size  # noqa: E402
from pear_tf.inference.saved_model import SavedModelScorer  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("model", "savedmodels/demo", "A SavedModel (base folder or version) to measure |Δscore| with.")
flags.DEFINE_float("megapixels", 24.0, "Camera size of the test JPEGs.")
flags.DEFINE_integer("rounds", 5, "Rounds; each times every route once, alternating.")

PHOTOS = ("china", "flower", "astronaut", "coffee", "chelsea")


def camera_jpegs(megapixels):
    """One 3:2 camera-size JPEG per real photo: upscaled (Lanczos), with sensor-like noise, quality 92."""
    from sklearn.datasets import load_sample_image
    import skimage.data

    width = int(round((megapixels * 1e6 * 1.5) ** 0.5))
    height = int(round(width / 1.5))
    rng = np.random.default_rng(0)
    files = []
    for name in PHOTOS:
        pixels = load_sample_image(f"{name}.jpg") if name in ("china", "flower") else getattr(skimage.data, name)()
        big = np.asarray(Image.fromarray(pixels[..., :3]).resize((width, height), Image.Resampling.LANCZOS), np.float32)
        big = np.clip(big + rng.normal(0, 3, big.shape), 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(big).save(buffer, "JPEG", quality=92)
        files.append(buffer.getvalue())
    return files, (width, height)


def routes(image_size):
    """{route name: data → float32 model input}, full and scaled, in the graph and on the host."""
    side = resize_size(image_size)

    def graph(target):
        function = tf.function(lambda d: preprocess(decode.decode_image(d, target), image_size))
        return lambda data: function(tf.constant(data)).numpy()

    def host(target):
        def run(data):
            with Image.open(io.BytesIO(data)) as image:
                if target:
                    image.draft(None, (target, target))
                pixels = np.asarray(image.convert("RGB"))
            return preprocess(pixels, image_size).numpy()

        return run

    return {"graph full": graph(None), "graph scaled": graph(side), "host full": host(None), "host scaled": host(side)}


def time_routes(functions, files, rounds):
    """{route: median images/s} and {route: [input of each file]}, the routes alternating each round."""
    seconds = {name: [] for name in functions}
    inputs = {}
    for name, function in functions.items():  # warm-up (tracing) and the inputs
        inputs[name] = [function(data) for data in files]
    for _ in range(rounds):
        for name, function in functions.items():
            start = time.perf_counter()
            for data in files:
                function(data)
            seconds[name].append(time.perf_counter() - start)
    return {name: len(files) / statistics.median(values) for name, values in seconds.items()}, inputs


def score_delta(scorer, full, scaled):
    scores = [scorer.score_images(tf.constant(np.stack(x)))["score"].numpy() for x in (full, scaled)]
    delta = np.abs(scores[0] - scores[1])
    return float(delta.mean()), float(delta.max())


def main(argv):
    del argv
    scorer = SavedModelScorer(FLAGS.model)
    files, (width, height) = camera_jpegs(FLAGS.megapixels)
    mean_mb = sum(len(f) for f in files) / len(files) / 2**20
    print(f"{len(files)} JPEGs of {width}x{height} ({width * height / 1e6:.1f} MP, {mean_mb:.1f} MiB each), "
          f"{os.cpu_count()} CPU cores, {FLAGS.rounds} rounds, medians")  # fmt: skip
    print(f"{'input':>6} {'route':<8} {'full img/s':>10} {'scaled img/s':>12} {'speed-up':>8} {'mean|Δscore|':>12} "
          f"{'max|Δscore|':>11}")  # fmt: skip
    for size in sorted({scorer.image_size, 224}):
        rates, inputs = time_routes(routes(size), files, FLAGS.rounds)
        for route in ("graph", "host"):
            full, scaled = rates[f"{route} full"], rates[f"{route} scaled"]
            if size == scorer.image_size:
                mean, worst = score_delta(scorer, inputs[f"{route} full"], inputs[f"{route} scaled"])
                delta = f"{mean:>12.4f} {worst:>11.4f}"
            else:
                delta = f"{'(no model)':>12} {'':>11}"
            print(f"{size:>6} {route:<8} {full:>10.2f} {scaled:>12.2f} {scaled / full:>7.1f}x {delta}")
    ratio = decode.dct_ratio_index(height, width, resize_size(scorer.image_size))
    print(f"DCT scale at {scorer.image_size} px: 1/{(1, 2, 4, 8)[int(ratio)]}")


if __name__ == "__main__":
    app.run(main)
