"""The paper's defaults (DESIGN.md §2, paper §3.2) in the configs and the flags."""

import json
import os
import subprocess
import sys

from pear_tf.config import ModelConfig
from pear_tf.training.config import PriorConfig, TrainConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAPER = {"backbone_lr": 1e-4, "head_lr": 1e-3, "lambda_recon": 0.1, "beta": 0.1, "batch_size": 128}


def test_train_config_defaults_are_the_papers():
    config = TrainConfig()
    for name, value in PAPER.items():
        assert getattr(config, name) == value, name
    model = ModelConfig()
    assert (model.num_attributes, model.content_dim, model.temperature) == (11, 100, 1.0)
    assert (model.backbone, model.image_size, model.recon_size) == ("resnet50", 224, 256)
    assert PriorConfig().learning_rate == 1e-4 and PriorConfig().batch_size == 128


def test_train_flags_default_to_the_papers_values_and_map_onto_the_config():
    code = (
        "import dataclasses, json; from absl import flags; from pear_tf import cli\n"
        "cli.define_train_flags(); flags.FLAGS(['train']); c = cli.train_config_from_flags()\n"
        "print(json.dumps(dataclasses.asdict(c), default=str))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    config = json.loads(result.stdout.splitlines()[-1])
    for name, value in PAPER.items():
        assert config[name] == value, name
    model = config["model"]
    assert (model["backbone"], model["image_size"], model["objective"]) == ("resnet50", 224, "pear")
    assert (model["num_attributes"], model["content_dim"], model["temperature"]) == (11, 100, 1.0)
