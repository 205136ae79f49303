"""Independent generator of synthetic images that are clearly not photographs.

Written by a helper session independently of the project's not-a-photo detector and of its other
not-photo image sets: it shares no code, rules or parameters with them. It is meant as a held-out
check that the detector generalises to kinds of non-photo input it was not built around.

Each kind imitates something people really upload to photo-scoring services by mistake:
spreadsheets, street maps, scaled-up pixel-art sprites, colour-mapped scientific arrays,
Voronoi-cell textures, tiled wallpaper motifs, pen scribbles on paper, presentation slides,
app-icon grids, pie charts and memes. Sizes (64-320 px per side), aspect ratios, colours and
layouts all come from fixed seeds, so every call returns exactly the same pixels.

Only numpy and Pillow are used.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFont

_MIN_SIDE = 64
_MAX_SIDE = 320

_WORDS = (
    "total", "north", "south", "sales", "q1", "q2", "q3", "q4", "budget", "cost", "item", "units",
    "region", "plan", "team", "goals", "review", "summary", "growth", "risk", "next", "steps",
    "when", "you", "the", "monday", "again", "me", "nobody", "code", "works", "finally",
)


def _size(rng: np.random.Generator, lo: int = _MIN_SIDE, hi: int = _MAX_SIDE) -> tuple[int, int]:
    """Returns a random (width, height) with a random, usually non-square, aspect ratio."""
    w = int(rng.integers(lo, hi + 1))
    ratio = float(rng.choice([0.5, 0.5625, 0.75, 1.0, 1.333, 1.5, 1.778, 2.0]))
    h = int(np.clip(round(w / ratio), lo, hi))
    return w, h


def _colour(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    """Returns a random RGB tuple with channels drawn from [lo, hi)."""
    return tuple(int(v) for v in rng.integers(lo, hi, size=3))


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Returns Pillow's bundled font at the requested pixel size."""
    try:
        return ImageFont.load_default(size=max(6, int(size)))
    except (TypeError, OSError):  # Pillow without FreeType: fixed-size bitmap font.
        return ImageFont.load_default()


def _finish(img: Image.Image) -> np.ndarray:
    """Converts a Pillow image to a contiguous uint8 RGB array."""
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


# ----------------------------------------------------------------------------------------------
# Kinds
# ----------------------------------------------------------------------------------------------


def _spreadsheet(rng: np.random.Generator) -> np.ndarray:
    """A spreadsheet: header row, row numbers, grey grid lines and numbers in cells."""
    w, h = _size(rng, 120, _MAX_SIDE)
    img = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(img)
    row_h = int(rng.integers(12, 20))
    col_w = int(rng.integers(44, 72))
    gutter = int(rng.integers(18, 26))
    font = _font(row_h - 4)
    head_bg = _colour(rng, 200, 240)
    accent = _colour(rng, 40, 200)
    d.rectangle([0, 0, w, row_h], fill=head_bg)
    d.rectangle([0, 0, gutter, h], fill=(235, 235, 235))
    for x in range(gutter, w, col_w):
        d.line([x, 0, x, h], fill=(200, 200, 200))
    for y in range(row_h, h, row_h):
        d.line([0, y, w, y], fill=(200, 200, 200))
    n_cols = (w - gutter) // col_w + 1
    for c in range(n_cols):
        d.text((gutter + c * col_w + 3, 1), chr(ord("A") + c % 26), fill=(60, 60, 60), font=font)
    highlight_row = int(rng.integers(2, max(3, h // row_h)))
    for r in range(1, h // row_h + 1):
        y = r * row_h
        d.text((2, y + 1), str(r), fill=(90, 90, 90), font=font)
        if r == highlight_row:
            d.rectangle([gutter + 1, y + 1, w, y + row_h - 1], fill=(255, 242, 180))
        for c in range(n_cols):
            x = gutter + c * col_w
            if c == 0:
                txt = str(rng.choice(_WORDS))
                fill = (20, 20, 20)
            elif rng.random() < 0.85:
                digits = int(rng.integers(1, max(2, col_w // (row_h // 2) - 1)))
                txt = f"{rng.integers(0, 10 ** digits) / 100:.2f}"
                fill = accent if rng.random() < 0.15 else (20, 20, 20)
            else:
                continue
            while len(txt) > 1 and d.textlength(txt, font=font) > col_w - 5:
                txt = txt[:-1]
            d.text((x + 3, y + 1), txt, fill=fill, font=font)
    sel_c, sel_r = int(rng.integers(0, n_cols)), int(rng.integers(1, max(2, h // row_h)))
    d.rectangle([gutter + sel_c * col_w, sel_r * row_h, gutter + (sel_c + 1) * col_w, (sel_r + 1) * row_h],
                outline=(30, 110, 60), width=2)
    return _finish(img)


def _street_map(rng: np.random.Generator) -> np.ndarray:
    """A street map in flat colours: land, a river or lake, parks, blocks and labelled roads."""
    w, h = _size(rng)
    land = (int(rng.integers(230, 246)), int(rng.integers(228, 242)), int(rng.integers(215, 232)))
    img = Image.new("RGB", (w, h), land)
    d = ImageDraw.Draw(img)
    # Road network: a jittered grid.
    step_x, step_y = int(rng.integers(28, 60)), int(rng.integers(28, 60))
    xs = [x + int(rng.integers(-6, 7)) for x in range(int(rng.integers(5, 20)), w, step_x)]
    ys = [y + int(rng.integers(-6, 7)) for y in range(int(rng.integers(5, 20)), h, step_y)]
    park = (int(rng.integers(170, 200)), int(rng.integers(215, 235)), int(rng.integers(160, 190)))
    block = (int(rng.integers(215, 230)),) * 2 + (int(rng.integers(205, 225)),)
    for x0, x1 in zip(xs[:-1], xs[1:]):
        for y0, y1 in zip(ys[:-1], ys[1:]):
            fill = park if rng.random() < 0.15 else block
            d.rectangle([x0 + 5, y0 + 5, x1 - 5, y1 - 5], fill=fill)
    for x in xs:
        d.line([x, 0, x, h], fill=(255, 255, 255), width=5)
    for y in ys:
        d.line([0, y, w, y], fill=(255, 255, 255), width=5)
    water = (int(rng.integers(150, 180)), int(rng.integers(195, 215)), int(rng.integers(230, 250)))
    # Water drawn over the grid, so the roads stop at its banks.
    if rng.random() < 0.6:  # river: a thick wandering polyline
        pts = []
        x0 = float(rng.uniform(0.2, 0.8) * w)
        for y in np.linspace(-10, h + 10, 8):
            x0 += float(rng.normal(0, w * 0.08))
            pts.append((x0, float(y)))
        d.line(pts, fill=water, width=int(rng.integers(10, 28)), joint="curve")
    else:  # lake
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 9))
        rad = rng.uniform(0.15, 0.35, 9) * min(w, h)
        d.polygon([(cx + r * math.cos(a), cy + r * math.sin(a)) for a, r in zip(ang, rad)], fill=water)
    # One major road, diagonal, yellow with an outline.
    a = (0, float(rng.uniform(0, h)))
    b = (w, float(rng.uniform(0, h)))
    d.line([a, b], fill=(220, 170, 60), width=10)
    d.line([a, b], fill=(252, 214, 110), width=7)
    font = _font(int(rng.integers(8, 11)))
    for _ in range(int(rng.integers(1, 4))):
        d.text((float(rng.uniform(0, w * 0.7)), float(rng.uniform(0, h * 0.9))),
               str(rng.choice(_WORDS)).title() + " St", fill=(90, 90, 90), font=font)
    # A location pin.
    px, py = float(rng.uniform(0.2, 0.8) * w), float(rng.uniform(0.3, 0.8) * h)
    d.ellipse([px - 7, py - 18, px + 7, py - 4], fill=(220, 50, 50))
    d.polygon([(px - 6, py - 9), (px + 6, py - 9), (px, py)], fill=(220, 50, 50))
    d.ellipse([px - 3, py - 14, px + 3, py - 8], fill=(255, 255, 255))
    return _finish(img)


def _pixel_sprite(rng: np.random.Generator) -> np.ndarray:
    """A left-right symmetric pixel-art creature, outlined, scaled up with nearest neighbour."""
    gw = int(rng.integers(6, 9))  # half width of the sprite grid
    gh = int(rng.integers(10, 17))
    palette = np.array([_colour(rng, 30, 256) for _ in range(3)], dtype=np.uint8)
    half = rng.random((gh, gw))
    # Denser towards the middle column so the sprite is a connected blob.
    dist = np.abs(np.arange(gw)[None, :] - (gw - 1)) / gw + np.abs(np.arange(gh)[:, None] - gh / 2) / gh
    mask_half = half > 0.25 + 0.6 * dist
    idx_half = rng.integers(0, 3, size=(gh, gw))
    mask = np.concatenate([mask_half, mask_half[:, ::-1]], axis=1)
    idx = np.concatenate([idx_half, idx_half[:, ::-1]], axis=1)
    mask[gh // 3, gw - 2:gw + 2] = True
    grid_h, grid_w = gh + 2, 2 * gw + 2
    bg = np.array(_colour(rng, 0, 256), dtype=np.uint8)
    sprite = np.tile(bg, (grid_h, grid_w, 1))
    body = np.zeros((grid_h, grid_w), bool)
    body[1:-1, 1:-1] = mask
    colours = np.zeros((grid_h, grid_w, 3), np.uint8)
    colours[1:-1, 1:-1] = palette[idx]
    # Outline: empty cells next to a body cell.
    pad = np.pad(body, 1)
    near = pad[:-2, 1:-1] | pad[2:, 1:-1] | pad[1:-1, :-2] | pad[1:-1, 2:]
    sprite[near & ~body] = (20, 20, 28)
    sprite[body] = colours[body]
    # Eyes.
    ey = 1 + gh // 3
    sprite[ey, gw - 1] = sprite[ey, gw + 2] = (255, 255, 255)
    scale = int(rng.integers(4, 13))
    scale = max(1, min(scale, _MAX_SIDE // grid_w, _MAX_SIDE // grid_h))
    img = Image.fromarray(sprite).resize((grid_w * scale, grid_h * scale), Image.NEAREST)
    if min(img.size) < _MIN_SIDE:  # centre on a canvas of the background colour
        cw, ch = max(_MIN_SIDE, img.size[0]), max(_MIN_SIDE, img.size[1])
        canvas = Image.new("RGB", (cw, ch), tuple(int(v) for v in bg))
        canvas.paste(img, ((cw - img.size[0]) // 2, (ch - img.size[1]) // 2))
        img = canvas
    return _finish(img)


def _colormap(values: np.ndarray, name: str) -> np.ndarray:
    """Maps values in [0, 1] to RGB with a small piecewise-linear colour map."""
    stops = {
        "viridis": [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)],
        "jet": [(0, 0, 143), (0, 0, 255), (0, 255, 255), (255, 255, 0), (255, 0, 0), (128, 0, 0)],
        "magma": [(0, 0, 4), (81, 18, 124), (183, 55, 121), (252, 137, 97), (252, 253, 191)],
        "coolwarm": [(59, 76, 192), (170, 199, 253), (221, 221, 221), (247, 168, 137), (180, 4, 38)],
    }[name]
    s = np.asarray(stops, dtype=np.float64)
    pos = np.clip(values, 0, 1) * (len(s) - 1)
    i = np.minimum(pos.astype(int), len(s) - 2)
    f = (pos - i)[..., None]
    return (s[i] * (1 - f) + s[i + 1] * f).astype(np.uint8)


def _heatmap(rng: np.random.Generator) -> np.ndarray:
    """A colour-mapped scientific array (smooth field or coarse matrix) with axes and a colour bar."""
    w, h = _size(rng, 96, _MAX_SIDE)
    cmap = str(rng.choice(["viridis", "jet", "magma", "coolwarm"]))
    margin_l, margin_b, bar_w = 22, 16, 12
    pw, ph = w - margin_l - bar_w - 14, h - margin_b - 6
    if rng.random() < 0.6:  # smooth field: sum of random Gaussian bumps and a wave
        yy, xx = np.mgrid[0:ph, 0:pw] / max(pw, ph)
        field = np.zeros((ph, pw))
        for _ in range(int(rng.integers(3, 8))):
            cx, cy = rng.uniform(0, pw / max(pw, ph)), rng.uniform(0, ph / max(pw, ph))
            s = rng.uniform(0.05, 0.25)
            field += rng.uniform(-1, 1) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * s * s))
        field += 0.2 * np.sin(xx * rng.uniform(5, 20) + yy * rng.uniform(5, 20))
    else:  # coarse matrix, like a correlation or confusion matrix
        n_r, n_c = int(rng.integers(5, 16)), int(rng.integers(5, 16))
        cells = rng.random((n_r, n_c))
        if n_r == n_c:
            np.fill_diagonal(cells, 1.0)
        field = np.asarray(Image.fromarray((cells * 255).astype(np.uint8)).resize((pw, ph), Image.NEAREST),
                           dtype=np.float64)
    field = (field - field.min()) / max(float(np.ptp(field)), 1e-9)
    img = Image.new("RGB", (w, h), (255, 255, 255))
    img.paste(Image.fromarray(_colormap(field, cmap)), (margin_l, 6))
    bar = _colormap(np.linspace(1, 0, ph)[:, None].repeat(bar_w, 1), cmap)
    img.paste(Image.fromarray(bar), (w - bar_w - 4, 6))
    d = ImageDraw.Draw(img)
    d.rectangle([margin_l - 1, 5, margin_l + pw, 6 + ph], outline=(0, 0, 0))
    font = _font(8)
    for k in range(5):
        x = margin_l + k * (pw - 1) // 4
        d.line([x, 6 + ph, x, 9 + ph], fill=(0, 0, 0))
        d.text((x - 3, 9 + ph), str(k * int(rng.integers(1, 6)) * 10 // 10), fill=(0, 0, 0), font=font)
        y = 6 + k * (ph - 1) // 4
        d.line([margin_l - 4, y, margin_l - 1, y], fill=(0, 0, 0))
        d.text((2, y - 4), f"{1 - k / 4:.1f}", fill=(0, 0, 0), font=font)
    return _finish(img)


def _voronoi(rng: np.random.Generator) -> np.ndarray:
    """Voronoi cells in a flat palette with dark borders, like a stained-glass or cell texture."""
    w, h = _size(rng)
    n = int(rng.integers(8, 60))
    pts = rng.uniform(0, 1, size=(n, 2)) * (w, h)
    base = np.array(_colour(rng, 40, 220), dtype=np.float64)
    palette = np.clip(base + rng.normal(0, 45, size=(n, 3)), 0, 255)
    yy, xx = np.mgrid[0:h, 0:w]
    d2 = (xx[..., None] - pts[:, 0]) ** 2 + (yy[..., None] - pts[:, 1]) ** 2
    order = np.argsort(d2, axis=-1)[..., :2]
    nearest = order[..., 0]
    d_first = np.take_along_axis(d2, order[..., :1], -1)[..., 0]
    d_second = np.take_along_axis(d2, order[..., 1:2], -1)[..., 0]
    border = (np.sqrt(d_second) - np.sqrt(d_first)) < float(rng.uniform(1.0, 3.0))
    out = palette[nearest]
    out[border] = _colour(rng, 0, 60)
    if rng.random() < 0.5:  # mark the seed points
        for x, y in pts.astype(int):
            out[max(0, y - 1):y + 2, max(0, x - 1):x + 2] = (255, 255, 255)
    return out.astype(np.uint8)


def _wallpaper(rng: np.random.Generator) -> np.ndarray:
    """A tiled wallpaper: a small random motif (flowers, dots, diamonds) repeated on a lattice."""
    w, h = _size(rng)
    tile = int(rng.integers(16, 48))
    bg = _colour(rng, 120, 256)
    fg = [_colour(rng, 0, 200) for _ in range(3)]
    motif = Image.new("RGB", (tile, tile), bg)
    d = ImageDraw.Draw(motif)
    c = tile / 2
    style = int(rng.integers(0, 3))
    if style == 0:  # flower
        r = tile * 0.18
        for k in range(int(rng.integers(4, 8))):
            a = 2 * math.pi * k / 6
            px, py = c + r * math.cos(a), c + r * math.sin(a)
            d.ellipse([px - r * 0.8, py - r * 0.8, px + r * 0.8, py + r * 0.8], fill=fg[0])
        d.ellipse([c - r * 0.6, c - r * 0.6, c + r * 0.6, c + r * 0.6], fill=fg[1])
        d.ellipse([0, 0, tile * 0.12, tile * 0.12], fill=fg[2])
    elif style == 1:  # diamond with inner dot and corner quarter-circles
        d.polygon([(c, 2), (tile - 2, c), (c, tile - 2), (2, c)], outline=fg[0], width=2)
        d.ellipse([c - 3, c - 3, c + 3, c + 3], fill=fg[1])
        q = tile * 0.2
        for cx, cy in ((0, 0), (tile, 0), (0, tile), (tile, tile)):
            d.ellipse([cx - q, cy - q, cx + q, cy + q], fill=fg[2])
    else:  # leaf / paisley-ish arc pair
        d.arc([2, 2, tile - 2, tile - 2], 200, 340, fill=fg[0], width=2)
        d.arc([2, 2, tile - 2, tile - 2], 20, 160, fill=fg[1], width=2)
        d.ellipse([c - 4, c - 2, c + 4, c + 2], fill=fg[2])
    m = np.asarray(motif)
    if rng.random() < 0.5:  # mirror to a 2x2 symmetric tile
        m = np.concatenate([m, m[:, ::-1]], axis=1)
        m = np.concatenate([m, m[::-1]], axis=0)
    th, tw = m.shape[:2]
    out = np.tile(m, (h // th + 2, w // tw + 2, 1))
    if rng.random() < 0.5:  # half-drop: shift every other column of tiles
        for j in range(1, out.shape[1] // tw, 2):
            out[:, j * tw:(j + 1) * tw] = np.roll(out[:, j * tw:(j + 1) * tw], th // 2, axis=0)
    return np.ascontiguousarray(out[:h, :w]).astype(np.uint8)


def _scribble(rng: np.random.Generator) -> np.ndarray:
    """Pen scribbles and a doodle drawn in ink on plain off-white paper."""
    w, h = _size(rng)
    paper = (int(rng.integers(235, 256)), int(rng.integers(232, 252)), int(rng.integers(215, 240)))
    img = Image.new("RGB", (w, h), paper)
    d = ImageDraw.Draw(img)
    ink = [(20, 30, 110), (25, 25, 25), (150, 20, 20), (20, 90, 40)][int(rng.integers(0, 4))]
    width = int(rng.integers(1, 4))
    # Cursive-like lines: each line is a few "words" of loops with varying heights, separated by gaps.
    n_lines = int(rng.integers(1, 5))
    for li in range(n_lines):
        y0 = h * (li + 0.7) / (n_lines + 0.4)
        x = w * float(rng.uniform(0.04, 0.12))
        amp = float(rng.uniform(3, 7))
        slant = float(rng.uniform(0.0, 0.4))
        end = w * float(rng.uniform(0.6, 0.95))
        while x < end:
            n_letters = int(rng.integers(2, 7))
            t = np.linspace(0, n_letters, n_letters * 24)
            heights = amp * rng.choice([1.0, 1.0, 1.0, 2.2, -1.8], size=n_letters)[np.minimum(t.astype(int),
                                                                                            n_letters - 1)]
            ys = y0 - np.abs(np.sin(np.pi * t)) * heights
            xs = x + t * amp * 1.6 + 0.5 * amp * np.cos(2 * np.pi * t) + slant * (y0 - ys)
            d.line(list(zip(xs.tolist(), ys.tolist())), fill=ink, width=width, joint="curve")
            x = float(xs.max()) + amp * float(rng.uniform(1.5, 3.0))
    # A freehand doodle: a wobbly closed shape, a spiral or a star.
    cx, cy = float(rng.uniform(0.25, 0.75) * w), float(rng.uniform(0.25, 0.75) * h)
    r = float(rng.uniform(0.12, 0.3) * min(w, h))
    kind = int(rng.integers(0, 3))
    if kind == 0:
        a = np.linspace(0, 2 * np.pi * 1.05, 120)
        rr = r * (1 + 0.08 * np.sin(a * rng.integers(2, 6)) + rng.normal(0, 0.02, a.size))
        pts = list(zip((cx + rr * np.cos(a)).tolist(), (cy + rr * np.sin(a)).tolist()))
    elif kind == 1:
        a = np.linspace(0, 2 * np.pi * rng.uniform(2.5, 4.5), 300)
        rr = r * a / a[-1]
        pts = list(zip((cx + rr * np.cos(a)).tolist(), (cy + rr * np.sin(a)).tolist()))
    else:
        k = np.arange(11)
        rr = np.where(k % 2 == 0, r, r * 0.45)
        a = k * np.pi / 5 - np.pi / 2
        pts = list(zip((cx + rr * np.cos(a)).tolist(), (cy + rr * np.sin(a)).tolist()))
    d.line(pts, fill=ink, width=width + 1, joint="curve")
    # Crossings-out.
    for _ in range(int(rng.integers(0, 3))):
        x0, y0 = float(rng.uniform(0, w * 0.8)), float(rng.uniform(0, h))
        d.line([x0, y0, x0 + float(rng.uniform(20, 60)), y0 + float(rng.normal(0, 4))], fill=ink, width=width)
    return _finish(img)


def _slide(rng: np.random.Generator) -> np.ndarray:
    """A presentation slide: coloured title bar, bullets and a boxed call-out or diagram block."""
    w = int(rng.integers(160, _MAX_SIDE + 1))
    h = int(np.clip(round(w * float(rng.choice([0.5625, 0.75]))), _MIN_SIDE, _MAX_SIDE))
    theme = _colour(rng, 20, 180)
    bg = (255, 255, 255) if rng.random() < 0.6 else _colour(rng, 230, 256)
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    bar_h = int(h * rng.uniform(0.16, 0.24))
    d.rectangle([0, 0, w, bar_h], fill=theme)
    title = " ".join(str(s) for s in rng.choice(_WORDS, size=int(rng.integers(2, 4)))).title()
    d.text((int(w * 0.05), bar_h // 2), title, fill=(255, 255, 255), font=_font(bar_h * 0.5), anchor="lm")
    font = _font(max(8, h // 16))
    y = bar_h + int(h * 0.08)
    left_w = int(w * (0.55 if rng.random() < 0.6 else 0.9))
    line_h = max(12, h // 9)
    while y + line_h < h * 0.92:
        d.ellipse([w * 0.06, y + line_h * 0.3, w * 0.06 + 5, y + line_h * 0.3 + 5], fill=theme)
        words = " ".join(str(s) for s in rng.choice(_WORDS, size=int(rng.integers(2, 5))))
        d.text((w * 0.06 + 10, y), words, fill=(40, 40, 40), font=font)
        y += line_h
    if left_w < w * 0.8:  # a right-hand block: boxes joined by arrows
        bx0, bx1 = left_w + 8, w - int(w * 0.05)
        n = int(rng.integers(2, 4))
        top, bottom = bar_h + 10, h - 10
        bh = (bottom - top) / n
        for k in range(n):
            y0 = top + k * bh + 3
            d.rounded_rectangle([bx0, y0, bx1, y0 + bh - 10], radius=5, fill=_colour(rng, 160, 240),
                                outline=theme, width=2)
            if k < n - 1:
                xm = (bx0 + bx1) / 2
                d.line([xm, y0 + bh - 10, xm, y0 + bh + 3], fill=theme, width=2)
    d.text((w - 14, h - 12), str(int(rng.integers(2, 30))), fill=(130, 130, 130), font=_font(9))
    return _finish(img)


def _icon_grid(rng: np.random.Generator) -> np.ndarray:
    """A phone-home-screen style grid of rounded app icons, each with a simple white glyph."""
    cols, rows = int(rng.integers(3, 6)), int(rng.integers(3, 7))
    cell = int(rng.integers(40, 60))
    w = int(np.clip(cols * cell, _MIN_SIDE, _MAX_SIDE))
    h = int(np.clip(rows * cell, _MIN_SIDE, _MAX_SIDE))
    cell = min(w // cols, h // rows)
    bg = _colour(rng, 0, 90) if rng.random() < 0.5 else _colour(rng, 200, 256)
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    ox, oy = (w - cols * cell) // 2, (h - rows * cell) // 2
    pad = cell * 0.14
    for r in range(rows):
        for c in range(cols):
            x0, y0 = ox + c * cell + pad, oy + r * cell + pad
            s = cell - 2 * pad
            d.rounded_rectangle([x0, y0, x0 + s, y0 + s], radius=s * 0.22, fill=_colour(rng, 20, 240))
            cx, cy, g = x0 + s / 2, y0 + s / 2, s * 0.28
            glyph = int(rng.integers(0, 6))
            white = (255, 255, 255)
            if glyph == 0:
                d.ellipse([cx - g, cy - g, cx + g, cy + g], outline=white, width=2)
            elif glyph == 1:
                d.polygon([(cx - g * 0.7, cy - g), (cx + g, cy), (cx - g * 0.7, cy + g)], fill=white)
            elif glyph == 2:
                d.rectangle([cx - g, cy - g * 0.7, cx + g, cy + g * 0.7], outline=white, width=2)
                d.line([cx - g, cy - g * 0.7, cx, cy, cx + g, cy - g * 0.7], fill=white, width=2)
            elif glyph == 3:
                d.line([cx - g, cy, cx + g, cy], fill=white, width=3)
                d.line([cx, cy - g, cx, cy + g], fill=white, width=3)
            elif glyph == 4:
                for k in range(3):
                    yy = cy - g + k * g
                    d.line([cx - g, yy, cx + g, yy], fill=white, width=2)
            else:
                d.pieslice([cx - g, cy - g, cx + g, cy + g], 30, 330, fill=white)
            if rng.random() < 0.12:  # notification badge
                d.ellipse([x0 + s - 8, y0 - 4, x0 + s + 4, y0 + 8], fill=(230, 40, 40))
    return _finish(img)


def _pie_chart(rng: np.random.Generator) -> np.ndarray:
    """A pie or donut chart with a legend of coloured swatches and labels."""
    w, h = _size(rng, 100, _MAX_SIDE)
    img = Image.new("RGB", (w, h), (255, 255, 255) if rng.random() < 0.7 else _colour(rng, 225, 256))
    d = ImageDraw.Draw(img)
    n = int(rng.integers(3, 8))
    shares = rng.dirichlet(np.ones(n) * 1.5)
    hue0 = rng.uniform(0, 1)
    cols = []
    for k in range(n):  # evenly spaced hues, HSV -> RGB by hand
        hh = (hue0 + k / n) % 1.0
        i = int(hh * 6)
        f = hh * 6 - i
        v, s = 0.9, 0.65
        p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
        rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i % 6]
        cols.append(tuple(int(255 * x) for x in rgb))
    legend_right = w >= h
    if legend_right:
        r = min(h * 0.42, w * 0.3)
        cx, cy = w * 0.33, h / 2
    else:
        r = min(w * 0.42, h * 0.3)
        cx, cy = w / 2, h * 0.35
    start = float(rng.uniform(0, 360))
    for k in range(n):
        end = start + 360 * float(shares[k])
        d.pieslice([cx - r, cy - r, cx + r, cy + r], start, end, fill=cols[k], outline=(255, 255, 255), width=2)
        start = end
    if rng.random() < 0.4:
        d.ellipse([cx - r * 0.5, cy - r * 0.5, cx + r * 0.5, cy + r * 0.5], fill=img.getpixel((0, 0)))
    font = _font(max(8, int(min(w, h) / 18)))
    sw = max(6, int(min(w, h) / 22))
    for k in range(n):
        if legend_right:
            lx, ly = w * 0.68, h / 2 - n * (sw + 4) / 2 + k * (sw + 4)
        else:
            lx, ly = w * (0.1 + 0.45 * (k % 2)), h * 0.72 + (k // 2) * (sw + 4)
        d.rectangle([lx, ly, lx + sw, ly + sw], fill=cols[k])
        d.text((lx + sw + 3, ly - 1), f"{rng.choice(_WORDS)} {shares[k] * 100:.0f}%", fill=(50, 50, 50), font=font)
    return _finish(img)


def _meme(rng: np.random.Generator) -> np.ndarray:
    """A meme: big outlined white caption(s) over a flat panel with a crude flat-shaded face."""
    w, h = _size(rng, 120, _MAX_SIDE)
    bg = _colour(rng, 0, 256)
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    # A crude emoji-like face in the middle, so the panel is not empty.
    cx, cy, r = w / 2, h / 2, min(w, h) * 0.22
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 205, 60), outline=(120, 80, 0), width=2)
    e = r * 0.15
    for sx in (-1, 1):
        ex, ey = cx + sx * r * 0.38, cy - r * 0.3
        d.ellipse([ex - e, ey - e, ex + e, ey + e], fill=(40, 30, 20))
    mouth = int(rng.integers(0, 3))
    if mouth == 0:
        d.arc([cx - r * 0.55, cy - r * 0.3, cx + r * 0.55, cy + r * 0.6], 20, 160, fill=(40, 30, 20), width=3)
    elif mouth == 1:
        d.arc([cx - r * 0.5, cy + r * 0.25, cx + r * 0.5, cy + r * 0.9], 200, 340, fill=(40, 30, 20), width=3)
    else:
        d.ellipse([cx - r * 0.2, cy + r * 0.2, cx + r * 0.2, cy + r * 0.6], fill=(40, 30, 20))

    def caption(y: float) -> None:
        """Draws one upper-case caption line centred at height y, shrunk to fit the width."""
        words = " ".join(str(s) for s in rng.choice(_WORDS, size=int(rng.integers(2, 5)))).upper()
        size = max(10, int(h * 0.14))
        font = _font(size)
        while size > 8 and d.textlength(words, font=font) > w * 0.94:
            size -= 1
            font = _font(size)
        d.text((w / 2, y), words, font=font, fill=(255, 255, 255), anchor="mm",
               stroke_width=max(1, size // 10), stroke_fill=(0, 0, 0))

    caption(h * 0.12)
    if rng.random() < 0.75:
        caption(h * 0.88)
    return _finish(img)


_KINDS: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "spreadsheet": _spreadsheet,
    "street_map": _street_map,
    "pixel_sprite": _pixel_sprite,
    "heatmap": _heatmap,
    "voronoi": _voronoi,
    "wallpaper": _wallpaper,
    "scribble": _scribble,
    "slide": _slide,
    "icon_grid": _icon_grid,
    "pie_chart": _pie_chart,
    "meme": _meme,
}


def independent_not_photos(count_per_kind: int = 8) -> dict[str, list[np.ndarray]]:
    """Generates deterministic synthetic non-photo images of several kinds.

    Args:
        count_per_kind: Number of images to generate for each kind.

    Returns:
        Mapping from kind name to a list of `count_per_kind` uint8 RGB arrays of shape (H, W, 3),
        with H and W between 64 and 320. The same call always returns the same pixels.
    """
    out: dict[str, list[np.ndarray]] = {}
    for kind_number, (name, make) in enumerate(_KINDS.items()):
        images = []
        for index in range(count_per_kind):
            rng = np.random.default_rng([index, kind_number, 7919])
            img = make(rng)
            h, w = img.shape[:2]
            if not (_MIN_SIDE <= h <= _MAX_SIDE and _MIN_SIDE <= w <= _MAX_SIDE):
                img = _finish(Image.fromarray(img).resize(
                    (int(np.clip(w, _MIN_SIDE, _MAX_SIDE)), int(np.clip(h, _MIN_SIDE, _MAX_SIDE))), Image.NEAREST))
            images.append(img)
        out[name] = images
    return out
