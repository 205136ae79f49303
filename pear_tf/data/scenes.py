"""A second synthetic FLICKR-AES, written apart from pear_tf.data.synthetic and with other rules.

pear_tf.data.synthetic's people weigh its 11 rendered AADB attributes differently; this
generator's people have tastes that no attribute names, so a personal model that only
re-weighs attributes cannot learn them:

- **Photos** are scenes of one of six content classes (sea, city, flowers, portrait,
  forest, abstract; some far more common than others) painted in one of six colour
  palettes, drawn with PIL, with technical flaws that the crowd dislikes: blur, grain,
  bad exposure, a tilted frame, clutter.
- **People** are of four kinds: *followers* rate what the crowd rates; *enthusiasts* care
  less for the flaws and strongly like or dislike some classes and palettes;
  *contrarians* like what the crowd dislikes (grain, odd exposure) beside their own
  class and palette tastes; *noisy* raters are mostly noise, and half of them pure noise.
  Everyone maps their liking to 1–5 stars with thresholds of their own (some use the
  whole scale, some the middle, some lean high).
- Ratings have FLICKR-AES's structure: generic photos rated by five training workers,
  each test worker (the 37 published ids) rating a block of photos of their own beside
  four training workers.

    python -m pear_tf.scenes_data --out=DIR --image_size=64 [--sizes=3000,37,150] [--seed=0]

(or ``python -m pear_tf.data.scenes``, the same command) writes the set in FLICKR-AES's
layout (pear_tf.data.flickr_aes reads it) and ``scenes_people.json`` beside it: every
worker's kind and taste (not part of the real layout).
"""

import dataclasses
import json
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASSES = ("sea", "city", "flowers", "portrait", "forest", "abstract")
CLASS_FREQUENCY = (0.3, 0.22, 0.16, 0.14, 0.1, 0.08)
PALETTES = {
    "warm": ((214, 69, 42), (240, 150, 55), (250, 214, 120), (120, 40, 30)),
    "cool": ((30, 80, 160), (60, 170, 200), (190, 225, 240), (20, 40, 70)),
    "pastel": ((245, 190, 200), (190, 220, 200), (200, 200, 240), (250, 240, 210)),
    "mono": ((30, 30, 30), (110, 110, 110), (180, 180, 180), (240, 240, 240)),
    "earth": ((90, 110, 50), (150, 120, 70), (200, 180, 130), (60, 50, 35)),
    "neon": ((255, 0, 170), (0, 255, 200), (255, 240, 0), (60, 0, 120)),
}
PALETTE_NAMES = tuple(PALETTES)
FLAWS = ("blur", "grain", "exposure", "tilt", "clutter")
# How much the crowd dislikes each flaw (per unit of its severity in [0, 1]), and how much it
# likes each class and palette beyond the flaws: mild, so that tastes, not the crowd, decide those.
FLAW_WEIGHTS = (1.0, 0.8, 1.0, 0.6, 0.7)
CLASS_APPEAL = (0.2, -0.1, 0.25, 0.0, 0.1, -0.3)
PALETTE_APPEAL = (0.1, 0.05, 0.0, -0.15, 0.0, -0.1)
KINDS = {  # share of people, weight of the crowd's quality, spread of class/palette tastes, noise
    "follower": (0.35, (0.8, 1.2), 0.2, 0.5),
    "enthusiast": (0.35, (0.5, 0.9), 0.7, 0.5),
    "contrarian": (0.12, (-0.6, -0.2), 0.4, 0.5),
    "noisy": (0.18, (0.2, 0.8), 0.2, 1.2),
}
SIZES = (3000, 37, 150)  # generic photos, test workers, photos per test worker
TRAIN_WORKERS = 100
RATERS = 5


@dataclasses.dataclass(frozen=True)
class Scene:
    """What a photo shows: content class, palette (indices) and flaw severities [5] in [0, 1]."""

    content: int
    palette: int
    flaws: np.ndarray

    def quality(self):
        """The crowd's liking of the scene, before anyone's taste."""
        return -float(np.dot(FLAW_WEIGHTS, self.flaws)) + CLASS_APPEAL[self.content] + PALETTE_APPEAL[self.palette]


def scene(index, seed=0):
    """The scene of photo ``index``, deterministic in (seed, index)."""
    rng = np.random.default_rng([seed, 11, index])
    content = int(rng.choice(len(CLASSES), p=CLASS_FREQUENCY))
    # Flaws are mostly mild, sometimes severe.
    return Scene(content, int(rng.integers(len(PALETTES))), rng.beta(0.8, 2.0, len(FLAWS)))


def _colour(palette, rng, which):
    base = np.array(PALETTES[PALETTE_NAMES[palette]][which], np.float64)
    return tuple(int(v) for v in np.clip(base + rng.normal(0, 12, 3), 0, 255))


def _draw_content(draw, content, palette, size, rng):
    """The scene's subject, in the palette's colours."""
    s = size
    if CLASSES[content] == "sea":
        horizon = int(s * rng.uniform(0.4, 0.6))
        draw.rectangle([0, horizon, s, s], fill=_colour(palette, rng, 0))
        r = s * rng.uniform(0.07, 0.14)
        cx, cy = s * rng.uniform(0.2, 0.8), horizon - r * 1.3
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_colour(palette, rng, 2))
        for y in range(horizon + 4, s, 5):
            draw.line([0, y, s, y + rng.integers(-2, 3)], fill=_colour(palette, rng, 1), width=1)
    elif CLASSES[content] == "city":
        x = 0
        while x < s:
            w, h = int(s * rng.uniform(0.1, 0.2)), int(s * rng.uniform(0.3, 0.8))
            draw.rectangle([x, s - h, x + w, s], fill=_colour(palette, rng, 3))
            for wy in range(s - h + 3, s - 3, 5):
                for wx in range(x + 2, x + w - 2, 4):
                    draw.point([wx, wy], fill=_colour(palette, rng, 2))
            x += w + 1
    elif CLASSES[content] == "flowers":
        for _ in range(rng.integers(3, 7)):
            cx, cy, r = s * rng.uniform(0.15, 0.85), s * rng.uniform(0.3, 0.85), s * rng.uniform(0.05, 0.1)
            for angle in np.linspace(0, 2 * np.pi, 7)[:-1]:
                px, py = cx + r * np.cos(angle), cy + r * np.sin(angle)
                draw.ellipse([px - r * 0.6, py - r * 0.6, px + r * 0.6, py + r * 0.6], fill=_colour(palette, rng, 0))
            draw.ellipse([cx - r * 0.4, cy - r * 0.4, cx + r * 0.4, cy + r * 0.4], fill=_colour(palette, rng, 2))
    elif CLASSES[content] == "portrait":
        cx, cy, rx, ry = s * rng.uniform(0.4, 0.6), s * 0.5, s * 0.22, s * 0.3
        draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=_colour(palette, rng, 2))
        for side in (-1, 1):
            ex = cx + side * rx * 0.4
            draw.ellipse([ex - 2, cy - ry * 0.25 - 2, ex + 2, cy - ry * 0.25 + 2], fill=_colour(palette, rng, 3))
        draw.arc([cx - rx * 0.5, cy, cx + rx * 0.5, cy + ry * 0.5], 20, 160, fill=_colour(palette, rng, 0), width=2)
    elif CLASSES[content] == "forest":
        for _ in range(rng.integers(4, 9)):
            x, h = s * rng.uniform(0, 1), s * rng.uniform(0.4, 0.8)
            draw.rectangle([x - 1.5, s - h * 0.4, x + 1.5, s], fill=_colour(palette, rng, 3))
            draw.polygon([(x, s - h), (x - s * 0.08, s - h * 0.4), (x + s * 0.08, s - h * 0.4)],
                         fill=_colour(palette, rng, 0))  # fmt: skip
    else:  # abstract: overlapping polygons and a diagonal stripe
        for _ in range(rng.integers(3, 6)):
            points = [tuple(p) for p in rng.uniform(0, s, (rng.integers(3, 6), 2))]
            draw.polygon(points, fill=_colour(palette, rng, rng.integers(4)))
        draw.line([0, s, s, 0], fill=_colour(palette, rng, 1), width=max(2, s // 12))


def render(photo, size, rng):
    """The photo of a Scene as uint8 [size, size, 3]: subject, palette, then its flaws."""
    blur, grain, exposure, tilt, clutter = photo.flaws
    top, bottom = np.array(_colour(photo.palette, rng, 1)), np.array(_colour(photo.palette, rng, 3))
    ramp = np.linspace(0, 1, size)[:, None, None]
    image = Image.fromarray(np.broadcast_to(top * (1 - ramp) + bottom * ramp, (size, size, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    _draw_content(draw, photo.content, photo.palette, size, rng)
    for _ in range(int(clutter * 12)):  # distracting scraps at random
        x, y, r = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(1, size * 0.06)
        draw.rectangle([x - r, y - r, x + r, y + r], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    image = image.rotate(float(rng.choice([-1, 1]) * tilt * 18), resample=Image.BILINEAR, fillcolor=(0, 0, 0))
    image = image.filter(ImageFilter.GaussianBlur(radius=float(blur * size / 25)))
    pixels = np.asarray(image, np.float64) / 255
    # Exposure: gamma towards dark or bright, then grain.
    pixels = pixels ** (2.0 ** (rng.choice([-1, 1]) * exposure * 1.6))
    pixels = pixels + rng.normal(0, grain * 0.18, pixels.shape)
    return (np.clip(pixels, 0, 1) * 255 + 0.5).astype(np.uint8)


@dataclasses.dataclass(frozen=True)
class Person:
    """A rater: kind, the crowd's weight, class and palette tastes, noise, and how they use the stars."""

    kind: str
    crowd_weight: float
    class_taste: np.ndarray
    palette_taste: np.ndarray
    noise: float
    centre: float
    spread: float

    def liking(self, photo, rng):
        """Liking of a photo on a scale where the crowd's quality has mean 0 and std 1, with this person's noise."""
        taste = self.class_taste[photo.content] + self.palette_taste[photo.palette]
        standard = (photo.quality() - QUALITY_MEAN) / QUALITY_STD
        return self.crowd_weight * standard + taste + rng.normal(0, self.noise)

    def stars(self, liking):
        """1..5: liking against this person's thresholds."""
        cuts = self.centre + self.spread * np.array([-1.2, -0.4, 0.4, 1.2])
        return int(1 + np.searchsorted(cuts, liking))


# The crowd's quality over photos (10,000 photos of seed 0): mean −1.12, std 0.47; people see it standardised.
QUALITY_MEAN, QUALITY_STD = -1.12, 0.47


def person(rng):
    """A random rater (kinds in the proportions of KINDS; half of the noisy ones pure noise)."""
    names = list(KINDS)
    kind = names[rng.choice(len(names), p=[KINDS[n][0] for n in names])]
    _, weight, spread, noise = KINDS[kind]
    crowd_weight = rng.uniform(*weight)
    class_taste, palette_taste = rng.normal(0, spread, len(CLASSES)), rng.normal(0, spread, len(PALETTES))
    if kind == "noisy" and rng.uniform() < 0.5:
        kind, crowd_weight, class_taste, palette_taste = "pure noise", 0.0, class_taste * 0, palette_taste * 0
    return Person(kind, crowd_weight, class_taste, palette_taste, noise, rng.normal(0, 0.4), rng.uniform(0.6, 1.6))


def _worker_ids(rng, count):
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    return ["A" + "".join(rng.choice(letters, 12)) + "S" for _ in range(count)]


def ratings(sizes=SIZES, seed=0, train_workers=TRAIN_WORKERS):
    """(worker ids, people, [(worker position, photo index, stars)]): who rated what, without rendering.

    The first ``sizes[1]`` workers are the test workers (the published ids).
    """
    from pear_tf.data.flickr_aes import read_test_workers

    generic, num_test, per_test = (int(n) for n in sizes)
    rng = np.random.default_rng([seed, 12])
    ids = list(read_test_workers()[:num_test]) + _worker_ids(rng, train_workers)
    people = [person(rng) for _ in ids]
    rows = []
    for index in range(generic + num_test * per_test):
        raters = list(num_test + rng.choice(train_workers, RATERS, replace=False))
        if index >= generic:  # a test worker's block: theirs, beside four training workers
            raters[0] = (index - generic) // per_test
        photo = scene(index, seed)
        rows += [(int(w), index, people[w].stars(people[w].liking(photo, rng))) for w in raters]
    return ids, people, rows


def file_name(index):
    """A Flickr-style name in 40K/: farm<f>_<server>_<photo id>_<secret>_b.jpg."""
    return f"farm{3 + index % 6}_{2000 + index % 777}_{51000000 + index * 3}_{(index * 40503) % 65536:04x}5c_b.jpg"


def write_layout(out_dir, sizes=SIZES, size=73, seed=0, train_workers=TRAIN_WORKERS):
    """Writes the set as FLICKR-AES ships (40K/, the per-worker CSV, the score list) and scenes_people.json."""
    from pear_tf.data import flickr_aes

    ids, people, rows = ratings(sizes, seed, train_workers)
    total = int(sizes[0]) + int(sizes[1]) * int(sizes[2])
    os.makedirs(os.path.join(out_dir, flickr_aes.IMAGE_DIR), exist_ok=True)
    for index in range(total):
        pixels = render(scene(index, seed), size, np.random.default_rng([seed, 13, index]))
        Image.fromarray(pixels).save(os.path.join(out_dir, flickr_aes.IMAGE_DIR, file_name(index)), quality=92)
    with open(os.path.join(out_dir, flickr_aes.RATINGS_FILE), "w") as f:
        f.write("worker, imagePair, score\n")
        f.writelines(f"{ids[w]}, {file_name(i)}, {s}\n" for w, i, s in rows)
    votes = np.zeros((total, 2))
    for _, i, s in rows:
        votes[i] += (s, 1)
    with open(os.path.join(out_dir, flickr_aes.SCORES_FILE), "w") as f:
        f.writelines(f"{file_name(i)} {votes[i, 0] / votes[i, 1]:.4f}\n" for i in range(total))
    described = {
        worker: {"kind": p.kind, "crowd_weight": round(p.crowd_weight, 4),
                 "class_taste": dict(zip(CLASSES, np.round(p.class_taste, 4).tolist())),
                 "palette_taste": dict(zip(PALETTE_NAMES, np.round(p.palette_taste, 4).tolist())),
                 "noise": p.noise}
        for worker, p in zip(ids, people)
    }  # fmt: skip
    with open(os.path.join(out_dir, "scenes_people.json"), "w") as f:
        json.dump({"test_workers": ids[: int(sizes[1])], "people": described}, f, indent=1)
    return out_dir


if __name__ == "__main__":
    # `python -m pear_tf.data.scenes`: the command lives at the package root (the data package is flag-free).
    import runpy

    runpy.run_module("pear_tf.scenes_data", run_name="__main__", alter_sys=True)
