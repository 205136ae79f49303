"""A second, independently written generator of AVA-layout data: landscapes judged on craft.

The project's synthetic set (synthetic.py) renders AADB's 11 attributes and rates them by a
weighted sum with one noise level for every rater. This one follows other rules, so that a
method checked on both is not checked on the rules it was designed with:

- **Scenes**: sky, sun, two ranges of hills, a lake and a few trees; the photographer's
  craft decides exposure, focus, horizon tilt, sensor noise, a colour cast, where the sun
  sits and how cluttered the frame is. None of AADB's attributes is drawn or labelled.
- **Quality** is a gate times an appeal: a blurred, badly exposed or crooked photo is poor
  whatever it shows (the *worst* technical fault caps it), and among sound photos a
  light (golden hour), a balanced placement and a calm frame make the appeal.
- **Raters** are a crowd of people with their own leniency (a per-rater offset), a number of
  votes from 60 to 300 per photo, and *controversy*: some photos split the crowd in two camps
  (the votes of one camp shifted up, the other down), so the spread of votes varies
  from photo to photo as it does on AVA.

    python -m pear_tf.landscapes_data --out=DIR --image_size=64 [--sizes=4800,300,600 --seed=0]

writes AVA.txt, images/<id>.jpg and aesthetics_image_lists/generic_test.jpgl, for
``--dataset=ava --data_dir=DIR``. Everything is deterministic from (seed, index).
"""

import io
import os

import numpy as np
from PIL import Image
from scipy import ndimage

from pear_tf.data import ava

CROWD = 400  # raters in the crowd; each photo is voted on by some of them
LENIENCY = 0.6  # std of a rater's personal offset, in score points
VOTE_NOISE = 1.0  # std of one vote around the rater's opinion


def _scene_parameters(rng):
    """The photo's craft (each in [0, 1], 1 = well done) and content, drawn independently."""
    craft = {name: float(rng.beta(1.6, 0.9)) for name in ("exposure", "focus", "level", "clean", "tidy")}
    content = {
        "golden": float(rng.uniform()),  # 0: noon light, 1: golden hour
        "sun_x": float(rng.uniform(0.1, 0.9)),
        "horizon": float(rng.uniform(0.3, 0.75)),
        "controversy": float(rng.uniform() ** 3),  # most photos agree; a few split the crowd
        "hue": float(rng.uniform()),
    }
    return craft, content


def quality(craft, content):
    """Gate × appeal in [0, 1]: the worst technical fault caps the photo; light and placement make it."""
    gate = min(craft["exposure"], craft["focus"], craft["level"]) ** 0.5
    placement = 1.0 - min(abs(content["sun_x"] - 1 / 3), abs(content["sun_x"] - 2 / 3)) * 3.0
    appeal = 0.4 * content["golden"] + 0.25 * max(placement, 0.0) + 0.2 * craft["tidy"] + 0.15 * craft["clean"]
    return gate * (0.3 + 0.7 * appeal)


def _sky_and_land(size, content, rng):
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    golden = content["golden"]
    sky_top = np.array([0.25 + 0.6 * golden, 0.45 + 0.2 * golden, 0.9 - 0.5 * golden], np.float32)
    sky_low = np.array([0.95, 0.75 + 0.1 * (1 - golden), 0.55 + 0.4 * (1 - golden)], np.float32)
    t = np.clip(yy / content["horizon"], 0, 1)[..., None]
    image = sky_top * (1 - t) + sky_low * t
    sun = np.exp(-((xx - content["sun_x"]) ** 2 + (yy - content["horizon"] * 0.7) ** 2) / 0.004)
    image = image + sun[..., None] * np.array([1.0, 0.85, 0.5], np.float32)
    for depth, shade in ((0.0, 0.55), (0.08, 0.3)):
        phase, freq = rng.uniform(0, 2 * np.pi), rng.uniform(4, 9)
        ridge = content["horizon"] + depth - 0.06 * (1 + np.sin(xx[0] * freq + phase)) * (1 - depth * 4)
        hills = yy > ridge[None, :]
        colour = np.array([0.2 + 0.3 * golden, 0.35 + 0.15 * shade, 0.2], np.float32) * (1.2 - shade)
        image = np.where(hills[..., None], colour, image)
    lake = yy > content["horizon"] + 0.18
    mirrored = image[::-1] * 0.6 + np.array([0.05, 0.1, 0.2], np.float32)
    return np.where(lake[..., None], mirrored, image), yy, xx


def render(craft, content, size, rng):
    """One landscape as uint8 [size, size, 3], with its craft's faults applied."""
    image, yy, xx = _sky_and_land(size, content, rng)
    trees = 2 + int((1 - craft["tidy"]) * 14)  # a cluttered frame: many trees everywhere
    for _ in range(trees):
        tx, ty = rng.uniform(0.05, 0.95), rng.uniform(content["horizon"], 0.95)
        trunk = (np.abs(xx - tx) < 0.012) & (yy > ty - 0.12) & (yy < ty)
        crown = (xx - tx) ** 2 + (yy - ty + 0.14) ** 2 < 0.003
        image[trunk | crown] = np.array([0.08, 0.22 + 0.1 * rng.uniform(), 0.08], np.float32)
    angle = (1 - craft["level"]) * rng.choice([-1, 1]) * 12.0
    image = ndimage.rotate(image, angle, reshape=False, mode="nearest", order=1)
    image = ndimage.gaussian_filter(image, ((1 - craft["focus"]) * size / 25,) * 2 + (0,))
    cast = np.array([np.cos(2 * np.pi * (content["hue"] + k / 3)) for k in range(3)], np.float32)
    image = image + (1 - craft["clean"]) * 0.12 * cast
    exposure = 2.0 ** ((1 - craft["exposure"]) * rng.choice([-2.2, 1.6]))  # stops under or over
    image = image * exposure + rng.normal(0.0, 0.01 + 0.12 * (1 - craft["clean"]), image.shape)
    return (np.clip(image, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def crowd_leniency(seed):
    """Each crowd member's personal offset, in score points."""
    return np.random.default_rng([seed, 99]).normal(0.0, LENIENCY, CROWD)


def vote_counts(q, controversy, leniency, rng):
    """Votes 1..10 of 60–300 crowd members: opinion = 2 + 7·q + their leniency, camps when controversial."""
    raters = rng.choice(CROWD, rng.integers(60, 301), replace=False)
    camp = rng.choice([-1.0, 1.0], len(raters))
    opinion = 2.0 + 7.0 * q + leniency[raters] + camp * 2.5 * controversy
    votes = np.clip(np.rint(opinion + rng.normal(0.0, VOTE_NOISE, len(raters))), 1, 10)
    return np.array([(votes == b).sum() for b in range(1, 11)], np.int64)


def example(index, size=73, seed=0, leniency=None):
    """Example ``index``: ``image`` uint8 [size, size, 3], ``votes`` [10], ``quality``."""
    rng = np.random.default_rng([seed, index, 5])
    craft, content = _scene_parameters(rng)
    q = quality(craft, content)
    leniency = crowd_leniency(seed) if leniency is None else leniency
    return {
        "image": render(craft, content, size, rng),
        "votes": vote_counts(q, content["controversy"], leniency, rng),
        "quality": q,
    }


def write_ava_layout(out_dir, sizes=(4800, 300, 600), size=73, seed=0):
    """Writes sum(sizes) landscapes as AVA ships them; the last sizes[2] are the test list. Returns out_dir."""
    leniency = crowd_leniency(seed)
    examples = (example(index, size, seed, leniency) for index in range(sum(sizes)))
    items = ((_jpeg_bytes(item["image"]), item["votes"]) for item in examples)
    return ava.write_layout(out_dir, items, sizes[2], 500000, range(2000, 2030))


def _jpeg_bytes(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


if __name__ == "__main__":
    # `python -m pear_tf.data.landscapes`: the command lives at the package root (the data package is flag-free).
    import runpy

    runpy.run_module("pear_tf.landscapes_data", run_name="__main__", alter_sys=True)
