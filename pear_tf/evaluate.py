"""Evaluate a SavedModel or a training run on a split, with the metrics of DESIGN.md §3.

    python -m pear_tf.evaluate --model=savedmodels/aadb --dataset=aadb --data_dir=/data/AADB \
        --split=test --output=reports/aadb.json --bootstrap=1000

Writes the JSON report (the keys of a run's eval_metrics.json at its top level, plus
``bootstrap`` intervals, the skipped images and what was evaluated), a markdown summary
(``reports/aadb.md``) and two figures (``reports/aadb_scatter.png``: predicted against
true mean scores; ``reports/aadb_histogram.png``: the histograms of both).
"""

from absl import app, flags

from pear_tf import cli
from pear_tf.evaluation import report

FLAGS = flags.FLAGS


def define_flags():
    cli.define_data_flags()
    flags.DEFINE_string(
        "model", None, "A SavedModel (a version, or a base folder: its latest version) or a pear_tf.train model_dir."
    )
    flags.DEFINE_enum("split", "test", ["train", "validation", "test"], "Split to evaluate.")
    flags.DEFINE_string("output", "report.json", "The JSON report; the .md summary and PNGs are written beside it.")
    flags.DEFINE_integer("batch_size", 64, "Images per scoring batch.")
    flags.DEFINE_integer("bootstrap", 0, "Bootstrap resamples for 95% intervals (0: none; 1000 is typical).")
    flags.mark_flag_as_required("model")


def main(argv):
    del argv
    report.evaluate_to_files(
        FLAGS.model, cli.data_config_from_flags(), FLAGS.output, FLAGS.split, FLAGS.batch_size, FLAGS.bootstrap
    )


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
