"""The DataConfig of a finished run, from the flags.txt that train wrote into its folder.

``export`` of an older run folder uses it to load the splits the run was trained on (its
validation split and training photos calibrate the export). Library code: the lines are
parsed here, never through absl's global FLAGS.
"""

import dataclasses

from pear_tf.data.splits import DataConfig

# DataConfig fields and how their flags' values read; data_service_address is left out: a
# calibration reads its few thousand photos in this process.
_PARSERS = {
    "dataset": str,
    "data_dir": str,
    "tfds": bool,
    "synthetic_flavour": str,
    "synthetic_sizes": lambda v: tuple(int(n) for n in v.split(",")),
    "validation_fraction": float,
    "custom_bins": lambda v: tuple(float(b) for b in v.split(",")),
    "seed": int,
    "data_format": str,
    "cache_dir": str,
    "test_workers": str,
}


def data_config_from_flag_lines(lines):
    """DataConfig from ``--name=value`` lines (``--flag`` / ``--noflag`` for booleans); others are ignored."""
    values = {}
    for line in lines:
        line = line.strip()
        if not line.startswith("--"):
            continue
        name, has_value, value = line[2:].partition("=")
        if not has_value:  # a boolean: --tfds or --notfds
            if name in _PARSERS and _PARSERS[name] is bool:
                values[name] = True
            elif name.startswith("no") and _PARSERS.get(name[2:]) is bool:
                values[name[2:]] = False
            continue
        if name in _PARSERS and value != "":
            values[name] = value.lower() == "true" if _PARSERS[name] is bool else _PARSERS[name](value)
    return dataclasses.replace(DataConfig(), **values)
