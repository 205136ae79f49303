"""Write table1.md: our Table 1 runs beside the paper's figures.

    python -m pear_tf.table1 --runs=runs/table1 --output=runs/table1/table1.md

See pear_tf/evaluation/table1.py for what is read.
"""

from absl import app, flags

from pear_tf import cli
from pear_tf.evaluation import table1

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("runs", "runs/table1", "The folder pipelines/table1.sh trained into.")
    flags.DEFINE_string("output", None, "The markdown file; default <runs>/table1.md.")
    flags.DEFINE_string("paper", table1.PAPER_FIGURES, "The paper's figures (JSON).")
    flags.DEFINE_boolean("smoke", False, "Label the table as a smoke run.")


def main(argv):
    del argv
    table1.write_table(FLAGS.runs, FLAGS.output, FLAGS.paper, FLAGS.smoke)


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
