"""The standard personalisation protocol of FLICKR-AES (../shared/DESIGN.md §13).

For each test worker, k of their images are drawn at random, the correction is fitted on
them, and SRCC is measured against the worker's own scores on the rest of their images;
repeated over trials, averaged per worker, then averaged over workers (mean ± std). The
generic baseline is the un-adapted model on the same held-out images. Nothing about the
adaptation is chosen on held-out images: the population is learned from training workers
before the run, and each fit's scales from its k rated images alone.
"""

import numpy as np

from pear_tf import errors
from pear_tf.metrics import _spearman
from pear_tf.personal.adapt import TasteModel, fit_taste
from pear_tf.personal.features import select
from pear_tf.personal.report import summarise

DEFAULT_MODEL = TasteModel()

# Mean per-user SRCC on FLICKR-AES at 10 / 100 shots as the papers report them (not re-checked).
PUBLISHED = {
    "PAM": (0.520, 0.553),
    "PA-IAA": (0.543, 0.639),
    "BLG-PIAA": (0.561, 0.669),
    "TAPP": (0.591, 0.685),
    "task vectors (2024)": (0.668, 0.748),
}


def trial_splits(num_images, shots, trials, seed):
    """(adaptation, evaluation) index arrays of each trial: disjoint, together all images.

    Every image a worker rated is either adapted on or evaluated on in a trial, never both.
    """
    if shots >= num_images:
        raise errors.BadValue(f"{shots} shots leave no held-out image of {num_images}.")
    rng = np.random.default_rng(seed)
    splits = []
    for _ in range(trials):
        order = rng.permutation(num_images)
        splits.append((np.sort(order[:shots]), np.sort(order[shots:])))
    return splits


def evaluate_worker(features, ratings, shots, trials, seed, model=DEFAULT_MODEL):
    """Mean SRCC over trials of the generic and the personalised scores for one worker.

    Args:
      features: dict of the worker's images: ``score`` [n], ``attributes`` [n, 11] and
        ``content`` [n, C] when the model has it.
      ratings: the worker's scores of those images [n].
      shots: k, images adapted on per trial.
      trials: how many random draws.
      seed: the draws.
      model: the TasteModel the correction is fitted with.

    Returns:
      A dict: ``generic`` and ``personal`` mean SRCC, ``gain`` (their difference), the
      per-trial lists, ``generic_chosen`` (trials where the evidence chose no correction) and
      ``skipped_trials`` (draws whose k ratings were all equal, so nothing could be fitted:
      counted as generic).
    """
    generic, personal, skipped, chosen = [], [], 0, 0
    for adapt, held_out in trial_splits(len(ratings), shots, trials, seed):
        base = _spearman(features["score"][held_out], ratings[held_out])
        try:
            taste = fit_taste(select(features, adapt), ratings[adapt], model)
            adapted = _spearman(taste.predict(select(features, held_out)), ratings[held_out])
            chosen += taste.is_generic
        except ValueError:
            skipped, adapted = skipped + 1, base
        generic.append(base)
        personal.append(adapted)
    return {
        "generic": float(np.nanmean(generic)),
        "personal": float(np.nanmean(personal)),
        "gain": float(np.nanmean(personal) - np.nanmean(generic)),
        "generic_trials": generic,
        "personal_trials": personal,
        "generic_chosen": chosen,
        "skipped_trials": skipped,
    }


def evaluate_workers(worker_data, shots_list, trials, seed=0, model=DEFAULT_MODEL):
    """The protocol over all test workers: per worker and shots, then the summary over workers.

    Args:
      worker_data: {worker id: (features dict, ratings [n])}.
      shots_list: e.g. (10, 100); workers with too few images for a shot count are listed.
      model: the TasteModel.
    """
    results = {}
    for shots in shots_list:
        per_worker, too_few = {}, []
        for index, (worker, (features, ratings)) in enumerate(sorted(worker_data.items())):
            if len(ratings) <= shots:
                too_few.append(worker)
                continue
            per_worker[worker] = evaluate_worker(features, ratings, shots, trials, seed + index, model)
        results[str(shots)] = {"summary": summarise(per_worker, trials), "workers": per_worker,
                               "too_few_images": too_few}  # fmt: skip
    return results
