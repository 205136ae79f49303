"""The aiohttp application: TF Serving's REST API over the served models, plus a page and metrics.

    GET  /                                                        the page (pear_tf/serving/static/page.html)
    GET  /monitoring/prometheus/metrics                           Prometheus metrics
    GET  /v1/models/<name>[/versions/<v>|/labels/<l>]             model status
    GET  /v1/models/<name>[/versions/<v>|/labels/<l>]/metadata    signature definitions and the pear metadata
    POST /v1/models/<name>[/versions/<v>|/labels/<l>]:predict     {"instances": ...} or {"inputs": ...}

Every error is ``{"error": "..."}`` with a 4xx (or 5xx: 503 with Retry-After when the
queue is full), and the server keeps answering.
"""

import json
import re

import numpy as np
from absl import logging
from aiohttp import web

from pear_tf.serving import page, rest
from pear_tf.serving.core import RequestRecord
from pear_tf.serving.errors import ServingError

SERVER = web.AppKey("server", object)
PATH = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+)|/labels/(?P<label>[^/:]+))?(?P<rest>/metadata|:predict)?$"
)
RETRY_AFTER_SECONDS = "1"


def _error(error):
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if error.http_status == 503 else None
    return web.json_response({"error": str(error)}, status=error.http_status, headers=headers)


@web.middleware
async def json_errors(request, handler):
    """Answers every failure as {"error": ...}: the server never dies on a request."""
    try:
        return await handler(request)
    except ServingError as e:
        return _error(e)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        text = e.reason if e.text is None or e.text.startswith(str(e.status)) else e.text
        return web.json_response({"error": text}, status=e.status)
    except Exception as e:  # noqa: BLE001
        logging.exception("Internal error on %s", request.path)
        return web.json_response({"error": f"internal error: {type(e).__name__}: {e}"}, status=500)


class RestApi:
    """The REST routes over a ModelServer."""

    def __init__(self, server):
        self.server = server

    async def models(self, request):
        record = RequestRecord(self.server.metrics, "rest")
        try:
            response = await self._models(request, record)
        except ServingError as e:
            record.finish(e.code)
            raise
        except web.HTTPException as e:  # aiohttp's own refusals: 413 (body too large) and the like
            code = "INVALID_ARGUMENT" if e.status < 500 else "INTERNAL"
            record.finish("RESOURCE_EXHAUSTED" if e.status == 413 else code)
            raise
        except Exception:
            record.finish("INTERNAL")
            raise
        record.finish("OK")
        return response

    async def _models(self, request, record):
        match = PATH.match(request.path)
        if match is None:
            raise ServingError(
                f"Unknown path {request.path!r}; see /v1/models/<name>[:predict|/metadata].", "NOT_FOUND"
            )
        name, version, label, action = (match.group(k) for k in ("name", "version", "label", "rest"))
        if version is not None and not version.isdigit():
            raise ServingError(f"Invalid version {version!r}: versions are integers.")
        version = None if version is None else int(version)
        record.model = name
        if action == ":predict":
            if request.method != "POST":
                raise ServingError(":predict takes POST.", http_status=405)
            model = self.server.registry.get(name, version, label)
            record.version = model.version
            return await self.predict(request, model, record)
        if request.method != "GET":
            raise ServingError(f"{request.path} takes GET.", http_status=405)
        if action == "/metadata":
            model = self.server.registry.get(name, version, label)
            record.version = model.version
            return web.json_response(
                {
                    "model_spec": {"name": name, "signature_name": "", "version": str(model.version)},
                    "metadata": {**rest.signature_metadata(model.signature_defs), "pear_tf": model.metadata},
                }
            )
        ok = {"error_code": "OK", "error_message": ""}
        states = self.server.status(name, version, label)
        return web.json_response(
            {"model_version_status": [{"version": str(v), "state": s, "status": ok} for v, s in states]}
        )

    async def predict(self, request, model, record):
        try:
            body = json.loads(await request.read())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ServingError(f"Malformed JSON: {e}.") from None
        except RecursionError:  # [[[[...: Python's parser recurses once per level
            raise ServingError("Malformed JSON: nested too deeply (a predict body is a few levels deep).") from None
        signature, values, columnar = rest.parse_body(body)
        record.signature = signature
        if signature == "serving_default":
            images = [rest.image_bytes(v, i) for i, v in enumerate(values)]
            for i, data in enumerate(images):
                self.server.check_image(data, i)
            inputs = np.array(images, dtype=object)
        elif signature == "predict_pixels":
            inputs = rest.pixel_tensors(values)
            self.server.check_pixels(inputs)
        else:
            inputs = rest.image_tensors(values)
            self.server.check_tensor(model, inputs)
        outputs = await self.server.predict(model, signature, inputs)
        return web.json_response(rest.format_outputs(outputs, columnar))

    async def metrics(self, request):
        body, content_type = self.server.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def page(self, request):
        return web.Response(text=page.render(sorted(self.server.registry.specs)), content_type="text/html")


def make_app(server):
    """The aiohttp app over a ModelServer (its version poller runs with the app)."""
    api = RestApi(server)
    app = web.Application(middlewares=[json_errors], client_max_size=server.config.max_request_bytes)
    app[SERVER] = server
    app.router.add_get("/", api.page)
    app.router.add_get("/monitoring/prometheus/metrics", api.metrics)
    app.router.add_route("*", "/{tail:.*}", api.models)
    return app
