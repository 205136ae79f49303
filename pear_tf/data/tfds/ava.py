"""TFDS builder ``ava``: AVA from its original layout (manual download)."""

import tensorflow_datasets as tfds

from pear_tf.data import ava
from pear_tf.data.tfds.common import LayoutBuilder


class Ava(LayoutBuilder):
    """AVA: ~255k photos with 10-bin score distributions; test = generic_test.jpgl."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Train (minus a 5% validation slice, seed 0), validation, generic test."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = ava.OBTAIN
    DESCRIPTION = "AVA aesthetic score distributions (Murray et al., CVPR 2012)."
    HOMEPAGE = "https://github.com/imfing/ava_downloader"
    SCALE = ava.SCALE
    VALIDATION_FRACTION = 0.05

    def read_splits(self, manual_dir):
        return ava.read_ava(manual_dir, self.VALIDATION_FRACTION)
