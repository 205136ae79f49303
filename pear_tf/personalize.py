r"""Adapt a generic PEAR SavedModel to one person from 10 or more of their rated photos.

    python -m pear_tf.personalize --model=savedmodels/demo --ratings=my_ratings.csv \
        --export_dir=savedmodels/alice

``my_ratings.csv`` has a header and ``path,score`` rows (paths relative to the CSV), on any
numeric scale (``--score_range=1,5`` rejects scores outside it). Unusable rows (missing or
unreadable files, non-numeric or out-of-range scores, repeated paths) are skipped and
listed. The result is the next version of ``--export_dir``, an ordinary SavedModel whose
scores stay on the generic model's scale, and ``taste.json``/``taste.png`` beside it.
"""

import sys

from absl import app, flags

from pear_tf import cli
from pear_tf.personal.adapt import Prior
from pear_tf.personal.run import PersonalizeConfig, personalize

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("model", "savedmodels/demo", "The generic SavedModel (base or version folder).")
    flags.DEFINE_string("ratings", None, "The person's CSV of path,score rows.")
    flags.DEFINE_string("export_dir", None, "Base folder of the personal model, e.g. savedmodels/<person>.")
    flags.DEFINE_string("person", None, "Who the model is adapted for (default: the export folder's name).")
    flags.DEFINE_integer("min_ratings", 10, "Fewest usable ratings to adapt from.")
    flags.DEFINE_list("score_range", None, "LOW,HIGH of the person's scale; other scores are skipped.")
    flags.DEFINE_float("weight_std", None, "Without a population: the prior std of a feature's weight on "
                       "standardised ratings (default: your ratings choose it).")  # fmt: skip
    flags.DEFINE_string("population", "auto", "The population prior: auto (the model's own, fitted with "
                        "pear_tf.fit_population), none, or a population JSON.")  # fmt: skip


def main(argv):
    del argv
    if not FLAGS.ratings or not FLAGS.export_dir:
        raise app.UsageError("Give --ratings=CSV and --export_dir=savedmodels/<person>.")
    config = PersonalizeConfig(
        model=FLAGS.model,
        ratings=FLAGS.ratings,
        export_dir=FLAGS.export_dir,
        person=FLAGS.person,
        min_ratings=FLAGS.min_ratings,
        score_range=tuple(float(v) for v in FLAGS.score_range) if FLAGS.score_range else None,
        prior=Prior(weight_std=FLAGS.weight_std),
        population=FLAGS.population,
    )
    result = personalize(config)  # too few usable ratings: a UserError naming the skipped rows
    for line, name, reason in result["skipped"]:
        where = f" line {line}" if line else ""
        print(f"skipped{where}: {name or '(no path)'}: {reason}", file=sys.stderr)
    print(f"Adapted from {result['num_ratings']} ratings ({len(result['skipped'])} rows skipped; population: "
          f"{result['population']}): {result['summary']}")  # fmt: skip
    print(f"Exported {result['version']}; taste report: {result['taste_json']}, {result['taste_png']}")


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
