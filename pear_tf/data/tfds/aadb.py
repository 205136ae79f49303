"""TFDS builder ``aadb``: AADB from its original layout (manual download)."""

import tensorflow_datasets as tfds

from pear_tf.data import aadb
from pear_tf.data.tfds.common import LayoutBuilder


class Aadb(LayoutBuilder):
    """AADB: 10k photos, 6-bin vote distributions and 11 attributes; TestNew is the test split."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Train, Validation and TestNew splits; votes from AADB_AllinAll.csv."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = aadb.OBTAIN
    DESCRIPTION = "AADB aesthetics with attributes (Kong et al., ECCV 2016)."
    HOMEPAGE = "https://github.com/aimerykong/deepImageAestheticsAnalysis"
    SCALE = aadb.SCALE

    def read_splits(self, manual_dir):
        return aadb.read_aadb(manual_dir)
