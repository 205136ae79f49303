"""One person's ratings CSV: ``path,score`` rows, checked row by row.

Rows that cannot be used are skipped with their reason (never silently): an empty or
missing file, a score that is not a number or lies outside ``score_range``, a path already
rated above. Unreadable images are found later, when their features are computed.
"""

import csv
import math
import os

from pear_tf import errors


class NotEnoughRatings(errors.BadValue):
    """Fewer usable ratings than the adaptation needs; the message counts them and lists the skipped rows."""


def read_ratings(path, score_range=None):
    """Reads ``path,score`` rows (a header is required; paths relative to the CSV's folder).

    Args:
      path: the CSV file.
      score_range: (low, high) of the person's scale, or None to accept any finite number.

    Returns:
      (usable [(path, score)], skipped [(line, path, reason)]).
    """
    if not os.path.isfile(path):
        raise errors.NotFound(f"--ratings={path!r}: no such file; give a CSV with a header and path,score rows.")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = [name.strip().lower() for name in next(reader, [])]
            if "path" not in header or "score" not in header:
                raise errors.BadValue(f"{path}: the header needs 'path' and 'score' columns; got {header}.")
            column_path, column_score = header.index("path"), header.index("score")
            rows = [(number, row) for number, row in enumerate(reader, 2) if any(c.strip() for c in row)]
    except UnicodeDecodeError:
        raise errors.BadValue(f"--ratings={path!r} is not a text CSV (UTF-8): give path,score rows.") from None
    folder = os.path.dirname(os.path.abspath(path))
    usable, skipped, seen = [], [], {}
    for number, row in rows:
        cells = [cell.strip() for cell in row] + [""] * len(header)
        name, text = cells[column_path], cells[column_score]
        image = os.path.normpath(os.path.join(folder, name)) if name else ""
        reason = _problem(image, text, score_range, seen)
        if reason:
            skipped.append((number, name, reason))
            continue
        seen[image] = number
        usable.append((image, float(text)))
    return usable, skipped


def _problem(image, text, score_range, seen):
    """Why a row cannot be used, or None."""
    if not image:
        return "no path"
    if image in seen:
        return f"duplicate path (first rated on line {seen[image]})"
    if not os.path.isfile(image):
        return "file not found"
    try:
        score = float(text)
    except ValueError:
        return f"score {text!r} is not a number"
    if not math.isfinite(score):
        return f"score {text!r} is out of range"
    if score_range and not score_range[0] <= score <= score_range[1]:
        return f"score {text!r} is out of range [{score_range[0]:g}, {score_range[1]:g}]"
    return None


def require_enough(usable, skipped, minimum, source):
    """Raises NotEnoughRatings when fewer than ``minimum`` ratings are usable."""
    if len(usable) >= minimum:
        return
    listing = "".join(
        f"\n  {f'line {line}: ' if line else ''}{name or '(no path)'}: {reason}" for line, name, reason in skipped
    )
    raise NotEnoughRatings(
        f"{source}: only {len(usable)} usable ratings ({len(skipped)} rows skipped); personalising needs at "
        f"least {minimum}.{listing}"
    )
