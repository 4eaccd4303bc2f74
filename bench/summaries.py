"""From each benchmark's results file to the rows of its table in docs/benchmarks.md.

Benchmarks that write their own ``summary`` (bench.common.figure rows) are read as they are;
the others are summarised here from their results.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.common import figure


def _own(results: dict) -> list[dict]:
    return results.get("summary", [])


def _postgres(results: dict) -> bool:
    database = results.get("database") or results.get("machine", {}).get("database", "")
    return database.startswith("postgres")


def milestones(results: dict) -> list[dict]:
    rows = [
        figure(
            f"start+complete pairs through HTTP, concurrency {pair['concurrency']}",
            pair["pairs_per_s"],
            "pairs/s",
        )
        for pair in results.get("pairs", [])
    ]
    postgres = _postgres(results)
    for dataset in results.get("metrics", []):
        for variant in dataset.get("variants", []):
            label = f"journey metrics p50, {dataset['dataset']}, {variant['label']}"
            is_target = dataset["dataset"].startswith("spread") and variant["label"].startswith(
                "hours=24 (default)"
            )
            rows.append(
                figure(
                    label,
                    variant["p50_ms"],
                    "ms",
                    "<= 50 (PostgreSQL, 1M rows)" if is_target else None,
                    (variant["p50_ms"] <= 50 if postgres else None) if is_target else None,
                )
            )
    return rows


def backend(results: dict) -> list[dict]:
    postgres = _postgres(results)
    rows = [
        figure(
            f"batches through HTTP, concurrency {run['concurrency']}",
            run["batches_per_s"],
            "batches/s",
            "well above the seed's 605",
        )
        for run in results.get("ingest", [])
    ]
    if rows:
        best = max(run["batches_per_s"] for run in results["ingest"])
        rows.append(
            figure(
                "best batch ingest",
                best,
                "batches/s",
                "> 605 (the seed, PostgreSQL)",
                (best > 605) if postgres else None,
            )
        )
    scale_out = results.get("ingest_scale_out") or {}
    if scale_out.get("batches_per_s"):
        rows.append(
            figure(
                f"batches through HTTP, {scale_out['processes']} Daphne processes, one database",
                scale_out["batches_per_s"],
                "batches/s",
            )
        )
    for aggregate in results.get("aggregate", []):
        version = aggregate.get("marcus_version")
        where = f"hours={aggregate['hours']}" + (f", marcus_version={version}" if version else "")
        p50 = aggregate["http"]["p50_ms"]
        target = aggregate["hours"] == 24 and not version
        rows.append(
            figure(
                f"aggregate p50 through HTTP, {where}",
                p50,
                "ms",
                "<= 20 (PostgreSQL, 1M rows)" if target else None,
                (p50 <= 20 if postgres else None) if target else None,
            )
        )
        ratio = aggregate.get("ratio_seed_p50_over_http_p50")
        if ratio is not None:
            rows.append(
                figure(
                    f"the seed's JSONB query over ours, {where}",
                    ratio,
                    "x",
                    ">= 5 (PostgreSQL, 1M rows)" if target else None,
                    (ratio >= 5 if postgres else None) if target else None,
                )
            )
    return rows


SUMMARIES: dict[str, Callable[[dict], list[dict]]] = {
    "milestones": milestones,
    "research_ingest": _own,
    "snapshot": _own,
    "live_feed": _own,
    "backend": backend,
    "retention": _own,
}
