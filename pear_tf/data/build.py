"""Building a data set once, offline: the TFDS build of AVA or AADB, or the resized cache of any set.

The command is ``python -m pear_tf.build_data`` (``python -m pear_tf.data.build`` runs it
too); here are the library calls it makes, which read no flags. Their imports are inside
them, so that ``python -m pear_tf.data.build`` reaches the command, which loads
TensorFlow without its start-up noise, before anything here loads TensorFlow.
"""

import dataclasses
import os


def build(dataset, manual_dir, data_dir):
    """Prepares the TFDS data set; returns (builder, number of skipped images)."""
    import tensorflow_datasets as tfds

    from pear_tf.data.tfds import BUILDERS

    builder = BUILDERS[dataset](data_dir=data_dir)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
    skipped = builder.skip_log.write(os.path.join(data_dir, dataset, "skipped_images.txt")) if builder.skip_log else 0
    return builder, skipped


def build_resized(config, image_size, cache_dir):
    """Writes the resized cache of ``config`` (a DataConfig, read from its originals); returns its description."""
    from pear_tf.data import resized, sources

    config = dataclasses.replace(config, data_format="files", data_service_address=None)
    return resized.write_cache(sources.load_splits(config, image_size), config, image_size, cache_dir)


if __name__ == "__main__":
    # `python -m pear_tf.data.build`, as typed before the command moved to the package root.
    import runpy

    runpy.run_module("pear_tf.build_data", run_name="__main__", alter_sys=True)
