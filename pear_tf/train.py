"""Train PEAR (or a Table 1 baseline), evaluate it on the test split, export a SavedModel.

python -m pear_tf.train --flagfile=pipelines/demo.flags

Rerunning the same command resumes from the last checkpoint. Exit status 1 when a loss
term turns NaN or Inf, 143 after a SIGTERM (the checkpoint is saved first).
"""

import sys

from absl import app, flags, logging

from pear_tf import cli
from pear_tf.training import loop, run


def main(argv):
    del argv
    if not flags.FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)  # TensorFlow logs a line per checkpoint saved
    config = cli.train_config_from_flags()
    cli.write_resolved_flags(config.model_dir)
    try:
        run.train_and_evaluate(config)
    except loop.NonFiniteLoss as error:
        print(f"ERROR: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
    except loop.Preempted as error:
        print(f"Pre-empted: {error}", file=sys.stderr, flush=True)
        sys.exit(143)
    except (FileNotFoundError, ImportError) as error:  # missing weights or keras-hub (UserError: cli.guard)
        cli.exit_with_message(str(error))


if __name__ == "__main__":
    cli.define_train_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
