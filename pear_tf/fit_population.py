r"""Fit a generic model's taste space and population prior from its training photos and workers.

    python -m pear_tf.fit_population --model=savedmodels/flickr_aes --data_dir=/data/FLICKR-AES

Once per generic model version, before personalising with it: scores the photos that no
test worker rated, fits the taste space (the generic score, the 11 attributes and the
content latent's principal components) and the population of tastes of the training
workers (how people differ from the crowd), and writes both to
``<model base>/population/<version>.json``, atomically, beside the untouched versions.
``personalize`` and ``evaluate_personal`` use it from then on (``--population``).
The data are FLICKR-AES's layout: your own workers' ratings work the same when written as
``40K/<photo>`` and a ``worker, imagePair, score`` CSV.
"""

from absl import app, flags

from pear_tf import cli
from pear_tf.personal.learn import IMAGES, PopulationConfig, learn_population

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("model", "savedmodels/flickr_aes", "The generic SavedModel (base or version folder).")
    flags.DEFINE_enum("dataset", "flickr_aes", ["flickr_aes"], "The training data's layout.")
    flags.DEFINE_string("data_dir", None, "FLICKR-AES (or your workers' ratings) in FLICKR-AES's layout.")
    flags.DEFINE_string("test_workers", None, "A one-column CSV with header ID (default: the 37 published ids).")
    flags.DEFINE_enum("images", "generic", IMAGES, "Which training workers' photos: all generic ones, or only "
                      "the generic model's validation slice (photos it did not train on).")  # fmt: skip
    flags.DEFINE_integer("space_photos", 3000, "At most this many generic photos fit the taste space.")
    flags.DEFINE_integer("seed", 0, "Seed of the space's photo sample.")


def main(argv):
    del argv
    config = PopulationConfig(model=FLAGS.model, data_dir=FLAGS.data_dir, test_workers=FLAGS.test_workers,
                              images=FLAGS.images, space_photos=FLAGS.space_photos, seed=FLAGS.seed)  # fmt: skip
    result = learn_population(config)
    fitted = result["population"]
    print(f"Population of {fitted.num_workers} training workers ({result['ratings']} ratings, "
          f"{len(result['skipped_workers'])} workers with too few skipped), {result['content_components']} content "
          f"components, shrinkage {fitted.shrinkage:g}: wrote {result['path']}")  # fmt: skip


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
