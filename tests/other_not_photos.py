"""A second set of inputs that are not photographs, drawn by other rules than tests/not_photos.py.

Written after the photo-likeness flag was designed on tests/not_photos.py and never used to
choose it: gradients, stripes and checkerboards, flat clip art, charts, block codes and
posterised cartoons, each at sizes and aspect ratios of their own (the flag must not depend on
the first set's 96 and 192 px squares). Deterministic from a seed; uint8 RGB arrays.
"""

import numpy as np
from PIL import Image, ImageDraw

SIZES = ((80, 120), (128, 128), (160, 96), (224, 224), (100, 150), (256, 192), (72, 72), (140, 210))


def _rng_colour(rng, low=0, high=256):
    return tuple(int(v) for v in rng.integers(low, high, 3))


def gradient(seed):
    """A linear or radial blend between two colours: a wallpaper, an empty slide."""
    rng = np.random.default_rng([seed, 1])
    h, w = SIZES[seed % len(SIZES)]
    a, b = np.array(_rng_colour(rng), float), np.array(_rng_colour(rng), float)
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    if seed % 2:
        t = np.clip(np.hypot(y - 0.5, x - 0.5) * 1.6, 0, 1)
    else:
        angle = rng.uniform(0, np.pi)
        t = np.cos(angle) * x + np.sin(angle) * y
        t = (t - t.min()) / max(np.ptp(t), 1e-9)
    return (a + (b - a) * t[..., None]).astype(np.uint8)


def pattern(seed):
    """Stripes or a checkerboard of two colours."""
    rng = np.random.default_rng([seed, 2])
    h, w = SIZES[(seed + 3) % len(SIZES)]
    period = int(rng.integers(4, 24))
    y, x = np.mgrid[0:h, 0:w]
    cells = (x // period + y // period) % 2 if seed % 2 else (x // period) % 2
    colours = np.array([_rng_colour(rng), _rng_colour(rng)], np.uint8)
    return colours[cells]


def clip_art(seed):
    """Flat shapes on a flat background, as a logo or an icon."""
    rng = np.random.default_rng([seed, 3])
    h, w = SIZES[(seed + 5) % len(SIZES)]
    image = Image.new("RGB", (w, h), _rng_colour(rng, 180))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(2, 6))):
        x0, y0 = int(rng.integers(0, w - 10)), int(rng.integers(0, h - 10))
        x1, y1 = int(rng.integers(x0 + 8, w + 1)), int(rng.integers(y0 + 8, h + 1))
        shape = rng.integers(3)
        fill = _rng_colour(rng, 0, 220)
        if shape == 0:
            draw.ellipse([x0, y0, x1, y1], fill=fill)
        elif shape == 1:
            draw.rectangle([x0, y0, x1, y1], fill=fill)
        else:
            draw.polygon([(x0, y1), ((x0 + x1) // 2, y0), (x1, y1)], fill=fill)
    return np.asarray(image)


def chart(seed):
    """A bar or line chart on white with axes."""
    rng = np.random.default_rng([seed, 4])
    h, w = SIZES[(seed + 1) % len(SIZES)]
    image = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    left, bottom = 12, h - 12
    draw.line([(left, 4), (left, bottom), (w - 4, bottom)], fill=(0, 0, 0), width=1)
    values = rng.uniform(0.1, 1.0, int(rng.integers(4, 10)))
    step = (w - left - 8) / len(values)
    colour = _rng_colour(rng, 0, 200)
    points = []
    for i, v in enumerate(values):
        x = left + 4 + i * step
        top = bottom - v * (bottom - 8)
        if seed % 2:
            draw.rectangle([x, top, x + step * 0.7, bottom - 1], fill=colour)
        points.append((x + step * 0.35, top))
    if not seed % 2:
        draw.line(points, fill=colour, width=2)
    return np.asarray(image)


def block_code(seed):
    """A QR-like grid of black and white modules with a quiet zone."""
    rng = np.random.default_rng([seed, 5])
    modules = int(rng.integers(17, 33))
    grid = rng.integers(0, 2, (modules, modules))
    for r, c in ((0, 0), (0, modules - 7), (modules - 7, 0)):  # finder squares
        grid[r : r + 7, c : c + 7] = 1
        grid[r + 1 : r + 6, c + 1 : c + 6] = 0
        grid[r + 2 : r + 5, c + 2 : c + 5] = 1
    cell = int(rng.integers(3, 7))
    image = np.kron(1 - grid, np.ones((cell, cell))) * 255
    image = np.pad(image, 4 * cell, constant_values=255)
    return np.repeat(image[..., None], 3, axis=-1).astype(np.uint8)


def cartoon(seed):
    """A posterised scene: sky, ground, sun, a house, all flat colours with dark outlines."""
    rng = np.random.default_rng([seed, 6])
    h, w = SIZES[(seed + 6) % len(SIZES)]
    image = Image.new("RGB", (w, h), _rng_colour(rng, 120))
    draw = ImageDraw.Draw(image)
    horizon = int(h * rng.uniform(0.5, 0.75))
    draw.rectangle([0, horizon, w, h], fill=_rng_colour(rng, 0, 160), outline=(0, 0, 0))
    r = int(min(h, w) * 0.1)
    cx, cy = int(rng.integers(r, w - r)), int(rng.integers(r, max(r + 1, horizon - r)))
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 220, 0), outline=(0, 0, 0), width=2)
    x0 = int(rng.integers(0, w // 2))
    side = int(min(h, w) * 0.3)
    draw.rectangle([x0, horizon - side, x0 + side, horizon], fill=_rng_colour(rng), outline=(0, 0, 0), width=2)
    draw.polygon([(x0 - 4, horizon - side), (x0 + side // 2, horizon - side - side // 2), (x0 + side + 4, horizon - side)],
                 fill=_rng_colour(rng, 0, 160), outline=(0, 0, 0))  # fmt: skip
    return np.asarray(image)


KINDS = {"gradient": gradient, "pattern": pattern, "clip_art": clip_art, "chart": chart, "block_code": block_code,
         "cartoon": cartoon}  # fmt: skip


def other_not_photos(count_per_kind=8):
    """{kind: [uint8 images]} for the six kinds, ``count_per_kind`` each."""
    return {kind: [draw(i) for i in range(count_per_kind)] for kind, draw in KINDS.items()}
