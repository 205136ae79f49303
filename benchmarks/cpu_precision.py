"""float32 against bfloat16 against LiteRT int8 on the CPU, side by side: predict, the REST server and Beam.

    python benchmarks/cpu_precision.py [--images=64 --rounds=3 --beam_images=160 --sections=predict,serve,beam]
    python benchmarks/cpu_precision.py --model_dir=runs/x   # a trained run instead of random weights

In one run it:
1. exports ResNet50 at 224 px (random weights unless --model_dir: speed does not depend on
   them) as a float32 SavedModel and a bfloat16 one (pear_tf.export --precision=bfloat16, whose
   agreement check against float32 on real photos is printed; random weights rank photos by
   noise, so for them the check's bar is lifted and the figure only reported: the agreement
   goal is a trained model's), and converts the float32 one to a full-int8 .tflite (no float
   layers; 64 synthetic calibration images);
2. predict: scores the same JPEGs (256 px, photo-like) through predict's own library path
   (rows.score_paths over open_scorer, the graph's decode included) with float32, the bfloat16
   export, the float32 export under --precision=bfloat16 (the runtime rewrite) and LiteRT int8,
   in one process, in rounds: each round times every variant once, in a rotated order;
3. serve: one pear_tf.serve per SavedModel variant (float32, bfloat16 export, float32 with
   --precision=bfloat16), each hit in turn by the same closed loop of 4 clients sending 4 images
   a request for --serve_seconds; images/s per round (a .tflite file is not served: TF Serving's
   contract is SavedModels);
4. beam: pear_tf.beam_score with 2 worker processes (sized: cores ÷ 2 threads each) per variant
   (float32, bfloat16 export, runtime bfloat16, LiteRT int8), end to end (process start to exit)
   and the pipeline's own images/s, in rounds.
Every figure is a ratio to float32 within its round; the tables print the median and the
spread (min–max) over the rounds, and the load average before and after each section: this
machine is shared, so only ratios measured side by side mean anything.
"""

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from beam_score import write_images  # noqa: E402  (the photo-like JPEGs of benchmarks/beam_score.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIANTS = ("float32", "bfloat16 export", "bfloat16 runtime", "LiteRT int8")


def export_models(work, model_dir=None, image_size=224, backbone="resnet50"):
    """{variant: (model path, precision flag or None)} and the bfloat16 check's record."""
    import keras

    from pear_tf.config import ModelConfig
    from pear_tf.exporting import bfloat16, representative
    from pear_tf.exporting import saved_model as export_lib
    from pear_tf.exporting import tflite as tflite_lib
    from pear_tf.model import build_rating_model

    if model_dir:
        model, checkpoint = export_lib.restore_model(model_dir, "last", image_size)
        metadata = export_lib.run_metadata(model, model_dir, checkpoint)
    else:
        keras.utils.set_random_seed(0)
        model = build_rating_model(ModelConfig(backbone=backbone, image_size=image_size, recon_size=32))
        model.build_all()
        metadata = export_lib.export_metadata(model, "benchmark")
    float32 = export_lib.export_saved_model(model, f"{work}/float32", metadata)
    try:
        bf16 = export_lib.export_saved_model(model, f"{work}/bfloat16", metadata, precision="bfloat16")
    except bfloat16.PrecisionCheckError:
        if model_dir:
            raise
        print("Random weights: the check's bar is lifted for this speed benchmark (the figure above stands).")
        bfloat16.MIN_SPEARMAN = -1.0
        bf16 = export_lib.export_saved_model(model, f"{work}/bfloat16", metadata, precision="bfloat16")
    images = representative.representative_images("synthetic", image_size, 64)
    int8 = tflite_lib.convert_in_subprocess(float32, "int8", f"{work}/int8.tflite", images)
    with open(os.path.join(bf16, "assets", "pear_metadata.json")) as f:
        check = json.load(f)["precision_check"]
    paths = {"float32": (float32, None), "bfloat16 export": (bf16, None), "bfloat16 runtime": (float32, "bfloat16"),
             "LiteRT int8": (int8, None)}  # fmt: skip
    return paths, check


def ratios_table(title, rates):
    """Prints median images/s, and the median and min–max over rounds of the ratio to float32."""
    print(f"\n{title}")
    print(f"{'variant':<20}{'images/s':>10}{'x float32':>11}{'spread':>16}")
    base = np.array(rates["float32"])
    for name, values in rates.items():
        ratio = np.array(values) / base
        spread = f"{ratio.min():.2f}-{ratio.max():.2f}"
        print(f"{name:<20}{np.median(values):>10.2f}{np.median(ratio):>10.2f}x{spread:>16}")


def predict_section(models, paths, rounds):
    from pear_tf.inference import rows as rows_lib
    from pear_tf.inference.scorer import open_scorer

    scorers = {name: open_scorer(path, flag) for name, (path, flag) in models.items()}
    for scorer in scorers.values():
        rows_lib.score_paths(scorer, paths[:16], 16)  # tracing and the graph rewrite stay out of the figures
    rates = {name: [] for name in scorers}
    for r in range(rounds):
        names = list(scorers)[r % len(scorers) :] + list(scorers)[: r % len(scorers)]
        for name in names:
            start = time.perf_counter()
            rows = rows_lib.score_paths(scorers[name], paths, 16)
            assert not any("error" in row for row in rows)
            rates[name].append(len(paths) / (time.perf_counter() - start))
        print(f"  predict round {r + 1}: " + ", ".join(f"{n} {rates[n][-1]:.2f}" for n in scorers), flush=True)
    return rates


def start_server(base, precision, port):
    command = [sys.executable, "-m", "pear_tf.serve", f"--model_base_path={os.path.dirname(base)}",
               "--model_name=pear", f"--port={port}", "--grpc_port=-1"]  # fmt: skip
    command += [f"--precision={precision}"] if precision else []
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(3000):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models/pear", timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"pear_tf.serve on {base} did not start")


def closed_loop_rate(port, body, per_request, seconds, clients=4):
    """Images/s of ``clients`` threads posting ``body`` back to back for ``seconds``."""
    done, deadline = [], time.perf_counter() + seconds
    url = f"http://127.0.0.1:{port}/v1/models/pear:predict"

    def client():
        while time.perf_counter() < deadline:
            request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=600) as response:
                assert response.status == 200
                response.read()
            done.append(per_request)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def serve_section(models, paths, rounds, seconds):
    servers = {name: (8600 + i, path, flag) for i, (name, (path, flag)) in enumerate(models.items())
               if not path.endswith(".tflite")}  # fmt: skip
    processes = [start_server(path, flag, port) for port, path, flag in servers.values()]
    try:
        instances = [{"b64": base64.b64encode(open(p, "rb").read()).decode()} for p in paths[:4]]
        body = json.dumps({"instances": instances}).encode()
        for port, _, _ in servers.values():
            closed_loop_rate(port, body, 4, 5, clients=1)  # warm-up: the first calls trace and rewrite
        rates = {name: [] for name in servers}
        for r in range(rounds):
            for name, (port, _, _) in servers.items():
                rates[name].append(closed_loop_rate(port, body, 4, seconds))
            print(f"  serve round {r + 1}: " + ", ".join(f"{n} {rates[n][-1]:.2f}" for n in servers), flush=True)
        return rates
    finally:
        for process in processes:
            process.terminate()
            process.wait()


def beam_section(models, list_file, count, rounds, work, workers=2):
    rates, pipeline_rates = {name: [] for name in models}, {name: [] for name in models}
    for r in range(rounds):
        for name, (path, flag) in models.items():
            out = f"{work}/beam_{r}_{name.replace(' ', '_')}"
            command = [sys.executable, "-m", "pear_tf.beam_score", f"--model={path}", f"--input_list={list_file}",
                       f"--output={out}/scores", "--direct_running_mode=multi_processing",
                       f"--direct_num_workers={workers}", "--batch_size=16"]  # fmt: skip
            command += [f"--precision={flag}"] if flag else []
            start = time.monotonic()
            result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
            seconds = time.monotonic() - start
            if result.returncode != 0 or f"Scored {count} images, 0 failed" not in result.stdout:
                sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
            rates[name].append(count / seconds)
            pipeline_rates[name].append(float(re.search(r"([\d.]+) images/s", result.stdout).group(1)))
        print(f"  beam round {r + 1}: " + ", ".join(f"{n} {rates[n][-1]:.2f}" for n in models), flush=True)
    return rates, pipeline_rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64, help="JPEGs predict scores per round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve_seconds", type=float, default=30)
    parser.add_argument("--beam_images", type=int, default=160)
    parser.add_argument("--beam_rounds", type=int, default=2)
    parser.add_argument("--sections", default="predict,serve,beam")
    parser.add_argument("--model_dir", default=None, help="A trained run to export instead of random weights.")
    parser.add_argument("--backbone", default="resnet50", help="tiny: a quick dry run of the script.")
    parser.add_argument("--image_size", type=int, default=224)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="cpu_precision_")
    from pear_tf.inference.precision import resolve

    print(f"{os.cpu_count()} CPUs ({resolve('auto')[1]}), load {os.getloadavg()}, work in {work}", flush=True)
    models, check = export_models(work, args.model_dir, args.image_size, args.backbone)
    print(f"bfloat16 export check: {json.dumps(check)}")
    paths = write_images(f"{work}/images", max(args.images, args.beam_images))
    sections = args.sections.split(",")
    if "predict" in sections:
        load = os.getloadavg()[0]
        rates = predict_section(models, paths[: args.images], args.rounds)
        ratios_table(f"predict (library path, in one process), {args.images} JPEGs, {args.rounds} rounds, load "
                     f"{load:.1f} -> {os.getloadavg()[0]:.1f}", rates)  # fmt: skip
    if "serve" in sections:
        load = os.getloadavg()[0]
        rates = serve_section(models, paths, args.rounds, args.serve_seconds)
        ratios_table(f"REST server, 4 clients x 4 images a request, {args.serve_seconds:.0f} s a round, load "
                     f"{load:.1f} -> {os.getloadavg()[0]:.1f}", rates)  # fmt: skip
    if "beam" in sections:
        list_file = f"{work}/beam_list.txt"
        with open(list_file, "w") as f:
            f.write("\n".join(paths[: args.beam_images]) + "\n")
        load = os.getloadavg()[0]
        rates, pipeline = beam_section(models, list_file, args.beam_images, args.beam_rounds, work)
        after = os.getloadavg()[0]
        title = f"Beam, 2 sized worker processes, {args.beam_images} JPEGs end to end, load {load:.1f} -> {after:.1f}"
        ratios_table(title, rates)
        ratios_table("Beam, the same runs: the pipeline's own images/s (from pipeline start)", pipeline)


if __name__ == "__main__":
    main()
