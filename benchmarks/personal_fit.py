"""Wall time of fitting one person's taste once the photos' features are computed (issue 23: ≤ 1 s at k = 100).

    python benchmarks/personal_fit.py                       # a population of the largest size (D = 44)
    python benchmarks/personal_fit.py --population=savedmodels/<generic>/population/1.json

Timed is pear_tf.personal.adapt.fit_taste: standardising the features, the evidence of the
generic model and of the correction at each of its five scales (σ² searched over 25
values each), the evidence-weighted posterior. Side by side, in the same run and on the
same features, one closed-form posterior under a fixed prior (what the fit would cost
with nothing chosen by evidence). Median of --repeats fits per k; features and ratings
are random (the timing does not depend on their values).
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from pear_tf.personal import evidence, store  # noqa: E402
from pear_tf.personal.adapt import TasteModel, fit_taste  # noqa: E402
from pear_tf.personal.population import Population  # noqa: E402
from pear_tf.personal.space import fit_space  # noqa: E402

flags.DEFINE_string("population", None, "A population JSON written by pear_tf.fit_population (default: synthetic).")
flags.DEFINE_list("ks", ["10", "100", "1000"], "Numbers of ratings.")
flags.DEFINE_integer("repeats", 50, "Fits per k (the median is printed).")


def synthetic_model(rng, content=100, components=32):
    """A space over random raw features and a random population of D = 12 + components."""
    raw = rng.normal(size=(2000, 12 + content))
    space = fit_space(raw, components)
    dim = space.num_features
    factor = rng.normal(size=(dim, dim)) * 0.05
    return TasteModel(space=space, population=Population(np.r_[0.5, np.zeros(dim - 1)], factor @ factor.T + 0.01 * np.eye(dim),
                                                         0.5, 100, 0.1))  # fmt: skip


def median_seconds(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv):
    del argv
    rng = np.random.default_rng(0)
    if flags.FLAGS.population:
        space, population, _ = store.load(flags.FLAGS.population)
        model = TasteModel(space=space, population=population)
    else:
        model = synthetic_model(rng)
    width = len(model.space.raw_mean)
    print(f"cpu cores visible: {os.cpu_count()}; taste features D = {len(model.population.mean)}")
    print("| k | fit_taste (ms) | one fixed-prior posterior (ms) | ratio |")
    print("|---|---|---|---|")
    for k in (int(k) for k in flags.FLAGS.ks):
        raw = rng.normal(size=(k, width))
        features = {"score": raw[:, 0], "attributes": raw[:, 1:12], "content": raw[:, 12:] if width > 12 else None}
        ratings = rng.integers(1, 6, k).astype(float)
        fit_taste(features, ratings, model)  # warm-up
        full = median_seconds(lambda: fit_taste(features, ratings, model), flags.FLAGS.repeats)

        def fixed():
            x = model.space.transform(raw)[:, : len(model.population.mean)]
            return evidence.posterior(evidence.sufficient(x, ratings), model.population.mean,
                                      model.population.covariance, 0.5)  # fmt: skip

        one = median_seconds(fixed, flags.FLAGS.repeats)
        print(f"| {k} | {full * 1e3:.1f} | {one * 1e3:.2f} | {full / one:.0f} |")


if __name__ == "__main__":
    app.run(main)
