"""Acceptance by human ratings: SRCC against a labelled set, for the float model and its .tflite files.

Agreement with the float model says whether a quantized file ranks as its SavedModel
does; what users care about is the ranking against people's ratings, and the two can
disagree (a file can lose 0.02 of agreement where it does not matter, or keep 0.98 while
losing the part of the ranking that tracked the raters). Given a labelled set (any data
set the readers know, one split or all of them), the export scores it with the
SavedModel and with each .tflite file in one pass, through the evaluation pipeline
(the reader, ``read_image`` and ``preprocess``), and measures SRCC as pear_tf.evaluate
does (metrics.aesthetic_metrics: against official scores where the set has them).
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from pear_tf import metrics
from pear_tf import errors
from pear_tf.data import pipeline, sources
from pear_tf.data.images import SkipLog
from pear_tf.data.splits import DataConfig
from pear_tf.exporting.agreement import AgreementError
from pear_tf.inference.metadata import read_metadata
from pear_tf.inference.tflite import TFLiteScorer

SPLITS = ("train", "validation", "test", "all")


class RatingsError(AgreementError):
    """A .tflite file loses more SRCC against the ratings than allowed; it is not written."""


@dataclasses.dataclass(frozen=True)
class LabelledSet:
    """A split (``train``, ``validation``, ``test`` or ``all``) of a data set with ratings."""

    data: DataConfig
    split: str = "test"

    def __str__(self):
        data = self.data
        where = data.data_dir or f"{data.synthetic_flavour}-like, seed {data.seed}"
        return f"the {self.split} split{'s' if self.split == 'all' else ''} of {data.dataset} ({where})"


def labelled_batches(labelled, image_size, batch_size=50):
    """(batches of the evaluation pipeline, the rating scale, the skip log) of a LabelledSet."""
    if labelled.split not in SPLITS:
        raise errors.BadValue(f"--eval_data={labelled.split!r}: give one of {', '.join(SPLITS)}.")
    splits = sources.load_splits(labelled.data, image_size)
    names = ("train", "validation", "test") if labelled.split == "all" else (labelled.split,)
    skip_log = SkipLog(splits.dropped)
    datasets = [pipeline.make_dataset(getattr(splits, name), image_size, batch_size, skip_log=skip_log)
                for name in names]  # fmt: skip
    batches = datasets[0]
    for dataset in datasets[1:]:
        batches = batches.concatenate(dataset)
    return batches, splits.scale, skip_log


def ratings_srcc(saved_model_dir, tflite_files, labelled, image_size):
    """SRCC against the ratings of the SavedModel (``float``) and of each .tflite file, scored in one pass.

    Args:
      tflite_files: {name: .tflite path}.

    Returns:
      A dict: ``srcc`` {"float": …, name: …}, ``images`` scored, ``skipped`` (unreadable),
      and ``eval_data`` (what was scored, in words).
    """
    batches, scale, skip_log = labelled_batches(labelled, image_size)
    bins = list(read_metadata(saved_model_dir)["bin_values"])
    if bins != list(scale.bin_values):
        raise errors.BadValue(f"{saved_model_dir} rates on the bins {bins}, but --eval_data is {labelled}, on the bins "
                         f"{list(scale.bin_values)}: give a labelled set on the model's scale.")  # fmt: skip
    signature = tf.saved_model.load(saved_model_dir).signatures["predict_images"]
    scorers = {name: TFLiteScorer(path) for name, path in tflite_files.items()}
    predicted = {name: [] for name in ["float", *scorers]}
    truth, official = [], []
    progbar = keras.utils.Progbar(None, unit_name="batch")
    for step, batch in enumerate(batches):
        images = batch["image"].numpy()
        predicted["float"].append(signature(images=tf.constant(images))["distribution"].numpy())
        for name, scorer in scorers.items():
            predicted[name].append(np.stack([scorer.score(image)["distribution"] for image in images]))
        truth.append(batch["distribution"].numpy())
        if "score" in batch:
            official.append(batch["score"].numpy())
        progbar.update(step + 1)
    progbar.update(len(truth), finalize=True)
    truth = np.concatenate(truth)
    scores = np.concatenate(official) if official else None
    srcc = {name: metrics.aesthetic_metrics(truth, np.concatenate(parts), scale, scores)["srcc"]
            for name, parts in predicted.items()}  # fmt: skip
    return {"srcc": srcc, "images": len(truth), "skipped": len(skip_log), "eval_data": str(labelled),
            "against": "official scores" if official else "mean of the rater distribution"}  # fmt: skip


def srcc_drop(result, name):
    """How much SRCC the file ``name`` loses against the float model (negative: it gains)."""
    return result["srcc"]["float"] - result["srcc"][name]
