"""Write the second synthetic FLICKR-AES (pear_tf.data.scenes: content, palette, contrarian and noisy people).

    python -m pear_tf.scenes_data --out=DIR --image_size=64 [--sizes=3000,37,150] [--train_workers=100] [--seed=0]

writes the set in FLICKR-AES's layout and ``scenes_people.json`` (who is who) beside it.
``python -m pear_tf.data.scenes`` runs this command too. What the people and photos are:
pear_tf/data/scenes.py and docs/personal.md.
"""

from absl import app, flags

from pear_tf import cli
from pear_tf.data import scenes
from pear_tf.data.preprocessing import resize_size

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("out", None, "Output folder (FLICKR-AES's layout).", required=True)
    flags.DEFINE_list("sizes", [str(n) for n in scenes.SIZES], "Generic photos, test workers, photos per test worker.")
    flags.DEFINE_integer("train_workers", scenes.TRAIN_WORKERS, "Training workers (who rate the generic photos).")
    flags.DEFINE_integer("image_size", 224, "Encoder input size; photos are rendered at its resize size.")
    flags.DEFINE_integer("seed", 0, "Seed of the set.")


def main(argv):
    del argv
    sizes = tuple(int(n) for n in FLAGS.sizes)
    path = scenes.write_layout(FLAGS.out, sizes, resize_size(FLAGS.image_size), FLAGS.seed, FLAGS.train_workers)
    print(f"Wrote the scenes set ({sizes[0]} generic photos, {sizes[1]} test workers × {sizes[2]}) to {path}")


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
