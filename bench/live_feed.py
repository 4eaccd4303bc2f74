"""Benchmark: the websocket live feed (docs/benchmarks.md, "Live feed").

Run from the repository root:

    .venv/bin/python bench/live_feed.py [--quick]           # one Daphne, in-memory layer
    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/live_feed.py
                                                            # two Daphne processes on Redis

Events are research events posted through HTTP (one per request, or batches); each carries its
send time, and subscribers (10 websocket clients, in a separate process) record when they
receive it. With REDIS_URL the publisher posts to one Daphne process and the subscribers listen
on another, so every event crosses Redis. Scenarios:

1. latency at 100 events/s, one event per message (a plain client);
2. 1,000 events/s with ``?batch=1`` frames: events/s delivered to each subscriber, latency;
3. full speed: batches as fast as one publisher can post; delivered events/s and losses.

For each, every subscriber's received ids are checked against the published ids: the figures
include events lost (should be none) and duplicates (should be none).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import api_key, figure, machine, percentile, write_results

SETTLE_SECONDS = 15


def subscriber_process(url, count, batch, ready, stop, results, progress) -> None:
    import websockets

    async def one(index: int, received: list) -> None:
        query = "event_types=performance_metric" + ("&batch=1" if batch else "")
        async with websockets.connect(
            f"{url}&{query}", max_size=None, compression=None, ping_interval=None
        ) as ws:
            assert json.loads(await ws.recv())["type"] == "connected"
            connected.append(index)
            while True:
                try:
                    text = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    if stop.is_set():
                        return
                    continue
                now = time.time()
                frame = json.loads(text)
                events = frame["events"] if frame["type"] == "events" else [frame]
                for event in events:
                    if event.get("type") == "overflow":
                        received.append(("overflow", now, 0))
                        continue
                    data = event["event_data"]
                    received.append((data["event_id"], now, now - data["context"]["sent_at"]))
                with progress.get_lock():
                    progress.value += len(events)

    async def main() -> None:
        tasks = [asyncio.create_task(one(i, bucket)) for i, bucket in enumerate(buckets)]
        while len(connected) < count:
            await asyncio.sleep(0.05)
        ready.set()
        await asyncio.gather(*tasks)

    connected: list[int] = []
    buckets: list[list] = [[] for _ in range(count)]
    asyncio.run(main())
    results.put(buckets)


class Publisher:
    def __init__(self, base_url: str, key: str):
        import httpx

        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        )
        self.ids: list[str] = []
        self.lock = threading.Lock()
        self.failures = 0

    @staticmethod
    def event() -> dict:
        return {
            "event_type": "performance_metric",
            "session_id": "bench",
            "event_data": {
                "metric_name": "bench_latency",
                "metric_value": 1.0,
                "context": {"sent_at": time.time()},
            },
        }

    def post(self, size: int) -> None:
        body = self.event() if size == 1 else {"events": [self.event() for _ in range(size)]}
        response = self.client.post("/api/research/events/", json=body)
        if response.status_code != 201:
            self.failures += 1
            return
        with self.lock:
            self.ids += response.json()["event_ids"]

    def paced(self, rate: float, batch: int, seconds: float) -> float:
        """Posts ``rate`` events/s in requests of ``batch`` events; returns the elapsed time."""
        interval = batch / rate
        start = time.perf_counter()
        next_at = start
        while time.perf_counter() - start < seconds:
            self.post(batch)
            next_at += interval
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        return time.perf_counter() - start

    def flat_out(self, batch: int, seconds: float, threads: int = 2) -> float:
        start = time.perf_counter()

        def loop() -> None:
            while time.perf_counter() - start < seconds:
                self.post(batch)

        workers = [threading.Thread(target=loop) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return time.perf_counter() - start


def run_scenario(name, servers, key, subscribers, batch_frames, publish) -> dict:
    ws_url = f"{servers[-1].ws_url}/ws/cato/events/?token={key}"
    context = multiprocessing.get_context("spawn")
    ready, stop, results = context.Event(), context.Event(), context.Queue()
    progress = context.Value("q", 0)
    process = context.Process(
        target=subscriber_process,
        args=(ws_url, subscribers, batch_frames, ready, stop, results, progress),
    )
    process.start()
    if not ready.wait(30):
        raise RuntimeError("subscribers did not connect")
    publisher = Publisher(servers[0].url, key)
    elapsed = publish(publisher)
    published = set(publisher.ids)
    # Let the last events arrive (every subscriber gets every event), then stop.
    deadline = time.time() + SETTLE_SECONDS
    while progress.value < len(published) * subscribers and time.time() < deadline:
        time.sleep(0.1)
    stop.set()
    buckets = results.get(timeout=60)
    process.join(30)

    per_subscriber = []
    latencies: list[float] = []
    for bucket in buckets:
        ids = [event_id for event_id, _, _ in bucket if event_id != "overflow"]
        times = [at for event_id, at, _ in bucket if event_id != "overflow"]
        latencies += [lat for event_id, _, lat in bucket if event_id != "overflow"]
        span = (max(times) - min(times)) if len(times) > 1 else 0.0
        per_subscriber.append(
            {
                "received": len(ids),
                "lost": len(published - set(ids)),
                "duplicates": len(ids) - len(set(ids)),
                "overflows": sum(1 for event_id, _, _ in bucket if event_id == "overflow"),
                "events_per_s": round(len(ids) / elapsed, 1),
                "receive_span_s": round(span, 2),
            }
        )
    ms = [value * 1000 for value in latencies]
    result = {
        "scenario": name,
        "subscribers": subscribers,
        "batch_frames": batch_frames,
        "published": len(published),
        "publish_failures": publisher.failures,
        "publish_seconds": round(elapsed, 2),
        "publish_events_per_s": round(len(published) / elapsed, 1),
        "latency_p50_ms": round(percentile(ms, 0.50), 2),
        "latency_p99_ms": round(percentile(ms, 0.99), 2),
        "latency_max_ms": round(max(ms), 2) if ms else None,
        "min_events_per_s_per_subscriber": min(s["events_per_s"] for s in per_subscriber),
        "total_lost": sum(s["lost"] for s in per_subscriber),
        "total_duplicates": sum(s["duplicates"] for s in per_subscriber),
        "total_overflows": sum(s["overflows"] for s in per_subscriber),
    }
    print(json.dumps(result), flush=True)
    return result


def summarize(scenarios: list[dict], processes: int) -> list[dict]:
    latency, thousand, full = scenarios
    latency_target = 10 if processes == 1 else 25
    where = "in-memory layer" if processes == 1 else "two processes over Redis"
    lost = sum(s["total_lost"] + s["total_duplicates"] for s in scenarios)
    return [
        figure(
            f"p99 latency, 10 subscribers x 100 events/s ({where})",
            latency["latency_p99_ms"],
            "ms",
            f"<= {latency_target}",
            latency["latency_p99_ms"] <= latency_target,
        ),
        figure("p50 latency at 100 events/s", latency["latency_p50_ms"], "ms"),
        figure(
            "events/s each of 10 subscribers receives at 1,000 events/s (batch frames)",
            thousand["min_events_per_s_per_subscriber"],
            "events/s",
            ">= 1,000",
            thousand["min_events_per_s_per_subscriber"] >= 990,
        ),
        figure(
            "p99 latency at 1,000 events/s",
            thousand["latency_p99_ms"],
            "ms",
            "<= 100",
            thousand["latency_p99_ms"] <= 100,
        ),
        figure(
            "full speed: events/s delivered to each subscriber",
            full["min_events_per_s_per_subscriber"],
            "events/s",
        ),
        figure("full speed: p99 latency", full["latency_p99_ms"], "ms"),
        figure(
            "events lost or repeated, all scenarios, all subscribers",
            lost,
            "events",
            "0",
            lost == 0,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (about a minute)")
    parser.add_argument("--subscribers", type=int, default=10)
    arguments = parser.parse_args()
    seconds = 3 if arguments.quick else 20
    processes = 2 if os.environ.get("REDIS_URL") else 1
    from tests.e2e.server import running_servers

    with tempfile.TemporaryDirectory() as scratch:
        with running_servers(Path(scratch), processes) as servers:
            key = api_key(servers[0].environment)
            subscribers = arguments.subscribers
            scenarios = [
                run_scenario(
                    "100 events/s, one event per message",
                    servers,
                    key,
                    subscribers,
                    False,
                    lambda p: p.paced(rate=100, batch=1, seconds=seconds),
                ),
                run_scenario(
                    "1,000 events/s, batch frames",
                    servers,
                    key,
                    subscribers,
                    True,
                    lambda p: p.paced(rate=1000, batch=50, seconds=seconds),
                ),
                run_scenario(
                    "full speed, batch frames",
                    servers,
                    key,
                    subscribers,
                    True,
                    lambda p: p.flat_out(batch=200, seconds=seconds / 2),
                ),
            ]
    path = write_results(
        "live_feed",
        {
            "processes": processes,
            "scenarios": scenarios,
            "quick": arguments.quick,
            "summary": summarize(scenarios, processes),
        },
    )
    print(f"\nMachine: {machine()}\nResults: {path}")


if __name__ == "__main__":
    main()
