"""Fifth held-out set of images that are not photographs.

Written blind to the not-a-photo detector: its code, its scores, its notes and
the other not-photo test sets were not looked at while writing this file.
Every image comes from ``np.random.default_rng([index, kind_number, SALT])``;
only numpy, Pillow (its built-in default font) and the standard library are
used. Shapes are drawn at S times the output size and downsampled with Lanczos
(anti-aliasing); then, varying per image and kind, scan skew, softness, grain
and JPEG compression are added.

Kinds (ten):
  boarding_pass      airline boarding pass: branded header, airport codes, fields, perforated stub, 1-D barcode
  handwritten_note   cursive ink/pencil handwriting on ruled notebook or legal-pad paper, scanned
  transit_map        octilinear subway diagram: coloured lines, stations, interchanges, labels, line bullets
  paint_swatches     watercolour swatch card: washes with pooled edges and granulation on textured paper
  scatter_errorbars  scientific scatter plot with error bars, ticks, axis labels, legend, optional fit
  sticker_sheet      emoji/sticker sheet: die-cut faces, hearts and stars with white borders and shadows
  keyboard_layout    rendered keyboard layout with keycaps and legends in several themes, full or zoomed
  periodic_table     periodic table of the elements, full table or zoomed block of labelled cells
  word_cloud         word cloud of Zipf-sized, partly rotated words packed on a spiral in a palette
  comic_page         comic page or strip: panels, gutters, figures, speech/thought balloons, captions, SFX
"""

from __future__ import annotations

import colorsys
import io
import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SALT = 0x5F1F7  # fixed salt of this set
S = 3  # supersampling: drawing happens at S x the output size
_BICUBIC = Image.Resampling.BICUBIC
_LETTERS = list("etaoinshrdlcumwfgypbvkjxqz")
_LETTER_P = np.array([127, 91, 82, 75, 70, 67, 63, 61, 60, 43, 40, 28, 28, 24, 24, 22, 20, 20, 19, 15, 10, 8, 2, 2, 1,
                      1], dtype=float)
_LETTER_P = _LETTER_P / _LETTER_P.sum()


# ----------------------------------------------------------------------------- shared helpers
@lru_cache(maxsize=None)
def _font_px(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=px)


def _font(size: float) -> ImageFont.FreeTypeFont:
    """Default font for text `size` output pixels high, at canvas scale."""
    return _font_px(max(3, int(round(size * S))))


def _txt(d, xy, text, size, fill, anchor="mm", bold=False):
    d.text(xy, str(text), font=_font(size), fill=fill, anchor=anchor, stroke_width=int(bold), stroke_fill=fill)


def _dot(d, cx, cy, r, **kw):
    d.ellipse([cx - r, cy - r, cx + r, cy + r], **kw)


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return int(r * 255 + 0.5), int(g * 255 + 0.5), int(b * 255 + 0.5)


def _shade(c, f: float) -> tuple[int, ...]:
    """Scale a colour towards black (f < 1) or towards white (f > 1)."""
    return tuple(int(v * f) if f <= 1 else int(v + (255 - v) * min(f - 1, 1)) for v in c)


def _ink_for(bg) -> tuple[int, int, int]:
    """Dark or light text colour, whichever reads on `bg`."""
    return (25, 25, 28) if 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2] > 145 else (250, 250, 250)


def _side(v) -> int:
    return int(np.clip(round(float(v)), 64, 320))


def _size(rng, wr, hr) -> tuple[int, int]:
    return _side(rng.integers(wr[0], wr[1] + 1)), _side(rng.integers(hr[0], hr[1] + 1))


def _canvas(w: int, h: int, bg):
    img = Image.new("RGB", (w * S, h * S), tuple(int(c) for c in bg))
    return img, ImageDraw.Draw(img)


def _word(rng, lo: int = 3, hi: int = 8) -> str:
    return "".join(rng.choice(_LETTERS, size=int(rng.integers(lo, hi + 1)), p=_LETTER_P))


def _smooth_noise(rng, h: int, w: int, cell: float) -> np.ndarray:
    """Low-frequency noise in about [-0.5, 0.5]: a coarse random grid upsampled bicubically."""
    small = rng.random((max(2, int(h / cell) + 2), max(2, int(w / cell) + 2))).astype(np.float32)
    return np.asarray(Image.fromarray(small).resize((w, h), _BICUBIC)) - 0.5


def _text_tile(text: str, size: float, fill, angle: float = 0.0) -> Image.Image:
    """Text on a tight transparent RGBA tile (canvas scale), optionally rotated."""
    font = _font(size)
    x0, y0, x1, y1 = font.getbbox(text)
    mask = Image.new("L", (max(1, x1 - x0 + 2), max(1, y1 - y0 + 2)), 0)
    ImageDraw.Draw(mask).text((1 - x0, 1 - y0), text, font=font, fill=255)
    if angle:
        mask = mask.rotate(angle, expand=True, resample=_BICUBIC)
    tile = Image.new("RGBA", mask.size, tuple(fill) + (255,))
    tile.putalpha(mask)
    return tile


def _star_pts(cx, cy, r_out, r_in, n: int, rot: float = 0.0):
    """Star/burst polygon; r_out may be an array of length 2n for a jagged burst."""
    k = np.arange(2 * n)
    a, r = rot - math.pi / 2 + k * math.pi / n, np.where(k % 2 == 0, r_out, r_in)
    return [(float(x), float(y)) for x, y in zip(cx + r * np.cos(a), cy + r * np.sin(a))]


def _heart_pts(cx, cy, r, n: int = 48):
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    x, y = 16 * np.sin(t) ** 3, -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return [(float(cx + a * r / 17), float(cy + b * r / 17 + 0.1 * r)) for a, b in zip(x, y)]


def _bordered_poly(d, pts, fill, border, bw: float):
    """Polygon with a thick, round-jointed border (die-cut sticker edge, comic burst)."""
    d.line(pts + pts[:1], fill=border, width=max(1, int(bw)), joint="curve")
    d.polygon(pts, fill=border)
    d.polygon(pts, fill=fill)


def _barcode(d, box, rng, ink):
    """1-D barcode: guard bars, then random bar/space modules scaled to fill the box."""
    x0, y0, x1, y1 = box
    mods = np.concatenate([[1, 1, 1], rng.choice([1, 1, 1, 2, 2, 3, 4], size=int(rng.integers(40, 70))), [1, 1, 1]])
    edges = x0 + np.concatenate([[0], np.cumsum(mods)]) * (x1 - x0) / mods.sum()
    for i in range(0, len(mods), 2):
        d.rectangle([edges[i], y0, edges[i + 1] - 0.5, y1], fill=ink)


def _finish(img, w, h, rng, blur=(0.0, 0.5), jpeg=0.6, grain=0.0, skew=0.0, fill=None) -> np.ndarray:
    """Downsample from canvas scale and add capture artefacts: scan skew, softness, grain, JPEG."""
    if skew > 0:
        fc = tuple(fill) if fill is not None else img.getpixel((0, 0))
        img = img.rotate(float(rng.uniform(-skew, skew)), resample=_BICUBIC, fillcolor=fc)
    img = img.resize((w, h), Image.Resampling.LANCZOS)
    sigma = float(rng.uniform(*blur))
    if sigma > 0.05:
        img = img.filter(ImageFilter.GaussianBlur(sigma))
    if grain > 0:
        arr = np.asarray(img, np.float32) + rng.normal(0.0, grain, (h, w, 1)).astype(np.float32)
        img = Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8))
    if rng.random() < jpeg:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=int(rng.integers(45, 95)), subsampling=int(rng.integers(0, 3)))
        img = Image.open(io.BytesIO(buf.getvalue()))
    return np.array(img.convert("RGB"), dtype=np.uint8)


# ----------------------------------------------------------------------------- 1 boarding pass
_AIRPORTS = "LHR JFK CDG NRT SFO DXB AMS SIN SYD FRA MAD YYZ GRU ICN BCN LAX OSL HEL DEL MEX CPT IST".split()


def _boarding_pass(rng) -> np.ndarray:
    w = _side(rng.integers(200, 321))
    h = _side(min(150, w / rng.uniform(1.9, 2.9)))
    scan = rng.random() < 0.5
    back = (255, 255, 255) if scan else _hsv(rng.random(), rng.uniform(0, 0.15), rng.uniform(0.86, 0.97))
    img, d = _canvas(w, h, back)
    m = rng.uniform(0, 3) if scan else rng.uniform(2, 7)
    x0, y0, x1, y1 = m * S, m * S, (w - m) * S, (h - m) * S
    brand = _hsv(rng.random(), rng.uniform(0.55, 0.95), rng.uniform(0.3, 0.75))
    paper = _hsv(rng.uniform(0.1, 0.16), rng.uniform(0, 0.08), rng.uniform(0.97, 1.0))
    ink, grey, white = (int(rng.integers(15, 50)),) * 3, (120, 124, 132), (255, 255, 255)
    rad, hh = rng.uniform(2, 7) * S, (y1 - y0) * rng.uniform(0.18, 0.27)
    d.rounded_rectangle([x0, y0, x1, y1], radius=rad, fill=paper, outline=(205, 205, 205) if scan else None, width=S)
    d.rounded_rectangle([x0, y0, x1, y0 + hh], radius=rad, fill=brand)
    d.rectangle([x0, y0 + hh / 2, x1, y0 + hh], fill=brand)
    airline = _word(rng, 4, 7).upper() + str(rng.choice([" AIR", " AIRLINES", " AIRWAYS", ""]))
    _txt(d, (x0 + 6 * S, y0 + hh / 2), airline, hh / S * 0.5, white, "lm", bold=True)
    _txt(d, (x1 - 6 * S, y0 + hh / 2), "BOARDING PASS", hh / S * 0.35, white, "rm")
    sx = x0 + (x1 - x0) * rng.uniform(0.68, 0.76)  # stub edge: perforation and notches
    for yy in np.arange(y0 + hh + 3 * S, y1 - 3 * S, 3 * S):
        _dot(d, sx, yy, 0.6 * S, fill=(185, 185, 185))
    for yy in (y0, y1):
        _dot(d, sx, yy, 3 * S, fill=back)
    top, bh = y0 + hh, y1 - y0 - hh
    cf, cy, lx = bh / S * rng.uniform(0.2, 0.27), top + bh * 0.26, x0 + 7 * S
    src, dst = rng.choice(_AIRPORTS, 2, replace=False)
    _txt(d, (lx, cy), src, cf, ink, "lm", bold=True)
    ax0 = lx + d.textlength(src, font=_font(cf)) + 4 * S
    ax1 = ax0 + (sx - lx) * 0.18
    d.line([ax0, cy, ax1, cy], fill=brand, width=S)
    d.polygon([(ax1 + 2 * S, cy), (ax1 - 2 * S, cy - 2.5 * S), (ax1 - 2 * S, cy + 2.5 * S)], fill=brand)
    _txt(d, (ax1 + 5 * S, cy), dst, cf, ink, "lm", bold=True)
    gate = f"{rng.choice(list('ABCDEF'))}{rng.integers(1, 60)}"
    seat = f"{rng.integers(1, 45)}{rng.choice(list('ABCDEF'))}"
    flight = "".join(rng.choice(list("ABCDEFGHIKLMNOSUXZ"), 2)) + str(rng.integers(10, 2000))
    boards = f"{rng.integers(0, 24):02d}:{int(rng.integers(0, 12)) * 5:02d}"
    fields = [(lx, 0.55, "PASSENGER", f"{_word(rng, 4, 8).upper()}/{_word(rng, 3, 6).upper()}"),
              (sx + 5 * S, 0.2, "SEAT", seat), ((sx + x1) / 2 + 2 * S, 0.2, "GATE", gate)]
    for i, (lab, val) in enumerate((("FLIGHT", flight), ("GATE", gate), ("SEAT", seat), ("BOARDS", boards))):
        fields.append((lx + i * (sx - lx - 4 * S) / 4, 0.8, lab, val))
    lf, vf = bh / S * 0.075, bh / S * 0.11
    for x, fy, lab, val in fields:
        _txt(d, (x, top + bh * fy), lab, lf, grey, "ls")
        _txt(d, (x, top + bh * fy + vf * S * 1.15), val, vf, ink, "ls")
    _barcode(d, (sx + 5 * S, top + bh * 0.52, x1 - 5 * S, y1 - 5 * S), rng, ink)
    return _finish(img, w, h, rng, blur=(0.0, 0.6), jpeg=0.6, grain=1.5 * scan, skew=1.0 * scan)


# ----------------------------------------------------------------------------- 2 handwritten note
def _cursive(rng, x, base, xh, n, slant):
    """Points of one cursive 'word' of n letter strokes, its i-dot/t-bar marks and its end x."""
    t = np.linspace(0, 2 * math.pi * n, 20 * n + 1)
    idx = np.minimum((t / (2 * math.pi)).astype(int), n - 1)
    kind = rng.choice(3, size=n, p=[0.68, 0.2, 0.12])  # x-height letter, ascender, descender
    amp = (np.where(kind == 1, 2.3, 1.0) * rng.uniform(0.85, 1.15, n))[idx] * xh
    s = np.sin(t)
    y = np.where((kind == 2)[idx], base - xh * np.where(s > 0, s, 1.5 * s), base - amp * (0.5 - 0.5 * np.cos(t)))
    adv = xh * rng.uniform(0.9, 1.25)
    loop = (rng.uniform(0.0, 0.5, n) * (kind == 1) + rng.uniform(0.0, 0.15, n))[idx] * xh * 2
    y = y + _smooth_noise(rng, 1, len(t), 12)[0] * xh * 0.25
    xs = x + adv * t / (2 * math.pi) + loop * s + (base - y) * slant
    marks = []
    for i in range(n):
        cx = x + adv * (i + 0.5)
        if kind[i] == 0 and rng.random() < 0.12:
            marks.append(("dot", cx + xh * 1.7 * slant, base - xh * 1.8))
        elif kind[i] == 1 and rng.random() < 0.35:
            marks.append(("bar", cx + xh * 1.4 * slant, base - xh * 1.45))
    return [(float(a), float(b)) for a, b in zip(xs, y)], marks, x + adv * n


def _handwritten_note(rng) -> np.ndarray:
    w, h = _size(rng, (110, 240), (150, 320))
    legal = rng.random() < 0.35
    paper = _shade((252, 244, 168) if legal else (250, 250, 246), rng.uniform(0.97, 1.0))
    img, d = _canvas(w, h, paper)
    sp = rng.uniform(9, 14)
    rule = (120, 165, 205) if legal else _hsv(0.57, rng.uniform(0.2, 0.4), 0.9)
    ys = np.arange(sp * rng.uniform(1.5, 3.0), h - sp * 0.5, sp)
    for y in ys:
        d.line([0, y * S, w * S, y * S], fill=rule, width=max(1, int(0.5 * S)))
    mx = w * rng.uniform(0.1, 0.2)
    for k in range(2 if legal else int(rng.random() < 0.7)):  # red margin (double on legal pads)
        d.line([(mx + 1.2 * k) * S, 0, (mx + 1.2 * k) * S, h * S], fill=(225, 120, 120), width=S)
    for f in (0.15, 0.5, 0.85) if rng.random() < 0.4 else ():  # punched holes
        _dot(d, mx / 2 * S, f * h * S, 3.2 * S, fill=(205, 205, 205))
    ink = [(20, 40, 140), (25, 25, 30), (95, 95, 100), (150, 25, 30)][int(rng.choice(4, p=[0.45, 0.3, 0.18, 0.07]))]
    pw = max(1, int(rng.uniform(0.55, 1.2) * S))
    xh, slant, x_start = sp * rng.uniform(0.27, 0.38), rng.uniform(-0.1, 0.45), mx + rng.uniform(2, 5)
    for li, y in enumerate(ys[1:]):
        if rng.random() < 0.12:
            continue
        x = x_start + (rng.uniform(6, 15) if rng.random() < 0.15 else 0)
        x_end = w - rng.uniform(3, 10) if rng.random() < 0.8 else rng.uniform(x_start + 20, w - 8)
        while (n := min(int(rng.integers(1, 8)), int((x_end - x) / (xh * 1.25)))) >= 1:
            pts, marks, x_next = _cursive(rng, x * S, (y - 0.4) * S, xh * S, n, slant)
            d.line(pts, fill=ink, width=pw, joint="curve")
            for kind, mxk, myk in marks:
                if kind == "dot":
                    _dot(d, mxk, myk, pw, fill=ink)
                else:
                    d.line([mxk - xh * S * 0.6, myk, mxk + xh * S * 0.6, myk - xh * S * 0.1], fill=ink, width=pw)
            if rng.random() < 0.04:  # crossed-out word
                d.line([x * S, (y - xh * 0.6) * S, x_next, (y - xh * 0.45) * S], fill=ink, width=pw)
            if li == 0 and rng.random() < 0.3:  # underlined heading
                d.line([x * S, (y + 1.5) * S, x_next, (y + 1.2) * S], fill=ink, width=pw)
            x = x_next / S + xh * rng.uniform(1.0, 1.8)
    return _finish(img, w, h, rng, blur=(0.2, 0.9), jpeg=0.8, grain=2.5, skew=1.5, fill=paper)


# ----------------------------------------------------------------------------- 3 transit map
_LINE_COLOURS = [(228, 32, 40), (0, 114, 188), (0, 153, 68), (250, 200, 0), (150, 60, 160), (243, 146, 0),
                 (0, 166, 214), (160, 100, 50), (232, 110, 160), (120, 120, 120), (130, 190, 40)]
_DIRS = [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)]


def _transit_walk(rng, start, di, steps, cols, rows, seen):
    """Octilinear walk on the station grid that mostly keeps its heading and avoids revisits."""
    pts, (x, y) = [start], start
    for _ in range(steps):
        if rng.random() < 0.3:
            di = (di + int(rng.choice([-1, 1]))) % 8
        for cand in (di, (di + 1) % 8, (di - 1) % 8, (di + 2) % 8, (di - 2) % 8):
            nx, ny = x + _DIRS[cand][0], y + _DIRS[cand][1]
            if 0 <= nx <= cols and 0 <= ny <= rows and (nx, ny) not in seen:
                di, x, y = cand, nx, ny
                break
        else:
            break
        pts.append((x, y))
        seen.add((x, y))
    return pts


def _transit_map(rng) -> np.ndarray:
    w, h = _size(rng, (140, 320), (120, 320))
    dark = rng.random() < 0.15
    bg = (28, 32, 44) if dark else ((255, 255, 255) if rng.random() < 0.6 else (248, 246, 238))
    img, d = _canvas(w, h, bg)
    g = rng.uniform(13, 22)
    cols, rows = int((w - 2 * g) // g), int((h - 2 * g) // g)
    ox, oy = (w - cols * g) / 2, (h - rows * g) / 2
    pos = {}  # grid node -> canvas point
    if rng.random() < 0.45:  # river
        xs = np.linspace(-10, w + 10, 40)
        ry = h * rng.uniform(0.3, 0.7) + h * 0.12 * np.sin(xs / w * rng.uniform(3, 7) + rng.uniform(0, 6))
        d.line([(float(a * S), float(b * S)) for a, b in zip(xs, ry)], fill=(45, 62, 92) if dark else (205, 228, 245),
               width=int(g * rng.uniform(0.6, 1.0) * S), joint="curve")
    hub = (cols // 2 + int(rng.integers(-1, 2)), rows // 2 + int(rng.integers(-1, 2)))
    n_lines = int(rng.integers(3, 7))
    colours = [_LINE_COLOURS[i] for i in rng.permutation(len(_LINE_COLOURS))[:n_lines]]
    lines, usage = [], {}
    for _ in range(n_lines):
        start = hub if rng.random() < 0.6 else (int(rng.integers(0, cols + 1)), int(rng.integers(0, rows + 1)))
        d0, seen = int(rng.integers(8)), {start}
        a = _transit_walk(rng, start, d0, int(rng.integers(3, 9)), cols, rows, seen)
        d1 = (d0 + 4 + int(rng.choice([-1, 0, 0, 1]))) % 8
        lines.append(a[::-1] + _transit_walk(rng, start, d1, int(rng.integers(3, 9)), cols, rows, seen)[1:])
        for p in set(lines[-1]):
            usage[p] = usage.get(p, 0) + 1
            pos[p] = ((ox + p[0] * g) * S, (oy + p[1] * g) * S)
    lw = rng.uniform(2.2, 4.5) * S
    for path, col in zip(lines, colours):
        d.line([pos[p] for p in path], fill=col, width=int(lw), joint="curve")
    ticks, ink, lfs, labelled = rng.random() < 0.4, _ink_for(bg), rng.uniform(4.5, 6.5), set()
    for li, (path, col) in enumerate(zip(lines, colours)):
        for i, p in enumerate(path):
            px, py = pos[p]
            if usage[p] > 1:  # interchange
                _dot(d, px, py, lw * 0.95, fill=(255, 255, 255), outline=(20, 20, 20), width=S)
            elif i in (0, len(path) - 1) or rng.random() < 0.55:
                if ticks:  # short tick on one side of the line
                    q = np.subtract(p, path[i - 1] if i > 0 else path[i + 1])
                    q = q / math.hypot(*q) * lw * 1.2
                    d.line([px, py, px - q[1], py + q[0]], fill=col, width=int(lw * 0.6))
                else:
                    _dot(d, px, py, lw * 0.6, fill=(255, 255, 255), outline=col, width=max(1, int(lw * 0.3)))
            else:
                continue
            if p not in labelled and rng.random() < 0.45:
                labelled.add(p)
                name = _word(rng, 4, 9).capitalize() + str(rng.choice(["", "", " St", " Park", " Rd", " Cross"]))
                _txt(d, (px + lw + 2 * S, py - lw * 0.5), name, lfs, ink, "ls")
        for e, q in ((path[0], path[1]), (path[-1], path[-2])) if len(path) > 1 and rng.random() < 0.7 else ():
            (ex, ey), (qx, qy) = pos[e], pos[q]  # line bullet beyond each terminal
            nrm = math.hypot(ex - qx, ey - qy) / (g * 0.55 * S)
            bx, by = ex + (ex - qx) / nrm, ey + (ey - qy) / nrm
            _dot(d, bx, by, lw * 1.5, fill=col)
            _txt(d, (bx, by), "ABCDEFG123456"[li + 7 * (rng.random() < 0.5)], lw * 1.8 / S, _ink_for(col))
    if rng.random() < 0.5:
        _txt(d, (3 * S, 3 * S), rng.choice(["METRO", "Subway", "U-Bahn", "Rail Map", "TRANSIT"]), rng.uniform(7, 11),
             ink, "lt", bold=True)
    return _finish(img, w, h, rng, blur=(0.0, 0.4), jpeg=0.5)


# ----------------------------------------------------------------------------- 4 watercolour swatch card
_PIGMENTS = {"Ultramarine": (0.64, 0.8, 0.6), "Burnt Sienna": (0.04, 0.75, 0.6), "Sap Green": (0.24, 0.7, 0.55),
             "Quin Rose": (0.94, 0.7, 0.85), "Cad Yellow": (0.13, 0.9, 0.95), "Payne's Grey": (0.6, 0.3, 0.35),
             "Cerulean": (0.55, 0.7, 0.8), "Alizarin": (0.98, 0.85, 0.65), "Yellow Ochre": (0.1, 0.7, 0.8),
             "Viridian": (0.44, 0.8, 0.55), "Indigo": (0.66, 0.6, 0.3), "Raw Umber": (0.08, 0.6, 0.4),
             "Opera Pink": (0.9, 0.6, 0.95), "Phthalo Blue": (0.6, 0.95, 0.5), "Perylene": (0.0, 0.6, 0.35),
             "Hansa Yellow": (0.15, 0.8, 0.98), "Cobalt Teal": (0.48, 0.65, 0.8), "Dioxazine": (0.77, 0.7, 0.45)}


def _wash(rng, box, absorb) -> tuple[np.ndarray, np.ndarray]:
    """Transmittance of one watercolour wash in box: ragged edge, pooled rim, fading wash, granulation."""
    bx0, by0, bx1, by1 = box
    yy, xx = np.mgrid[by0:by1, bx0:bx1].astype(np.float32)
    if rng.random() < 0.7:  # rectangular wash, else round blob
        inside = np.minimum.reduce([xx - bx0, bx1 - 1 - xx, yy - by0, by1 - 1 - yy]) - 2 * S
    else:
        inside = min(bx1 - bx0, by1 - by0) / 2 - 2 * S - np.hypot(xx - (bx0 + bx1) / 2, yy - (by0 + by1) / 2)
    mask = np.clip((inside + _smooth_noise(rng, *inside.shape, 3 * S) * 2.5 * S) / (0.8 * S), 0, 1)
    soft = Image.fromarray((mask * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(2 * S))
    edge = np.clip(mask - np.asarray(soft, np.float32) / 255, 0, 1)
    u = (xx - bx0) / (bx1 - bx0) if rng.random() < 0.5 else (yy - by0) / (by1 - by0)
    wash = rng.uniform(0.7, 1.1) * (1 - rng.uniform(0, 0.8) * u)
    gran = 1 + 0.3 * _smooth_noise(rng, *mask.shape, 0.7 * S) + 0.15 * _smooth_noise(rng, *mask.shape, 4 * S)
    return np.exp(-(mask * (wash * gran + 1.3 * edge))[..., None] * absorb)


def _paint_swatches(rng) -> np.ndarray:
    w, h = _size(rng, (120, 320), (100, 300))
    paper = np.array(_hsv(rng.uniform(0.08, 0.14), rng.uniform(0.02, 0.1), rng.uniform(0.93, 0.99)), np.float32)
    tex = _smooth_noise(rng, h * S, w * S, 6 * S) * 0.05 + _smooth_noise(rng, h * S, w * S, S) * 0.035
    card = Image.fromarray(np.clip(paper * (1 + tex[..., None]), 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(card)
    cols, rows = max(1, min(int(rng.integers(2, 6)), w // 32)), max(1, min(int(rng.integers(2, 6)), h // 30))
    head, mx, my = 12 * (rng.random() < 0.4 and h > 120), rng.uniform(3, 8), rng.uniform(3, 8)
    cw, ch = (w - 2 * mx) / cols, (h - 2 * my - head) / rows
    pen = (90, 90, 95) if rng.random() < 0.5 else (40, 40, 45)
    if head:
        _txt(d, (mx * S, (my + 6) * S), rng.choice(["COLOUR CHART", "Swatches", "My Palette"]), 8, pen, "lm")
    cells = [(mx + c * cw, my + head + r * ch) for r in range(rows) for c in range(cols)]
    for cx, cy in cells if rng.random() < 0.5 else ():  # pre-printed boxes
        d.rectangle([(cx + 1) * S, (cy + 1) * S, (cx + cw - 1) * S, (cy + ch * 0.72) * S], outline=(170, 170, 170))
    arr = np.asarray(card, np.float32).copy()
    names = [list(_PIGMENTS)[i] for i in rng.permutation(len(_PIGMENTS))]
    for k, (cx, cy) in enumerate(cells):
        hue, sat, val = _PIGMENTS[names[k % len(names)]]
        pig = np.array(_hsv(hue + rng.uniform(-0.02, 0.02), sat * rng.uniform(0.85, 1.1), val * rng.uniform(0.9, 1.05)))
        absorb = -np.log(np.clip(pig / np.maximum(paper, 1), 0.03, 1.0)).astype(np.float32)
        bx0, by0, bx1, by1 = (int(v * S) for v in (cx + cw * 0.1, cy + ch * 0.08, cx + cw * 0.9, cy + ch * 0.66))
        if bx1 - bx0 >= 6 and by1 - by0 >= 6:
            arr[by0:by1, bx0:bx1] *= _wash(rng, (bx0, by0, bx1, by1), absorb)
    card = Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(card)
    for k, (cx, cy) in enumerate(cells):
        _txt(d, ((cx + cw / 2) * S, (cy + ch * 0.84) * S), names[k % len(names)], min(7.0, cw / 8.5), pen)
    return _finish(card, w, h, rng, blur=(0.3, 0.8), jpeg=0.75, grain=1.5, skew=1.0 * (rng.random() < 0.5),
                   fill=(235, 235, 235))


# ----------------------------------------------------------------------------- 5 scatter plot with error bars
_TAB10 = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
          (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
_AXIS_NAMES = ("Time (s)", "Dose (mg/kg)", "Temperature (K)", "Concentration (mM)", "Distance (km)", "Voltage (V)",
               "Frequency (Hz)", "Mass (g)", "Depth (m)", "Pressure (kPa)", "Yield (%)", "Rate (1/s)", "log10 N")
_SERIES_NAMES = ("Control", "Treated", "Model A", "WT", "KO", "Run 1", "Run 2", "Sample B", "Simulation", "Exp.")
_MARKERS = {"s": [(-1, -1), (1, -1), (1, 1), (-1, 1)], "^": [(0, -1.2), (1.1, 0.8), (-1.1, 0.8)],
            "D": [(0, -1.3), (1.1, 0), (0, 1.3), (-1.1, 0)], "v": [(0, 1.2), (1.1, -0.8), (-1.1, -0.8)]}


def _nice_ticks(lo, hi, n=5):
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((1, 2, 2.5, 5, 10), key=lambda m: abs(m * mag - raw)) * mag
    return np.arange(math.ceil(lo / step) * step, hi + step * 1e-6, step)


def _marker(d, x, y, r, shape, col, filled, lw):
    face = col if filled else (255, 255, 255)
    if shape == "o":
        _dot(d, x, y, r, fill=face, outline=col, width=lw)
    else:
        d.polygon([(x + a * r, y + b * r) for a, b in _MARKERS[shape]], fill=face, outline=col, width=lw)


def _scatter_errorbars(rng) -> np.ndarray:
    w, h = _size(rng, (150, 320), (110, 260))
    style = int(rng.integers(3))  # 0 boxed, 1 open spines, 2 grey panel with white grid
    img, d = _canvas(w, h, (255, 255, 255))
    fs, ink, title = rng.uniform(5.5, 7.5), (30, 30, 30), rng.random() < 0.35
    px0, px1 = (fs * 4.2 + 6) * S, (w - rng.uniform(5, 12)) * S
    py0, py1 = (rng.uniform(5, 10) + fs * 1.8 * title) * S, (h - fs * 2.8 - 4) * S
    npts, nser, scale = int(rng.integers(5, 15)), int(rng.integers(1, 4)), 10.0 ** int(rng.integers(-1, 3))
    u = np.sort(rng.uniform(0, 10, npts)) if rng.random() < 0.5 else np.linspace(0.5, 10, npts)
    series = []
    for _ in range(nser):  # linear, decaying or saturating trend with noise and per-point error
        a, b, tau, kind = rng.uniform(0.5, 5), rng.uniform(-1, 3), rng.uniform(2, 6), int(rng.integers(3))
        fy = [a + b * u, a * 10 * np.exp(-u / tau) + b, a * 8 * u / (u + 2) + b][kind]
        noise = np.abs(fy).mean() * rng.uniform(0.03, 0.15) + 0.1
        series.append((fy + rng.normal(0, noise, npts), rng.uniform(0.5, 2.0, npts) * noise, fy))
    xs, ally = u * scale, np.concatenate([np.concatenate([y - e, y + e]) for y, e, _ in series])
    xlo, xhi = xs.min() - 0.06 * np.ptp(xs), xs.max() + 0.06 * np.ptp(xs)
    ylo, yhi = ally.min() - 0.08 * np.ptp(ally), ally.max() + 0.08 * np.ptp(ally)
    fx = lambda v: px0 + (v - xlo) / (xhi - xlo) * (px1 - px0)
    fy_ = lambda v: py1 - (v - ylo) / (yhi - ylo) * (py1 - py0)
    grid = (255, 255, 255) if style == 2 else ((225, 225, 225) if rng.random() < 0.3 else None)
    if style == 2:
        d.rectangle([px0, py0, px1, py1], fill=(235, 235, 235))
    for v in _nice_ticks(xlo, xhi, int(rng.integers(4, 7))):
        d.line([fx(v), py0 if grid else py1, fx(v), py1], fill=grid or ink, width=S)
        d.line([fx(v), py1, fx(v), py1 + 2 * S], fill=ink, width=S)
        _txt(d, (fx(v), py1 + 3 * S), f"{round(v, 8):g}", fs, ink, "mt")
    for v in _nice_ticks(ylo, yhi, int(rng.integers(4, 7))):
        d.line([px0, fy_(v), px1 if grid else px0, fy_(v)], fill=grid or ink, width=S)
        d.line([px0 - 2 * S, fy_(v), px0, fy_(v)], fill=ink, width=S)
        _txt(d, (px0 - 3 * S, fy_(v)), f"{round(v, 8):g}", fs, ink, "rm")
    if style == 0:
        d.rectangle([px0, py0, px1, py1], outline=ink, width=S)
    elif style == 1:
        d.line([px0, py0, px0, py1, px1, py1], fill=ink, width=S)
    names = rng.permutation(len(_AXIS_NAMES))
    _txt(d, ((px0 + px1) / 2, h * S - 2 * S), _AXIS_NAMES[names[0]], fs, ink, "md")
    tile = _text_tile(_AXIS_NAMES[names[1]], fs, ink, 90)
    img.paste(tile, (int(1.5 * S), int((py0 + py1) / 2 - tile.height / 2)), tile)
    if title:
        _txt(d, ((px0 + px1) / 2, 2 * S), f"Fig. {rng.integers(1, 9)}  {_word(rng, 4, 9).capitalize()} {_word(rng)}",
             fs * 1.1, ink, "mt")
    cols = [_TAB10[i] for i in rng.permutation(10)[:nser]]
    cols = cols if rng.random() < 0.7 else [(0, 0, 0), (200, 0, 0), (0, 0, 200)]
    shapes = list(rng.permutation(["o", "s", "^", "D", "v"]))
    mr, lw = rng.uniform(1.3, 2.6) * S, max(1, int(rng.uniform(0.5, 1.0) * S))
    filled, fit, cap = rng.random() < 0.65, rng.random() < 0.35, rng.uniform(1, 2.5) * S
    for k, (sy, se, sf) in enumerate(series):
        if fit:
            d.line([(float(fx(a)), float(fy_(b))) for a, b in zip(xs, sf)], fill=cols[k], width=lw, joint="curve")
        for a, b, e in zip(xs, sy, se):
            X, Y0, Y1 = fx(a), fy_(b - e), fy_(b + e)
            for seg in ([X, Y0, X, Y1], [X - cap, Y0, X + cap, Y0], [X - cap, Y1, X + cap, Y1]):
                d.line(seg, fill=cols[k], width=lw)
        for a, b in zip(xs, sy):
            _marker(d, fx(a), fy_(b), mr, shapes[k], cols[k], filled, lw)
    if nser > 1 and rng.random() < 0.85:
        lx, ly = (px0 + 5 * S) if rng.random() < 0.5 else (px1 - 42 * S), py0 + 5 * S
        d.rectangle([lx - 2 * S, ly - 2 * S, lx + 40 * S, ly + nser * fs * 1.3 * S + S], fill=(255, 255, 255),
                    outline=(180, 180, 180))
        for k, j in enumerate(rng.permutation(len(_SERIES_NAMES))[:nser]):
            yk = ly + (k + 0.5) * fs * 1.3 * S
            _marker(d, lx + 3 * S, yk, mr, shapes[k], cols[k], filled, lw)
            _txt(d, (lx + 8 * S, yk), _SERIES_NAMES[j], fs, ink, "lm")
    return _finish(img, w, h, rng, blur=(0.0, 0.4), jpeg=0.45)


# ----------------------------------------------------------------------------- 6 sticker sheet
def _face(td, rng, c, r):
    yellow, brown, lw = _hsv(rng.uniform(0.11, 0.15), rng.uniform(0.7, 0.9), 1.0), (70, 45, 20), max(1, int(r * 0.08))
    _dot(td, c, c, r, fill=yellow, outline=_shade(yellow, 0.75), width=max(1, int(r * 0.05)))
    er, ey, eyes = r * 0.11, c - r * 0.2, str(rng.choice(["dot", "happy", "heart", "x", "wink", "shades"]))
    blush = rng.random() < 0.3
    for side in (-1, 1):
        ex, style = c + side * r * 0.36, "happy" if eyes == "wink" and side == 1 else eyes
        if style in ("dot", "wink"):
            td.ellipse([ex - er, ey - er * 1.4, ex + er, ey + er * 1.4], fill=brown)
        elif style == "happy":
            td.arc([ex - er * 2, ey - er, ex + er * 2, ey + er * 3], 200, 340, fill=brown, width=lw)
        elif style == "heart":
            td.polygon(_heart_pts(ex, ey, er * 2.2, 24), fill=(230, 30, 60))
        elif style == "x":
            td.line([ex - er, ey - er, ex + er, ey + er], fill=brown, width=lw)
            td.line([ex - er, ey + er, ex + er, ey - er], fill=brown, width=lw)
        else:  # sunglasses
            td.rounded_rectangle([ex - er * 3, ey - er * 1.6, ex + er * 3, ey + er * 1.8], radius=er, fill=(20, 20, 25))
            td.line([c - r * 0.1, ey - er, c + r * 0.1, ey - er], fill=(20, 20, 25), width=lw)
        if blush:
            td.ellipse([ex + side * r * 0.2 - r * 0.16, c + r * 0.05, ex + side * r * 0.2 + r * 0.16, c + r * 0.2],
                       fill=(255, 150, 140))
    mouth, box = str(rng.choice(["smile", "grin", "o", "frown"])), [c - r / 2, c - r * 0.15, c + r / 2, c + r * 0.55]
    if mouth == "smile":
        td.arc(box, 20, 160, fill=brown, width=lw)
    elif mouth == "grin":
        td.chord(box, 0, 180, fill=brown)
        td.chord([c - r * 0.25, c + r * 0.3, c + r * 0.25, c + r * 0.54], 180, 360, fill=(230, 90, 100))
    elif mouth == "o":
        td.ellipse([c - r * 0.14, c + r * 0.25, c + r * 0.14, c + r * 0.55], fill=brown)
    else:
        td.arc([c - r * 0.4, c + r * 0.3, c + r * 0.4, c + r * 0.8], 200, 340, fill=brown, width=lw)


def _sticker(rng, r, border) -> Image.Image:
    sz = int(2 * (r + border) + 4 * S)
    tile = Image.new("RGBA", (sz, sz), (0, 0, 0, 0))
    td, c, white = ImageDraw.Draw(tile), sz / 2, (255, 255, 255, 255)
    kind = rng.choice(["face"] * 6 + ["heart", "heart", "star", "star"])
    if kind == "face":
        _dot(td, c, c, r + border, fill=white)
        _face(td, rng, c, r)
    elif kind == "heart":
        pink = _hsv(rng.uniform(-0.12, 0.02), rng.uniform(0.6, 0.9), 0.95)
        _bordered_poly(td, _heart_pts(c, c, r * 0.95), pink, white, 2 * border)
    else:
        pts = _star_pts(c, c, r, r * rng.uniform(0.42, 0.55), 5, rng.uniform(-0.3, 0.3))
        _bordered_poly(td, pts, _hsv(rng.uniform(0.1, 0.15), rng.uniform(0.6, 0.9), 1.0), white, 2 * border)
        td.line(pts + pts[:1], fill=(230, 160, 20), width=max(1, int(r * 0.04)), joint="curve")
    return tile


def _sticker_sheet(rng) -> np.ndarray:
    w, h = _size(rng, (100, 320), (100, 320))
    bg = (255, 255, 255) if rng.random() < 0.3 else _hsv(rng.random(), rng.uniform(0.1, 0.35), rng.uniform(0.9, 1.0))
    img, _ = _canvas(w, h, bg)
    s = rng.uniform(22, 46)
    cols, rows = max(1, int(w // (s * 1.3))), max(1, int(h // (s * 1.3)))
    border, jitter, rot = rng.uniform(1.2, 2.6) * S, rng.uniform(0, 0.15), rng.uniform(0, 25)
    for r in range(rows):
        for c in range(cols):
            tile = _sticker(rng, s / 2 * S * rng.uniform(0.85, 1.0), border)
            tile = tile.rotate(float(rng.uniform(-rot, rot)), resample=_BICUBIC, expand=True)
            x = int((c + 0.5 + rng.uniform(-jitter, jitter)) * w / cols * S - tile.width / 2)
            y = int((r + 0.5 + rng.uniform(-jitter, jitter)) * h / rows * S - tile.height / 2)
            shadow = tile.getchannel("A").filter(ImageFilter.GaussianBlur(1.2 * S)).point(lambda a: a * 35 // 100)
            o = int(1.2 * S)
            img.paste((40, 40, 40), (x + o, y + o, x + o + tile.width, y + o + tile.height), shadow)
            img.paste(tile, (x, y), tile)
    return _finish(img, w, h, rng, blur=(0.0, 0.4), jpeg=0.55)


# ----------------------------------------------------------------------------- 7 keyboard layout
_KB_ROWS = (
    [("`", 1)] + [(k, 1) for k in "1234567890-="] + [("Bksp", 2)],
    [("Tab", 1.5)] + [(k, 1) for k in "QWERTYUIOP[]"] + [("\\", 1.5)],
    [("Caps", 1.75)] + [(k, 1) for k in "ASDFGHJKL;'"] + [("Enter", 2.25)],
    [("Shift", 2.25)] + [(k, 1) for k in "ZXCVBNM,./"] + [("Shift", 2.75)],
    [("Ctrl", 1.25), ("Win", 1.25), ("Alt", 1.25), ("", 6.25), ("Alt", 1.25), ("Fn", 1.25), ("Menu", 1.25),
     ("Ctrl", 1.25)],
)
_KB_FROW = [("Esc", 1), (None, 1)] + sum(([(None, 0.5)] * (g > 0) + [(f"F{4 * g + i}", 1) for i in range(1, 5)]
                                         for g in range(3)), [])


def _keyboard_layout(rng) -> np.ndarray:
    rows = ([_KB_FROW] if rng.random() < 0.6 else []) + list(_KB_ROWS)
    hue = rng.random()
    case, alpha, mod = [((25, 25, 28), (50, 50, 55), (38, 38, 42)), ((205, 207, 212), (245, 245, 247), (222, 223, 228)),
                        ((90, 88, 84), (228, 222, 204), (150, 148, 140)),
                        (_hsv(hue, 0.5, 0.35), _hsv(hue, 0.15, 0.95), _hsv(hue, 0.55, 0.7))][int(rng.integers(4))]
    accent = _hsv(rng.random(), 0.7, 0.85) if rng.random() < 0.5 else mod
    pad = rng.uniform(3, 8)
    if rng.random() < 0.3:  # zoomed crop of a large render
        u = rng.uniform(24, 40)
        w, h = _size(rng, (140, 300), (90, 220))
        ox = pad - rng.uniform(0, max(0.0, 15 * u + 2 * pad - w))
        oy = pad - rng.uniform(0, max(0.0, len(rows) * u + 2 * pad - h))
    else:
        w = _side(rng.integers(220, 321))
        h = _side((len(rows) + 0.25) * (w - 2 * pad) / 15 + 2 * pad)
        u = min((w - 2 * pad) / 15, (h - 2 * pad) / (len(rows) + 0.25))
        ox, oy = (w - 15 * u) / 2, pad
    img, d = _canvas(w, h, case)
    gap, rad = u * rng.uniform(0.06, 0.12), u * rng.uniform(0.06, 0.2)
    sculpt, legend_tl = rng.random() < 0.7, rng.random() < 0.4
    y = oy
    for row in rows:
        x = ox
        for label, wu in row:
            if label is not None:
                col = accent if label in ("Esc", "Enter") or (label == "" and rng.random() < 0.5) else (
                    alpha if len(label) == 1 else mod)
                top = box = [(x + gap / 2) * S, (y + gap / 2) * S, (x + wu * u - gap / 2) * S, (y + u - gap / 2) * S]
                if sculpt:  # darker skirt, lighter dished top
                    d.rounded_rectangle(box, radius=rad * S, fill=_shade(col, 0.78))
                    top = [box[0] + u * 0.1 * S, box[1] + u * 0.05 * S, box[2] - u * 0.1 * S, box[3] - u * 0.17 * S]
                d.rounded_rectangle(top, radius=rad * S, fill=col, outline=None if sculpt else _shade(col, 0.85),
                                    width=S)
                if legend_tl or len(label) > 1:
                    fs = u * (0.36 if len(label) == 1 else 0.2)
                    _txt(d, (top[0] + u * 0.12 * S, top[1] + u * 0.1 * S), label, fs, _ink_for(col), "lt")
                else:
                    _txt(d, ((top[0] + top[2]) / 2, (top[1] + top[3]) / 2), label, u * 0.36, _ink_for(col))
            x += wu * u
        y += u * (1.25 if row is _KB_FROW else 1.0)
    return _finish(img, w, h, rng, blur=(0.0, 0.5), jpeg=0.55)


# ----------------------------------------------------------------------------- 8 periodic table
_ELEMENTS = ("H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr "
             "Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb "
             "Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr "
             "Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og").split()
_CATEGORIES = ("Alkali metal", "Alkaline earth", "Transition metal", "Post-transition", "Metalloid", "Nonmetal",
               "Halogen", "Noble gas", "Lanthanide", "Actinide")
_CATEGORY_SETS = ((0, {3, 11, 19, 37, 55, 87}), (1, {4, 12, 20, 38, 56, 88}), (7, {2, 10, 18, 36, 54, 86, 118}),
                  (6, {9, 17, 35, 53, 85, 117}), (5, {1, 6, 7, 8, 15, 16, 34}), (4, {5, 14, 32, 33, 51, 52}))


def _element_cell(z: int) -> tuple[float, int]:
    """(row, column) of element z; rows 7.5 and 8.5 are the detached f-block."""
    if z <= 2:
        return 0, 0 if z == 1 else 17
    if z < 19:
        k = (z - 3) % 8
        return 1 + (z - 3) // 8, k if k < 2 else k + 10
    if z < 55:
        return 3 + (z - 19) // 18, (z - 19) % 18
    period, k = (5, z - 55) if z < 87 else (6, z - 87)
    return (period, k) if k < 2 else (period + 2.5, k + 1) if k < 17 else (period, k - 14)


def _category(z: int, col: int) -> int:
    if 57 <= z <= 71 or 89 <= z <= 103:
        return 8 if z < 89 else 9
    return next((i for i, group in _CATEGORY_SETS if z in group), 2 if 2 <= col <= 11 else 3)


def _periodic_table(rng) -> np.ndarray:
    scheme = int(rng.integers(3))  # pastel on white, vivid on light grey, dark mode
    hues = rng.permutation(np.linspace(0, 1, 10, endpoint=False)) + rng.uniform(0, 0.1)
    bg = [(255, 255, 255), (244, 244, 246), (28, 30, 36)][scheme]
    fills = [_hsv(hh, [0.3, 0.65, 0.5][scheme], [0.97, 0.85, 0.3][scheme]) for hh in hues]
    zoom, pad, title = rng.random() < 0.4, rng.uniform(2, 6), 0.0
    if zoom:
        c = rng.uniform(34, 58)
        w, h = _size(rng, (130, 320), (100, 260))
        zr, zc = _element_cell(int(rng.integers(1, 119)))
        zr = zr if zr < 7 else int(rng.integers(3, 7))
        ox, oy = w / 2 - (zc + 0.5) * c, h / 2 - (zr + 0.5) * c
    else:
        w = _side(rng.integers(200, 321))
        title = (w - 2 * pad) / 18 * 1.1 * (rng.random() < 0.5)
        h = _side((w - 2 * pad) / 18 * 9.6 + 2 * pad + title)
        c = min((w - 2 * pad) / 18, (h - 2 * pad - title) / 9.6)
        ox, oy = (w - 18 * c) / 2, pad + title
    img, d = _canvas(w, h, bg)
    gap = max(0.6, c * 0.06)
    for z in range(1, 119):
        r, col = _element_cell(z)
        x, y, cat = ox + col * c, oy + r * c, _category(z, col)
        if x > w or y > h or x + c < 0 or y + c < 0:
            continue
        box = [(x + gap / 2) * S, (y + gap / 2) * S, (x + c - gap / 2) * S, (y + c - gap / 2) * S]
        outline = _hsv(hues[cat], 0.6, 0.9) if scheme == 2 else None
        d.rounded_rectangle(box, radius=c * 0.08 * S, fill=fills[cat], outline=outline, width=S)
        ink = _hsv(hues[cat], 0.25, 1.0) if scheme == 2 else _ink_for(fills[cat])
        cx, cy = (x + c / 2) * S, (y + c / 2) * S
        if zoom:  # number, symbol, approximate standard atomic weight
            mass = 1.008 if z == 1 else z * (1.95 + 0.0075 * z) + 0.4 * math.sin(z * 1.7)
            _txt(d, (cx, cy + c * 0.02 * S), _ELEMENTS[z - 1], c * 0.36, ink, bold=True)
            _txt(d, (box[0] + c * 0.08 * S, box[1] + c * 0.06 * S), z, c * 0.18, ink, "lt")
            _txt(d, (cx, box[3] - c * 0.08 * S), f"{mass:.3f}", c * 0.14, ink, "md")
        else:
            _txt(d, (cx, cy + c * 0.08 * S), _ELEMENTS[z - 1], c * 0.42, ink)
            if c >= 16:
                _txt(d, (box[0] + c * 0.06 * S, box[1] + c * 0.04 * S), z, c * 0.22, ink, "lt")
    if title:
        _txt(d, (w / 2 * S, (pad + title * 0.45) * S), "PERIODIC TABLE OF THE ELEMENTS", title * 0.6, _ink_for(bg))
    for i, name in enumerate(_CATEGORIES if not zoom and rng.random() < 0.6 else ()):  # key above the d-block
        kx, ky = ox + (2.3 + (i // 4) * 3.4) * c, oy + (0.15 + (i % 4) * 0.6) * c
        d.rectangle([kx * S, ky * S, (kx + c * 0.4) * S, (ky + c * 0.4) * S], fill=fills[i])
        _txt(d, ((kx + c * 0.55) * S, (ky + c * 0.2) * S), name, c * 0.33, _ink_for(bg), "lm")
    return _finish(img, w, h, rng, blur=(0.0, 0.5), jpeg=0.6)


# ----------------------------------------------------------------------------- 9 word cloud
_VOCAB = tuple(dict.fromkeys((
    "design travel coffee summer music data growth vision energy health learning cloud network story friends "
    "nature city future create smile ocean garden market family light dream team community innovation strategy "
    "digital wellness adventure mindset culture books kindness balance focus planet recipe yoga sunrise mountain "
    "river freedom science history language art motion rhythm bloom harvest winter autumn spring joy hope trust "
    "python research climate customer quality leadership open sharing").split()))


def _word_cloud(rng) -> np.ndarray:
    w, h = _size(rng, (120, 320), (90, 260))
    style = int(rng.choice(3, p=[0.55, 0.25, 0.2]))  # white, dark, pastel background
    bg = [(255, 255, 255), _hsv(rng.random(), 0.3, rng.uniform(0.08, 0.18)),
          _hsv(rng.random(), rng.uniform(0.08, 0.2), 0.97)][style]
    img, _ = _canvas(w, h, bg)
    base, spread = rng.random(), rng.choice([0.08, 0.15, 0.5])
    palette = [_hsv(base + rng.uniform(-spread, spread), rng.uniform(0.45, 0.9),
                    rng.uniform(0.8, 1.0) if style == 1 else rng.uniform(0.3, 0.72)) for _ in range(5)]
    words = [str(x) for x in rng.permutation(_VOCAB)[:int(rng.integers(25, 60))]]
    upper, top, p_rot = rng.random() < 0.25, math.sqrt(w * h) * rng.uniform(0.15, 0.22), rng.choice([0.0, 0.2, 0.5])
    W, H = w * S, h * S
    k = np.arange(1, 40000)
    theta = np.sqrt(2 * k * 1.5 / 0.35) + rng.uniform(0, 2 * math.pi)  # Archimedean spiral, equal arc steps
    rad = 0.35 * S * (theta - theta[0])
    sx = W * rng.uniform(0.45, 0.55) + rad * np.cos(theta) * (W / H) ** 0.5
    sy = H * rng.uniform(0.45, 0.55) + rad * np.sin(theta) * (H / W) ** 0.5
    boxes, gap = np.zeros((0, 4)), 0.7 * S
    for i, word in enumerate(words):
        size, angle = max(5.0, top * (i + 1) ** -0.5), 90 if rng.random() < p_rot else 0
        tile = _text_tile(word.upper() if upper else word, size, palette[int(rng.integers(5))], angle)
        while max(tile.width / W, tile.height / H) > 0.9 and size > 5:  # shrink words that cannot fit
            size *= 0.85
            tile = _text_tile(word.upper() if upper else word, size, palette[int(rng.integers(5))], angle)
        tw, th = tile.size
        for lo in range(0, len(k), 4000):  # first spiral position that is inside and overlaps nothing
            x0, y0 = sx[lo:lo + 4000] - tw / 2, sy[lo:lo + 4000] - th / 2
            ok = (x0 >= 2) & (y0 >= 2) & (x0 + tw <= W - 2) & (y0 + th <= H - 2)
            ok &= ~((x0[:, None] < boxes[:, 2] + gap) & (x0[:, None] + tw > boxes[:, 0] - gap)
                    & (y0[:, None] < boxes[:, 3] + gap) & (y0[:, None] + th > boxes[:, 1] - gap)).any(axis=1)
            if ok.any():
                j = int(np.argmax(ok))
                img.paste(tile, (int(x0[j]), int(y0[j])), tile)
                boxes = np.vstack([boxes, [int(x0[j]), int(y0[j]), int(x0[j]) + tw, int(y0[j]) + th]])
                break
    return _finish(img, w, h, rng, blur=(0.0, 0.45), jpeg=0.55)


# ----------------------------------------------------------------------------- 10 comic page
def _balloon(d, cx, cy, target, lines, fs, thought):
    """Speech (ellipse + tail) or thought (cloud + bubbles) balloon with centred uppercase text."""
    black, white, lh, lw = (15, 15, 15), (255, 255, 255), fs * S * 1.2, max(1, int(0.8 * S))
    rx = max(d.textlength(t, font=_font(fs)) for t in lines) * 0.62 + 3 * S
    ry = len(lines) * lh * 0.72 + 3 * S
    if thought:
        for a in np.linspace(0, 2 * math.pi, 11, endpoint=False):
            _dot(d, cx + rx * 0.85 * math.cos(a), cy + ry * 0.8 * math.sin(a), min(rx, ry) * 0.45, fill=white,
                 outline=black, width=lw)
        for f, br in ((0.35, 2.5), (0.65, 1.6)):
            _dot(d, cx + (target[0] - cx) * f, cy + ry + (target[1] - cy - ry) * f, br * S, fill=white, outline=black,
                 width=lw)
        d.ellipse([cx - rx * 0.95, cy - ry * 0.9, cx + rx * 0.95, cy + ry * 0.9], fill=white)
    else:
        d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=white, outline=black, width=lw)
        d.polygon([(cx - rx * 0.15, cy + ry * 0.6), (cx + rx * 0.12, cy + ry * 0.6), target], fill=white, outline=black,
                  width=lw)
        d.ellipse([cx - rx + lw, cy - ry + lw, cx + rx - lw, cy + ry - lw], fill=white)
    for i, t in enumerate(lines):
        _txt(d, (cx, cy + (i - (len(lines) - 1) / 2) * lh), t, fs, black)


def _figure(d, rng, fx, gy, sc):
    """Simple cartoon figure standing on the ground line; returns the top of its head."""
    black, hr = (15, 15, 15), sc * 0.2
    shirt = _hsv(rng.random(), rng.uniform(0.5, 0.9), rng.uniform(0.5, 0.95))
    d.rounded_rectangle([fx - sc * 0.25, gy - sc * 0.7, fx + sc * 0.25, gy + sc * 0.05], radius=sc * 0.1, fill=shirt,
                        outline=black, width=S)
    hy = gy - sc * 0.7 - hr * 0.9
    _dot(d, fx, hy, hr, fill=_hsv(rng.uniform(0.05, 0.09), rng.uniform(0.25, 0.6), rng.uniform(0.55, 1.0)),
         outline=black, width=S)
    hair = _hsv(rng.uniform(0, 0.12), 0.6, rng.uniform(0.1, 0.6))
    d.chord([fx - hr, hy - hr, fx + hr, hy + hr * 0.3], 180, 360, fill=hair, outline=black, width=S)
    for side in (-1, 1):
        d.ellipse([fx + side * hr * 0.4 - S, hy - S, fx + side * hr * 0.4 + S, hy + 1.5 * S], fill=black)
    d.arc([fx - hr * 0.4, hy + hr * 0.1, fx + hr * 0.4, hy + hr * 0.6], 20, 160, fill=black, width=S)
    return hy - hr


def _comic_panel(rng, pw: int, ph: int) -> Image.Image:
    black = (15, 15, 15)
    skies = [(150, 200, 240), (250, 230, 190), (40, 50, 90), (230, 180, 200), (200, 230, 200), (255, 255, 255),
             (255, 210, 90)]
    sky = _shade(skies[int(rng.integers(len(skies)))], rng.uniform(0.9, 1.0))
    p = Image.new("RGB", (pw, ph), sky)
    d = ImageDraw.Draw(p)
    if rng.random() < 0.35:  # Ben-Day halftone dots
        step = rng.uniform(2.5, 4) * S
        for yy in np.arange(0, ph, step):
            for xx in np.arange((yy / step % 2) * step / 2, pw, step):
                _dot(d, xx, yy, step * 0.28, fill=_shade(sky, 0.82))
    gy, bx = ph * rng.uniform(0.72, 0.88), 0.0
    while rng.random() < 0.4 and bx < pw:  # buildings
        bw = rng.uniform(0.1, 0.25) * pw
        d.rectangle([bx, gy - rng.uniform(0.2, 0.5) * ph, bx + bw, gy], fill=_shade(sky, 0.7), outline=black, width=S)
        bx += bw + rng.uniform(0, 0.05) * pw
    d.rectangle([0, gy, pw, ph], fill=_hsv(rng.choice([0.08, 0.3, 0.6]), rng.uniform(0.3, 0.6), rng.uniform(0.5, 0.8)))
    d.line([0, gy, pw, gy], fill=black, width=S)
    n = int(rng.choice(3, p=[0.2, 0.45, 0.35]))
    heads = [(fx, _figure(d, rng, fx, gy, min(ph * rng.uniform(0.25, 0.36), pw * 0.3)))
             for fx in (pw * (i + 1) / (n + 1) + rng.uniform(-0.08, 0.08) * pw for i in range(n))]
    fs = rng.uniform(4.5, 6.5)
    max_lines = max(1, int((0.22 * ph - 3 * S) / (0.86 * fs * S)))
    for hx, hy in heads[:max(1, int(rng.integers(0, n + 1)))]:
        lines, line = [], ""
        for _ in range(int(rng.integers(2, 9))):
            word = _word(rng, 2, 7).upper()
            if line and d.textlength(line + " " + word, font=_font(fs)) > pw * 0.5:
                lines, line = lines + [line], word
            else:
                line = (line + " " + word).strip()
        lines = (lines + [line + str(rng.choice(["!", "?", ".", "..."]))])[-max_lines:]
        rx = max(d.textlength(t, font=_font(fs)) for t in lines) * 0.62 + 3 * S
        ry = len(lines) * fs * S * 0.86 + 3 * S
        side = rng.choice([-1, 1]) * rng.uniform(0.3, 0.8) * rx
        bx = float(np.clip(hx + side, rx + S, max(rx + S, pw - rx - S)))
        by = float(np.clip(hy - ry - rng.uniform(3, 8) * S, ry + S, max(ry + S, ph - ry - S)))
        _balloon(d, bx, by, (hx, hy), lines, fs, rng.random() < 0.2)
    if rng.random() < 0.35 or not heads:  # caption box
        text = f"{_word(rng, 3, 6).upper()} {_word(rng, 2, 6).upper()}..."
        d.rectangle([0, 0, d.textlength(text, font=_font(fs)) + 4 * S, fs * S * 1.6], fill=(255, 238, 150),
                    outline=black, width=S)
        _txt(d, (2 * S, fs * S * 0.8), text, fs, black, "lm")
    if rng.random() < 0.2:  # sound effect burst
        sx, sy, r = pw * rng.uniform(0.3, 0.7), ph * rng.uniform(0.3, 0.6), min(pw, ph) * rng.uniform(0.18, 0.3)
        pts = _star_pts(sx, sy, r * rng.uniform(0.8, 1.2, 24), r * 0.6, 12, rng.uniform(0, 1))
        _bordered_poly(d, pts, (250, 220, 30) if rng.random() < 0.5 else (240, 70, 40), black, S)
        d.text((sx, sy), str(rng.choice(["POW!", "BAM!", "ZAP!", "WHAM!", "BOOM!"])), font=_font(r / S * 0.55),
               fill=(200, 20, 20), anchor="mm", stroke_width=S, stroke_fill=(255, 255, 255))
    return p


def _comic_page(rng) -> np.ndarray:
    if rng.random() < 0.35:  # strip
        w, h = _side(rng.integers(220, 321)), _side(rng.integers(80, 131))
        layout = [int(rng.integers(2, 5))]
    else:
        w, h = _size(rng, (140, 240), (190, 320))
        layout = [int(rng.integers(1, 4)) for _ in range(int(rng.integers(2, 4)))]
    paper = (255, 255, 255) if rng.random() < 0.6 else (248, 242, 225)
    img, d = _canvas(w, h, paper)
    g, bw = rng.uniform(2.5, 5.5), max(1, int(rng.uniform(0.8, 1.8) * S))
    hs = rng.uniform(0.7, 1.3, len(layout))
    y = g
    for rh, npan in zip(hs / hs.sum() * (h - g * (len(layout) + 1)), layout):
        ws = rng.uniform(0.6, 1.4, npan)
        x = g
        for pw in ws / ws.sum() * (w - g * (npan + 1)):
            panel = _comic_panel(rng, int(pw * S), int(rh * S))
            img.paste(panel, (int(x * S), int(y * S)))
            d.rectangle([int(x * S), int(y * S), int(x * S) + panel.width - 1, int(y * S) + panel.height - 1],
                        outline=(15, 15, 15), width=bw)
            x += pw + g
        y += rh + g
    return _finish(img, w, h, rng, blur=(0.2, 0.7), jpeg=0.8, grain=1.0 * (paper != (255, 255, 255)))


# ----------------------------------------------------------------------------- public API
_KINDS = (
    ("boarding_pass", _boarding_pass),
    ("handwritten_note", _handwritten_note),
    ("transit_map", _transit_map),
    ("paint_swatches", _paint_swatches),
    ("scatter_errorbars", _scatter_errorbars),
    ("sticker_sheet", _sticker_sheet),
    ("keyboard_layout", _keyboard_layout),
    ("periodic_table", _periodic_table),
    ("word_cloud", _word_cloud),
    ("comic_page", _comic_page),
)


def fifth_not_photos(count_per_kind: int = 8) -> dict[str, list[np.ndarray]]:
    """{kind: [uint8 RGB (H, W, 3) arrays]} for ten non-photographic kinds, count_per_kind each, deterministic."""
    out: dict[str, list[np.ndarray]] = {}
    for kind_number, (name, make) in enumerate(_KINDS, start=1):
        out[name] = [make(np.random.default_rng([index, kind_number, SALT])) for index in range(count_per_kind)]
    return out
