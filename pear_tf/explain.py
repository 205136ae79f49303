"""Show which photographic attributes PEAR sees in images (the paper's Fig. 3, middle).

    python -m pear_tf.explain --model=savedmodels/demo --output_dir=explained photo.jpg ...

prints each image's score and its 11 inferred attributes, and writes a bar chart per
image, ``<output_dir>/<image name>.attributes.png``.
"""

import sys

from absl import app, flags

from pear_tf import cli, errors
from pear_tf.attributes import ATTRIBUTE_NAMES
from pear_tf.evaluation import analysis
from pear_tf.inference.metadata import demo_warning
from pear_tf.inference.paths import expand_paths
from pear_tf.inference.saved_model import SavedModelScorer

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("model", "savedmodels/demo", "A SavedModel folder or a model base folder of versions.")
    flags.DEFINE_string("output_dir", "explained", "Folder for the bar charts.")


def main(argv):
    paths = list(expand_paths(argv[1:]))
    if not paths:
        raise app.UsageError(
            "Give image files or folders, e.g. python -m pear_tf.explain --model=savedmodels/demo a.jpg"
        )
    scorer = SavedModelScorer(FLAGS.model)
    if "attributes" not in scorer.metadata.get("outputs", ["attributes"]):
        raise errors.BadValue(f"{scorer.path} is a {scorer.metadata['objective']} baseline: it has no attributes to "
                              "explain; give a PEAR model.")
    warning = demo_warning(scorer.metadata)
    if warning:
        print(warning, file=sys.stderr)
    for row in analysis.explain_files(scorer, paths, FLAGS.output_dir):
        if "error" in row:
            print(f"{row['path']}: ERROR {row['error']}")
            continue
        print(f"{row['path']}  score {row['score']:.3f}  → {row['chart']}")
        ranked = sorted(zip(ATTRIBUTE_NAMES, row["attributes"]), key=lambda item: -item[1])
        print("\n".join(f"    {name:<17} {value:.2f}  {'#' * int(round(value * 20))}" for name, value in ranked))


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
