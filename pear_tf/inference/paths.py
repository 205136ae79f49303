"""Which files to score: folders walked, list files read."""

import os

# Every format the one decode reads (pear_tf/data/host_decode.py).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".heic", ".heif", ".avif")


def expand_paths(paths):
    """Files as given; folders walked recursively for image files, sorted."""
    for path in paths:
        if os.path.isdir(path):
            for root, _, names in sorted(os.walk(path)):
                for name in sorted(names):
                    if name.lower().endswith(IMAGE_SUFFIXES):
                        yield os.path.join(root, name)
        else:
            yield path


def read_list(path):
    """Paths from a list file, one per line (blank lines and # comments skipped)."""
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]
