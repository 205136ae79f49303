"""Write the landscapes set (pear_tf.data.landscapes: a second AVA-layout generator, other rules).

    python -m pear_tf.landscapes_data --out=DIR --image_size=64 [--sizes=4800,300,600] [--seed=0]

writes AVA.txt, images/ and aesthetics_image_lists/generic_test.jpgl, for ``--dataset=ava
--data_dir=DIR``. ``python -m pear_tf.data.landscapes`` runs this command too.
"""

from absl import app, flags

from pear_tf import cli
from pear_tf.data import landscapes
from pear_tf.data.preprocessing import resize_size

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("out", None, "Output folder (AVA's layout).", required=True)
    flags.DEFINE_list("sizes", ["4800", "300", "600"], "Train (validation is held out of it by the reader), "
                      "unused, test sizes: the first two together form AVA's train list.")  # fmt: skip
    flags.DEFINE_integer("image_size", 224, "Encoder input size; images are rendered at its resize size.")
    flags.DEFINE_integer("seed", 0, "Seed of the set.")


def main(argv):
    del argv
    sizes = tuple(int(n) for n in FLAGS.sizes)
    path = landscapes.write_ava_layout(FLAGS.out, sizes, resize_size(FLAGS.image_size), FLAGS.seed)
    print(f"Wrote {sum(sizes)} landscapes in the AVA layout to {path}")


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
