"""FLICKR-AES as its authors distribute it (Ren et al., 'Personalized image aesthetics', ICCV 2017).

    <data_dir>/40K/<name>.jpg                                   about 40,000 Flickr photos
    <data_dir>/FLICKR-AES_image_labeled_by_each_worker.csv      `worker, imagePair, score` (1..5)
    <data_dir>/FLICKR-AES_image_score.txt                       `<name> <mean score>` a line

The CSV's header (and often its cells) has a space after each comma: names and values are
stripped. Test workers are not marked in the distribution; the 37 ids that published code
uses ship with pear_tf (flickr_aes_test_workers.csv, a one-column CSV with the header ``ID``)
and ``--test_workers=FILE`` replaces them.

Generic training (``--dataset=flickr_aes``) uses the images that no test worker rated: train
and a fixed-seed validation slice of it. The test split is the images the test workers rated,
with the crowd's votes. Labels: the 5 votes of an image as a distribution on 1..5.
Attributes are unobserved (mask 0). The per-worker protocol is pear_tf.personal.protocol.
"""

import csv
import os

import numpy as np
from absl import logging

from pear_tf import errors
from pear_tf.attributes import NUM_ATTRIBUTES, RatingScale
from pear_tf.data import labels
from pear_tf.data.layout import require

SCALE = RatingScale("flickr_aes", (1.0, 2.0, 3.0, 4.0, 5.0), 3.0)
IMAGE_DIR = "40K"
RATINGS_FILE = "FLICKR-AES_image_labeled_by_each_worker.csv"
SCORES_FILE = "FLICKR-AES_image_score.txt"
DEFAULT_TEST_WORKERS = os.path.join(os.path.dirname(__file__), "flickr_aes_test_workers.csv")
OBTAIN = (
    "FLICKR-AES is obtained from its authors (Ren, Shen, Lin, Mech, Foran: 'Personalized Image Aesthetics', "
    f"ICCV 2017): unpack it so that {IMAGE_DIR}/, {RATINGS_FILE} and {SCORES_FILE} sit directly in --data_dir."
)


def read_worker_ratings(path):
    """The per-worker ratings CSV → (workers [N] str, images [N] str, scores [N] float).

    The header is `worker, imagePair, score` with spaces after the commas; names and cells
    are stripped. A row without three fields or with a score that is not an integer on 1..5
    is an error naming its line: the file is the data set's ground truth.
    """
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [name.strip() for name in next(reader, [])]
        if header[:3] != ["worker", "imagePair", "score"]:
            raise errors.BadValue(f"{path}: expected the header 'worker, imagePair, score', got {header}.")
        workers, images, scores = [], [], []
        for number, row in enumerate(reader, 2):
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            try:
                if len(cells) < 3 or not cells[0] or not cells[1]:
                    raise ValueError
                score = float(cells[2])
            except ValueError:
                raise errors.BadValue(f"{path}:{number}: expected worker, image, score; got {row}.") from None
            if score not in SCALE.bin_values:
                raise errors.BadValue(f"{path}:{number}: score {cells[2]!r} is not an integer on 1..5.")
            workers.append(cells[0])
            images.append(cells[1])
            scores.append(score)
    return np.array(workers), np.array(images), np.array(scores, np.float32)


def read_test_workers(path=None):
    """The test workers' ids: a one-column CSV with the header ``ID`` (default: the 37 of published code)."""
    path = path or DEFAULT_TEST_WORKERS
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [[cell.strip() for cell in row] for row in csv.reader(f)]
    rows = [row for row in rows if any(row)]
    if not rows or rows[0][0] != "ID":
        raise errors.BadValue(f"{path}: a test-worker list is a one-column CSV with the header 'ID'.")
    ids = [row[0] for row in rows[1:]]
    if len(set(ids)) != len(ids):
        raise errors.BadValue(f"{path}: repeated worker ids.")
    return tuple(ids)


def vote_counts(images, scores):
    """Per-image vote counts on 1..5: (image names sorted [M], counts [M, 5])."""
    names, inverse = np.unique(images, return_inverse=True)
    counts = np.zeros((len(names), SCALE.num_bins), np.float32)
    np.add.at(counts, (inverse, (scores - 1).astype(int)), 1.0)
    return names, counts


def read_flickr_aes(data_dir, validation_fraction=0.05, seed=0, test_workers=None):
    """Reads the generic splits: train/validation on images no test worker rated, test on the rest.

    Args:
      data_dir: the unpacked distribution.
      validation_fraction: share of the generic images held out for validation.
      seed: the validation slice.
      test_workers: a test-worker CSV (default: the 37 ids shipped with pear_tf).

    Returns:
      ((train, validation, test) split dicts, dropped (path, reason) list, SCALE).
    """
    require(data_dir, "FLICKR-AES", [IMAGE_DIR, RATINGS_FILE], OBTAIN)
    workers, images, scores = read_worker_ratings(os.path.join(data_dir, RATINGS_FILE))
    names, counts = vote_counts(images, scores)
    tested = np.isin(names, np.unique(images[np.isin(workers, read_test_workers(test_workers))]))
    paths = np.array([os.path.join(data_dir, IMAGE_DIR, n) for n in names])
    dropped = []
    scores_path = os.path.join(data_dir, SCORES_FILE)
    if os.path.exists(scores_path):
        with open(scores_path) as f:
            listed = {line.split()[0] for line in f if line.strip()}
        dropped = [(os.path.join(data_dir, IMAGE_DIR, n), f"in {SCORES_FILE} but rated by no worker")
                   for n in sorted(listed - set(names))]  # fmt: skip
    generic = np.flatnonzero(~tested)
    order = np.random.default_rng(seed).permutation(len(generic))
    num_val = max(int(round(validation_fraction * len(generic))), int(validation_fraction > 0 and len(generic) > 1))
    val_index, train_index = np.sort(generic[order[:num_val]]), np.sort(generic[order[num_val:]])
    test_index = np.flatnonzero(tested)
    logging.info(
        "FLICKR-AES: %d train, %d validation images (no test worker rated them), %d test-worker images.",
        len(train_index), len(val_index), len(test_index),
    )  # fmt: skip
    distributions = labels.normalise_votes(counts)

    def split(index):
        return {
            "path": paths[index],
            "id": names[index],
            "distribution": distributions[index],
            "attributes": np.zeros((len(index), NUM_ATTRIBUTES), np.float32),
            "attribute_mask": np.zeros((len(index), NUM_ATTRIBUTES), np.float32),
        }

    return (split(train_index), split(val_index), split(test_index)), dropped, SCALE
