"""Bulk scoring: pear_tf.predict against pear_tf.beam_score on Beam's DirectRunner, side by side.

    python benchmarks/beam_score.py [--images=2000 --resnet_images=2000 --models=demo,resnet50 --repeats=1]
    python benchmarks/beam_score.py --models=resnet50 --resnet_images=160 --repeats=3 \
        --rows=predict,beam_2_workers,beam_2_workers_unsized,beam_1_worker_pinned,beam_2_workers_pinned

In one run it:
1. writes N JPEGs of 256 px (smooth random photos-like content, quality 90) and the same
   images as TFRecords of tf.train.Example (4 shards, image/encoded + image/filename);
2. exports each model with random weights (speed does not depend on them): the demo size
   (tiny backbone, 64 px, pipelines/demo.flags) and ResNet50 at 224 (weights=None);
3. runs each command end to end in its own process, as a user would, and times it from
   launch to exit (TensorFlow's import and the model load included for every row):
   - predict: ``python -m pear_tf.predict --list=... --output=....jsonl`` (batch 16);
   - beam in-process: ``pear_tf.beam_score`` with ``--direct_running_mode=in_memory``;
   - beam 1 / 2 workers: ``--direct_running_mode=multi_processing --direct_num_workers=1|2``,
     each worker sized to its share of the cores (cores ÷ workers threads, issue 25);
   - beam 2 workers unsized: the same, each worker with every core's worth of threads
     (``--intra_op_threads=--inter_op_threads=<cores>``: what TensorFlow does by itself, before issue 25);
   - beam 1 / 2 workers pinned: ``--pin_workers``, one core a worker (the 1 -> 2 scaling that
     more cores would show, without two workers sharing a core);
   - beam tfrecord 2 workers: the same with ``--input_tfrecord``;
   - predict 1 core / 2 predicts 1 core each: ``predict`` pinned to one core (``taskset``), and two
     ``predict`` processes at once, each pinned to its own core with half the list: the machine's own
     1 -> 2 scaling for two independent processes, the ceiling of the pinned Beam rows' (a VM's two
     vCPUs may share a physical core, its caches or its memory bandwidth);
4. prints images/s, the ratio to predict, the pipeline's own images/s (beam_score's line),
   and the peak resident memory of the main process and of each worker process (polled).
With ``--repeats=N`` every row runs N times, the rows interleaved (round 1 of all rows, then
round 2...), and the ratios are taken within a round: the table gives their median and spread.
Every run must score all N images (the counts are checked), else the benchmark fails.
"""

import argparse
import dataclasses
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = ("predict", "beam_in-process", "beam_1_worker", "beam_2_workers", "beam_2_workers_unsized",
        "beam_1_worker_pinned", "beam_2_workers_pinned", "beam_tfrecord_2_workers", "predict_1_core",
        "2_predicts_1_core_each")
MODELS = {
    "demo": dict(backbone="tiny", image_size=64, recon_size=32),
    "resnet50": dict(backbone="resnet50", image_size=224, recon_size=32),
}


def write_images(folder, count, size=256, seed=0):
    """JPEGs with smooth structure (upsampled low-res noise plus grain), like photos in size on disk."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(count):
        coarse = Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).resize((size, size), Image.BICUBIC)
        pixels = np.clip(np.asarray(coarse, np.int16) + rng.integers(-12, 12, (size, size, 3)), 0, 255)
        path = os.path.join(folder, f"img_{i:05d}.jpg")
        Image.fromarray(pixels.astype(np.uint8)).save(path, quality=90)
        paths.append(path)
    return paths


def write_tfrecords(paths, prefix, shards=4):
    import tensorflow as tf

    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    for shard in range(shards):
        with tf.io.TFRecordWriter(f"{prefix}-{shard:05d}-of-{shards:05d}") as writer:
            for path in paths[shard::shards]:
                with open(path, "rb") as f:
                    feature = {
                        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[f.read()])),
                        "image/filename": tf.train.Feature(bytes_list=tf.train.BytesList(value=[path.encode()])),
                    }
                writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    return f"{prefix}-*"


def export_model(name, base):
    import keras

    from pear_tf.config import ModelConfig
    from pear_tf.exporting import saved_model as export_lib
    from pear_tf.model import build_rating_model

    keras.utils.set_random_seed(0)
    model = build_rating_model(dataclasses.replace(ModelConfig(), backbone_weights=None, **MODELS[name]))
    model.build_all()
    return export_lib.export_saved_model(model, base, export_lib.export_metadata(model, "benchmark"), mc_samples=16)


def run_measured(command):
    """(wall seconds, stdout, {pid: (name, peak rss MB)}) of a command and its whole process tree."""
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(process.pid)
    peaks = {}
    while process.poll() is None:
        try:
            for p in [root, *root.children(recursive=True)]:
                if "python" not in p.name():
                    continue  # a shell or helper that Beam starts, not a worker
                rss = p.memory_info().rss / 2**20
                peaks[p.pid] = ("main" if p.pid == root.pid else "worker", max(rss, peaks.get(p.pid, ("", 0))[1]))
        except psutil.Error:
            pass  # a process ended between listing and reading it
        time.sleep(0.2)
    stdout, stderr = process.communicate()
    seconds = time.monotonic() - start
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{stderr[-3000:]}")
    return seconds, stdout, peaks


def _halves(list_file):
    """Two list files, each with half of ``list_file``'s paths (the first half, the rest)."""
    paths = open(list_file).read().split()
    halves = []
    for i, part in enumerate((paths[: len(paths) // 2], paths[len(paths) // 2 :])):
        halves.append(f"{list_file}.half{i}")
        with open(halves[-1], "w") as f:
            f.write("\n".join(part) + "\n")
    return halves


def commands(model, list_file, tfrecords, out):
    """The ways to score the same images, as command lines, by row name."""
    python, cores = sys.executable, sorted(os.sched_getaffinity(0))
    predict = [python, "-m", "pear_tf.predict", f"--model={model}", f"--list={list_file}", f"--output={out}/p.jsonl"]
    halves = [
        f"taskset -c {core} {python} -m pear_tf.predict --model={model} --list={half} --output={out}/p{i}.jsonl"
        for i, (core, half) in enumerate(zip(cores, _halves(list_file)))
    ]
    beam = [python, "-m", "pear_tf.beam_score", f"--model={model}", "--runner=DirectRunner", "--batch_size=16"]
    files = lambda name: [f"--input_list={list_file}", f"--output={out}/{name}"]  # noqa: E731
    workers = lambda n: ["--direct_running_mode=multi_processing", f"--direct_num_workers={n}"]  # noqa: E731
    return {
        "predict": predict,
        "beam in-process": beam + files("b0") + ["--direct_running_mode=in_memory"],
        "beam 1 worker": beam + files("b1") + workers(1),
        "beam 2 workers": beam + files("b2") + workers(2),
        "beam 2 workers unsized": beam + files("b2u") + workers(2)
        + [f"--intra_op_threads={len(cores)}", f"--inter_op_threads={len(cores)}"],
        "beam 1 worker pinned": beam + files("b1p") + workers(1) + ["--pin_workers", "--intra_op_threads=1"],
        "beam 2 workers pinned": beam + files("b2p") + workers(2) + ["--pin_workers", "--intra_op_threads=1"],
        "beam tfrecord 2 workers": beam + [f"--input_tfrecord={tfrecords}", f"--output={out}/bt"] + workers(2),
        "predict 1 core": ["taskset", "-c", str(cores[0]), *predict],
        # Both halves at once; the shell waits for both and fails if either does.
        "2 predicts 1 core each": ["sh", "-c", f"{halves[0]} & first=$!; {halves[1]}; last=$?; wait $first && exit $last"],
    }


def check_count(name, stdout, count):
    if name.startswith("2 predicts"):
        halves = (count // 2, count - count // 2)
        ok = stdout.count("rows (0 unreadable)") == 2 and all(f"Wrote {n} rows (0 unreadable)" in stdout for n in halves)
    elif name.startswith("predict"):
        ok = f"Wrote {count} rows (0 unreadable)" in stdout
    else:
        ok = re.search(rf"Scored {count} images, 0 failed", stdout) is not None
    if not ok:
        sys.exit(f"{name} did not score all {count} images:\n{stdout[-2000:]}")


def benchmark(model_name, count, work, rows, repeats):
    """{row: [(images/s, pipeline images/s, peaks) per round]}: every row once a round, rounds interleaved."""
    paths = write_images(os.path.join(work, "images"), count)
    list_file = os.path.join(work, f"paths_{count}.txt")
    with open(list_file, "w") as f:
        f.write("\n".join(paths) + "\n")
    tfrecords = write_tfrecords(paths, os.path.join(work, f"records_{count}", "images.tfrecord"))
    model = export_model(model_name, os.path.join(work, "savedmodels", model_name))
    out = os.path.join(work, f"out_{model_name}")
    os.makedirs(out, exist_ok=True)
    chosen = {n: c for n, c in commands(model, list_file, tfrecords, out).items() if n.replace(" ", "_") in rows}
    results = {name: [] for name in chosen}
    for round_ in range(repeats):
        for name, command in chosen.items():
            seconds, stdout, peaks = run_measured(command)
            check_count(name, stdout, count)
            pipeline = re.search(r"([\d.]+) images/s", stdout)
            results[name].append((count / seconds, float(pipeline.group(1)) if pipeline else None, peaks))
            print(f"  {model_name} round {round_ + 1} {name}: {count} images in {seconds:.1f} s "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
    return results


def report(model_name, count, results):
    """Median images/s of each row, and its ratio to predict within each round: median (min-max)."""
    base = [rate for rate, _, _ in results["predict"]]
    print(f"\n{model_name}: {count} JPEGs of 256 px, end to end (process start to exit), {len(base)} round(s)")
    header = f"{'run':<26}{'images/s':>9}{'x predict':>10}{'spread':>12}{'pipeline img/s':>16}"
    print(f"{header}  peak RSS MB (main; workers)")
    for name, runs in results.items():
        rates = [rate for rate, _, _ in runs]
        ratios = [rate / b for rate, b in zip(rates, base)]
        pipeline = [p for _, p, _ in runs if p]
        peaks = runs[-1][2]
        main = [round(mb) for kind, mb in peaks.values() if kind == "main"]
        workers = sorted(round(mb) for kind, mb in peaks.values() if kind == "worker")
        pipe = f"{statistics.median(pipeline):.2f}" if pipeline else "-"
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(f"{name:<26}{statistics.median(rates):>9.2f}{statistics.median(ratios):>9.2f}x{spread:>12}{pipe:>16}"
              f"  {main[0] if main else '-'}; {workers or '-'}")  # fmt: skip
    for a, b, what in (("beam 1 worker", "beam 2 workers", "1 -> 2 worker processes (sized)"),
                       ("beam 1 worker pinned", "beam 2 workers pinned", "1 -> 2 worker processes, one core each"),
                       ("beam 2 workers unsized", "beam 2 workers", "2 workers: sized / unsized"),
                       ("predict 1 core", "2 predicts 1 core each",
                        "1 -> 2 independent predict processes, one core each (the machine's own scaling)")):  # fmt: skip
        if a in results and b in results:
            growth = [rb / ra for (ra, _, _), (rb, _, _) in zip(results[a], results[b])]
            print(f"{what}: x{statistics.median(growth):.2f} images/s ({min(growth):.2f}-{max(growth):.2f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000, help="JPEGs for the demo model.")
    parser.add_argument("--resnet_images", type=int, default=2000, help="JPEGs for ResNet50 (fewer if slow).")
    parser.add_argument("--models", default="demo,resnet50")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--repeats", type=int, default=1, help="Rounds of every row, interleaved.")
    parser.add_argument("--rows", default=",".join(ROWS), help="Which rows (predict is always needed).")
    args = parser.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="beam_bench_")
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()}, work in {work}", flush=True)
    rows = set(args.rows.split(",")) | {"predict"}
    for model_name in args.models.split(","):
        count = args.images if model_name == "demo" else args.resnet_images
        report(model_name, count, benchmark(model_name, count, work, rows, args.repeats))


if __name__ == "__main__":
    main()
