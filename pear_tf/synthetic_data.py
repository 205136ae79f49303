"""Write the embedded synthetic data set to disk: sample photos, or the whole set in a real layout.

    python -m pear_tf.synthetic_data --out=DIR --count=4 --image_size=64
writes a few sample PNGs (e.g. to score with pear_tf.predict);
    python -m pear_tf.synthetic_data --layout=ava|aadb|flickr_aes --out=DIR --image_size=64
writes the whole set as AVA, AADB or FLICKR-AES ship, so the real readers can be run end
to end. ``python -m pear_tf.data.synthetic`` runs this command too. What the images are:
pear_tf/data/synthetic.py and docs/datasets.md.
"""

from absl import app, flags

from pear_tf import cli
from pear_tf.data import synthetic
from pear_tf.data.preprocessing import resize_size

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("out", "samples", "Output folder.")
    flags.DEFINE_enum(
        "layout", None, sorted(synthetic.LAYOUTS), "Write the whole set in AVA's, AADB's or FLICKR-AES's layout."
    )
    flags.DEFINE_list("sizes", ["4800", "300", "600"], "With --layout=ava|aadb: train, validation, test sizes.")
    flags.DEFINE_list(
        "personal_sizes", [str(n) for n in synthetic.FLICKR_SIZES],
        "With --layout=flickr_aes: generic images, test workers, images per test worker.",
    )  # fmt: skip
    flags.DEFINE_integer("count", 4, "Without --layout: how many sample PNGs.")
    flags.DEFINE_enum("flavour", "aadb", sorted(synthetic.FLAVOURS), "Without --layout: the flavour of the samples.")
    flags.DEFINE_integer("image_size", 224, "Encoder input size; images are rendered at its resize size.")
    flags.DEFINE_integer("seed", 0, "Seed of the synthetic set.")


def main(argv):
    del argv
    size = resize_size(FLAGS.image_size)
    if FLAGS.layout:
        sizes = tuple(int(n) for n in (FLAGS.personal_sizes if FLAGS.layout == "flickr_aes" else FLAGS.sizes))
        written = synthetic.LAYOUTS[FLAGS.layout](FLAGS.out, sizes, size, FLAGS.seed)
        print(f"Wrote the synthetic set in the {FLAGS.layout.upper()} layout to {written}")
        return
    for path in synthetic.write_samples(FLAGS.out, FLAGS.count, FLAGS.flavour, size, FLAGS.seed):
        print(path)


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
