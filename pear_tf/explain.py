"""Show which photographic attributes PEAR sees in images (the paper's Fig. 3, middle).

    python -m pear_tf.explain --model=savedmodels/demo --output_dir=explained photo.jpg ...

prints each image's score and its 11 inferred attributes, and writes a bar chart per
image, ``<output_dir>/<image name>.attributes.png``.
"""

import os

from absl import app, flags

from pear_tf import analysis
from pear_tf.attributes import ATTRIBUTE_NAMES
from pear_tf.predict import Scorer, expand_paths


def explain(scorer, paths, output_dir):
    """Scores ``paths``, writes a chart per readable image; returns the rows (errors included)."""
    os.makedirs(output_dir, exist_ok=True)
    rows = []
    for path in paths:
        row = scorer.score_file(path)
        if "error" not in row:
            chart = os.path.join(output_dir, os.path.basename(path) + ".attributes.png")
            row["chart"] = analysis.plot_attribute_bars(row["attributes"], row["score"], chart, os.path.basename(path))
        rows.append(row)
    return rows


def main(argv):
    paths = list(expand_paths(argv[1:]))
    if not paths:
        raise app.UsageError(
            "Give image files or folders, e.g. python -m pear_tf.explain --model=savedmodels/demo a.jpg"
        )
    for row in explain(Scorer(flags.FLAGS.model), paths, flags.FLAGS.output_dir):
        if "error" in row:
            print(f"{row['path']}: ERROR {row['error']}")
            continue
        print(f"{row['path']}  score {row['score']:.3f}  → {row['chart']}")
        ranked = sorted(zip(ATTRIBUTE_NAMES, row["attributes"]), key=lambda item: -item[1])
        print("\n".join(f"    {name:<17} {value:.2f}  {'#' * int(round(value * 20))}" for name, value in ranked))


if __name__ == "__main__":
    flags.DEFINE_string("model", "savedmodels/demo", "A SavedModel folder or a model base folder of versions.")
    flags.DEFINE_string("output_dir", "explained", "Folder for the bar charts.")
    app.run(main)
