r"""Run the standard personalisation protocol of FLICKR-AES on a generic SavedModel.

    python -m pear_tf.evaluate_personal --model=savedmodels/flickr_aes --dataset=flickr_aes \
        --data_dir=/data/FLICKR-AES --shots=10,100 --trials=10 --output_dir=runs/personal_eval

For each test worker: k of their images at random, adapt, SRCC on the rest of their
images; generic against personalised, mean ± std over the workers, the gain's bootstrap
CI and the share of users it hurt, beside the published figures (personal_eval.json,
.md and .png in --output_dir). Nothing is chosen on held-out images: the population prior
is learned beforehand from training workers (python -m pear_tf.fit_population), each
fit's scales from its k rated images alone.
"""

from absl import app, flags

from pear_tf import cli
from pear_tf.personal.adapt import Prior
from pear_tf.personal.evaluation import ProtocolConfig, markdown, run_protocol

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("model", "savedmodels/flickr_aes", "The generic SavedModel (base or version folder).")
    flags.DEFINE_enum("dataset", "flickr_aes", ["flickr_aes"], "The personal data set (FLICKR-AES's layout).")
    flags.DEFINE_string("data_dir", None, "FLICKR-AES unpacked as distributed.")
    flags.DEFINE_string("test_workers", None, "A one-column CSV with header ID (default: the 37 published ids).")
    flags.DEFINE_list("shots", ["10", "100"], "Images adapted on per worker and trial.")
    flags.DEFINE_integer("trials", 10, "Random draws per worker and shot count.")
    flags.DEFINE_integer("seed", 0, "Seed of the draws.")
    flags.DEFINE_string("output_dir", "runs/personal_eval", "Where personal_eval.json and .md are written.")
    flags.DEFINE_float("weight_std", None, "Without a population: the prior std of a feature's weight on "
                       "standardised ratings (default: each person's ratings choose it).")  # fmt: skip
    flags.DEFINE_string("population", "auto", "The population prior: auto (the model's own, fitted with "
                        "pear_tf.fit_population), none, or a population JSON.")  # fmt: skip


def main(argv):
    del argv
    config = ProtocolConfig(
        model=FLAGS.model,
        data_dir=FLAGS.data_dir,
        output_dir=FLAGS.output_dir,
        shots=tuple(int(k) for k in FLAGS.shots),
        trials=FLAGS.trials,
        seed=FLAGS.seed,
        test_workers=FLAGS.test_workers,
        prior=Prior(weight_std=FLAGS.weight_std),
        population=FLAGS.population,
    )
    print(markdown(run_protocol(config)))


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
