"""The aiohttp application: TF Serving's REST API over one model base folder.

    GET  /v1/models/<name>[/versions/<v>]            model status
    GET  /v1/models/<name>[/versions/<v>]/metadata   signature definitions and the pear metadata
    POST /v1/models/<name>[/versions/<v>]:predict    {"instances": ...} or {"inputs": ...}

Every error is ``{"error": "..."}`` with a 4xx (or 5xx for a fault of the server's own),
and the server keeps answering.
"""

import asyncio
import json
import re

import numpy as np
import tensorflow as tf
from absl import logging
from aiohttp import web

from pear_tf.inference.metadata import demo_warning
from pear_tf.serving import rest
from pear_tf.serving.batcher import Batcher
from pear_tf.serving.registry import ModelRegistry

POLLER = web.AppKey("poller", asyncio.Task)
REGISTRY = web.AppKey("registry", ModelRegistry)
PATH = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+))?(?P<rest>/metadata|:predict)?$")


class ServingConfig:
    """Server settings; see pear_tf.serve for the flags."""

    def __init__(self, max_batch_size=32, batch_timeout_ms=2.0, poll_seconds=2.0, max_pixels=rest.REQUEST_MAX_PIXELS,
                 max_request_bytes=32 * 2**20):  # fmt: skip
        self.max_batch_size = max_batch_size
        self.batch_timeout_ms = batch_timeout_ms
        self.poll_seconds = poll_seconds
        self.max_pixels = max_pixels
        self.max_request_bytes = max_request_bytes


def _error(message, status):
    return web.json_response({"error": message}, status=status)


@web.middleware
async def json_errors(request, handler):
    """Answers every failure as {"error": ...}: the server never dies on a request."""
    try:
        return await handler(request)
    except rest.BadRequest as e:
        return _error(str(e), e.status)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return _error(e.reason if e.text is None or e.text.startswith(str(e.status)) else e.text, e.status)
    except Exception as e:  # noqa: BLE001
        logging.exception("Internal error on %s", request.path)
        return _error(f"internal error: {type(e).__name__}: {e}", 500)


class Server:
    """Holds the registry, the batchers and the routes."""

    def __init__(self, registry, config):
        self.registry = registry
        self.config = config
        self.batchers = {}

    def _model(self, name, version):
        if name != self.registry.name:
            raise rest.BadRequest(f"Servable not found for request: model {name!r} is not served here.", 404)
        if version is not None and not version.isdigit():
            raise rest.BadRequest(f"Invalid version {version!r}: versions are integers.", 400)
        model = self.registry.get(None if version is None else int(version))
        if model is None:
            which = "any version" if version is None else f"version {version}"
            raise rest.BadRequest(f"Servable not found for request: {name} {which}.", 404)
        return model

    async def route(self, request):
        match = PATH.match(request.path)
        if match is None:
            raise rest.BadRequest(f"Unknown path {request.path!r}; see /v1/models/<name>[:predict|/metadata].", 404)
        name, version, action = match.group("name"), match.group("version"), match.group("rest")
        model = self._model(name, version)
        if action == ":predict":
            if request.method != "POST":
                raise rest.BadRequest(":predict takes POST.", 405)
            return await self.predict(request, model)
        if request.method != "GET":
            raise rest.BadRequest(f"{request.path} takes GET.", 405)
        if action == "/metadata":
            return web.json_response(
                {
                    "model_spec": {"name": name, "signature_name": "", "version": str(model.version)},
                    "metadata": {**rest.signature_metadata(model.signatures), "pear_tf": model.metadata},
                }
            )
        versions = [model.version] if version is not None else self.registry.versions()
        status = {"error_code": "OK", "error_message": ""}
        return web.json_response(
            {"model_version_status": [{"version": str(v), "state": "AVAILABLE", "status": status} for v in versions]}
        )

    async def predict(self, request, model):
        try:
            body = json.loads(await request.read())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise rest.BadRequest(f"Malformed JSON: {e}.") from None
        signature, values, columnar = rest.parse_body(body)
        if signature == "serving_default":
            inputs = [rest.image_bytes(v, i, self.config.max_pixels) for i, v in enumerate(values)]
        else:
            size = model.metadata["model_config"]["image_size"]
            inputs = [rest.image_tensor(v, i, size) for i, v in enumerate(values)]
        outputs = await self._batcher(model, signature).submit(
            np.array(inputs, dtype=object if signature == "serving_default" else np.float32)
        )
        return web.json_response(rest.format_outputs(outputs, columnar))

    def _batcher(self, model, signature):
        key = (model.version, signature)
        if key not in self.batchers:
            function = model.signatures[signature]
            argument = rest.SIGNATURE_INPUTS[signature]

            def call(batch):
                tensor = tf.constant(list(batch), tf.string) if batch.dtype == object else tf.constant(batch)
                return {k: v.numpy() for k, v in function(**{argument: tensor}).items()}

            self.batchers[key] = Batcher(call, self.config.max_batch_size, self.config.batch_timeout_ms / 1000)
        return self.batchers[key]

    async def poll(self):
        """Picks up new versions without a restart."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.config.poll_seconds)
            await loop.run_in_executor(None, self.registry.refresh)
            for key in [k for k in self.batchers if k[0] not in self.registry.versions()]:
                self.batchers.pop(key).close()


def make_app(name, base_path, config=None):
    """Builds the aiohttp app serving ``base_path`` as model ``name``; loads its versions first."""
    config = config or ServingConfig()
    registry = ModelRegistry(name, base_path)
    if not registry.refresh():
        raise FileNotFoundError(f"No loadable SavedModel version under {base_path!r} (<base>/<number>/saved_model.pb).")
    server = Server(registry, config)
    app = web.Application(middlewares=[json_errors], client_max_size=config.max_request_bytes)
    app[REGISTRY] = registry
    app.router.add_route("*", "/{tail:.*}", server.route)

    async def start_polling(app):
        app[POLLER] = asyncio.get_running_loop().create_task(server.poll())

    async def stop_polling(app):
        app[POLLER].cancel()

    app.on_startup.append(start_polling)
    app.on_cleanup.append(stop_polling)
    return app


def serve(name, base_path, config, host="127.0.0.1", port=8501):
    """Serves ``base_path`` as model ``name`` until interrupted."""
    application = make_app(name, base_path, config)
    model = application[REGISTRY].get()
    warning = demo_warning(model.metadata)
    if warning:
        print(warning)
    print(f"Serving {name} from {base_path} at http://{host}:{port}/v1/models/{name}")
    web.run_app(application, host=host, port=port, print=None)
