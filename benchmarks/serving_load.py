"""Load on the local server, REST and gRPC, then overload: all measured side by side in one run.

    python benchmarks/serving_load.py [--clients=8 --seconds=30 --backbone=resnet50 --image_size=224]

In one run it:
1. exports a PEAR SavedModel (random weights: speed does not depend on them);
2. starts ``python -m pear_tf.serve`` on 127.0.0.1 (REST and gRPC);
3. for ``--rounds`` rounds, side by side: the raw forward pass on decoded, preprocessed
   tensors (images/s) of the backbone alone and of the export's whole ``predict_images``
   signature (backbone + heads), in this process while the server idles; then N
   closed-loop clients, each sending one JPEG per request for T seconds, on REST, then on
   gRPC (TF Serving's own client stubs). Interleaving keeps the ratio honest on a shared
   machine whose load drifts: the ratio is the sum of end-to-end images over the sum of
   raw images per second of measurement. It is also given per CPU-second (the server's and
   the clients' CPU time against the raw pass's), which other load on the machine does not
   distort;
4. overload: requests arrive open-loop at ``--overload_factor`` × the sustainable REST rate
   for ``--overload_seconds``; counts 200s, 503s (queue full) and other errors, the p99 of
   the accepted requests, and the server's memory after.
"""

import base64
import concurrent.futures
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

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import grpc  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from PIL import Image  # noqa: E402
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

from pear_tf.config import ModelConfig  # noqa: E402
from pear_tf.data import synthetic  # noqa: E402
from pear_tf.exporting import saved_model as export_lib  # noqa: E402
from pear_tf.model import PEAR  # noqa: E402

flags.DEFINE_integer("clients", 8, "Concurrent closed-loop clients per API.")
flags.DEFINE_float("seconds", 10.0, "How long each API's clients send, per round.")
flags.DEFINE_float("raw_seconds", 5.0, "How long each raw forward-pass measurement lasts, per round.")
flags.DEFINE_integer("rounds", 3, "Rounds of raw / REST / gRPC measurements.")
flags.DEFINE_integer("max_requests", 100_000, "Upper bound on requests per client.")
flags.DEFINE_string("backbone", "resnet50", "Backbone of the exported model.")
flags.DEFINE_integer("image_size", 224, "Encoder input size.")
flags.DEFINE_integer("photo_size", 256, "Side of the posted JPEGs.")
flags.DEFINE_integer("max_batch_size", 8, "The server's batch limit (also the raw measurement's batch).")
flags.DEFINE_integer("max_enqueued_batches", 8, "The server's queue bound, in batches.")
flags.DEFINE_float("overload_factor", 4.0, "Overload arrival rate, as a multiple of the sustainable REST rate.")
flags.DEFINE_float("overload_seconds", 10.0, "How long the overload lasts.")
FLAGS = flags.FLAGS
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def cpu_seconds(pid):
    """User + system CPU seconds of process ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_run(forward, seconds):
    """(images, wall seconds, CPU seconds) of ``forward`` on batches of decoded tensors for about ``seconds``."""
    images = tf.random.uniform([FLAGS.max_batch_size, FLAGS.image_size, FLAGS.image_size, 3], 0, 255)
    count, start, cpu = 0, time.perf_counter(), cpu_seconds(os.getpid())
    while time.perf_counter() - start < seconds:
        forward(images)
        count += FLAGS.max_batch_size
    return count, time.perf_counter() - start, cpu_seconds(os.getpid()) - cpu


def raw_forwards(model, version_dir):
    """{name: forward} of the backbone alone and the export's predict_images signature, traced."""
    backbone = tf.function(lambda x: model.backbone(x, training=False))
    signature = tf.saved_model.load(version_dir).signatures["predict_images"]
    forwards = {
        "backbone": lambda x: backbone(x).numpy(),
        "predict_images": lambda x: signature(images=x)["score"].numpy(),
    }
    images = tf.random.uniform([FLAGS.max_batch_size, FLAGS.image_size, FLAGS.image_size, 3], 0, 255)
    for forward in forwards.values():
        forward(images)  # tracing and the first call's graph optimisation stay out of the figures
    return forwards


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(base_path, port, grpc_port):
    env = {**os.environ, "PYTHONPATH": ROOT}
    command = [sys.executable, "-m", "pear_tf.serve", f"--model_base_path={base_path}", "--model_name=pear",
               f"--port={port}", f"--grpc_port={grpc_port}", f"--max_batch_size={FLAGS.max_batch_size}",
               f"--max_enqueued_batches={FLAGS.max_enqueued_batches}"]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1200):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models/pear", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def rest_call(url, body):
    """(status, seconds) of one REST predict; status "dropped" when the connection failed."""
    start = time.perf_counter()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            json.loads(response.read())
            return response.status, time.perf_counter() - start
    except urllib.error.HTTPError as e:
        e.read()
        return e.code, time.perf_counter() - start
    except OSError:
        return "dropped", time.perf_counter() - start


def grpc_call(stub, request):
    start = time.perf_counter()
    try:
        stub.Predict(request, timeout=120)
        return 200, time.perf_counter() - start
    except grpc.RpcError as e:
        return e.code().name, time.perf_counter() - start


def closed_loop(call, seconds):
    """N clients, each calling ``call()`` back to back for ``seconds``; (results, elapsed)."""
    results = []
    deadline = time.perf_counter() + seconds

    def client():
        for _ in range(FLAGS.max_requests):
            if time.perf_counter() >= deadline:
                return
            results.append(call())

    threads = [threading.Thread(target=client) for _ in range(FLAGS.clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - start


def open_loop(call, rate, seconds):
    """Requests arriving every 1/rate s for ``seconds`` whatever the answers; (results, elapsed)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=256) as pool:
        futures, start = [], time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(call))
        results = [f.result() for f in futures]
    return results, time.perf_counter() - start


def report(name, results, elapsed):
    ok = [seconds for status, seconds in results if status == 200]
    errors = {}
    for status, _ in results:
        if status != 200:
            errors[str(status)] = errors.get(str(status), 0) + 1
    p50, p99 = (np.percentile(ok, q) * 1000 if ok else float("nan") for q in (50, 99))
    print(f"{name}: {len(results)} requests in {elapsed:.1f} s, ok {len(ok)}, errors {errors or 0}; "
          f"{len(ok) / elapsed:.2f} images/s; latency of the accepted p50 {p50:.0f} ms, p99 {p99:.0f} ms")  # fmt: skip
    return len(ok) / elapsed, errors


def main(argv):
    del argv
    model = PEAR(ModelConfig(backbone=FLAGS.backbone, image_size=FLAGS.image_size))
    model.build_all()
    photo = synthetic.example(0, "aadb", FLAGS.photo_size)["image"]
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="JPEG", quality=90)
    jpeg = buffer.getvalue()
    body = json.dumps({"instances": [{"b64": base64.b64encode(jpeg).decode()}]}).encode()
    grpc_request = predict_pb2.PredictRequest()
    grpc_request.model_spec.name = "pear"
    grpc_request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto([jpeg]))
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as base:
        version_dir = export_lib.export_saved_model(model, base, export_lib.export_metadata(model, "benchmark"))
        forwards = raw_forwards(model, version_dir)
        port, grpc_port = free_port(), free_port()
        server = start_server(base, port, grpc_port)
        try:
            url = f"http://127.0.0.1:{port}/v1/models/pear:predict"
            stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(f"127.0.0.1:{grpc_port}"))
            calls = {"REST": lambda: rest_call(url, body), "gRPC": lambda: grpc_call(stub, grpc_request)}
            for call in calls.values():
                closed_loop(call, 3.0)  # warm-up: tracing, batch shapes
            before = rss_mb(server.pid)
            totals = {name: np.zeros(3) for name in [*forwards, *calls]}  # images, wall s, CPU s
            results = {name: [] for name in calls}
            for round_index in range(FLAGS.rounds):
                for name, forward in forwards.items():
                    totals[name] += raw_run(forward, FLAGS.raw_seconds)
                for name, call in calls.items():
                    # CPU of the whole end-to-end path: the server and the clients (this process, idle otherwise).
                    cpu = cpu_seconds(server.pid) + cpu_seconds(os.getpid())
                    round_results, seconds = closed_loop(call, FLAGS.seconds)
                    results[name] += round_results
                    ok = sum(1 for status, _ in round_results if status == 200)
                    totals[name] += (ok, seconds, cpu_seconds(server.pid) + cpu_seconds(os.getpid()) - cpu)
                rates = {name: images / seconds for name, (images, seconds, _) in totals.items()}
                per_cpu = {name: images / cpu for name, (images, _, cpu) in totals.items()}
                print(f"after round {round_index + 1}: images/s " + ", ".join(f"{k} {v:.2f}" for k, v in rates.items())
                      + "; images per CPU-second " + ", ".join(f"{k} {v:.2f}" for k, v in per_cpu.items()))  # fmt: skip
            for name in calls:
                report(name, results[name], totals[name][1])
            after_load = rss_mb(server.pid)
            rate = FLAGS.overload_factor * rates["REST"]
            print(f"overload: {rate:.1f} requests/s arriving ({FLAGS.overload_factor:g}x the sustainable REST rate) "
                  f"for {FLAGS.overload_seconds:g} s; queue bound {FLAGS.max_enqueued_batches} batches")  # fmt: skip
            over, elapsed = open_loop(calls["REST"], rate, FLAGS.overload_seconds)
            report("overload REST", over, elapsed)
            refused = [seconds for status, seconds in over if status == 503]
            if refused:
                print(f"  503s: {len(refused)}, answered in p50 {np.percentile(refused, 50) * 1000:.1f} ms, "
                      f"p99 {np.percentile(refused, 99) * 1000:.1f} ms")  # fmt: skip
            after_overload = rss_mb(server.pid)
            status_after, _ = rest_call(url, body)
            alive = server.poll() is None
        finally:
            server.terminate()
            server.wait(30)
    print(f"model {FLAGS.backbone} at {FLAGS.image_size} px; {FLAGS.photo_size} px JPEGs; {FLAGS.clients} clients; "
          f"server batch <= {FLAGS.max_batch_size}; {FLAGS.rounds} rounds; CPU cores {os.cpu_count()}; "
          f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")  # fmt: skip
    for name in forwards:
        print(f"raw {name} on decoded tensors (batch {FLAGS.max_batch_size}): {rates[name]:.2f} images/s, "
              f"{per_cpu[name]:.2f} images per CPU-second")  # fmt: skip
    for name in calls:
        print(f"ratio end-to-end {name} from JPEG bytes / raw backbone: {rates[name] / rates['backbone']:.2f} "
              f"(images/s), {per_cpu[name] / per_cpu['backbone']:.2f} (images per CPU-second); "
              f"/ raw predict_images: {rates[name] / rates['predict_images']:.2f} (images/s), "
              f"{per_cpu[name] / per_cpu['predict_images']:.2f} (per CPU-second)")  # fmt: skip
    errors = {name: sum(1 for status, _ in results[name] if status != 200) for name in calls}
    print(f"errors under sustainable load: {errors}")
    print(f"server RSS MB: before load {before:.0f}, after load {after_load:.0f}, after overload {after_overload:.0f}; "
          f"answer after overload: {status_after}; still running: {alive}")  # fmt: skip


if __name__ == "__main__":
    app.run(main)
