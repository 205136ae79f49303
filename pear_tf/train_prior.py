"""Pre-train the prior network p(z|x) on AADB's attributes.

    python -m pear_tf.train_prior --flagfile=pipelines/prior_aadb.flags --data_dir=/data/AADB
    python -m pear_tf.train_prior --flagfile=pipelines/demo.flags --model_dir=runs/prior_demo   # synthetic

Then train PEAR with ``--prior_checkpoint=<this model_dir>``.
"""

from absl import app

from pear_tf import cli
from pear_tf.training import prior


def main(argv):
    del argv
    config = cli.prior_config_from_flags()
    cli.write_resolved_flags(config.model_dir)
    prior.train_prior(config)


if __name__ == "__main__":
    cli.define_prior_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
