"""Load on the REST endpoint: N concurrent clients on loopback for T seconds.

    python benchmarks/serving_load.py [--clients=8 --seconds=30 --backbone=resnet50 --image_size=224]

In one run it:
1. exports a PEAR SavedModel (random weights: speed does not depend on them);
2. measures the raw backbone's forward pass on decoded, preprocessed tensors, images/s;
3. starts ``python -m pear_tf.serve`` on 127.0.0.1 and runs N clients, each posting one
   JPEG per request for T seconds (bounded in time and count);
4. prints requests/s, end-to-end images/s from JPEG bytes and their ratio to the raw
   backbone, p50/p99 latency, errors (5xx, 4xx, dropped connections) and the server's
   resident memory before and after.
"""

import base64
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from PIL import Image  # noqa: E402

from pear_tf import export_lib  # noqa: E402
from pear_tf.config import ModelConfig  # noqa: E402
from pear_tf.data import synthetic  # noqa: E402
from pear_tf.model import PEAR  # noqa: E402

flags.DEFINE_integer("clients", 8, "Concurrent clients.")
flags.DEFINE_float("seconds", 30.0, "How long the clients post.")
flags.DEFINE_integer("max_requests", 100_000, "Upper bound on requests per client.")
flags.DEFINE_string("backbone", "resnet50", "Backbone of the exported model.")
flags.DEFINE_integer("image_size", 224, "Encoder input size.")
flags.DEFINE_integer("photo_size", 256, "Side of the posted JPEGs.")
flags.DEFINE_integer("max_batch_size", 8, "The server's batch limit (also the backbone measurement's batch).")
FLAGS = flags.FLAGS
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def backbone_images_per_second(model, seconds=10.0):
    images = tf.random.uniform([FLAGS.max_batch_size, FLAGS.image_size, FLAGS.image_size, 3], 0, 255)
    forward = tf.function(lambda x: model.backbone(x, training=False))
    forward(images).numpy()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        forward(images).numpy()
        count += FLAGS.max_batch_size
    return count / (time.perf_counter() - start)


def start_server(base_path, port):
    env = {**os.environ, "PYTHONPATH": ROOT}
    command = [sys.executable, "-m", "pear_tf.serve", f"--model_base_path={base_path}", "--model_name=pear",
               f"--port={port}", f"--max_batch_size={FLAGS.max_batch_size}"]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models/pear", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def client(url, body, deadline, results):
    for _ in range(FLAGS.max_requests):
        if time.perf_counter() >= deadline:
            return
        start = time.perf_counter()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                json.loads(response.read())
                results.append((response.status, time.perf_counter() - start))
        except urllib.error.HTTPError as e:
            results.append((e.code, time.perf_counter() - start))
        except OSError:
            results.append(("dropped", time.perf_counter() - start))


def main(argv):
    del argv
    config = ModelConfig(backbone=FLAGS.backbone, image_size=FLAGS.image_size)
    model = PEAR(config)
    model.build_all()
    raw = backbone_images_per_second(model)
    photo = synthetic.example(0, "aadb", FLAGS.photo_size)["image"]
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="JPEG", quality=90)
    body = json.dumps({"instances": [{"b64": base64.b64encode(buffer.getvalue()).decode()}]}).encode()
    with tempfile.TemporaryDirectory() as base:
        export_lib.export_saved_model(model, base, export_lib.export_metadata(model, "benchmark"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = start_server(base, port)
        try:
            url = f"http://127.0.0.1:{port}/v1/models/pear:predict"
            client(url, body, time.perf_counter() + 3.0, [])  # warm-up: tracing
            before = rss_mb(server.pid)
            results = []
            deadline = time.perf_counter() + FLAGS.seconds
            threads = [
                threading.Thread(target=client, args=(url, body, deadline, results)) for _ in range(FLAGS.clients)
            ]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - start
            after = rss_mb(server.pid)
            alive = server.poll() is None
        finally:
            server.terminate()
            server.wait(30)
    ok = [latency for status, latency in results if status == 200]
    errors_5xx = sum(1 for status, _ in results if isinstance(status, int) and status >= 500)
    errors_4xx = sum(1 for status, _ in results if isinstance(status, int) and 400 <= status < 500)
    dropped = sum(1 for status, _ in results if status == "dropped")
    end_to_end = len(ok) / elapsed
    print(f"clients {FLAGS.clients} for {elapsed:.1f} s; model {FLAGS.backbone} at {FLAGS.image_size} px; "
          f"{FLAGS.photo_size} px JPEGs; CPU cores {os.cpu_count()}")  # fmt: skip
    print(f"requests: {len(results)}  ok: {len(ok)}  5xx: {errors_5xx}  4xx: {errors_4xx}  dropped: {dropped}")
    print(f"requests/s: {len(results) / elapsed:.2f}")
    print(f"latency p50: {np.percentile(ok, 50) * 1000:.0f} ms  p99: {np.percentile(ok, 99) * 1000:.0f} ms")
    print(f"end-to-end images/s from JPEG bytes: {end_to_end:.2f}")
    print(f"raw backbone images/s on decoded tensors (batch {FLAGS.max_batch_size}): {raw:.2f}")
    print(f"ratio end-to-end / backbone: {end_to_end / raw:.2f}")
    print(f"server RSS before: {before:.0f} MB  after: {after:.0f} MB  still running: {alive}")


if __name__ == "__main__":
    app.run(main)
