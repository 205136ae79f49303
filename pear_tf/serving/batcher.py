"""Batching concurrent requests into one model call, behind a bounded queue.

Requests queue their instances; one worker per (model, version, signature) takes what
has arrived within ``timeout_s`` (up to ``max_batch_size`` instances), runs the
signature once in a thread (TensorFlow releases the GIL), and hands each request its rows.

As in TF Serving's batching: a request larger than ``max_batch_size`` is split into
several tasks (and its rows joined again), and the queue holds at most
``max_enqueued_batches`` batches; a request that does not fit is refused at once with
``Overloaded``, so overload gives fast refusals instead of growing latency.
"""

import asyncio
import collections

import numpy as np

from pear_tf.serving.errors import Overloaded, ServingError


class Batcher:
    """Batches calls of ``function(batch) → {name: [N, ...] array}`` on concatenated inputs.

    Args:
      function: runs one batch; called in a worker thread.
      max_batch_size: most instances per call.
      timeout_s: how long a batch waits for more requests once it has one.
      max_enqueued_batches: queue capacity, in batches of ``max_batch_size`` instances.
      on_batch: called with each batch's size (for the metrics).
    """

    def __init__(self, function, max_batch_size=32, timeout_s=0.002, max_enqueued_batches=8, on_batch=None):
        self.function = function
        self.max_batch_size = max_batch_size
        self.timeout_s = timeout_s
        self.capacity = max_enqueued_batches * max_batch_size
        self.on_batch = on_batch or (lambda size: None)
        self.queued = 0  # instances waiting, not yet taken by the worker
        self._tasks = collections.deque()
        self._arrived = asyncio.Event()
        self.worker = asyncio.get_running_loop().create_task(self._run())

    async def submit(self, inputs):
        """Runs ``inputs`` (an array of instances) within batches; returns its rows.

        Raises:
          Overloaded: the queue has no room for ``len(inputs)`` more instances.
        """
        count = len(inputs)
        if count > self.capacity:
            raise ServingError(
                f"The request holds {count} images, more than the batch queue can ever hold ({self.capacity}); "
                "send fewer per request."
            )
        if self.queued + count > self.capacity:
            raise Overloaded(
                f"The batch queue is full ({self.queued} images waiting, room for {self.capacity}); retry later."
            )
        loop = asyncio.get_running_loop()
        futures = []
        for start in range(0, count, self.max_batch_size):
            future = loop.create_future()
            self._tasks.append((inputs[start : start + self.max_batch_size], future))
            futures.append(future)
        self.queued += count
        self._arrived.set()
        parts = await asyncio.gather(*futures, return_exceptions=True)
        for part in parts:
            if isinstance(part, BaseException):
                raise part
        if len(parts) == 1:
            return parts[0]
        return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}

    def _take(self):
        """Tasks for one batch (whole tasks, at most max_batch_size instances)."""
        pending, size = [], 0
        while self._tasks and size + len(self._tasks[0][0]) <= self.max_batch_size:
            task = self._tasks.popleft()
            pending.append(task)
            size += len(task[0])
        self.queued -= size
        return pending, size

    async def _run(self):
        loop = asyncio.get_running_loop()
        while True:
            if not self._tasks:
                self._arrived.clear()
                await self._arrived.wait()
            deadline = loop.time() + self.timeout_s
            while self.queued < self.max_batch_size and loop.time() < deadline:
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), deadline - loop.time())
                except asyncio.TimeoutError:
                    break
            pending, size = self._take()
            self.on_batch(size)
            await self._call(loop, pending)

    async def _call(self, loop, pending):
        batch = np.concatenate([np.asarray(inputs) for inputs, _ in pending])
        try:
            outputs = await loop.run_in_executor(None, self.function, batch)
        except Exception as e:  # noqa: BLE001
            if len(pending) > 1:
                # One request's bad data must not fail its neighbours: run each alone.
                for task in pending:
                    await self._call(loop, [task])
                return
            if not pending[0][1].done():
                pending[0][1].set_exception(e)
            return
        start = 0
        for inputs, future in pending:
            rows = {key: value[start : start + len(inputs)] for key, value in outputs.items()}
            start += len(inputs)
            if not future.done():
                future.set_result(rows)

    def close(self):
        """Stops the worker; requests still queued are answered UNAVAILABLE."""
        self.worker.cancel()
        while self._tasks:
            _, future = self._tasks.popleft()
            if not future.done():
                future.set_exception(ServingError("The model version was unloaded; retry.", "UNAVAILABLE"))
        self.queued = 0
