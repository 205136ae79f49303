"""The embedded demo data set: procedurally generated photographs with known aesthetics.

Each image is drawn from 11 attribute strengths a ∈ [0, 1] (AADB's attributes, each
rendered visibly) plus one "scene" value that is content beyond the attributes; the
latent quality is a weighted sum of them, and simulated raters vote around it with
noise. Everything is deterministic from (seed, index), so image i is the same whatever
the set's size. The generative rule is written out in docs/datasets.md.

The command ``python -m pear_tf.synthetic_data`` (or ``python -m pear_tf.data.synthetic``)
writes sample PNGs or the whole set in AVA's, AADB's or FLICKR-AES's layout, so the real
readers can be run end to end. The FLICKR-AES-like set has workers with personal tastes
over the attributes (personal_set), for personalisation.
"""

import colorsys
import csv
import dataclasses
import io
import json
import os

import numpy as np
from PIL import Image
from scipy import ndimage

from pear_tf import errors
from pear_tf.attributes import AADB_SCALE, ATTRIBUTE_NAMES, AVA_SCALE
from pear_tf.data import ava

# Weight of each attribute in the latent quality; "scene" is content beyond them.
QUALITY_WEIGHTS = {
    "BalacingElements": 0.3,
    "ColorHarmony": 0.5,
    "Content": 0.6,
    "DoF": 0.7,
    "Light": 1.0,
    "MotionBlur": 0.3,
    "Object": 0.7,
    "Repetition": 0.3,
    "RuleOfThirds": 0.4,
    "Symmetry": 0.3,
    "VividColor": 0.9,
}
SCENE_WEIGHT = 0.5
_THIRDS = ((1 / 3, 1 / 3), (2 / 3, 1 / 3), (1 / 3, 2 / 3), (2 / 3, 2 / 3))


@dataclasses.dataclass(frozen=True)
class Flavour:
    """How a synthetic set is rated and what it reveals.

    Attributes:
      scale: the rating scale (bins) of the votes.
      raters: (min, max) number of raters per image.
      rater_noise: standard deviation of one rater's vote around the quality, in bins.
      score_range: the (low, high) mean score that quality 0 and 1 map to.
      attributes_observed: whether the attribute labels are given (AADB) or hidden (AVA).
    """

    scale: object
    raters: tuple
    rater_noise: float
    score_range: tuple
    attributes_observed: bool


FLAVOURS = {
    "aadb": Flavour(AADB_SCALE, (5, 5), 0.6, (0.3, 4.7), True),
    "ava": Flavour(AVA_SCALE, (80, 220), 1.3, (2.5, 8.0), False),
}


def _hsv(h, s, v):
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), np.float32)


def _disc(xx, yy, cx, cy, radius):
    """A soft-edged disc mask and the normalised distance from its centre."""
    dist = np.hypot(xx - cx, yy - cy)
    return np.clip((radius - dist) * xx.shape[0] / 1.5, 0.0, 1.0), dist / radius


def _composite(image, colour_layer, alpha):
    alpha = alpha[..., None]
    return image * (1.0 - alpha) + colour_layer * alpha


def render(attribute_values, scene, size, rng):
    """Renders one photograph; ``attribute_values`` in AADB order, each in [0, 1]."""
    a = dict(zip(ATTRIBUTE_NAMES, attribute_values))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    hue = rng.uniform()

    # Background: a sky-to-ground gradient; richer low-frequency texture with "scene",
    # and fine foliage detail that a shallow depth of field blurs away.
    top, bottom = _hsv(hue, 0.55, 0.9), _hsv(hue + 0.06, 0.7, 0.45)
    image = top * (1 - yy[..., None]) + bottom * yy[..., None]
    clouds = ndimage.gaussian_filter(rng.normal(size=(size, size)), size / 12)
    clouds /= np.abs(clouds).max() + 1e-6
    image = image * (1.0 + 0.45 * scene * clouds[..., None])
    foliage = (rng.uniform(size=(size, size)) > 0.5).astype(np.float32) - 0.5
    image = image + 0.35 * foliage[..., None]
    image = ndimage.gaussian_filter(image, (a["DoF"] * size / 20, a["DoF"] * size / 20, 0))

    # Colour harmony: complementary or analogous object hues, against clashing ones.
    harmonious = rng.choice([0.5, 0.08, -0.08])
    clashing = rng.choice([-1, 1]) * rng.uniform(0.22, 0.32)
    object_colour = _hsv(hue + a["ColorHarmony"] * harmonious + (1 - a["ColorHarmony"]) * clashing, 0.85, 0.95)

    # Main object: its size is "object emphasis"; it sits on a thirds point or elsewhere.
    radius = 0.07 + 0.17 * a["Object"]
    thirds = np.array(_THIRDS[rng.integers(4)])
    elsewhere = rng.choice([rng.uniform(0.45, 0.55, 2), rng.uniform(0.08, 0.92, 2)])
    cx, cy = a["RuleOfThirds"] * thirds + (1 - a["RuleOfThirds"]) * elsewhere
    mask, dist = _disc(xx, yy, cx, cy, radius)
    # Interesting content: concentric rings and an eye-like centre on the object.
    rings = 0.5 + 0.5 * np.cos(dist * 3 * np.pi)
    layer = object_colour * (1.0 - 0.7 * a["Content"] * rings[..., None])
    # Motion blur: a horizontal streak of the object and its mask.
    length = 1 + int(a["MotionBlur"] * size / 5)
    layer = ndimage.uniform_filter1d(layer * mask[..., None], length, axis=1)
    mask = ndimage.uniform_filter1d(mask, length, axis=1)
    image = _composite(image, layer / np.maximum(mask, 1e-3)[..., None], mask)

    # Balancing element: a smaller echo opposite the main object through the centre.
    echo, _ = _disc(xx, yy, 1 - cx, 1 - cy, radius * 0.55)
    image = _composite(image, object_colour * 0.8, echo * a["BalacingElements"])
    # Repetition: a row of small identical shapes along the bottom.
    for x in np.linspace(0.1, 0.9, 6):
        dot, _ = _disc(xx, yy, x, 0.9, 0.035)
        image = _composite(image, _hsv(hue + 0.5, 0.6, 1.0), dot * a["Repetition"])

    # Symmetry: blend towards the left-right mirror image.
    image = image * (1 - 0.5 * a["Symmetry"]) + image[:, ::-1] * 0.5 * a["Symmetry"]
    # Vivid colour: saturation around the grey value.
    grey = image.mean(axis=-1, keepdims=True)
    image = grey + (image - grey) * (0.15 + 1.25 * a["VividColor"])
    # Light: good exposure, against an under- or over-exposed image.
    gain = 0.25 + 0.75 * a["Light"]
    image = image * gain if rng.uniform() < 0.5 else image * gain + (1 - gain) * 0.95
    image = image + rng.normal(0.0, 0.015, image.shape)
    return (np.clip(image, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def quality(attribute_values, scene):
    """The latent quality in [0, 1]: the normalised weighted sum of attributes and scene."""
    weights = np.array([QUALITY_WEIGHTS[name] for name in ATTRIBUTE_NAMES])
    return (np.dot(weights, attribute_values) + SCENE_WEIGHT * scene) / (weights.sum() + SCENE_WEIGHT)


def vote_counts(q, flavour, rng):
    """Votes of simulated raters around a quality: counts per bin of the flavour's scale."""
    low, high = flavour.score_range
    # Quality concentrates near 0.5; stretch it so means use most of the scale.
    centre = low + (high - low) * np.clip(0.5 + (q - 0.5) * 2.2, 0.0, 1.0)
    raters = rng.integers(flavour.raters[0], flavour.raters[1] + 1)
    bins = np.asarray(flavour.scale.bin_values)
    votes = np.clip(np.rint(centre + rng.normal(0.0, flavour.rater_noise, raters)), bins[0], bins[-1])
    return np.array([(votes == b).sum() for b in bins], np.float32)


def _latents(rng):
    # Attribute strengths lean to the ends, as raters' labels do.
    values = rng.beta(0.7, 0.7, len(ATTRIBUTE_NAMES)).astype(np.float32)
    return values, float(rng.uniform())


def latents(index, seed=0):
    """The attribute strengths [11] and scene value of example ``index``, without rendering it."""
    return _latents(np.random.default_rng([seed, index]))


def example(index, flavour="aadb", size=73, seed=0):
    """Generates example ``index`` of a synthetic set, deterministically from (seed, index).

    Returns:
      A dict: ``image`` uint8 [size, size, 3], ``votes`` [d] counts, ``attributes`` [11]
      (the true strengths, also where the flavour hides them), ``scene``.
    """
    spec = FLAVOURS[flavour]
    rng = np.random.default_rng([seed, index])
    values, scene = _latents(rng)
    image = render(values, scene, size, rng)
    return {
        "image": image,
        "votes": vote_counts(quality(values, scene), spec, rng),
        "attributes": values,
        "scene": scene,
    }


def generate(num_examples, flavour="aadb", size=73, seed=0, start=0):
    """Generates examples start..start+num_examples-1 as stacked numpy arrays.

    Returns:
      A dict of arrays: ``image`` [N, size, size, 3] uint8, ``distribution`` [N, d]
      (normalised votes), ``votes`` [N, d], ``attributes`` [N, 11] and
      ``attribute_mask`` [N, 11] (ones for AADB-like, zeros for AVA-like).
    """
    spec = FLAVOURS[flavour]
    examples = [example(start + i, flavour, size, seed) for i in range(num_examples)]
    votes = np.stack([e["votes"] for e in examples])
    attributes = np.stack([e["attributes"] for e in examples])
    return {
        "image": np.stack([e["image"] for e in examples]),
        "votes": votes,
        "distribution": votes / votes.sum(axis=1, keepdims=True),
        "attributes": attributes,
        "attribute_mask": np.full_like(attributes, 1.0 if spec.attributes_observed else 0.0),
    }


def write_samples(out_dir, count, flavour="aadb", size=73, seed=0, start=10**6):
    """Writes ``count`` sample PNGs (indices unused by the train/test splits) and returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for i in range(count):
        path = os.path.join(out_dir, f"sample_{i}.png")
        Image.fromarray(example(start + i, flavour, size, seed)["image"]).save(path)
        paths.append(path)
    return paths


def _jpeg_bytes(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def _save_jpeg(path, image):
    with open(path, "wb") as f:
        f.write(_jpeg_bytes(image))


def write_ava_layout(out_dir, sizes=(4800, 300, 600), size=73, seed=0):
    """Writes the AVA-like set as AVA ships: AVA.txt, images/<id>.jpg, generic_test.jpgl.

    The first sizes[0]+sizes[1] examples are AVA's train list (the reader holds its own
    validation slice out of it), the last sizes[2] the test list.
    """
    examples = (example(index, "ava", size, seed) for index in range(sum(sizes)))
    items = ((_jpeg_bytes(item["image"]), item["votes"]) for item in examples)
    return ava.write_layout(out_dir, items, sizes[2], 100000, range(1000, 1050))


def aadb_image_url(index):
    """A Flickr-style URL, as AADB_AllinAll.csv holds; its file name is farm<f>_<dir>_<id>_<secret>_b.jpg."""
    return f"http://farm{1 + index % 9}.staticflickr.com/{100 + index % 900}/{index}_{index * 7919 % 65536:04x}_b.jpg"


def write_aadb_layout(out_dir, sizes=(4800, 300, 600), size=73, seed=0):
    """Writes the AADB-like set as AADB ships: images, the per-split label lists, AADB_AllinAll.csv."""
    from pear_tf.data.aadb import SPLITS, list_file, url_to_name

    image_dir = os.path.join(out_dir, "datasetImages_originalSize")
    os.makedirs(image_dir, exist_ok=True)
    os.makedirs(os.path.join(out_dir, "imgListFiles_label"), exist_ok=True)
    rng = np.random.default_rng([seed, 1])
    lists = {(split, label): [] for split in SPLITS for label in ("score", *ATTRIBUTE_NAMES)}
    votes = []  # (url, vote) per rater
    bins = np.asarray(AADB_SCALE.bin_values)
    starts = np.cumsum((0,) + tuple(sizes))
    for split, begin, end in zip(SPLITS, starts[:-1], starts[1:]):
        for index in range(begin, end):
            item = example(index, "aadb", size, seed)
            url = aadb_image_url(index)
            name = url_to_name(url)
            _save_jpeg(os.path.join(image_dir, name), item["image"])
            mean = float(item["votes"] @ bins / item["votes"].sum())
            lists[split, "score"].append(f"{name} {mean / 5:.6f}\n")
            for attribute, value in zip(ATTRIBUTE_NAMES, item["attributes"]):
                lists[split, attribute].append(f"{name} {2 * value - 1:.6f}\n")
            votes += [(url, int(b)) for b, n in zip(bins, item["votes"]) for _ in range(int(n))]
    for (split, label), lines in lists.items():
        with open(os.path.join(out_dir, list_file(split, label)), "w") as f:
            f.writelines(lines)
    # Mechanical Turk rows: ten (image, vote) answers of one worker per row.
    order = rng.permutation(len(votes))
    with open(os.path.join(out_dir, "AADB_AllinAll.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["HITId", "WorkerId"] + [f"Input.image_url{i}" for i in range(1, 11)]
                        + [f"Answer.overallScore{i}" for i in range(1, 11)])  # fmt: skip
        for row, start in enumerate(range(0, len(order), 10)):
            chunk = [votes[i] for i in order[start : start + 10]]
            chunk += [("", "")] * (10 - len(chunk))
            writer.writerow([f"HIT{row}", f"W{row % 40}"] + [u for u, _ in chunk] + [v for _, v in chunk])
    return out_dir


# The FLICKR-AES-like personal set: workers rate 1..5 by the quality weights plus a taste of
# their own, one strong like and one strong dislike among the attributes and small
# deviations on the rest. Generic images are rated by training workers only; each test
# worker rates a block of images of their own, beside four training workers.
FLICKR_SIZES = (4000, 37, 150)  # generic images, test workers, images per test worker
FLICKR_TRAIN_WORKERS = 60
FLICKR_RATERS = 5
TASTE_STRENGTH = (0.8, 1.2)  # weight added to a worker's like (subtracted from the dislike)
TASTE_SPREAD = 0.15  # standard deviation of the small deviations
FLICKR_GAIN = 1.6  # stars per unit of utility
FLICKR_NOISE = 0.6  # a worker's vote noise, in stars


@dataclasses.dataclass(frozen=True)
class PersonalSet:
    """Who rated what in the FLICKR-AES-like set.

    Attributes:
      indices: the example index (see ``latents``/``example``) of each image [M].
      names: each image's file name in 40K/ [M].
      workers: worker ids [W]; the first len(test_workers) are the test workers.
      test_workers: the test workers' ids.
      tastes: each worker's deviation from QUALITY_WEIGHTS [W, 11].
      ratings: (worker position [R], image position [R], score 1..5 [R]).
    """

    indices: np.ndarray
    names: np.ndarray
    workers: tuple
    test_workers: tuple
    tastes: np.ndarray
    ratings: tuple


def worker_taste(rng):
    """A worker's deviation from the crowd's weights: one like, one dislike, small noise elsewhere."""
    taste = rng.normal(0.0, TASTE_SPREAD, len(ATTRIBUTE_NAMES))
    like, dislike = rng.choice(len(ATTRIBUTE_NAMES), 2, replace=False)
    taste[like] = rng.uniform(*TASTE_STRENGTH)
    taste[dislike] = -rng.uniform(*TASTE_STRENGTH)
    return taste


def personal_vote(taste, values, scene, rng):
    """One worker's 1..5 vote: their utility (crowd weights + taste) around the middle star, with noise."""
    weights = np.array([QUALITY_WEIGHTS[name] for name in ATTRIBUTE_NAMES]) + taste
    utility = weights @ (np.asarray(values) - 0.5) + SCENE_WEIGHT * (scene - 0.5)
    return float(np.clip(np.rint(3.0 + FLICKR_GAIN * utility + rng.normal(0.0, FLICKR_NOISE)), 1, 5))


def flickr_name(index):
    """A FLICKR-AES file name, farm<f>_<server>_<photo id>_<secret>_b.jpg."""
    return f"farm{1 + index % 9}_{100 + index % 900}_{30000000 + index}_{index * 7919 % 65536:04x}a1_b.jpg"


def personal_set(sizes=FLICKR_SIZES, seed=0, train_workers=FLICKR_TRAIN_WORKERS):
    """The FLICKR-AES-like set's raters and ratings, without rendering an image (see PersonalSet)."""
    from pear_tf.data.flickr_aes import read_test_workers

    generic, num_test, per_test = (int(n) for n in sizes)
    known = read_test_workers()
    if num_test > len(known):
        raise errors.BadValue(f"at most {len(known)} test workers (the shipped list); asked for {num_test}.")
    rng = np.random.default_rng([seed, 3])
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    trainers = tuple("A" + "".join(rng.choice(alphabet, 13)) for _ in range(train_workers))
    workers = tuple(known[:num_test]) + trainers
    tastes = np.stack([worker_taste(rng) for _ in workers])
    total = generic + num_test * per_test
    raters = [rng.choice(train_workers, FLICKR_RATERS, replace=False) + num_test for _ in range(total)]
    for t in range(num_test):  # a test worker replaces one training worker on each image of their block
        for image in range(generic + t * per_test, generic + (t + 1) * per_test):
            raters[image][0] = t
    who, what, votes = [], [], []
    for image in range(total):
        values, scene = latents(image, seed)
        for worker in raters[image]:
            who.append(int(worker))
            what.append(image)
            votes.append(personal_vote(tastes[worker], values, scene, rng))
    names = np.array([flickr_name(i) for i in range(total)])
    ratings = (np.array(who), np.array(what), np.array(votes, np.float32))
    return PersonalSet(np.arange(total), names, workers, workers[:num_test], tastes, ratings)


def write_flickr_aes_layout(out_dir, sizes=FLICKR_SIZES, size=73, seed=0):
    """Writes the personal set as FLICKR-AES ships (40K/, the per-worker CSV, the score list).

    Also writes synthetic_tastes.json (each worker's taste; not part of the real layout).
    """
    from pear_tf.data import flickr_aes

    data = personal_set(sizes, seed)
    os.makedirs(os.path.join(out_dir, flickr_aes.IMAGE_DIR), exist_ok=True)
    for index, name in zip(data.indices, data.names):
        values, scene = latents(int(index), seed)
        image = render(values, scene, size, np.random.default_rng([seed, int(index), 7]))
        _save_jpeg(os.path.join(out_dir, flickr_aes.IMAGE_DIR, name), image)
    who, what, votes = data.ratings
    with open(os.path.join(out_dir, flickr_aes.RATINGS_FILE), "w") as f:
        f.write("worker, imagePair, score\n")  # verbatim, a space after each comma
        f.writelines(f"{data.workers[w]}, {data.names[i]}, {int(v)}\n" for w, i, v in zip(who, what, votes))
    means = np.bincount(what, votes) / np.bincount(what)
    with open(os.path.join(out_dir, flickr_aes.SCORES_FILE), "w") as f:
        f.writelines(f"{name} {mean:.6f}\n" for name, mean in zip(data.names, means))
    tastes = {w: dict(zip(ATTRIBUTE_NAMES, np.round(t, 4).tolist())) for w, t in zip(data.workers, data.tastes)}
    with open(os.path.join(out_dir, "synthetic_tastes.json"), "w") as f:
        json.dump({"test_workers": list(data.test_workers), "tastes": tastes}, f, indent=1)
    return out_dir


LAYOUTS = {"ava": write_ava_layout, "aadb": write_aadb_layout, "flickr_aes": write_flickr_aes_layout}


if __name__ == "__main__":
    # `python -m pear_tf.data.synthetic`, as typed before the command moved to the package root.
    import runpy

    runpy.run_module("pear_tf.synthetic_data", run_name="__main__", alter_sys=True)
