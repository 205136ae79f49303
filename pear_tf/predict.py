"""Score image files, folders or list files with an exported SavedModel or a .tflite file.

    python -m pear_tf.predict --model=savedmodels/demo photo.jpg more_photos/ --output=scores.csv
    python -m pear_tf.predict --model=savedmodels/demo --list=paths.txt --output=scores.jsonl
    python -m pear_tf.predict --model=savedmodels/demo --precision=auto photos/ --output=scores.csv
    python -m pear_tf.predict --model=pear_int8.tflite photos/ --output=scores.csv   # LiteRT, XNNPACK

``--precision=auto`` computes in bfloat16 on CPUs that do it natively (AMX, AVX512-BF16);
a .tflite file (int8 or float) is scored by LiteRT with the same rows (score_std 0).

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
from pear_tf.inference.precision import PRECISIONS
from pear_tf.inference.scorer import open_scorer

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("model", "savedmodels/demo", "A SavedModel folder or a model base folder of versions.")
    flags.DEFINE_string("output", None, "A .jsonl or .csv file for the rows (else they are printed).")
    flags.DEFINE_string("list", None, "A file of image paths, one per line.")
    flags.DEFINE_enum("sort", "score", ["score", "path", "none"], "Row order: best score first, by path, or as given.")
    flags.DEFINE_integer("batch_size", 16, "Images per model call.")
    flags.DEFINE_enum(
        "precision", None, PRECISIONS,
        "What a SavedModel computes in. Unset: as exported (its metadata says). bfloat16: a float32 export runs its "
        "convolutions in bfloat16 (fast on AMX/AVX512-BF16 CPUs; scores move by ~1e-2); auto: bfloat16 when this "
        "machine's CPU has it natively, else float32. Not for a .tflite file (int8 or float as converted).",
    )  # fmt: skip
    flags.DEFINE_integer("threads", 0, "A .tflite model's XNNPACK threads (0: every core this process may use).")


def main(argv):
    paths = list(paths_lib.expand_paths(argv[1:] + (paths_lib.read_list(FLAGS.list) if FLAGS.list else [])))
    if not paths:
        raise app.UsageError(
            "Give image files, folders or --list to score, "
            "e.g. python -m pear_tf.predict --model=savedmodels/demo a.jpg"
        )
    if FLAGS.output:
        rows_lib.prepare_output(FLAGS.output)
    scorer = open_scorer(FLAGS.model, FLAGS.precision, FLAGS.threads)  # a precision it cannot have: BadValue, exit 2
    for warning in (demo_warning(scorer.metadata), getattr(scorer, "precision_note", None)):
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
