"""runworker's delivery: acknowledged once handled, one at a time, tried again, dead-lettered,
fair among owners, stopped gracefully. Against a real Redis server."""

import asyncio

import pytest
from channels.consumer import AsyncConsumer
from channels.exceptions import ChannelFull
from channels.routing import ChannelNameRouter

from ..jobs import Reject
from ..testing import running_worker

# Channels closes stale database connections on every message a consumer handles.
pytestmark = pytest.mark.django_db(transaction=True)


class Recorder(AsyncConsumer):
    """Records each job; a job may hold until released, fail, or reject itself."""

    handled: list[int] = []
    failed: list[tuple[int, str]] = []
    release: asyncio.Event  # what "job.hold" waits for, set by the fixture below

    async def job_run(self, message):
        self.handled.append(message["n"])

    async def job_hold(self, message):
        await self.release.wait()
        self.handled.append(message["n"])

    async def job_crash(self, message):
        raise RuntimeError("the handler broke")

    async def job_reject(self, message):
        raise Reject("never valid")

    async def job_failed(self, message):
        self.failed.append((message["job"]["n"], message["error"]))


@pytest.fixture(autouse=True)
def recorder():
    Recorder.handled, Recorder.failed, Recorder.release = [], [], asyncio.Event()
    return Recorder


def application():
    return ChannelNameRouter({"jobs": Recorder.as_asgi(), "other-jobs": Recorder.as_asgi()})


async def eventually(condition, timeout=10):
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the time allowed")


async def test_a_job_is_acknowledged_only_once_handled(job_layer, recorder):
    layer = job_layer()
    await layer.send("jobs", {"type": "job.hold", "n": 1})

    async with running_worker(application(), ["jobs"], layer):
        await asyncio.sleep(0.3)
        while_held = await layer.stats("jobs")
        recorder.release.set()
        await eventually(lambda: recorder.handled == [1])
    after = await layer.stats("jobs")

    assert (while_held["queued"], while_held["in_flight"], while_held["done"]) == (0, 1, 0)
    assert (after["queued"], after["in_flight"], after["done"]) == (0, 0, 1)


async def test_a_worker_holds_one_job_at_a_time_leaving_the_rest_queued(job_layer, recorder):
    layer = job_layer()
    for n in range(10):
        await layer.send("jobs", {"type": "job.hold", "n": n})

    async with running_worker(application(), ["jobs"], layer):
        await asyncio.sleep(0.3)
        held = await layer.stats("jobs")
        recorder.release.set()
        await eventually(lambda: len(recorder.handled) == 10)

    assert (held["queued"], held["in_flight"]) == (9, 1)
    assert recorder.handled == list(range(10))


async def test_concurrency_lets_one_process_hold_several_jobs(job_layer, recorder):
    layer = job_layer()
    for n in range(5):
        await layer.send("jobs", {"type": "job.hold", "n": n})

    async with running_worker(application(), ["jobs"], layer, concurrency=3):
        await asyncio.sleep(0.3)
        held = await layer.stats("jobs")
        recorder.release.set()
        await eventually(lambda: len(recorder.handled) == 5)

    assert (held["queued"], held["in_flight"]) == (2, 3)


async def test_the_job_of_a_worker_that_died_runs_after_the_visibility_timeout(job_layer):
    # The setting under test, shortened: the default is 30 s.
    layer = job_layer(visibility_timeout=1)
    await layer.send("jobs", {"type": "job.run", "n": 7})
    taken = await layer.take("jobs", "a-worker-killed-with-SIGKILL")

    async with running_worker(application(), ["jobs"], layer):
        await eventually(lambda: Recorder.handled == [7])
    stats = await layer.stats("jobs")

    assert taken.message == {"type": "job.run", "n": 7}
    assert (stats["retried"], stats["in_flight"], stats["queued"]) == (1, 0, 0)


async def test_a_failing_job_is_tried_max_attempts_times_then_dead_lettered(job_layer, caplog):
    layer = job_layer(retry_delay=0.1)
    await layer.send("jobs", {"type": "job.crash", "n": 1})
    await layer.send("jobs", {"type": "job.run", "n": 2})

    async with running_worker(application(), ["jobs"], layer):
        await eventually(lambda: Recorder.failed)
    stats = await layer.stats("jobs")
    dead = await layer.dead_letters("jobs")

    assert Recorder.handled == [2]
    assert Recorder.failed == [(1, "gave up after 3 attempts: RuntimeError: the handler broke")]
    assert caplog.text.count("the handler broke") >= 3
    assert (stats["retried"], stats["dead_lettered"], stats["queued"]) == (2, 1, 0)
    # The job that failed for good is not counted done; the other one is.
    assert stats["done"] == 1
    assert dead[0][0] == {"type": "job.crash", "n": 1}


async def test_a_rejected_job_is_dead_lettered_at_once(job_layer):
    layer = job_layer()
    await layer.send("jobs", {"type": "job.reject", "n": 1})

    async with running_worker(application(), ["jobs"], layer):
        await eventually(lambda: Recorder.failed)
    stats = await layer.stats("jobs")

    assert Recorder.failed == [(1, "rejected: never valid")]
    assert (stats["retried"], stats["dead_lettered"]) == (0, 1)


async def test_a_job_past_its_maximum_age_is_dead_lettered_unrun(job_layer):
    layer = job_layer(max_age=1)
    await layer.send("jobs", {"type": "job.run", "n": 1})
    await asyncio.sleep(1.2)

    async with running_worker(application(), ["jobs"], layer):
        await eventually(lambda: Recorder.failed)

    assert Recorder.handled == []
    assert Recorder.failed[0][1].startswith("expired after")


async def test_stopping_finishes_the_job_in_hand_and_takes_no_other(job_layer, recorder):
    layer = job_layer()
    for n in range(3):
        await layer.send("jobs", {"type": "job.hold", "n": n})

    async with running_worker(application(), ["jobs"], layer) as worker:
        await asyncio.sleep(0.3)
        worker.stop()
        await asyncio.sleep(0.3)
        recorder.release.set()
    stats = await layer.stats("jobs")

    assert recorder.handled == [0]
    assert (stats["queued"], stats["in_flight"], stats["retried"]) == (2, 0, 0)


async def test_a_job_whose_key_is_queued_is_not_queued_twice(job_layer):
    layer = job_layer()

    sent = [await layer.send("jobs", {"type": "job.run", "n": 1}, key="one") for _ in range(3)]

    assert sent == [True, False, False]
    assert (await layer.stats("jobs"))["queued"] == 1


async def test_a_full_channel_refuses_jobs(job_layer):
    layer = job_layer(capacity=2)
    for n in range(2):
        await layer.send("jobs", {"type": "job.run", "n": n})

    with pytest.raises(ChannelFull):
        await layer.send("jobs", {"type": "job.run", "n": 3})


async def test_owners_take_turns(job_layer):
    layer = job_layer()
    for n in range(10):
        await layer.send("jobs", {"type": "job.run", "n": n}, owner="busy")
    await layer.send("jobs", {"type": "job.run", "n": 100}, owner="visitor")

    async with running_worker(application(), ["jobs"], layer):
        await eventually(lambda: len(Recorder.handled) == 11)

    assert Recorder.handled[:3] == [0, 100, 1]


async def test_channels_take_turns(job_layer):
    layer = job_layer()
    for n in range(10):
        await layer.send("jobs", {"type": "job.run", "n": n})
    await layer.send("other-jobs", {"type": "job.run", "n": 100})

    async with running_worker(application(), ["jobs", "other-jobs"], layer):
        await eventually(lambda: len(Recorder.handled) == 11)

    assert Recorder.handled[:3] == [0, 100, 1]


@pytest.mark.parametrize("job", [{"n": 1}, {"type": 7}, ["job.run"]])
async def test_a_job_without_a_string_type_is_refused_when_sent(job_layer, job):
    with pytest.raises((ValueError, TypeError)):
        await job_layer().send("jobs", job)


@pytest.mark.parametrize("names", [{"key": 42}, {"owner": "x" * 201}, {"owner": None}])
async def test_a_key_or_owner_that_is_not_a_short_string_is_refused(job_layer, names):
    with pytest.raises(ValueError, match="at most 200 characters"):
        await job_layer().send("jobs", {"type": "job.run"}, **names)
