"""AADB as the authors distribute it (Kong et al., ECCV 2016).

    <data_dir>/datasetImages_originalSize/<name>.jpg   (or datasetImages_warp256/)
    <data_dir>/imgListFiles_label/imgList{Train,Validation,TestNew}Regression_score.txt
    <data_dir>/imgListFiles_label/imgList{Train,Validation,TestNew}Regression_<Attribute>.txt
    <data_dir>/AADB_AllinAll.csv                      per-rater votes (optional, see below)

Each list file has ``<name> <value>`` lines: the score in [0, 1], attributes in [−1, 1]
(mapped to [0, 1]). The 6-bin vote distribution (votes 0..5) is counted from
AADB_AllinAll.csv, a Mechanical Turk export of ten images per row
(``Input.image_url1..10``, ``Answer.overallScore1..10``). An image without votes there
(or every image, when the CSV is absent) gets the distribution whose mean is 5·score,
on the two nearest bins (labels.score_to_distribution); the log says how many.
"""

import csv
import os
import re

import numpy as np
from absl import logging

from pear_tf import errors
from pear_tf.attributes import AADB_SCALE, ATTRIBUTE_NAMES
from pear_tf.data import labels
from pear_tf.data.layout import require

OBTAIN = (
    "AADB is obtained from the authors' project page (Kong, Shen, Lin, Mech, Fowlkes, 'Photo Aesthetics Ranking "
    "Network with Attributes and Content Adaptation'): unpack the images (datasetImages_originalSize or "
    "datasetImages_warp256), imgListFiles_label and, for vote distributions, AADB_AllinAll.csv into --data_dir."
)
SPLITS = ("Train", "Validation", "TestNew")
IMAGE_DIRS = ("datasetImages_originalSize", "datasetImages_warp256")
LABEL_DIR = "imgListFiles_label"
VOTES_CSV = "AADB_AllinAll.csv"
SCALE = AADB_SCALE


def list_file(split, label):
    return os.path.join(LABEL_DIR, f"imgList{split}Regression_{label}.txt")


def read_list(path):
    """``<name> <value>`` lines → {name: value}."""
    values = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise errors.BadValue(f"{path}:{number}: expected '<name> <value>', got {line.strip()!r}")
            values[fields[0]] = float(fields[1])
    return values


def url_to_name(url):
    """http://farm1.staticflickr.com/255/1945_8ee7_b.jpg → farm1_255_1945_8ee7_b.jpg."""
    match = re.match(r"^\w+://(farm\d+)\.staticflickr\.com/(.+)$", url.strip())
    if not match:
        return None
    return f"{match.group(1)}_{match.group(2).replace('/', '_')}"


def read_votes(path):
    """AADB_AllinAll.csv → {image name: [count of votes 0..5]}."""
    votes = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            for i in range(1, 11):
                name = url_to_name(row.get(f"Input.image_url{i}", "") or "")
                score = (row.get(f"Answer.overallScore{i}") or "").strip()
                if name is None or not score:
                    continue
                vote = int(np.clip(round(float(score)), 0, 5))
                votes.setdefault(name, [0] * 6)[vote] += 1
    return votes


def read_aadb(data_dir):
    """Reads AADB's three splits: dicts with ``path``, ``id``, labels (see pear_tf.data.pipeline)."""
    required = [IMAGE_DIRS] + [list_file(s, label) for s in SPLITS for label in ("score", *ATTRIBUTE_NAMES)]
    require(data_dir, "AADB", required, OBTAIN)
    image_dir = next(os.path.join(data_dir, d) for d in IMAGE_DIRS if os.path.isdir(os.path.join(data_dir, d)))
    votes_path = os.path.join(data_dir, VOTES_CSV)
    votes = read_votes(votes_path) if os.path.exists(votes_path) else None
    if votes is None:
        logging.warning(
            "%s not found: every AADB distribution is built from its mean score (mass on the two nearest bins).",
            votes_path,
        )
    splits = []
    for split in SPLITS:
        scores = read_list(os.path.join(data_dir, list_file(split, "score")))
        names = sorted(scores)
        attribute_lists = [read_list(os.path.join(data_dir, list_file(split, a))) for a in ATTRIBUTE_NAMES]
        attributes = np.array([[a.get(n, 0.0) for a in attribute_lists] for n in names], np.float32)
        mask = np.array([[float(n in a) for a in attribute_lists] for n in names], np.float32)
        from_scores = labels.score_to_distribution([5.0 * scores[n] for n in names], SCALE.bin_values)
        counted = [votes.get(n) if votes else None for n in names]
        distribution = np.array(
            [labels.normalise_votes([c])[0] if c else fallback for c, fallback in zip(counted, from_scores)], np.float32
        )
        if votes is not None:
            missing = sum(c is None for c in counted)
            if missing:
                logging.warning("AADB %s: %d of %d images have no votes in %s; their mean score is used.",
                                split, missing, len(names), VOTES_CSV)  # fmt: skip
        logging.info("AADB %s: %d images listed.", split, len(names))
        splits.append(
            {
                "path": np.array([os.path.join(image_dir, n) for n in names]),
                "id": np.array(names),
                "distribution": distribution,
                "attributes": labels.attributes_from_signed(attributes) * mask,
                "attribute_mask": mask,
                # The official score on the 0..5 bins: what AADB's SRCC and PLCC are measured against.
                "score": np.array([5.0 * scores[n] for n in names], np.float32),
            }
        )
    return tuple(splits), []
