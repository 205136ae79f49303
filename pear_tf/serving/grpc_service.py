"""TF Serving's gRPC API over a ModelServer: PredictionService (Predict, GetModelMetadata)
and ModelService (GetModelStatus), with the ``tensorflow-serving-api`` protos on ``grpc.aio``.
The other methods of these services (Classify, Regress, MultiInference,
HandleReloadConfigRequest) answer UNIMPLEMENTED.

A client written for the real TF Serving works unchanged (docs/serving.md, "gRPC"). Errors abort
with the status code TF Serving gives: NOT_FOUND, INVALID_ARGUMENT, RESOURCE_EXHAUSTED.
"""

import math

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf.message import DecodeError
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, predict_pb2

from pear_tf.serving.core import SIGNATURE_INPUTS, RequestRecord
from pear_tf.serving.errors import ServingError


def resolve(server, spec, record):
    """The LoadedModel a ModelSpec proto names (version, version_label or the latest)."""
    if not spec.name:
        raise ServingError("model_spec.name is empty: name the model to use.")
    record.model = spec.name
    if spec.HasField("version") and spec.version_label:
        raise ServingError("model_spec may set version or version_label, not both.")
    version = spec.version.value if spec.HasField("version") else None
    model = server.registry.get(spec.name, version, spec.version_label or None)
    record.version = model.version
    return model


def _dtype_name(enum):
    try:
        return tf.as_dtype(enum).name
    except TypeError:  # an enum value no dtype has
        return f"unknown dtype {enum}"


def _ndarray(proto, name, limit):
    """The numpy value of a TensorProto, its declared shape checked first.

    A few bytes can declare billions of values (TensorFlow pads a short value list to the
    shape): more than ``limit`` are refused before anything is allocated.
    """
    dims = [d.size for d in proto.tensor_shape.dim]
    if proto.tensor_shape.unknown_rank or any(d < 0 for d in dims):
        raise ServingError(f"'{name}' must have a known shape; got {dims}.")
    count = math.prod(dims)
    if count > limit:
        raise ServingError(f"'{name}' declares {count} values (shape {dims}); a request may carry at most {limit}.")
    try:
        return tf.make_ndarray(proto)
    except (TypeError, ValueError) as e:  # contents that do not match the dtype or the shape
        raise ServingError(f"'{name}' is not a valid {_dtype_name(proto.dtype)} tensor of shape {dims}: {e}") from None


def _check_carried(proto, name):
    """Refuses a uint8 tensor that carries other than the values its shape declares (make_ndarray pads a short list)."""
    dims = [d.size for d in proto.tensor_shape.dim]
    if proto.tensor_shape.unknown_rank or any(d < 0 for d in dims):
        return  # _ndarray names it
    declared, carried = math.prod(dims), len(proto.tensor_content) or len(proto.int_val)
    if carried != declared:
        raise ServingError(f"'{name}' declares {declared} values (shape {dims}) but carries {carried}.")


def _inputs(server, model, signature, request):
    """The checked numpy input of a PredictRequest."""
    name = SIGNATURE_INPUTS[signature]
    unknown = set(request.inputs) - {name}
    if name not in request.inputs or unknown:
        raise ServingError(
            f"input tensor alias not found in signature: {sorted(unknown) or sorted(request.inputs)}. "
            f"Inputs expected to be in the set {{{name}}}."
        )
    proto = request.inputs[name]
    images = server.config.max_enqueued_batches * server.config.max_batch_size  # the most the queue can take
    if signature == "serving_default":
        if proto.dtype != tf.string.as_datatype_enum:
            raise ServingError(f"'{name}' must be DT_STRING (encoded images); got {_dtype_name(proto.dtype)}.")
        array = _ndarray(proto, name, images)
        if array.ndim != 1 or not len(array):
            raise ServingError(
                f"'{name}' must be a non-empty vector [N] of encoded images; got shape {list(array.shape)}."
            )
        for i, data in enumerate(array):
            server.check_image(data, i)
        return array
    pixels = signature == "predict_pixels"
    dtype = tf.uint8 if pixels else tf.float32
    if proto.dtype != dtype.as_datatype_enum:
        raise ServingError(f"'{name}' must be {'DT_UINT8' if pixels else 'DT_FLOAT'}; got {_dtype_name(proto.dtype)}.")
    size = int(model.metadata["model_config"]["image_size"])
    per_image = server.config.max_pixels if pixels else size * size
    if pixels:  # a 120 MP image is allowed, so a short value list padded to its shape must be refused first
        _check_carried(proto, name)
    array = _ndarray(proto, name, images * per_image * 3)
    if pixels:
        server.check_pixels(array)
    else:
        server.check_tensor(model, array)
    return array


class PredictionService:
    """Predict and GetModelMetadata."""

    def __init__(self, server):
        self.server = server

    async def _answer(self, context, handler, request):
        record = RequestRecord(self.server.metrics, "grpc")
        try:
            response = await handler(request, record)
        except ServingError as e:
            record.finish(e.code)
            await context.abort(grpc.StatusCode[e.code], str(e))
        record.finish("OK")
        return response

    async def Predict(self, request, context):  # noqa: N802 - the proto's name
        return await self._answer(context, self._predict, request)

    async def _predict(self, request, record):
        model = resolve(self.server, request.model_spec, record)
        signature = request.model_spec.signature_name or "serving_default"
        record.signature = signature
        if signature not in SIGNATURE_INPUTS:
            raise ServingError(f"Serving signature name: {signature!r} not found in signature def; "
                               f"this model has {sorted(SIGNATURE_INPUTS)}.")  # fmt: skip
        outputs = await self.server.predict(model, signature, _inputs(self.server, model, signature, request))
        wanted = list(request.output_filter) or list(outputs)
        missing = [key for key in wanted if key not in outputs]
        if missing:
            raise ServingError(f"output tensor alias not found in signature: {missing}; outputs: {sorted(outputs)}.")
        response = predict_pb2.PredictResponse()
        response.model_spec.name = model.name
        response.model_spec.version.value = model.version
        response.model_spec.signature_name = signature
        for key in wanted:
            response.outputs[key].CopyFrom(tf.make_tensor_proto(np.asarray(outputs[key])))
        return response

    async def GetModelMetadata(self, request, context):  # noqa: N802
        return await self._answer(context, self._metadata, request)

    async def _metadata(self, request, record):
        model = resolve(self.server, request.model_spec, record)
        fields = list(request.metadata_field)
        if not fields:
            raise ServingError("GetModelMetadataRequest must specify at least one metadata_field.")
        if fields != ["signature_def"]:
            raise ServingError(f"Metadata field {[f for f in fields if f != 'signature_def']} is not supported.")
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = model.name
        response.model_spec.version.value = model.version
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for name, proto in model.signature_defs.items():
            signature_map.signature_def[name].CopyFrom(proto)
        response.metadata["signature_def"].Pack(signature_map)
        return response


class ModelService:
    """GetModelStatus (the config is read at start: HandleReloadConfigRequest is not served)."""

    def __init__(self, server):
        self.server = server

    async def GetModelStatus(self, request, context):  # noqa: N802
        record = RequestRecord(self.server.metrics, "grpc")
        spec = request.model_spec
        record.model = spec.name
        try:
            if not spec.name:
                raise ServingError("model_spec.name is empty: name the model.")
            version = spec.version.value if spec.HasField("version") else None
            states = self.server.status(spec.name, version, spec.version_label or None)
        except ServingError as e:
            record.finish(e.code)
            await context.abort(grpc.StatusCode[e.code], str(e))
        record.finish("OK")
        response = get_model_status_pb2.GetModelStatusResponse()
        for version, state in states:
            status = response.model_version_status.add(version=version)
            status.state = get_model_status_pb2.ModelVersionStatus.State.Value(state)
        return response


def _parse_or_none(message_type):
    """A request deserializer that gives None for bytes that are not a ``message_type`` (answered INVALID_ARGUMENT)."""

    def parse(data):
        try:
            return message_type.FromString(data)
        except DecodeError:
            return None

    return parse


def _handlers(service, methods):
    """A generic handler for ``service`` ({name: (callable, request type, response type)})."""
    handlers = {}
    for name, (behaviour, request_type, response_type) in methods.items():

        async def checked(request, context, behaviour=behaviour, request_type=request_type):
            if request is None:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"The request is not a {request_type.__name__}.")
            return await behaviour(request, context)

        handlers[name] = grpc.unary_unary_rpc_method_handler(
            checked,
            request_deserializer=_parse_or_none(request_type),
            response_serializer=response_type.SerializeToString,
        )
    return grpc.method_handlers_generic_handler(service, handlers)


def make_grpc_server(server, address):
    """A grpc.aio server with both services on ``address`` ("host:port"); call ``await .start()``.

    Returns (grpc server, bound port).
    """
    limit = server.config.max_request_bytes
    prediction, models = PredictionService(server), ModelService(server)
    grpc_server = grpc.aio.server(
        options=[("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit)]
    )
    grpc_server.add_generic_rpc_handlers([
        _handlers("tensorflow.serving.PredictionService", {
            "Predict": (prediction.Predict, predict_pb2.PredictRequest, predict_pb2.PredictResponse),
            "GetModelMetadata": (prediction.GetModelMetadata, get_model_metadata_pb2.GetModelMetadataRequest,
                                 get_model_metadata_pb2.GetModelMetadataResponse),
        }),
        _handlers("tensorflow.serving.ModelService", {
            "GetModelStatus": (models.GetModelStatus, get_model_status_pb2.GetModelStatusRequest,
                               get_model_status_pb2.GetModelStatusResponse),
        }),
    ])  # fmt: skip
    port = grpc_server.add_insecure_port(address)
    return grpc_server, port
