"""The worker that `manage.py runworker` runs: jobs delivered at least once.

Channels' own worker pulls every queued message into an unbounded in-process queue
at once, so a restart loses them all and a second worker finds nothing to do. This
one takes a job from JobChannelLayer only when one of its `concurrency` slots is
free, hands it to the routed consumer as Channels' worker does, and acknowledges it
when the consumer asks for its next message, that is, when the handler has returned.

- A handler that raises has its job tried again after a delay; after the layer's
  max_attempts the job is dead-lettered, and the consumer gets a "job.failed"
  message (handled by a `job_failed` method) so that it can record why.
  `realtime.jobs.Reject` dead-letters at once.
- SIGTERM (or Ctrl-C) stops taking jobs, lets the jobs in hand finish for up to
  `stop_timeout` seconds, hands back any that did not, and exits 0.
- While Redis is unreachable the worker logs once and keeps retrying.
- At start and every `resend_interval` seconds it calls `resend_lost_jobs()` on each
  routed consumer class that has one, for jobs the database knows about but the
  transport may not (sent while Redis was away, or before a Redis restart).
"""

import asyncio
import logging
import os
import secrets
import signal
import socket
import threading
import time
from typing import Any

from channels.db import database_sync_to_async

from .jobs import Reject
from .layers import LAYER_ERRORS

logger = logging.getLogger(__name__)

# How often the worker puts back the jobs of stopped workers and asks Redis again
# after an outage, in seconds.
UPKEEP_SECONDS = 1


class JobFailed(Exception):
    """The consumer ended without asking for its next message."""


class ConsumerInstance:
    """One application instance for a channel, fed one job at a time.

    A Channels consumer asks for its next message (calls receive) only once the
    handler of the last one has returned: that is when a job is done.
    """

    def __init__(self, application, channel):
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.handling = False
        # Resolved once the consumer has handled the message in hand (see handle()).
        self.done: asyncio.Future[None] | None = None
        self.task = asyncio.ensure_future(
            application({"type": "channel", "channel": channel}, self.receive, self.send)
        )

    async def receive(self):
        if self.handling:
            self.handling = False
            assert self.done is not None  # handle() made it, then put a message in
            self.done.set_result(None)
        message = await self.inbox.get()
        self.handling = True
        return message

    async def send(self, message):
        raise JobFailed("a worker consumer has no client to send to")

    async def handle(self, message):
        """Return once the consumer has handled message; raise what ended it if it failed."""
        self.done = asyncio.get_running_loop().create_future()
        self.inbox.put_nowait(message)
        await asyncio.wait({self.done, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if self.done.done():
            return
        if not self.task.cancelled() and self.task.exception() is not None:
            raise self.task.exception()
        raise JobFailed("the consumer stopped without finishing the job")

    def stop(self):
        self.task.cancel()


class Worker:
    def __init__(
        self,
        application,
        channels,
        channel_layer,
        *,
        concurrency=1,
        stop_timeout=20,
        resend_interval=60,
        consumer_classes=(),
    ):
        self.application = application
        self.channels = list(channels)
        self.layer = channel_layer
        self.concurrency = concurrency
        self.stop_timeout = stop_timeout
        self.resend_interval = resend_interval
        self.consumer_classes = consumer_classes
        # The name under which Redis lists the jobs this process holds.
        self.name = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.held = {}  # slot number: the job it is handling
        self.redis_down = False
        self.turn = 0  # which channel the next take starts at
        self.stopping = asyncio.Event()

    def run(self):
        asyncio.run(self.main(handle_signals=True))

    def stop(self):
        """Take no more jobs; main() returns once the jobs in hand are done."""
        self.stopping.set()

    async def main(self, handle_signals=False):
        # (runworker --reload runs this in a thread; its reloader stops the process.)
        if handle_signals and threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, self.stop)
        await self.warn_without_persistence()
        slots = [asyncio.ensure_future(self.slot(number)) for number in range(self.concurrency)]
        upkeep = asyncio.ensure_future(self.upkeep())
        await self.stopping.wait()

        busy, timeout = len(self.held), self.stop_timeout
        logger.info("Stopping: finishing %d job(s) in hand, for up to %s s", busy, timeout)
        _, unfinished = await asyncio.wait(slots, timeout=self.stop_timeout)
        for job in list(self.held.values()):
            logger.warning("Handing back job %s on %s: not finished in time", job.id, job.channel)
            try:
                await self.layer.retry(job, self.name, "the worker stopped before finishing it")
            except LAYER_ERRORS as error:
                # Still pending: it runs again after the visibility timeout.
                self.note_redis_down(error)
        for task in [*unfinished, upkeep]:
            task.cancel()
        await asyncio.gather(*unfinished, upkeep, return_exceptions=True)
        logger.info("Worker stopped")

    async def warn_without_persistence(self):
        try:
            if lost := await self.layer.channels_without_append_only_file(self.channels):
                logger.warning(
                    "Redis for %s keeps no append-only file: a Redis restart loses the "
                    "jobs it holds (run it with --appendonly yes)",
                    ", ".join(lost),
                )
        except LAYER_ERRORS as error:
            self.note_redis_down(error)

    def note_redis_down(self, error):
        if not self.redis_down:
            logger.warning("Job queue unavailable, retrying: %s", error)
            self.redis_down = True

    def note_redis_up(self):
        if self.redis_down:
            logger.warning("Job queue back; taking jobs again")
            self.redis_down = False

    # Taking and running jobs.

    async def slot(self, number):
        instances: dict[str, ConsumerInstance] = {}
        try:
            while (job := await self.next_job()) is not None:
                self.held[number] = job
                try:
                    await self.run_job(job, instances)
                except LAYER_ERRORS as error:
                    # Unacknowledged: put back in the queue after the visibility timeout.
                    self.note_redis_down(error)
                finally:
                    del self.held[number]
        finally:
            for instance in instances.values():
                instance.stop()

    async def next_job(self):
        """The next job, from the channels in turn, or None once the worker is stopping."""
        while not self.stopping.is_set():
            try:
                for _ in self.channels:
                    # Each take starts at the next channel: a busy one never starves another.
                    channel = self.channels[self.turn % len(self.channels)]
                    self.turn += 1
                    job = await self.layer.take(channel, self.name)
                    if job is not None:
                        self.note_redis_up()
                        return job
                self.note_redis_up()
                waiting = asyncio.ensure_future(self.layer.wait_for_jobs(self.channels, 1))
            except LAYER_ERRORS as error:
                self.note_redis_down(error)
                waiting = asyncio.ensure_future(asyncio.sleep(UPKEEP_SECONDS))
            stopping = asyncio.ensure_future(self.stopping.wait())
            await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            for task in (waiting, stopping):
                task.cancel()
            await asyncio.gather(waiting, stopping, return_exceptions=True)
        return None

    def instance(self, instances, channel):
        if channel not in instances or instances[channel].task.done():
            instances[channel] = ConsumerInstance(self.application, channel)
        return instances[channel]

    async def run_job(self, job, instances):
        attempt = job.attempts + 1
        if not isinstance(job.message, dict) or not isinstance(job.message.get("type"), str):
            reason = f"rejected: not a message with a string type: {job.message!r}"
            return await self.dead_letter(job, instances, reason, attempt)
        if job.attempts >= self.layer.max_attempts:
            reason = f"gave up after {job.attempts} attempts: {job.error}"
            return await self.dead_letter(job, instances, reason, job.attempts)
        if self.layer.expired(job):
            reason = f"expired after {time.time() - job.enqueued:.0f} s in the queue"
            return await self.dead_letter(job, instances, reason, job.attempts)
        try:
            await self.instance(instances, job.channel).handle(job.message)
        except Reject as error:
            await self.dead_letter(job, instances, f"rejected: {error}", attempt)
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            logger.error(
                "Job %s on %s failed (attempt %d of %d): %s",
                job.id,
                job.channel,
                attempt,
                self.layer.max_attempts,
                reason,
                exc_info=error,
            )
            if attempt >= self.layer.max_attempts:
                reason = f"gave up after {attempt} attempts: {reason}"
                await self.dead_letter(job, instances, reason, attempt)
            else:
                await self.layer.retry(job, self.name, reason)
        else:
            await self.layer.finish(job)

    async def dead_letter(self, job, instances, reason, attempts):
        """Tell the consumer (job_failed), then keep the job in the dead-letter stream."""
        logger.error("Dead-lettered job %s on %s: %s", job.id, job.channel, reason)
        failed = {"type": "job.failed", "job": job.message, "error": reason}
        try:
            await self.instance(instances, job.channel).handle(failed)
        except Exception as error:
            logger.warning(
                "The consumer of %s did not record the failed job (job_failed would): %r",
                job.channel,
                error,
            )
        await self.layer.finish(job, error=reason, attempts=attempts)

    # Upkeep: jobs of stopped workers, liveness of held jobs, jobs the database lost.

    async def upkeep(self):
        touched = resent = 0.0
        while True:
            now = time.monotonic()
            try:
                if self.held and now - touched > self.layer.visibility_timeout / 3:
                    await self.layer.touch(list(self.held.values()), self.name)
                    touched = now
                for channel in self.channels:
                    if count := await self.layer.sweep(channel):
                        logger.warning("Put %d job(s) back in the queue of %s", count, channel)
            except LAYER_ERRORS as error:
                self.note_redis_down(error)
            if now - resent > self.resend_interval:
                await self.resend_lost_jobs()
                resent = now
            await asyncio.sleep(UPKEEP_SECONDS)

    async def resend_lost_jobs(self):
        for consumer_class in self.consumer_classes:
            if hasattr(consumer_class, "resend_lost_jobs"):
                try:
                    await database_sync_to_async(consumer_class.resend_lost_jobs)()
                except Exception:
                    logger.exception("%s.resend_lost_jobs() failed", consumer_class.__name__)
