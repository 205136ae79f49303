"""Batching concurrent requests into one model call.

Requests queue their instances; one worker per (version, signature) takes whatever has
arrived within ``timeout_s`` (up to ``max_batch_size`` instances), runs the signature
once in a thread (TensorFlow releases the GIL), and hands each request its rows.
"""

import asyncio

import numpy as np


class Batcher:
    """Batches calls of ``function(batch) → {name: [N, ...] array}`` on concatenated inputs."""

    def __init__(self, function, max_batch_size=32, timeout_s=0.002):
        self.function = function
        self.max_batch_size = max_batch_size
        self.timeout_s = timeout_s
        self.queue = asyncio.Queue()
        self.worker = asyncio.get_running_loop().create_task(self._run())

    async def submit(self, inputs):
        """Runs ``inputs`` (a list or array of instances) within a batch; returns its rows."""
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((inputs, future))
        return await future

    async def _run(self):
        loop = asyncio.get_running_loop()
        while True:
            pending = [await self.queue.get()]
            size = len(pending[0][0])
            deadline = loop.time() + self.timeout_s
            while size < self.max_batch_size:
                try:
                    item = await asyncio.wait_for(self.queue.get(), max(0.0, deadline - loop.time()))
                except asyncio.TimeoutError:
                    break
                pending.append(item)
                size += len(item[0])
            batch = np.concatenate([np.asarray(inputs) for inputs, _ in pending])
            try:
                outputs = await loop.run_in_executor(None, self.function, batch)
            except Exception as e:  # noqa: BLE001 - each waiting request gets the error
                for _, future in pending:
                    if not future.done():
                        future.set_exception(e)
                continue
            start = 0
            for inputs, future in pending:
                rows = {key: value[start : start + len(inputs)] for key, value in outputs.items()}
                start += len(inputs)
                if not future.done():
                    future.set_result(rows)

    def close(self):
        self.worker.cancel()
