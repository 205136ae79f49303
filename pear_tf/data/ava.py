"""AVA as the authors distribute it (Murray et al., CVPR 2012).

    <data_dir>/AVA.txt                                  index, image id, 10 vote counts (1..10), 2 tags, challenge
    <data_dir>/images/<id>.jpg
    <data_dir>/aesthetics_image_lists/generic_test.jpgl test image ids, one per line

Train is every AVA.txt image not in the test list; validation is a fixed-seed slice of
train. Attributes are unobserved (mask 0).
"""

import os

import numpy as np
from absl import logging

from pear_tf import errors
from pear_tf.attributes import AVA_SCALE, NUM_ATTRIBUTES
from pear_tf.data import labels
from pear_tf.data.layout import require

OBTAIN = (
    "AVA is obtained from the authors' release (Murray, Marchesotti, Perronnin, 'AVA: A large-scale database "
    "for aesthetic visual analysis'), e.g. the AVA_dataset archive: unpack it so that AVA.txt, images/ and "
    "aesthetics_image_lists/ sit directly in --data_dir."
)
TEST_LIST = os.path.join("aesthetics_image_lists", "generic_test.jpgl")


def write_layout(out_dir, items, test_count, first_id, challenges):
    """Writes ``items`` (encoded JPEG bytes, vote counts [10]) as AVA ships them: images/<id>.jpg,
    AVA.txt and the test list (the last ``test_count``). Ids count from ``first_id``; the challenge
    column cycles through ``challenges``. What the generators of AVA-like sets share. Returns out_dir.
    """
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "aesthetics_image_lists"), exist_ok=True)
    lines, ids = [], []
    for index, (jpeg, votes) in enumerate(items):
        image_id = str(first_id + index)
        with open(os.path.join(out_dir, "images", f"{image_id}.jpg"), "wb") as f:
            f.write(jpeg)
        counts = " ".join(str(int(c)) for c in votes)
        lines.append(f"{index + 1} {image_id} {counts} 0 0 {challenges[index % len(challenges)]}\n")
        ids.append(image_id + "\n")
    for name, rows in (("AVA.txt", lines), (TEST_LIST, ids[len(ids) - test_count :])):
        with open(os.path.join(out_dir, name), "w") as f:
            f.writelines(rows)
    return out_dir


def parse_ava_txt(path):
    """AVA.txt → (image ids [N] str, vote counts [N, 10]); malformed lines are named in the error."""
    ids, counts = [], []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) < 12:
                raise errors.BadValue(f"{path}:{number}: expected index, id and 10 vote counts, got {line.strip()!r}")
            ids.append(fields[1])
            counts.append([int(v) for v in fields[2:12]])
    return np.array(ids), np.array(counts, np.float32)


def read_ava(data_dir, validation_fraction=0.05, seed=0):
    """Reads AVA's splits: dicts with ``path``, ``id``, labels (see pear_tf.data.pipeline).

    Returns:
      (train, validation, test) and a list of (path, reason) for records dropped before
      reading images (no votes).
    """
    require(data_dir, "AVA", ["AVA.txt", "images", TEST_LIST], OBTAIN)
    ids, counts = parse_ava_txt(os.path.join(data_dir, "AVA.txt"))
    distributions = labels.normalise_votes(counts)
    paths = np.array([os.path.join(data_dir, "images", f"{i}.jpg") for i in ids])
    has_votes = ~np.isnan(distributions).any(axis=1)
    dropped = [(p, "no votes in AVA.txt") for p in paths[~has_votes]]
    with open(os.path.join(data_dir, TEST_LIST)) as f:
        test_ids = {line.strip() for line in f if line.strip()}
    is_test = np.isin(ids, list(test_ids))
    train_index = np.flatnonzero(~is_test & has_votes)
    order = np.random.default_rng(seed).permutation(len(train_index))
    # At least one validation image when there is a fraction to hold out (tiny test sets).
    num_val = max(
        int(round(validation_fraction * len(train_index))), int(validation_fraction > 0 and len(train_index) > 1)
    )
    val_index, train_index = np.sort(train_index[order[:num_val]]), np.sort(train_index[order[num_val:]])
    test_index = np.flatnonzero(is_test & has_votes)
    logging.info(
        "AVA: %d train, %d validation, %d test images listed.", len(train_index), len(val_index), len(test_index)
    )

    def split(index):
        return {
            "path": paths[index],
            "id": ids[index],
            "distribution": distributions[index],
            "attributes": np.zeros((len(index), NUM_ATTRIBUTES), np.float32),
            "attribute_mask": np.zeros((len(index), NUM_ATTRIBUTES), np.float32),
        }

    return (split(train_index), split(val_index), split(test_index)), dropped


SCALE = AVA_SCALE
