"""Blind held-out set of NOT-photographs.

Written by a helper session that was blind to the project's photo-likeness
flag: it never saw the flag, its code, its calibration, the project's other
not-photo sets, or any result produced with them.  The kinds were chosen to
differ from the ones the brief listed as already taken.

Each kind imitates a non-photographic image that people really upload to
photo-scoring services by mistake:

* ``receipt``        - a scanned thermal till receipt on a scanner bed
* ``calendar``       - a month-view calendar / planner page with events
* ``sheet_music``    - engraved staff notation (staves, clefs, notes, beams)
* ``circuit``        - a schematic / wiring diagram (resistors, caps, ground)
* ``flowchart``      - boxes, decision diamonds, terminators and arrows
* ``puzzle_grid``    - a sudoku or crossword grid from a puzzle page
* ``fractal``        - a coloured Mandelbrot / Julia set render
* ``blueprint``      - a CAD floor-plan drawing in white on blueprint blue
* ``chess_diagram``  - a printed chess diagram with piece figurines
* ``ecg_trace``      - an ECG strip on pink grid paper or an oscilloscope screen

Only numpy, Pillow (``ImageFont.load_default`` only) and the standard library
are used.  Every image is generated from fixed seeds
(``np.random.default_rng([index, kind_number, _SALT])``), so each call returns
the same pixels; no global random state, files or network are touched.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

_SALT = 730_221_947


# ----------------------------------------------------------------- helpers
def _font(size: int | None = None):
    if size is None:
        return ImageFont.load_default()
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # old Pillow without sized default font
        return ImageFont.load_default()


def _rng(kind_no: int, index: int) -> np.random.Generator:
    return np.random.default_rng([index, kind_no, _SALT])


def _ri(rng: np.random.Generator, lo: int, hi: int) -> int:
    """Integer in [lo, hi] inclusive."""
    return int(rng.integers(lo, hi + 1))


def _tw(draw: ImageDraw.ImageDraw, text: str, font) -> int:
    b = draw.textbbox((0, 0), text, font=font)
    return b[2] - b[0]


def _finish(img: Image.Image, rng: np.random.Generator,
            jpeg_p: float = 0.5, blur_p: float = 0.3) -> np.ndarray:
    img = img.convert("RGB")
    if rng.random() < blur_p:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 0.8))))
    if rng.random() < jpeg_p:
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=_ri(rng, 45, 90))
        buf.seek(0)
        img = Image.open(buf).convert("RGB")
    arr = np.asarray(img, dtype=np.uint8).copy()
    h, w = arr.shape[:2]
    assert 64 <= h <= 320 and 64 <= w <= 320, (h, w)
    return arr


def _arrow(draw, p0, p1, fill, width=1, head=5):
    draw.line([p0, p1], fill=fill, width=width)
    ang = math.atan2(p1[1] - p0[1], p1[0] - p0[0])
    a1, a2 = ang + math.pi * 0.85, ang - math.pi * 0.85
    draw.polygon([p1,
                  (p1[0] + head * math.cos(a1), p1[1] + head * math.sin(a1)),
                  (p1[0] + head * math.cos(a2), p1[1] + head * math.sin(a2))],
                 fill=fill)


# ----------------------------------------------------------------- receipt
_SHOPS = ["FRESHWAY MARKET", "CORNER DELI", "QUICKSTOP #214", "BAKER & SONS",
          "MEGA HARDWARE", "CITY PHARMACY", "GREEN GROCER", "CAFE ROMA"]
_ITEMS = ["MILK 2L", "BREAD WHT", "EGGS 12", "BANANAS", "COFFEE", "APPLES KG",
          "CHEESE", "PASTA", "TOMATOES", "BATTERIES", "SOAP", "WATER 6PK",
          "CHOC BAR", "YOGURT", "RICE 1KG", "TEA BAGS", "NAILS 50", "GLUE"]


def _receipt(rng):
    pw, ph = _ri(rng, 118, 170), _ri(rng, 230, 300)
    bed = tuple(int(v) for v in rng.integers(15, 70, 3))
    paper = Image.new("RGB", (pw, ph), tuple(int(v) for v in
                                             (rng.integers(236, 252),) * 2 +
                                             (rng.integers(226, 245),)))
    d = ImageDraw.Draw(paper)
    f = _font()
    ink = (int(rng.integers(20, 70)),) * 3
    y = 6
    shop = _SHOPS[_ri(rng, 0, len(_SHOPS) - 1)]
    d.text(((pw - _tw(d, shop, f)) // 2, y), shop, fill=ink, font=f)
    y += 12
    addr = f"{_ri(rng, 1, 999)} MAIN ST"
    d.text(((pw - _tw(d, addr, f)) // 2, y), addr, fill=ink, font=f)
    y += 12
    date = f"{_ri(rng, 1, 28):02d}/{_ri(rng, 1, 12):02d}/2{_ri(rng, 10, 24):03d} {_ri(rng, 7, 21):02d}:{_ri(rng, 0, 59):02d}"
    d.text((4, y), date, fill=ink, font=f)
    y += 13
    d.text((4, y), "-" * 40, fill=ink, font=f)
    y += 11
    total = 0.0
    n = _ri(rng, 5, 12)
    for _ in range(n):
        if y > ph - 60:
            break
        name = _ITEMS[_ri(rng, 0, len(_ITEMS) - 1)]
        price = float(rng.integers(49, 1999)) / 100
        total += price
        d.text((4, y), name, fill=ink, font=f)
        s = f"{price:.2f}"
        d.text((pw - 4 - _tw(d, s, f), y), s, fill=ink, font=f)
        y += 11
    d.text((4, y), "-" * 40, fill=ink, font=f)
    y += 11
    for lab, val in (("SUBTOTAL", total), ("TAX", total * 0.08),
                     ("TOTAL", total * 1.08)):
        d.text((4, y), lab, fill=ink, font=f)
        s = f"{val:.2f}"
        d.text((pw - 4 - _tw(d, s, f), y), s, fill=ink, font=f)
        y += 11
    y += 4
    if y < ph - 14:
        t = "THANK YOU!"
        d.text(((pw - _tw(d, t, f)) // 2, y), t, fill=ink, font=f)
    # thermal fading: uneven ink density and paper grain
    a = np.asarray(paper).astype(np.float32)
    fade = np.linspace(rng.uniform(0.0, 0.4), rng.uniform(0.0, 0.4), ph)[:, None, None]
    a = a + (255 - a) * fade * (a.mean(axis=2, keepdims=True) < 150)
    a += rng.normal(0, 3, a.shape[:2])[..., None]
    paper = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    paper = paper.rotate(float(rng.uniform(-4, 4)), resample=Image.BICUBIC,
                         expand=True, fillcolor=bed)
    W = min(320, paper.width + _ri(rng, 16, 70))
    H = min(320, paper.height + _ri(rng, 4, 24))
    img = Image.new("RGB", (W, H), bed)
    img.paste(paper, ((W - paper.width) // 2 + _ri(rng, -6, 6),
                      (H - paper.height) // 2 + _ri(rng, -3, 3)))
    return _finish(img, rng, jpeg_p=0.8, blur_p=0.5)


# ----------------------------------------------------------------- calendar
_MONTHS = ["January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December"]
_EVENTS = ["Dentist", "Gym", "Meeting", "Birthday", "Trip", "Pay rent",
           "Lunch", "Call mom", "Review", "Yoga", "Deadline", "Party"]


def _calendar(rng):
    W, H = _ri(rng, 230, 320), _ri(rng, 180, 260)
    bg = (255, 255, 255) if rng.random() < 0.7 else (248, 246, 238)
    accent = [(52, 110, 200), (200, 60, 60), (40, 140, 90), (120, 70, 170),
              (230, 130, 30)][_ri(rng, 0, 4)]
    img = Image.new("RGB", (W, H), bg)
    d = ImageDraw.Draw(img)
    f, fb = _font(), _font(14)
    hdr = 24
    d.rectangle([0, 0, W, hdr], fill=accent)
    title = f"{_MONTHS[_ri(rng, 0, 11)]} 20{_ri(rng, 18, 27)}"
    d.text((8, 4), title, fill=(255, 255, 255), font=fb)
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    if rng.random() < 0.5:
        days = days[-1:] + days[:-1]
    cw = (W - 4) / 7
    top = hdr + 14
    for i, dn in enumerate(days):
        d.text((2 + i * cw + 3, hdr + 2), dn, fill=(90, 90, 90), font=f)
    rows = _ri(rng, 5, 6)
    rh = (H - top - 2) / rows
    start = _ri(rng, 0, 6)
    ndays = _ri(rng, 28, 31)
    grid = (200, 200, 200)
    for r in range(rows + 1):
        d.line([(2, top + r * rh), (W - 2, top + r * rh)], fill=grid)
    for c in range(8):
        d.line([(2 + c * cw, top), (2 + c * cw, H - 2)], fill=grid)
    today = _ri(rng, 1, ndays)
    for k in range(rows * 7):
        r, c = divmod(k, 7)
        day = k - start + 1
        x0, y0 = 2 + c * cw, top + r * rh
        if day < 1 or day > ndays:
            d.rectangle([x0 + 1, y0 + 1, x0 + cw - 1, y0 + rh - 1], fill=(240, 240, 240))
            continue
        col = (40, 40, 40) if c < 5 else (170, 60, 60)
        if day == today:
            d.ellipse([x0 + 1, y0 + 1, x0 + 16, y0 + 14], fill=accent)
            col = (255, 255, 255)
        d.text((x0 + 3, y0 + 2), str(day), fill=col, font=f)
        if rng.random() < 0.3 and rh > 26:
            ec = [(255, 205, 120), (150, 200, 255), (170, 230, 170),
                  (240, 170, 200)][_ri(rng, 0, 3)]
            d.rectangle([x0 + 2, y0 + 15, x0 + cw - 2, y0 + 25], fill=ec)
            d.text((x0 + 3, y0 + 15), _EVENTS[_ri(rng, 0, 11)][:int(cw // 6)],
                   fill=(30, 30, 30), font=f)
    return _finish(img, rng, jpeg_p=0.4, blur_p=0.2)


# ----------------------------------------------------------------- sheet music
def _sheet_music(rng):
    W, H = _ri(rng, 220, 320), _ri(rng, 200, 320)
    paper = (255, 255, 255) if rng.random() < 0.6 else (250, 246, 232)
    img = Image.new("RGB", (W, H), paper)
    d = ImageDraw.Draw(img)
    ink = (20, 20, 20)
    gap = _ri(rng, 5, 7)
    y = 8
    if rng.random() < 0.6:
        t = ["Minuet in G", "Etude No. 3", "Lullaby", "Sonatina", "Air",
             "Waltz"][_ri(rng, 0, 5)]
        fb = _font(14)
        d.text(((W - _tw(d, t, fb)) // 2, y), t, fill=ink, font=fb)
        y += 24
    margin = 8
    while y + 4 * gap + 14 < H:
        y += 10
        for k in range(5):
            d.line([(margin, y + k * gap), (W - margin, y + k * gap)], fill=ink)
        d.line([(margin, y), (margin, y + 4 * gap)], fill=ink)
        d.line([(W - margin, y), (W - margin, y + 4 * gap)], fill=ink, width=2)
        # treble-clef-ish glyph
        cx = margin + 8
        d.arc([cx - 4, y + gap, cx + 4, y + 4 * gap + 2], 0, 360, fill=ink, width=2)
        d.line([(cx + 1, y - 4), (cx - 1, y + 4 * gap + 6)], fill=ink, width=2)
        d.ellipse([cx - 4, y + 4 * gap + 4, cx, y + 4 * gap + 8], fill=ink)
        x = margin + 26
        nbars = _ri(rng, 2, 4)
        barw = (W - margin - x) / nbars
        for b in range(nbars):
            bx0 = x + b * barw
            nn = _ri(rng, 2, 6)
            step = barw / (nn + 0.5)
            prev = None
            beam = rng.random() < 0.4
            for n in range(nn):
                nx = bx0 + step * (n + 0.6)
                pos = _ri(rng, -2, 10)  # half-gap steps from top line
                ny = y + pos * gap / 2
                filled = rng.random() < 0.75
                hw = gap * 0.65
                box = [nx - hw, ny - gap / 2 + 0.5, nx + hw, ny + gap / 2 - 0.5]
                if filled:
                    d.ellipse(box, fill=ink)
                else:
                    d.ellipse(box, outline=ink, width=1)
                # ledger lines
                if pos <= -2:
                    d.line([(nx - hw - 2, y - gap), (nx + hw + 2, y - gap)], fill=ink)
                if pos >= 10:
                    d.line([(nx - hw - 2, y + 5 * gap), (nx + hw + 2, y + 5 * gap)], fill=ink)
                up = pos >= 4
                sx = nx + hw - 0.5 if up else nx - hw + 0.5
                sy1 = ny - 3.3 * gap if up else ny + 3.3 * gap
                d.line([(sx, ny), (sx, sy1)], fill=ink)
                if beam and prev is not None and prev[2] == up:
                    d.line([(prev[0], prev[1]), (sx, sy1)], fill=ink, width=3)
                prev = (sx, sy1, up)
            if b < nbars - 1:
                bxl = bx0 + barw
                d.line([(bxl, y), (bxl, y + 4 * gap)], fill=ink)
        y += 4 * gap + _ri(rng, 18, 30)
    img = img.filter(ImageFilter.GaussianBlur(0.35))
    return _finish(img, rng, jpeg_p=0.5, blur_p=0.2)


# ----------------------------------------------------------------- circuit
def _resistor(d, p0, p1, ink, horiz):
    (x0, y0), (x1, y1) = p0, p1
    if horiz:
        mid = (x0 + x1) / 2
        d.line([(x0, y0), (mid - 12, y0)], fill=ink)
        d.line([(mid + 12, y0), (x1, y0)], fill=ink)
        pts = [(mid - 12 + 3 * k, y0 + (0 if k in (0, 8) else (-4 if k % 2 else 4)))
               for k in range(9)]
        d.line(pts, fill=ink)
    else:
        mid = (y0 + y1) / 2
        d.line([(x0, y0), (x0, mid - 12)], fill=ink)
        d.line([(x0, mid + 12), (x0, y1)], fill=ink)
        pts = [(x0 + (0 if k in (0, 8) else (-4 if k % 2 else 4)), mid - 12 + 3 * k)
               for k in range(9)]
        d.line(pts, fill=ink)


def _capacitor(d, p0, p1, ink, horiz):
    (x0, y0), (x1, y1) = p0, p1
    if horiz:
        mid = (x0 + x1) / 2
        d.line([(x0, y0), (mid - 3, y0)], fill=ink)
        d.line([(mid + 3, y0), (x1, y0)], fill=ink)
        d.line([(mid - 3, y0 - 8), (mid - 3, y0 + 8)], fill=ink, width=2)
        d.line([(mid + 3, y0 - 8), (mid + 3, y0 + 8)], fill=ink, width=2)
    else:
        mid = (y0 + y1) / 2
        d.line([(x0, y0), (x0, mid - 3)], fill=ink)
        d.line([(x0, mid + 3), (x0, y1)], fill=ink)
        d.line([(x0 - 8, mid - 3), (x0 + 8, mid - 3)], fill=ink, width=2)
        d.line([(x0 - 8, mid + 3), (x0 + 8, mid + 3)], fill=ink, width=2)


def _circuit(rng):
    W, H = _ri(rng, 220, 320), _ri(rng, 160, 260)
    style = _ri(rng, 0, 2)
    if style == 0:
        bg, ink, lab = (255, 255, 255), (10, 10, 10), (0, 0, 160)
    elif style == 1:
        bg, ink, lab = (255, 255, 240), (0, 90, 0), (150, 0, 0)
    else:
        bg, ink, lab = (245, 245, 245), (30, 30, 120), (30, 30, 30)
    img = Image.new("RGB", (W, H), bg)
    d = ImageDraw.Draw(img)
    f = _font()
    if rng.random() < 0.4:
        for gx in range(0, W, 10):
            d.line([(gx, 0), (gx, H)], fill=(225, 232, 240))
        for gy in range(0, H, 10):
            d.line([(0, gy), (W, gy)], fill=(225, 232, 240))
    nx, ny = _ri(rng, 3, 5), _ri(rng, 2, 4)
    xs = np.linspace(24, W - 24, nx).astype(int)
    ys = np.linspace(24, H - 30, ny).astype(int)
    counters = {"R": 1, "C": 1}
    deg = np.zeros((nx, ny), dtype=int)
    # horizontal edges
    for j, yy in enumerate(ys):
        for i in range(nx - 1):
            if rng.random() < 0.75:
                deg[i, j] += 1
                deg[i + 1, j] += 1
                p0, p1 = (int(xs[i]), int(yy)), (int(xs[i + 1]), int(yy))
                r = rng.random()
                if r < 0.4:
                    _resistor(d, p0, p1, ink, True)
                    name = f"R{counters['R']}"; counters["R"] += 1
                elif r < 0.6:
                    _capacitor(d, p0, p1, ink, True)
                    name = f"C{counters['C']}"; counters["C"] += 1
                else:
                    d.line([p0, p1], fill=ink); name = None
                if name:
                    mx = (p0[0] + p1[0]) // 2
                    d.text((mx - 6, yy - 18), name, fill=lab, font=f)
                    d.text((mx - 8, yy + 7), f"{_ri(rng, 1, 99)}{['k', 'n', 'u', ''][_ri(rng, 0, 3)]}",
                           fill=lab, font=f)
    # vertical edges
    for i, xx in enumerate(xs):
        for j in range(ny - 1):
            if rng.random() < 0.55:
                deg[i, j] += 1
                deg[i, j + 1] += 1
                p0, p1 = (int(xx), int(ys[j])), (int(xx), int(ys[j + 1]))
                r = rng.random()
                if r < 0.4:
                    _resistor(d, p0, p1, ink, False)
                    d.text((xx + 7, (p0[1] + p1[1]) // 2 - 5), f"R{counters['R']}", fill=lab, font=f)
                    counters["R"] += 1
                elif r < 0.6:
                    _capacitor(d, p0, p1, ink, False)
                    d.text((xx + 10, (p0[1] + p1[1]) // 2 - 5), f"C{counters['C']}", fill=lab, font=f)
                    counters["C"] += 1
                else:
                    d.line([p0, p1], fill=ink)
    # junction dots
    for i, xx in enumerate(xs):
        for j, yy in enumerate(ys):
            if deg[i, j] >= 3 or (deg[i, j] == 1 and rng.random() < 0.5):
                d.ellipse([xx - 2, yy - 2, xx + 2, yy + 2], fill=ink)
    # ground symbols at bottom row
    for i, xx in enumerate(xs):
        if deg[i, ny - 1] > 0 and rng.random() < 0.5:
            yb = int(ys[-1])
            d.line([(xx, yb), (xx, yb + 10)], fill=ink)
            for k, half in enumerate((8, 5, 2)):
                d.line([(xx - half, yb + 10 + 3 * k), (xx + half, yb + 10 + 3 * k)], fill=ink)
    # supply label
    d.text((4, 4), f"+{_ri(rng, 3, 24)}V", fill=lab, font=f)
    return _finish(img, rng, jpeg_p=0.5, blur_p=0.2)


# ----------------------------------------------------------------- flowchart
_STEPS = ["Read input", "Validate", "Save record", "Send email", "Log error",
          "Retry", "Compute total", "Update cache", "Load config", "Notify user",
          "Parse file", "Check stock"]
_QUESTIONS = ["Valid?", "Empty?", "x > 0?", "Found?", "Done?", "OK?"]


def _flowchart(rng):
    W, H = _ri(rng, 200, 300), _ri(rng, 240, 320)
    bg = (255, 255, 255) if rng.random() < 0.7 else (244, 247, 252)
    img = Image.new("RGB", (W, H), bg)
    d = ImageDraw.Draw(img)
    f = _font()
    ink = (40, 40, 40)
    fills = [[(200, 225, 255), (255, 235, 180), (200, 240, 200)],
             [(255, 255, 255)] * 3,
             [(230, 210, 250), (255, 210, 210), (210, 245, 245)]][_ri(rng, 0, 2)]
    cx = W // 2 - _ri(rng, 0, W // 6)
    nodes = _ri(rng, 4, 6)
    ys = np.linspace(18, H - 18, nodes).astype(int)
    bw, bh = _ri(rng, 70, 96), 22
    prev_bottom = None
    prev_y, prev_hw = int(ys[0]), 30
    for k, y in enumerate(ys):
        y = int(y)
        if k == 0 or k == nodes - 1:
            label = "Start" if k == 0 else "End"
            box = [cx - 30, y - 10, cx + 30, y + 10]
            d.rounded_rectangle(box, radius=10, fill=fills[2], outline=ink)
            top, bot = y - 10, y + 10
        elif rng.random() < 0.4:
            label = _QUESTIONS[_ri(rng, 0, 5)]
            hw, hh = bw // 2 + 6, 16
            d.polygon([(cx, y - hh), (cx + hw, y), (cx, y + hh), (cx - hw, y)],
                      fill=fills[1], outline=ink)
            top, bot = y - hh, y + hh
            # "No" branch to the side
            sx = cx + hw
            ex = min(W - 8, sx + _ri(rng, 25, 45))
            d.line([(sx, y), (ex, y)], fill=ink)
            d.text((sx + 3, y - 12), "No", fill=ink, font=f)
            by = prev_y
            d.line([(ex, y), (ex, by)], fill=ink)
            _arrow(d, (ex, by), (cx + prev_hw + 1, by), ink)
            d.text((cx + 4, bot + 1), "Yes", fill=ink, font=f)
        else:
            label = _STEPS[_ri(rng, 0, len(_STEPS) - 1)]
            box = [cx - bw // 2, y - bh // 2, cx + bw // 2, y + bh // 2]
            d.rectangle(box, fill=fills[0], outline=ink)
            top, bot = y - bh // 2, y + bh // 2
        tw = _tw(d, label, f)
        d.text((cx - tw // 2, y - 6), label, fill=(0, 0, 0), font=f)
        if prev_bottom is not None:
            _arrow(d, (cx, prev_bottom), (cx, top - 1), ink)
        prev_bottom = bot
        prev_y = y
        prev_hw = 30 if k == 0 else (bw // 2 + 6 if bot - top > bh else bw // 2)
    return _finish(img, rng, jpeg_p=0.4, blur_p=0.2)


# ----------------------------------------------------------------- puzzle grid
def _puzzle_grid(rng):
    img_w = _ri(rng, 180, 300)
    page = (255, 255, 255) if rng.random() < 0.5 else (242, 238, 226)
    ink = (15, 15, 15)
    pad = _ri(rng, 8, 20)
    if rng.random() < 0.5:  # sudoku
        size = img_w - 2 * pad
        cell = size // 9
        size = cell * 9
        W = H = size + 2 * pad
        img = Image.new("RGB", (W, H + _ri(rng, 0, 20)), page)
        d = ImageDraw.Draw(img)
        f = _font(max(9, int(cell * 0.7)))
        for k in range(10):
            wd = 3 if k % 3 == 0 else 1
            d.line([(pad + k * cell, pad), (pad + k * cell, pad + size)], fill=ink, width=wd)
            d.line([(pad, pad + k * cell), (pad + size, pad + k * cell)], fill=ink, width=wd)
        for r in range(9):
            for c in range(9):
                if rng.random() < 0.35:
                    v = str((r * 3 + r // 3 + c) % 9 + 1)
                    tw = _tw(d, v, f)
                    col = ink if rng.random() < 0.85 else (30, 60, 180)
                    d.text((pad + c * cell + (cell - tw) / 2, pad + r * cell + cell * 0.1),
                           v, fill=col, font=f)
    else:  # crossword
        n = _ri(rng, 11, 15)
        cell = max(10, (img_w - 2 * pad) // n)
        size = cell * n
        W = H = size + 2 * pad
        img = Image.new("RGB", (W, H), page)
        d = ImageDraw.Draw(img)
        fs = _font(max(6, cell // 3))
        black = rng.random((n, n)) < 0.09
        black = black | black[::-1, ::-1]  # rotational symmetry
        num = 1
        for r in range(n):
            for c in range(n):
                x0, y0 = pad + c * cell, pad + r * cell
                if black[r, c]:
                    d.rectangle([x0, y0, x0 + cell, y0 + cell], fill=ink)
                    continue
                starts = ((c == 0 or black[r, c - 1]) and c + 1 < n and not black[r, c + 1]) or \
                         ((r == 0 or black[r - 1, c]) and r + 1 < n and not black[r + 1, c])
                if starts:
                    d.text((x0 + 1, y0), str(num), fill=ink, font=fs)
                    num += 1
        for k in range(n + 1):
            d.line([(pad + k * cell, pad), (pad + k * cell, pad + size)], fill=ink)
            d.line([(pad, pad + k * cell), (pad + size, pad + k * cell)], fill=ink)
        d.rectangle([pad, pad, pad + size, pad + size], outline=ink, width=2)
    if img.width > 320 or img.height > 320:
        img = img.resize((min(320, img.width), min(320, img.height)))
    return _finish(img, rng, jpeg_p=0.6, blur_p=0.4)


# ----------------------------------------------------------------- fractal
def _fractal(rng):
    W, H = _ri(rng, 160, 320), _ri(rng, 120, 280)
    julia = rng.random() < 0.4
    if julia:
        cxy = (0.0, 0.0)
        span = rng.uniform(2.4, 3.4)
        c = complex(*[(-0.8, 0.156), (-0.4, 0.6), (0.285, 0.01), (-0.70176, -0.3842),
                      (-0.835, -0.2321)][_ri(rng, 0, 4)])
    else:
        spots = [(-0.75, 0.0, 3.0), (-0.7436, 0.1318, 0.02), (-0.1011, 0.9563, 0.05),
                 (-1.25, 0.02, 0.2), (0.275, 0.0065, 0.03), (-0.16, 1.0405, 0.03)]
        sx, sy, sp = spots[_ri(rng, 0, len(spots) - 1)]
        cxy, span = (sx, sy), sp * rng.uniform(0.8, 1.3)
    xs = np.linspace(cxy[0] - span / 2, cxy[0] + span / 2, W)
    ys = np.linspace(cxy[1] - span * H / W / 2, cxy[1] + span * H / W / 2, H)
    grid = xs[None, :] + 1j * ys[:, None]
    maxit = 90
    if julia:
        z = grid.copy()
        cc = np.full_like(grid, c)
    else:
        z = np.zeros_like(grid)
        cc = grid
    it = np.full(grid.shape, maxit, dtype=np.float64)
    alive = np.ones(grid.shape, dtype=bool)
    for k in range(maxit):
        z[alive] = z[alive] ** 2 + cc[alive]
        esc = alive & (np.abs(z) > 4.0)
        it[esc] = k + 1 - np.log2(np.log(np.abs(z[esc])) + 1e-9)
        alive &= ~esc
        z[~alive] = 0
    t = np.where(alive, 0.0, it / maxit)
    t = np.clip(t, 0, 1) ** rng.uniform(0.35, 0.7)
    ph = rng.uniform(0, 2 * np.pi, 3)
    fr = rng.uniform(3, 9)
    rgb = 0.5 + 0.5 * np.cos(2 * np.pi * fr * t[..., None] + ph[None, None, :])
    rgb = rgb * np.minimum(1.0, t[..., None] * 6)
    inside = tuple(rng.uniform(0, 0.15, 3))
    rgb[alive] = inside
    arr = (np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    return _finish(Image.fromarray(arr), rng, jpeg_p=0.5, blur_p=0.0)


# ----------------------------------------------------------------- blueprint
def _blueprint(rng):
    W, H = _ri(rng, 240, 320), _ri(rng, 180, 280)
    blue = rng.random() < 0.7
    bg = tuple(int(v) for v in ((20, 60, 140) + rng.integers(-12, 13, 3))) if blue \
        else (250, 250, 250)
    ink = (235, 242, 255) if blue else (20, 20, 20)
    gridc = tuple(int(v) for v in (np.array(bg) * 0.8 + np.array(ink) * 0.2)) if blue else (220, 226, 236)
    img = Image.new("RGB", (W, H), bg)
    d = ImageDraw.Draw(img)
    f = _font()
    for gx in range(0, W, 12):
        d.line([(gx, 0), (gx, H)], fill=gridc)
    for gy in range(0, H, 12):
        d.line([(0, gy), (W, gy)], fill=gridc)
    # title block
    tb_w, tb_h = _ri(rng, 70, 100), 26
    d.rectangle([W - tb_w - 4, H - tb_h - 4, W - 4, H - 4], outline=ink, width=1)
    d.line([(W - tb_w - 4, H - tb_h // 2 - 4), (W - 4, H - tb_h // 2 - 4)], fill=ink)
    d.text((W - tb_w, H - tb_h - 2), f"PLAN A-{_ri(rng, 100, 999)}", fill=ink, font=f)
    d.text((W - tb_w, H - tb_h // 2 - 2), f"SCALE 1:{[50, 100, 200][_ri(rng, 0, 2)]}", fill=ink, font=f)
    # outer walls
    x0, y0 = _ri(rng, 18, 30), _ri(rng, 22, 34)
    x1, y1 = W - _ri(rng, 16, 30), H - tb_h - _ri(rng, 14, 24)
    d.rectangle([x0, y0, x1, y1], outline=ink, width=3)
    # interior walls
    sx = _ri(rng, x0 + (x1 - x0) // 3, x0 + 2 * (x1 - x0) // 3)
    sy = _ri(rng, y0 + (y1 - y0) // 3, y0 + 2 * (y1 - y0) // 3)
    d.line([(sx, y0), (sx, y1)], fill=ink, width=2)
    d.line([(x0, sy), (sx, sy)], fill=ink, width=2)
    if rng.random() < 0.6:
        sy2 = _ri(rng, y0 + 20, y1 - 20)
        d.line([(sx, sy2), (x1, sy2)], fill=ink, width=2)
    # doors: gap + quarter arc
    for (dx, dy, horiz) in [(sx, (y0 + sy) // 2, False), ((x0 + sx) // 2, sy, True),
                            (sx, (sy + y1) // 2, False)]:
        dw = 14
        if horiz:
            d.line([(dx, dy), (dx + dw, dy)], fill=bg, width=3)
            d.line([(dx, dy), (dx, dy - dw)], fill=ink)
            d.arc([dx - dw, dy - dw, dx + dw, dy + dw], 270, 360, fill=ink)
        else:
            d.line([(dx, dy), (dx, dy + dw)], fill=bg, width=3)
            d.line([(dx, dy), (dx + dw, dy)], fill=ink)
            d.arc([dx - dw, dy - dw, dx + dw, dy + dw], 0, 90, fill=ink)
    # windows on outer wall
    for _ in range(_ri(rng, 2, 4)):
        wx = _ri(rng, x0 + 10, x1 - 30)
        d.rectangle([wx, y0 - 2, wx + 20, y0 + 2], fill=bg, outline=ink)
        d.line([(wx, y0), (wx + 20, y0)], fill=ink)
    # dimension lines
    dy = y0 - 12
    d.line([(x0, dy), (x1, dy)], fill=ink)
    for xx in (x0, x1):
        d.line([(xx, dy - 4), (xx, dy + 4)], fill=ink)
        d.line([(xx, dy + 4), (xx, y0 - 3)], fill=ink)
    s = f"{(x1 - x0) * 5 / 100:.2f} m"
    tw = _tw(d, s, f)
    d.rectangle([(x0 + x1 - tw) // 2 - 2, dy - 6, (x0 + x1 + tw) // 2 + 2, dy + 5], fill=bg)
    d.text(((x0 + x1 - tw) // 2, dy - 6), s, fill=ink, font=f)
    dx_ = x0 - 10
    d.line([(dx_, y0), (dx_, y1)], fill=ink)
    for yy in (y0, y1):
        d.line([(dx_ - 4, yy), (dx_ + 4, yy)], fill=ink)
    # room labels
    for lab, (lx, ly) in zip(["KITCHEN", "BED 1", "LIVING", "BATH"],
                             [((x0 + sx) // 2, (y0 + sy) // 2), ((x0 + sx) // 2, (sy + y1) // 2),
                              ((sx + x1) // 2, (y0 + y1) // 2 - 10), ((sx + x1) // 2, y1 - 16)]):
        if rng.random() < 0.85:
            d.text((lx - _tw(d, lab, f) // 2, ly - 5), lab, fill=ink, font=f)
    return _finish(img, rng, jpeg_p=0.5, blur_p=0.2)


# ----------------------------------------------------------------- chess diagram
def _piece(d, kind, cx, cy, s, white, ink):
    fill = (255, 255, 255) if white else (20, 20, 20)
    line = ink if white else (20, 20, 20)
    detail = ink if white else (230, 230, 230)
    base = [cx - s * 0.38, cy + s * 0.28, cx + s * 0.38, cy + s * 0.40]
    d.rectangle(base, fill=fill, outline=line)
    if kind == "p":
        d.polygon([(cx - s * 0.22, cy + s * 0.28), (cx + s * 0.22, cy + s * 0.28),
                   (cx + s * 0.08, cy - s * 0.05), (cx - s * 0.08, cy - s * 0.05)], fill=fill, outline=line)
        d.ellipse([cx - s * 0.15, cy - s * 0.30, cx + s * 0.15, cy - s * 0.02], fill=fill, outline=line)
    elif kind == "r":
        d.rectangle([cx - s * 0.24, cy - s * 0.20, cx + s * 0.24, cy + s * 0.28], fill=fill, outline=line)
        for k in (-1, 0, 1):
            d.rectangle([cx + k * s * 0.18 - s * 0.07, cy - s * 0.34, cx + k * s * 0.18 + s * 0.07,
                         cy - s * 0.20], fill=fill, outline=line)
    elif kind == "b":
        d.polygon([(cx - s * 0.22, cy + s * 0.28), (cx + s * 0.22, cy + s * 0.28),
                   (cx, cy - s * 0.30)], fill=fill, outline=line)
        d.ellipse([cx - s * 0.05, cy - s * 0.40, cx + s * 0.05, cy - s * 0.30], fill=fill, outline=line)
        d.line([(cx - s * 0.06, cy - s * 0.05), (cx + s * 0.08, cy - s * 0.15)], fill=detail)
    elif kind == "n":
        d.polygon([(cx - s * 0.22, cy + s * 0.28), (cx + s * 0.24, cy + s * 0.28),
                   (cx + s * 0.18, cy - s * 0.22), (cx - s * 0.02, cy - s * 0.38),
                   (cx - s * 0.30, cy - s * 0.05), (cx - s * 0.22, cy + s * 0.05),
                   (cx - s * 0.02, cy - s * 0.05)], fill=fill, outline=line)
        d.ellipse([cx - s * 0.02, cy - s * 0.24, cx + s * 0.04, cy - s * 0.18], fill=detail)
    elif kind == "q":
        d.polygon([(cx - s * 0.26, cy + s * 0.28), (cx + s * 0.26, cy + s * 0.28),
                   (cx + s * 0.32, cy - s * 0.22), (cx + s * 0.14, cy - s * 0.02),
                   (cx, cy - s * 0.34), (cx - s * 0.14, cy - s * 0.02),
                   (cx - s * 0.32, cy - s * 0.22)], fill=fill, outline=line)
    else:  # king
        d.polygon([(cx - s * 0.26, cy + s * 0.28), (cx + s * 0.26, cy + s * 0.28),
                   (cx + s * 0.30, cy - s * 0.12), (cx - s * 0.30, cy - s * 0.12)], fill=fill, outline=line)
        d.line([(cx, cy - s * 0.12), (cx, cy - s * 0.42)], fill=line, width=2)
        d.line([(cx - s * 0.09, cy - s * 0.32), (cx + s * 0.09, cy - s * 0.32)], fill=line, width=2)


def _chess_diagram(rng):
    sq = _ri(rng, 18, 34)
    margin = 14
    W = H = 8 * sq + 2 * margin
    schemes = [((240, 217, 181), (181, 136, 99)), ((238, 238, 210), (118, 150, 86)),
               ((255, 255, 255), (170, 170, 170)), ((222, 227, 230), (140, 162, 173))]
    light, dark = schemes[_ri(rng, 0, 3)]
    page = (255, 255, 255)
    img = Image.new("RGB", (W, H + _ri(rng, 0, 16)), page)
    d = ImageDraw.Draw(img)
    f = _font()
    ink = (0, 0, 0)
    hatched = rng.random() < 0.25  # old-book style hatched dark squares
    for r in range(8):
        for c in range(8):
            x0, y0 = margin + c * sq, margin + r * sq
            isdark = (r + c) % 2 == 1
            if hatched:
                if isdark:
                    for k in range(-sq, sq, 3):
                        d.line([(x0 + max(0, k), y0 + max(0, -k)),
                                (x0 + min(sq, sq + k), y0 + min(sq, sq - k))], fill=(60, 60, 60))
            else:
                d.rectangle([x0, y0, x0 + sq, y0 + sq], fill=dark if isdark else light)
    d.rectangle([margin - 1, margin - 1, margin + 8 * sq, margin + 8 * sq], outline=ink, width=2)
    for k in range(8):
        d.text((margin + k * sq + sq // 2 - 3, margin + 8 * sq + 1), "abcdefgh"[k], fill=ink, font=f)
        d.text((3, margin + k * sq + sq // 2 - 6), str(8 - k), fill=ink, font=f)
    occupied = set()
    pieces = [("k", 1), ("q", _ri(rng, 0, 1)), ("r", _ri(rng, 0, 2)), ("b", _ri(rng, 0, 2)),
              ("n", _ri(rng, 0, 2)), ("p", _ri(rng, 2, 7))]
    for white in (True, False):
        for kind, cnt in pieces:
            for _ in range(cnt):
                for _try in range(20):
                    r, c = _ri(rng, 0, 7), _ri(rng, 0, 7)
                    if kind == "p" and r in (0, 7):
                        continue
                    if (r, c) not in occupied:
                        occupied.add((r, c))
                        _piece(d, kind, margin + c * sq + sq / 2, margin + r * sq + sq / 2,
                               sq, white, ink)
                        break
    return _finish(img, rng, jpeg_p=0.5, blur_p=0.3)


# ----------------------------------------------------------------- ECG / scope
def _ecg_wave(t, rng_params):
    hr, pa, qa, ra, sa, ta = rng_params
    period = 60.0 / hr
    ph = np.mod(t, period) / period
    g = lambda mu, sig, a: a * np.exp(-0.5 * ((ph - mu) / sig) ** 2)
    return (g(0.15, 0.025, pa) + g(0.245, 0.008, -qa) + g(0.27, 0.010, ra)
            + g(0.295, 0.009, -sa) + g(0.55, 0.045, ta))


def _ecg_trace(rng):
    W, H = _ri(rng, 240, 320), _ri(rng, 100, 240)
    scope = rng.random() < 0.35
    if scope:
        img = Image.new("RGB", (W, H), (8, 14, 10))
        d = ImageDraw.Draw(img)
        grid, trace = (40, 70, 50), (90, 255, 120)
        nx, ny = 10, 8
        for k in range(nx + 1):
            x = int(round(k * (W - 1) / nx))
            d.line([(x, 0), (x, H)], fill=grid)
        for k in range(ny + 1):
            y = int(round(k * (H - 1) / ny))
            d.line([(0, y), (W, y)], fill=grid)
        for k in range(nx * 5):
            d.line([(k * W / (nx * 5), H / 2 - 2), (k * W / (nx * 5), H / 2 + 2)], fill=grid)
        x = np.arange(W)
        f1 = rng.uniform(1.5, 6)
        kind = _ri(rng, 0, 2)
        phase = 2 * np.pi * f1 * x / W + rng.uniform(0, 6)
        if kind == 0:
            y = np.sin(phase)
        elif kind == 1:
            y = np.sign(np.sin(phase)) * 0.8
        else:
            y = 2 * np.abs(np.mod(phase / (2 * np.pi), 1) - 0.5) * 2 - 1
        y = H / 2 - y * H * rng.uniform(0.2, 0.38) + rng.normal(0, 0.6, W)
        pts = list(zip(x.tolist(), y.tolist()))
        glow = Image.new("RGB", (W, H), (0, 0, 0))
        ImageDraw.Draw(glow).line(pts, fill=(40, 160, 60), width=5)
        glow = glow.filter(ImageFilter.GaussianBlur(2.5))
        img = Image.fromarray(np.clip(np.asarray(img, np.int32) + np.asarray(glow, np.int32),
                                      0, 255).astype(np.uint8))
        d = ImageDraw.Draw(img)
        d.line(pts, fill=trace, width=1)
        f = _font()
        d.text((4, 3), f"CH1 {[0.5, 1, 2, 5][_ri(rng, 0, 3)]}V  {_ri(rng, 1, 50)}ms/div",
               fill=(200, 200, 90), font=f)
        return _finish(img, rng, jpeg_p=0.6, blur_p=0.2)

    paper = (255, int(rng.integers(228, 242)), int(rng.integers(228, 242)))
    img = Image.new("RGB", (W, H), paper)
    d = ImageDraw.Draw(img)
    minor = _ri(rng, 4, 6)
    for k in range(0, max(W, H), minor):
        c = (240, 170, 170) if (k // minor) % 5 == 0 else (250, 205, 205)
        if k < W:
            d.line([(k, 0), (k, H)], fill=c)
        if k < H:
            d.line([(0, k), (W, k)], fill=c)
    nleads = 1 if H < 140 else _ri(rng, 2, 3)
    params = (rng.uniform(55, 110), rng.uniform(0.08, 0.15), rng.uniform(0.05, 0.15),
              rng.uniform(0.8, 1.4), rng.uniform(0.1, 0.35), rng.uniform(0.15, 0.35))
    f = _font()
    leads = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V5"]
    for li in range(nleads):
        base = H * (li + 0.65) / nleads
        amp = H / nleads * rng.uniform(0.45, 0.6)
        x = np.arange(W - 10)
        t = x / (minor * 5) * 0.2 + rng.uniform(0, 1)  # 25 mm/s equivalent
        y = _ecg_wave(t, params) * (1 if li != 0 or rng.random() < 0.8 else -1)
        y = base - y * amp + rng.normal(0, 0.35, x.size) + 2 * np.sin(t * 1.3)
        # calibration pulse
        d.line([(2, base), (4, base), (4, base - amp * 0.7), (8, base - amp * 0.7), (8, base),
                (10, base)], fill=(20, 20, 20))
        d.line(list(zip((x + 10).tolist(), y.tolist())), fill=(20, 20, 20), width=1)
        d.text((13, base - H / nleads * 0.55), leads[_ri(rng, 0, 8)], fill=(20, 20, 20), font=f)
    lab = f"25mm/s 10mm/mV HR {int(params[0])}"
    d.text((W - 4 - _tw(d, lab, f), H - 12), lab, fill=(60, 30, 30), font=f)
    return _finish(img, rng, jpeg_p=0.7, blur_p=0.5)


# ----------------------------------------------------------------- public API
_KINDS = [
    ("receipt", _receipt),
    ("calendar", _calendar),
    ("sheet_music", _sheet_music),
    ("circuit", _circuit),
    ("flowchart", _flowchart),
    ("puzzle_grid", _puzzle_grid),
    ("fractal", _fractal),
    ("blueprint", _blueprint),
    ("chess_diagram", _chess_diagram),
    ("ecg_trace", _ecg_trace),
]


def blind_not_photos(count_per_kind: int = 8) -> dict[str, list[np.ndarray]]:
    """kind name -> count_per_kind uint8 RGB arrays (H, W, 3), 64 <= H, W <= 320;
    the same pixels on every call."""
    out: dict[str, list[np.ndarray]] = {}
    for kind_no, (name, fn) in enumerate(_KINDS):
        out[name] = [fn(_rng(kind_no, i)) for i in range(count_per_kind)]
    return out
