"""Train PEAR, evaluate it on the test split, export a SavedModel.

python -m pear_tf.train --flagfile=pipelines/demo.flags
"""

from absl import app

from pear_tf import cli, train_lib


def main(argv):
    del argv
    config = cli.train_config_from_flags()
    cli.write_resolved_flags(config.model_dir)
    train_lib.train_and_evaluate(config)


if __name__ == "__main__":
    cli.define_train_flags()
    app.run(main)
