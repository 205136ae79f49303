"""A second synthetic data set, written with other rules than pear_tf.data.synthetic, in AVA's layout.

    python benchmarks/other_photos.py --out=/tmp/other_ava --count=3600 --test=600 [--seed=0]

Trainings and exports that were only ever checked on the project's own generator may
fit its rules; this one shares none of them. Each image is a landscape-like scene: a sky
over ground split by a (possibly tilted) horizon, a textured subject, then camera
effects: exposure, contrast, white balance, defocus blur, sensor noise, vignetting,
and JPEG compression at a random quality. It is rectangular (160×120), so the model's
resize changes its aspect ratio as it does for photos. Its quality is a nonlinear rule
of those camera and composition factors (a tilted horizon, a bad exposure or a
blurred subject costs much; the subject's size has a sweet spot), plus a taste term
that no pixel shows; 40 to 160 raters vote on AVA's 1..10 around it. Files are written
as AVA ships (AVA.txt, images/<id>.jpg, aesthetics_image_lists/generic_test.jpgl), so
``--dataset=ava --data_dir=OUT`` trains on it through the real AVA reader.
"""

import io
import os

import numpy as np
from absl import app, flags
from PIL import Image
from scipy import ndimage

from pear_tf.data import ava

WIDTH, HEIGHT = 160, 120


def factors(rng):
    """The scene's hidden factors, each drawn independently."""
    return {
        "tilt": rng.normal(0.0, 6.0),  # degrees
        "horizon": rng.uniform(0.2, 0.8),  # height of the horizon, 0 = top
        "exposure": rng.normal(0.0, 0.8),  # stops
        "contrast": rng.uniform(0.5, 1.5),
        "warmth": rng.normal(0.0, 0.15),
        "blur": rng.exponential(1.2),  # pixels of defocus on the subject
        "noise": rng.exponential(0.02),
        "subject_size": rng.uniform(0.03, 0.45),  # share of the frame's height
        "subject_x": rng.uniform(0.1, 0.9),
        "subject_y": rng.uniform(0.2, 0.85),
        "texture": rng.integers(3),
        "vignette": rng.uniform(0.0, 0.6),
        "jpeg": int(rng.integers(35, 96)),
        "taste": rng.normal(0.0, 0.5),  # what raters like that no pixel shows
    }


def appeal(f):
    """The latent appeal of a scene: higher is better, centred and scaled to about N(0, 1)."""
    composition = -abs(f["subject_x"] - 1 / 3) * abs(f["subject_x"] - 2 / 3) * 9
    size = np.exp(-(((np.log(f["subject_size"]) - np.log(0.15)) / 0.6) ** 2))
    raw = (
        1.2 * size
        + 0.8 * composition
        - 0.08 * abs(f["tilt"]) ** 1.3
        - 0.9 * f["exposure"] ** 2
        - 0.6 * np.log1p(f["blur"])
        - 12.0 * f["noise"]
        - 0.8 * (f["contrast"] - 1.05) ** 2
        - 1.5 * abs(f["warmth"])
        - 0.5 * abs(f["horizon"] - 0.5) * (abs(f["horizon"] - 0.5) < 0.08)
        + f["taste"]
    )
    return (raw + 1.9) / 1.3  # the raw appeal's mean and std over 3,000 scenes


def render(f, rng):
    """The scene as uint8 RGB [HEIGHT, WIDTH, 3]."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    u, v = xx / WIDTH, yy / HEIGHT
    slope = np.tan(np.radians(f["tilt"])) * WIDTH / HEIGHT
    ground = v > f["horizon"] + slope * (u - 0.5)
    sky_hue, ground_hue = rng.uniform(0.5, 0.7), rng.uniform(0.1, 0.4)
    sky = np.stack([0.4 + 0.3 * v, 0.6 + 0.2 * v, 0.95 - 0.1 * v * sky_hue], -1)
    grass = rng.uniform(0.3, 0.7, 3) * (0.7 + 0.3 * ndimage.gaussian_filter(rng.uniform(size=v.shape), 2))[..., None]
    grass[..., 1] += ground_hue
    image = np.where(ground[..., None], grass, sky)
    # The subject: an ellipse with stripes, checks or speckles.
    radius = f["subject_size"] * HEIGHT / 2
    inside = ((xx - f["subject_x"] * WIDTH) / (1.4 * radius)) ** 2 + ((yy - f["subject_y"] * HEIGHT) / radius) ** 2 < 1
    colour = rng.uniform(0.1, 1.0, 3)
    pattern = [np.sin(xx / 2.5) > 0, (xx // 6 + yy // 6) % 2 == 0, rng.uniform(size=v.shape) > 0.6][f["texture"]]
    subject = colour * (0.6 + 0.4 * pattern[..., None])
    image = np.where(inside[..., None], subject, image)
    image = ndimage.gaussian_filter(image, (f["blur"], f["blur"], 0))
    # The camera: white balance, exposure, contrast, vignetting, noise.
    image = image * np.array([1 + f["warmth"], 1.0, 1 - f["warmth"]])
    image = image * 2.0 ** f["exposure"]
    image = (image - 0.5) * f["contrast"] + 0.5
    image = image * (1 - f["vignette"] * ((u - 0.5) ** 2 + (v - 0.5) ** 2))[..., None]
    image = image + rng.normal(0.0, f["noise"], image.shape)
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


def votes(score, rng):
    """AVA vote counts for scores 1..10 around a mean that follows the appeal."""
    centre = 5.5 + 2.0 * np.tanh(score / 1.5)
    raters = rng.integers(40, 161)
    cast = np.clip(np.rint(centre + rng.normal(0.0, 1.4, raters)), 1, 10)
    return [int((cast == b).sum()) for b in range(1, 11)]


def jpeg_bytes(image, quality):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def write_ava_layout(out, count, test, seed=0):
    """Writes ``count`` scenes as AVA ships; the last ``test`` ids are the test list."""

    def scene(index):
        rng = np.random.default_rng([seed, 7919, index])
        f = factors(rng)
        return jpeg_bytes(render(f, rng), f["jpeg"]), votes(appeal(f), rng)

    return ava.write_layout(out, (scene(index) for index in range(count)), test, 500000, range(2000, 2030))


flags.DEFINE_string("out", None, "Folder to write the AVA layout into.")
flags.DEFINE_integer("count", 3600, "Images in all.")
flags.DEFINE_integer("test", 600, "Of which the test list (the last ones).")
flags.DEFINE_integer("seed", 0, "Seed of the scenes and votes.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    write_ava_layout(FLAGS.out, FLAGS.count, FLAGS.test, FLAGS.seed)
    print(f"Wrote {FLAGS.count} images ({FLAGS.test} test) in AVA's layout to {FLAGS.out}")


if __name__ == "__main__":
    flags.mark_flag_as_required("out")
    app.run(main)
