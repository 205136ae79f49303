"""Checking that --data_dir holds what a data set's original layout needs."""

import os

from pear_tf import errors


class DataLayoutError(errors.NotFound):
    """--data_dir lacks files or folders of the expected layout; the message names each one."""


def require(data_dir, dataset, required, obtain):
    """Raises DataLayoutError naming every missing path of ``required`` (relative to data_dir).

    Args:
      data_dir: the folder given with --data_dir.
      dataset: its name, for the message.
      required: relative paths; a tuple of alternatives means any one of them will do.
      obtain: where the data set is obtained and how to unpack it.
    """
    if not data_dir or not os.path.isdir(data_dir):
        raise DataLayoutError(
            f"--data_dir={data_dir!r} is not a folder. {dataset} is expected unpacked there.\n{obtain}"
        )
    missing = []
    for item in required:
        alternatives = item if isinstance(item, tuple) else (item,)
        if not any(os.path.exists(os.path.join(data_dir, a)) for a in alternatives):
            missing.append(" or ".join(alternatives))
    if missing:
        listing = "\n".join(f"  - {m}" for m in missing)
        raise DataLayoutError(
            f"--data_dir={data_dir!r} does not hold {dataset} as distributed; missing:\n{listing}\n{obtain}"
        )
