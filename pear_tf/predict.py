"""Score image files, folders or list files with an exported SavedModel.

    python -m pear_tf.predict --model=savedmodels/demo photo.jpg more_photos/ --output=scores.csv
    python -m pear_tf.predict --model=savedmodels/demo --list=paths.txt --output=scores.jsonl

Folders are walked recursively. Without ``--output``, each image's score (± its
Monte-Carlo std), rating distribution and 11 attributes are printed; with it, a
progress bar runs and the rows go to a .csv or .jsonl file, sorted by ``--sort``. An
unreadable file becomes an error row, never a crash.
"""

import sys

from absl import app, flags

from pear_tf import cli
from pear_tf.inference import paths as paths_lib
from pear_tf.inference import rows as rows_lib
from pear_tf.inference.metadata import demo_warning
from pear_tf.inference.saved_model import SavedModelScorer

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("model", "savedmodels/demo", "A SavedModel folder or a model base folder of versions.")
    flags.DEFINE_string("output", None, "A .jsonl or .csv file for the rows (else they are printed).")
    flags.DEFINE_string("list", None, "A file of image paths, one per line.")
    flags.DEFINE_enum("sort", "score", ["score", "path", "none"], "Row order: best score first, by path, or as given.")
    flags.DEFINE_integer("batch_size", 16, "Images per model call.")


def main(argv):
    paths = list(paths_lib.expand_paths(argv[1:] + (paths_lib.read_list(FLAGS.list) if FLAGS.list else [])))
    if not paths:
        raise app.UsageError(
            "Give image files, folders or --list to score, "
            "e.g. python -m pear_tf.predict --model=savedmodels/demo a.jpg"
        )
    if FLAGS.output:
        rows_lib.prepare_output(FLAGS.output)
    scorer = SavedModelScorer(FLAGS.model)
    warning = demo_warning(scorer.metadata)
    if warning:
        print(warning, file=sys.stderr)
    rows = rows_lib.sort_rows(rows_lib.score_paths(scorer, paths, FLAGS.batch_size, bool(FLAGS.output)), FLAGS.sort)
    if FLAGS.output:
        rows_lib.write_rows(rows, FLAGS.output)
        errors = sum("error" in r for r in rows)
        print(f"Wrote {len(rows)} rows ({errors} unreadable) to {FLAGS.output}")
    else:
        for row in rows:
            print(rows_lib.format_row(row, scorer.metadata["bin_values"]))


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
