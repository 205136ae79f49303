"""What the ``ava`` and ``aadb`` TFDS builders share: features, splits and example generation."""

import abc

import numpy as np
import tensorflow_datasets as tfds

from pear_tf.attributes import NUM_ATTRIBUTES
from pear_tf.data.images import SkipLog, read_image


def features(num_bins):
    return tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(shape=(None, None, 3), encoding_format="jpeg"),
            "id": tfds.features.Text(),
            "distribution": tfds.features.Tensor(shape=(num_bins,), dtype=np.float32),
            "attributes": tfds.features.Tensor(shape=(NUM_ATTRIBUTES,), dtype=np.float32),
            "attribute_mask": tfds.features.Tensor(shape=(NUM_ATTRIBUTES,), dtype=np.float32),
        }
    )


class LayoutBuilder(tfds.core.GeneratorBasedBuilder):
    """A builder over one of pear_tf's layout readers (abstract: TFDS does not register it).

    Subclasses set SCALE, DESCRIPTION, HOMEPAGE, MANUAL_DOWNLOAD_INSTRUCTIONS and
    ``read_splits``. Unreadable images are skipped and kept in ``self.skip_log``.
    """

    skip_log = None

    @abc.abstractmethod
    def read_splits(self, manual_dir):
        """Returns ((train, validation, test) split dicts, [(path, reason) dropped])."""

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self, description=self.DESCRIPTION, features=features(self.SCALE.num_bins), homepage=self.HOMEPAGE
        )

    def _split_generators(self, dl_manager):
        self.skip_log = SkipLog()
        splits, dropped = self.read_splits(str(dl_manager.manual_dir))
        for path, reason in dropped:
            self.skip_log.add(path, reason)
        return {name: self._generate_examples(split) for name, split in zip(("train", "validation", "test"), splits)}

    def _generate_examples(self, split):
        """Yields (id, example) for every image of a reader's split that decodes."""
        for i, path in enumerate(split["path"]):
            image = read_image(str(path), self.skip_log)
            if image is None:
                continue
            yield (
                str(split["id"][i]),
                {
                    "image": image,
                    "id": str(split["id"][i]),
                    "distribution": split["distribution"][i],
                    "attributes": split["attributes"][i],
                    "attribute_mask": split["attribute_mask"][i],
                },
            )
