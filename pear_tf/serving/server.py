"""Starting and stopping the server: REST (aiohttp) and gRPC (grpc.aio) on one event loop,
over one ModelServer, so both APIs share the models, the batchers and the metrics.
"""

import asyncio
import signal
import sys

from aiohttp import web

from pear_tf import errors
from pear_tf.inference.metadata import demo_warning
from pear_tf.serving.app import make_app
from pear_tf.serving.core import ModelServer
from pear_tf.serving.grpc_service import make_grpc_server
from pear_tf.serving.registry import ModelRegistry

# Seconds the servers get to stop after Ctrl-C (requests in flight get 1 of them); then the process ends anyway.
STOP_SECONDS = 10


def build_model_server(specs, config):
    """Loads the versions ``specs`` select; errors.NotFound (a FileNotFoundError) if a model has none loadable."""
    server = ModelServer(ModelRegistry(specs, getattr(config, "precision", None)), config)
    for name, versions in server.refresh().items():
        if not versions:
            spec = server.registry.specs[name]
            raise errors.NotFound(
                f"Model {name!r}: no loadable SavedModel version under {spec.base_path!r} for its "
                f"{spec.policy!r} version policy (<base>/<number>/saved_model.pb)."
            )
    return server


class RunningServer:
    """REST on ``rest_port`` and gRPC on ``grpc_port`` (0: any free port; None: no gRPC)."""

    def __init__(self, server, host="127.0.0.1", rest_port=8501, grpc_port=8500):
        self.server = server
        self.host, self.rest_port, self.grpc_port = host, rest_port, grpc_port
        self.runner = self.grpc_server = self.poller = None

    async def start(self):
        """Binds both ports and starts the version poller; sets the bound ports."""
        self.runner = web.AppRunner(make_app(self.server))
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.rest_port)
        try:
            await site.start()
        except OSError as e:  # the port is taken, or the address is not this machine's
            await self.runner.cleanup()
            raise errors.BadValue(f"--port={self.rest_port}: cannot serve on {self.host} ({e.strerror}); choose "
                                  "another --port (0: any free one) or --host.") from None
        self.rest_port = self.runner.addresses[0][1]
        if self.grpc_port is not None:
            try:
                self.grpc_server, self.grpc_port = make_grpc_server(self.server, f"{self.host}:{self.grpc_port}")
            except RuntimeError as e:  # grpc's "Failed to bind"
                await self.runner.cleanup()
                raise errors.BadValue(f"--grpc_port={self.grpc_port}: cannot serve gRPC on {self.host} ({e}); "
                                      "choose another --grpc_port (0: any free one, -1: no gRPC).") from None
            await self.grpc_server.start()
        self.poller = asyncio.get_running_loop().create_task(self.server.poll())

    async def stop(self):
        """Stops polling, then both servers (requests in flight get a second to finish)."""
        self.poller.cancel()
        if self.grpc_server is not None:
            await self.grpc_server.stop(1.0)
        await self.runner.cleanup()
        for batcher in self.server.batchers.values():
            batcher.close()


def serve(specs, config, host="127.0.0.1", rest_port=8501, grpc_port=8500):
    """Serves the models of ``specs`` until interrupted."""
    server = build_model_server(specs, config)
    for name in server.registry.specs:
        warning = demo_warning(server.registry.get(name).metadata)
        if warning:
            print(f"{name}: {warning}")

    async def run():
        running = RunningServer(server, host, rest_port, grpc_port)
        await running.start()
        for name in server.registry.specs:
            precision = server.registry.get(name).precision
            print(f"Serving {name} versions {server.registry.versions(name)} in {precision} at "
                  f"http://{host}:{running.rest_port}/v1/models/{name}")  # fmt: skip
        grpc_at = "off" if running.grpc_port is None else f"{host}:{running.grpc_port}"
        print(f"Page: http://{host}:{running.rest_port}/   gRPC: {grpc_at}")
        try:
            await asyncio.Event().wait()
        finally:
            try:
                await asyncio.wait_for(running.stop(), STOP_SECONDS)
            except asyncio.TimeoutError:
                print(f"The servers did not stop within {STOP_SECONDS} s; ending anyway.", file=sys.stderr)

    # Not asyncio.run: on its way out it waits for every thread of the loop's executor (a model call, a
    # version load). Once, on a loaded machine, a server was still alive 120 s after Ctrl-C (cause not
    # pinned down); the stop is bounded and the command ends its process itself (serve.py).
    loop = asyncio.new_event_loop()
    task = loop.create_task(run())
    loop.add_signal_handler(signal.SIGINT, task.cancel)  # Ctrl-C: stop both servers, then return
    try:
        loop.run_until_complete(task)
    except asyncio.CancelledError:
        pass
    finally:
        loop.close()
