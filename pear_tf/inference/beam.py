"""Bulk scoring on Apache Beam: the same pipeline on one machine (DirectRunner) or a cluster.

Images are read as bytes (Beam's fileio for file patterns and list files, or TFRecords of
``tf.train.Example``), scored in batches by the SavedModel's ``serving_default`` signature
(the model's own decoding and preprocessing, so a score equals ``pear_tf.predict``'s), and
written as ``PREFIX-SSSSS-of-NNNNN.<jsonl|parquet|csv>``. Every input ends up either in the
scores or in ``PREFIX-errors-*.jsonl`` (path, error); Beam counters count both.

Example:
  >>> config = BeamScoreConfig(model="savedmodels/demo", inputs=("photos/*.jpg",), output="out/scores")
  >>> summary = run(config, ["--runner=DirectRunner"])  # {"scored": ..., "failed": ..., "images_per_s": ...}
"""

import csv
import dataclasses
import io
import json
import os
import sys
import time

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes, FileMetadata
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics, MetricsFilter
from apache_beam.ml.inference.base import ModelHandler, RunInference
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pear_tf import startup
from pear_tf.errors import BadValue, NotFound, op_error_summary
from pear_tf.inference import signatures, storage
from pear_tf.inference import sizing as sizing_lib
from pear_tf.inference.metadata import read_metadata, read_tflite_metadata
from pear_tf.inference.precision import PrecisionError
from pear_tf.inference.rows import CALIBRATED_COLUMNS
from pear_tf.inference.storage import is_tflite, local_copy
from pear_tf.inference.versions import latest_version_dir

# TensorFlow is not imported here: the launcher only reads the model's layout, metadata and
# signature (storage.py, signatures.py), so it starts in Beam's own import time; each worker
# imports TensorFlow, quietly (no CUDA probing lines), before it parses a record or loads the model.

FORMATS = ("jsonl", "parquet", "csv")
NAMESPACE = "pear_tf"  # of the Beam counters `scored` and `failed`
ERRORS = "errors"  # the tagged output of error rows: {"path", "error"}


@dataclasses.dataclass(frozen=True)
class BeamScoreConfig:
    """What to score, with which model, and where the rows go.

    Attributes:
      model: a SavedModel version folder or a model base folder (its latest version is used).
      inputs: file patterns on any filesystem Beam knows (local, gs://, s3://, hdfs://).
      input_list: a text file of image paths, one a line (blank lines and # comments skipped).
      input_tfrecord: a pattern of TFRecord files of tf.train.Example.
      output: the PREFIX of PREFIX-SSSSS-of-NNNNN.<format>, PREFIX-errors-*.jsonl, PREFIX-selected-*.txt.
      format: jsonl, parquet or csv.
      min_score: when set, PREFIX-selected-*.txt lists the paths scoring at or above it.
      batch_size: images per model call (Beam's BatchElements works up to it).
      image_key, path_key: the Example features holding the encoded image and its path.
      precision: a SavedModel's (None: as exported; float32, bfloat16, or auto: decided by each worker's
        own CPU, inference/precision.py). A .tflite model computes as it was converted.
      intra_op_threads, inter_op_threads: each worker process's TensorFlow pools (LiteRT: its threads);
        0: the machine's cores ÷ worker_processes (inference/sizing.py).
      worker_processes: scoring processes per machine (0: from the runner's options).
      pin_workers: pin each worker process to its own cores.
    """

    model: str
    output: str
    inputs: tuple = ()
    input_list: str = None
    input_tfrecord: str = None
    format: str = "jsonl"
    min_score: float = None
    batch_size: int = 16
    image_key: str = "image/encoded"
    path_key: str = "image/filename"
    precision: str = None
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    worker_processes: int = 0
    pin_workers: bool = False


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """The model behind every row: its version folder, name, version and attribute names (none for a baseline)."""

    version_dir: str
    name: str
    version: int
    attribute_names: tuple
    calibrated_outputs: tuple = ()  # those of rows.CALIBRATED_COLUMNS the model has (older models: none)

    @property
    def has_attributes(self):
        return bool(self.attribute_names)


def model_info(model_path):
    """ModelInfo of a base folder (its latest version) or a version folder, from its metadata asset.

    A .tflite file's comes from the metadata in its flatbuffer (its model's name and version).
    """
    # Local paths made absolute (workers may start elsewhere); not a URL: gs://b would become gs:/b.
    path = model_path.rstrip("/") if "://" in model_path else os.path.abspath(model_path)
    if is_tflite(path):
        return tflite_model_info(path)
    version_dir = latest_version_dir(path).rstrip("/")
    metadata = read_metadata(version_dir)
    folder = os.path.basename(version_dir)
    # TF Serving layout: <name>/<number>/; a lone SavedModel folder is its own name, unversioned.
    numbered = folder.isdigit()
    name = os.path.basename(os.path.dirname(version_dir)) if numbered else folder
    calibrated = tuple(key for key in CALIBRATED_COLUMNS if key in metadata.get("outputs", []))
    return ModelInfo(version_dir, name, int(folder) if numbered else None, tuple(metadata["attribute_names"]), calibrated)


def tflite_model_info(path):
    """ModelInfo of a .tflite file (NotFound or BadValue naming it: missing, or without pear_metadata)."""
    if not storage.exists(path):
        raise NotFound(f"--model={path!r} does not exist.")
    metadata = read_tflite_metadata(local_copy(path))
    if metadata is None:
        raise BadValue(f"--model={path!r} carries no pear_metadata: export it again with pear_tf.export --tflite.")
    model = metadata.get("model", {})
    version = str(model.get("version", ""))
    name = model.get("name") or os.path.splitext(os.path.basename(path))[0]
    # The file's own outputs (a full-int8 file has no photo-likeness flag).
    calibrated = tuple(key for key in CALIBRATED_COLUMNS if key in metadata.get("tflite", {}).get("outputs", {}))
    return ModelInfo(path, name, int(version) if version.isdigit() else None, tuple(metadata["attribute_names"]),
                     calibrated)  # fmt: skip


def read_model_metadata(model_path):
    """The metadata of the model behind ModelInfo.version_dir: a SavedModel version or a .tflite file."""
    return read_tflite_metadata(local_copy(model_path)) if is_tflite(model_path) else read_metadata(model_path)


def check_config(config):
    """The ModelInfo, once everything that can fail before the pipeline starts has been checked.

    Raises ValueError or FileNotFoundError naming the flag and what to do: a bad --model,
    a pattern or list with nothing in it, an unwritable --output, an unknown --format.
    """
    if config.format not in FORMATS:
        raise BadValue(f"--format={config.format!r}: use one of {', '.join(FORMATS)}.")
    if not (config.inputs or config.input_list or config.input_tfrecord):
        raise BadValue("Nothing to score: give --input=PATTERN, --input_list=FILE or --input_tfrecord=PATTERN.")
    if config.batch_size < 1:
        raise BadValue(f"--batch_size={config.batch_size}: it must be at least 1.")
    info = model_info(config.model)
    if is_tflite(info.version_dir):
        if config.precision is not None:
            raise PrecisionError(f"--precision applies to SavedModels; {config.model} computes as it was converted.")
    else:
        signatures.check_serving_signature(info.version_dir)  # reading the proto is cheap; loading is the workers'
    for flag, pattern in [("--input", p) for p in config.inputs] + [("--input_tfrecord", config.input_tfrecord)]:
        if pattern and os.path.isdir(pattern):
            raise BadValue(
                f"{flag}={pattern!r} is a folder: give a pattern, e.g. {pattern}/*.jpg, or {pattern}/** "
                "for its subfolders too."
            )
        if pattern and not _match(flag, pattern, limit=1):
            raise NotFound(f"{flag}={pattern!r} matches no files.")
    if config.input_list:
        _check_list(config.input_list)
    _check_writable(config.output)
    return info


def _match(flag, pattern, limit=None):
    try:
        return FileSystems.match([pattern], limits=[limit])[0].metadata_list
    except Exception as e:  # a filesystem Beam cannot reach or does not know (missing gcs extra, bad scheme)
        raise BadValue(f"{flag}={pattern!r}: {e}") from None


def _check_list(list_file):
    if not FileSystems.exists(list_file):
        raise NotFound(f"--input_list={list_file!r} does not exist.")
    with FileSystems.open(list_file, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        if not any(_list_entry(line.decode("utf-8", "replace")) for line in f):
            raise BadValue(f"--input_list={list_file!r} lists no paths (one path a line).")


def _check_writable(prefix):
    if prefix.endswith(("/", "\\")) or os.path.isdir(prefix):
        raise BadValue(
            f"--output={prefix!r} is a folder; give a file prefix in it, e.g. {prefix.rstrip('/')}/scores."
        )
    probe = f"{prefix}-write-check"
    try:
        FileSystems.create(probe).close()
        FileSystems.delete([probe])
    except Exception as e:  # any filesystem's error: read-only, missing bucket, a file where a folder should be
        raise BadValue(f"--output={prefix!r} is not writable: {e}") from None


def _list_entry(line):
    """The path on a list-file line, or None for a blank line or a # comment (as pear_tf.predict --list)."""
    line = line.strip()
    return line if line and not line.startswith("#") else None


def _reason(error):
    text = getattr(error, "strerror", None) or str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class ReadImage(beam.DoFn):
    """(path, bytes) of a path or FileMetadata; a file that cannot be read goes to the ``errors`` output."""

    def process(self, file):
        metadata = file if isinstance(file, FileMetadata) else FileMetadata(file, 0)
        try:
            # UNCOMPRESSED: fileio would otherwise gunzip a file named *.gz behind our back.
            data = fileio.ReadableFile(metadata, CompressionTypes.UNCOMPRESSED).read()
        except Exception as e:  # any filesystem's error: this file is reported and the pipeline goes on
            yield beam.pvalue.TaggedOutput(ERRORS, {"path": metadata.path, "error": f"could not read: {_reason(e)}"})
            return
        yield metadata.path, data


class ParseExample(beam.DoFn):
    """(path, bytes) of a serialized tf.train.Example; a record without them goes to the ``errors`` output."""

    def __init__(self, image_key, path_key):
        self.image_key, self.path_key = image_key, path_key

    def setup(self):
        startup.import_tensorflow_quietly()  # example_pb2 below imports TensorFlow

    def process(self, item):
        from google.protobuf.message import DecodeError
        from tensorflow.core.example import example_pb2

        tfrecord, record = item
        try:
            features = example_pb2.Example.FromString(record).features.feature
        except DecodeError:
            features = {}
        path, data = (_first_bytes(features, key) for key in (self.path_key, self.image_key))
        if path is None or data is None:
            missing = " and ".join(k for k, v in ((self.path_key, path), (self.image_key, data)) if v is None)
            where = path.decode("utf-8", "replace") if path is not None else f"{tfrecord} (a record)"
            yield beam.pvalue.TaggedOutput(ERRORS, {"path": where, "error": f"not a tf.train.Example with {missing}"})
            return
        yield path.decode("utf-8", "replace"), data


def _first_bytes(features, key):
    values = features[key].bytes_list.value if key in features else []
    return values[0] if values else None


def read_images(pipeline, config):
    """(images, errors): PCollections of (path, bytes) from every input of ``config``, and of error rows."""
    files = []
    if config.inputs:
        patterns = pipeline | "Patterns" >> beam.Create(list(config.inputs))
        files.append(patterns | fileio.MatchAll() | "SpreadMatches" >> beam.Reshuffle())
    if config.input_list:
        lines = pipeline | "ReadList" >> beam.io.ReadFromText(config.input_list)
        entries = lines | "ListEntries" >> beam.FlatMap(lambda line: [p for p in [_list_entry(line)] if p])
        files.append(entries | "SpreadList" >> beam.Reshuffle())
    images, errors = [], []
    if files:
        read = files | "Files" >> beam.Flatten() | beam.ParDo(ReadImage()).with_outputs(ERRORS, main="images")
        images.append(read.images)
        errors.append(read[ERRORS])
    if config.input_tfrecord:
        records = (
            pipeline
            | "TFRecordPatterns" >> beam.Create([config.input_tfrecord])
            | beam.io.ReadAllFromTFRecord(with_filename=True)
        )
        parsed = records | beam.ParDo(ParseExample(config.image_key, config.path_key)).with_outputs(
            ERRORS, main="images"
        )
        images.append(parsed.images)
        errors.append(parsed[ERRORS])
    return images | "Images" >> beam.Flatten(), errors | "ReadErrors" >> beam.Flatten()


def score_batch(scorer, batch, info):
    """Rows for a batch of (path, bytes): score and error rows, one per image, in order.

    A batch with a bad image is scored again image by image, so a bad file costs only itself
    and its neighbours keep exactly the scores they get on their own.
    """
    import tensorflow as tf  # worker side: loaded (quietly) by load_model before any batch

    from pear_tf.data.host_decode import ImageError

    paths, data = [p for p, _ in batch], [d for _, d in batch]
    try:
        return _score_rows(scorer.score_bytes(data), paths, info)
    except ImageError as e:
        if len(batch) == 1:
            return [{"path": paths[0], "error": f"could not decode: {e}"}]
    except tf.errors.OpError as e:
        if len(batch) == 1:
            verb = "decode" if isinstance(e, tf.errors.InvalidArgumentError) else "score"
            return [{"path": paths[0], "error": f"could not {verb}: {op_error_summary(e.message)}"}]
    return [row for item in batch for row in score_batch(scorer, [item], info)]


def _score_rows(outputs, paths, info):
    rows = []
    for i, path in enumerate(paths):
        row = {
            "path": path,
            "score": float(outputs["score"][i]),
            "score_std": float(outputs["score_std"][i]),
            "distribution": outputs["distribution"][i].tolist(),
        }
        if info.has_attributes:
            row["attributes"] = dict(zip(info.attribute_names, outputs["attributes"][i].tolist()))
        row.update({key: outputs[key][i].item() for key in info.calibrated_outputs})
        rows.append({**row, "model": info.name, "version": info.version})
    return rows


class PearModelHandler(ModelHandler):
    """Beam's RunInference handler for a pear_tf SavedModel or .tflite file: (path, bytes) in, row dicts out.

    One scorer per worker process (RunInference shares it among the process's threads):
    SavedModelScorer (tf.saved_model.load, ``serving_default`` on encoded bytes) or, for a .tflite
    file, TFLiteBulkScorer. Beam's own TF handler loads through tf.keras, which Keras 3 cannot do
    for a SavedModel. Before loading, the process sizes itself (``sizing``: threads from its
    machine's cores ÷ the processes on it, optionally pinned) and resolves ``precision`` on its own CPU.
    """

    def __init__(self, info, batch_size=16, precision=None, sizing=None):
        # min = max: full batches, as pear_tf.predict makes; BatchElements' adaptive sizes start at 1.
        super().__init__(min_batch_size=batch_size, max_batch_size=batch_size)
        self.info = info
        self.precision = precision
        self.sizing = sizing or sizing_lib.WorkerSizing()

    def load_model(self):
        startup.import_tensorflow_quietly()  # before anything else in this worker imports it
        from pear_tf.inference.scorer import open_scorer

        # TensorFlow's pools are sized for a .tflite model too: the host decode's resize runs on them.
        threads, described = sizing_lib.size_this_process(self.sizing)
        scorer = open_scorer(self.info.version_dir, self.precision, threads)
        # One write of the whole line: workers share stderr, and print's separate newline write let two
        # workers' lines run together (seen when both finish loading at the same moment).
        sys.stderr.write(f"pear_tf worker {os.getpid()}: {described}; computes in {scorer.precision}.\n")
        sys.stderr.flush()
        return scorer

    def run_inference(self, batch, model, inference_args=None):
        return score_batch(model, batch, self.info)

    def get_num_bytes(self, batch):
        return sum(len(data) for _, data in batch)  # the default pickles the whole batch to measure it

    def get_metrics_namespace(self):
        return f"{NAMESPACE}_model"


def _failed_batch_rows(failure):
    """Error rows for a batch RunInference's exception handling caught (an error score_batch does not expect)."""
    batch, (_, error, _) = failure
    return [{"path": path, "error": f"could not score: {error}"} for path, _ in batch]


class CountAndRoute(beam.DoFn):
    """Counts each row as scored or failed (Beam counters) and sends error rows to the ``errors`` output."""

    def setup(self):
        self.scored = Metrics.counter(NAMESPACE, "scored")
        self.failed = Metrics.counter(NAMESPACE, "failed")

    def process(self, row):
        if "error" in row:
            self.failed.inc()
            yield beam.pvalue.TaggedOutput(ERRORS, row)
        else:
            self.scored.inc()
            yield row


def worker_sizing(config, options):
    """How each scoring process sizes itself (inference/sizing.py), from ``config`` and the runner's options."""
    processes = config.worker_processes or sizing_lib.processes_per_machine(options)
    # A tag per pipeline run: the slot lock files of two pipelines on one machine do not collide.
    tag = f"pear_tf-{os.getpid()}-{int(time.time())}"
    return sizing_lib.WorkerSizing(processes, config.intra_op_threads, config.inter_op_threads, config.pin_workers, tag)


def build_pipeline(pipeline, config, info):
    """Adds reading, scoring and writing to ``pipeline``: every input image ends in the scores or the errors."""
    images, read_errors = read_images(pipeline, config)
    handler = PearModelHandler(info, config.batch_size, config.precision, worker_sizing(config, pipeline.options))
    scored, failures = images | "Score" >> RunInference(handler).with_exception_handling()
    batch_errors = failures.failed_inferences | "FailedBatches" >> beam.FlatMap(_failed_batch_rows)
    rows = (
        (scored, read_errors, batch_errors)
        | "AllRows" >> beam.Flatten()
        | "CountAndRoute" >> beam.ParDo(CountAndRoute()).with_outputs(ERRORS, main="scores")
    )
    write_scores(rows.scores, config.output, config.format, info)
    errors = rows[ERRORS] | "ErrorsAsJson" >> beam.Map(json.dumps)
    errors | "WriteErrors" >> beam.io.WriteToText(f"{config.output}-errors", file_name_suffix=".jsonl")
    if config.min_score is not None:
        selected = rows.scores | "Selected" >> beam.FlatMap(_path_at_or_above, config.min_score)
        selected | "WriteSelected" >> beam.io.WriteToText(f"{config.output}-selected", file_name_suffix=".txt")


def _path_at_or_above(row, min_score):
    return [row["path"]] if row["score"] >= min_score else []


def write_scores(rows, prefix, row_format, info):
    """Writes score rows as PREFIX-SSSSS-of-NNNNN.<row_format> (jsonl, csv or parquet)."""
    if row_format == "jsonl":
        lines = rows | "AsJson" >> beam.Map(json.dumps)
        return lines | "WriteScores" >> beam.io.WriteToText(prefix, file_name_suffix=".jsonl")
    if row_format == "csv":
        header = _csv_line(csv_columns(info))
        lines = rows | "AsCsv" >> beam.Map(lambda r: _csv_line(csv_values(r, info)))
        return lines | "WriteScores" >> beam.io.WriteToText(prefix, file_name_suffix=".csv", header=header)
    return rows | "WriteScores" >> beam.io.WriteToParquet(prefix, parquet_schema(info), file_name_suffix=".parquet")


def csv_columns(info):
    """CSV header: one column per attribute name; the distribution as space-separated probabilities."""
    return ["path", "score", "score_std", "distribution", *info.attribute_names, "model", "version",
            *info.calibrated_outputs]  # fmt: skip


def csv_values(row, info):
    attributes = [row["attributes"][name] for name in info.attribute_names]
    distribution = " ".join(repr(p) for p in row["distribution"])
    return [row["path"], row["score"], row["score_std"], distribution, *attributes, row["model"], row["version"],
            *[row[key] for key in info.calibrated_outputs]]  # fmt: skip


def _csv_line(values):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(["" if v is None else v for v in values])
    return buffer.getvalue()


def parquet_schema(info):
    """Arrow schema of the parquet rows; ``attributes`` is a struct of named floats (absent for a baseline)."""
    import pyarrow as pa

    fields = [("path", pa.string()), ("score", pa.float32()), ("score_std", pa.float32())]
    fields.append(("distribution", pa.list_(pa.float32())))
    if info.has_attributes:
        fields.append(("attributes", pa.struct([(name, pa.float32()) for name in info.attribute_names])))
    types = {"calibrated_score": pa.float32(), "ood_score": pa.float32(), "is_photo_like": pa.bool_()}
    calibrated = [(key, types[key]) for key in info.calibrated_outputs]
    return pa.schema(fields + [("model", pa.string()), ("version", pa.int64())] + calibrated)


def run(config, pipeline_args=(), info=None):
    """Checks ``config``, runs the pipeline with Beam's options ``pipeline_args``, and returns its counts.

    ``info`` is check_config's result when the caller has already checked ``config``.

    Returns:
      A dict: ``scored`` and ``failed`` (Beam counters), ``seconds`` (wall time from the pipeline's
      start to its end, model loading included) and ``images_per_s``.
    """
    info = info or check_config(config)
    options = PipelineOptions(list(pipeline_args))
    if options.view_as(StandardOptions).runner is None:
        # Beam's default (Prism) downloads its runner binary at start; DirectRunner is in-process.
        options.view_as(StandardOptions).runner = "DirectRunner"
    start = time.monotonic()
    pipeline = beam.Pipeline(options=options)
    build_pipeline(pipeline, config, info)
    result = pipeline.run()
    result.wait_until_finish()
    seconds = time.monotonic() - start
    scored, failed = (_counter(result, name) for name in ("scored", "failed"))
    return {"scored": scored, "failed": failed, "seconds": seconds, "images_per_s": (scored + failed) / seconds}


def _counter(result, name):
    counters = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE).with_name(name))["counters"]
    return sum(c.committed if c.committed is not None else c.attempted for c in counters)
