"""Inputs that are not photographs: blank and single-colour frames, noise, pages of text, screenshots.

What a photo-likeness flag must catch (issue 27): every kind drawn several ways, deterministically
from a seed, as uint8 RGB arrays of any size.
"""

import numpy as np
from PIL import Image, ImageDraw

WORDS = ("the", "model", "rates", "photos", "aesthetic", "score", "camera", "light", "frame", "pixel", "print",
         "settings", "account", "window", "cancel", "open", "file", "edit", "view", "help")  # fmt: skip


def blank(value, size=96):
    return np.full((size, size, 3), value, np.uint8)


def single_colour(rgb, size=96):
    return np.broadcast_to(np.asarray(rgb, np.uint8), (size, size, 3)).copy()


def noise(kind, seed, size=96):
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    if kind == "gaussian":
        return np.clip(rng.normal(128, 50, (size, size, 3)), 0, 255).astype(np.uint8)
    if kind == "grey":
        return np.repeat(rng.integers(0, 256, (size, size, 1), dtype=np.uint8), 3, axis=-1)
    salt = rng.choice([0, 255], (size, size, 1), p=[0.5, 0.5]).astype(np.uint8)  # salt and pepper
    return np.repeat(salt, 3, axis=-1)


def _line(rng, count):
    return " ".join(rng.choice(WORDS, count))


def text_page(seed, size=192, ink=(20, 20, 20), paper=(250, 250, 245)):
    """A page of black text lines on white, as a scanned document or a screenshot of an article."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), paper)
    draw = ImageDraw.Draw(image)
    for y in range(6, size - 10, 12):
        draw.text((6, y), _line(rng, 6), fill=ink)
    return np.asarray(image)


def screenshot(seed, size=192):
    """A desktop window: title bar, toolbar buttons, a sidebar, text rows and a dialog."""
    rng = np.random.default_rng(seed)
    background = tuple(int(v) for v in rng.integers(200, 245, 3))
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    accent = tuple(int(v) for v in rng.integers(30, 160, 3))
    draw.rectangle([0, 0, size, 18], fill=accent)
    draw.text((6, 4), _line(rng, 3), fill=(255, 255, 255))
    for x in range(4, size - 30, 34):
        draw.rounded_rectangle([x, 24, x + 30, 38], radius=3, fill=(225, 225, 225), outline=(150, 150, 150))
    draw.rectangle([0, 44, 46, size], fill=(236, 238, 242))
    for y in range(50, size - 10, 14):
        draw.text((4, y), _line(rng, 1), fill=(60, 60, 60))
        draw.text((54, y), _line(rng, 4), fill=(30, 30, 30))
    draw.rectangle([70, 80, size - 20, 140], fill=(255, 255, 255), outline=(120, 120, 120))
    draw.rectangle([size - 70, 120, size - 26, 134], fill=accent)
    return np.asarray(image)


def not_photos(count_per_kind=8):
    """{kind: [uint8 images]} for the five kinds, ``count_per_kind`` each."""
    n = count_per_kind
    colours = [(255, 0, 0), (0, 160, 0), (0, 0, 255), (255, 255, 0), (0, 200, 200), (200, 0, 200), (255, 128, 0),
               (128, 64, 0)]  # fmt: skip
    return {
        "blank": [blank(v) for v in np.linspace(0, 255, n).astype(int)],
        "single_colour": [single_colour(colours[i % len(colours)]) for i in range(n)],
        "noise": [noise(("uniform", "gaussian", "grey", "salt")[i % 4], i) for i in range(n)],
        "text": [text_page(i) for i in range(n)],
        "screenshot": [screenshot(i) for i in range(n)],
    }
