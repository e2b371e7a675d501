"""Delivery packaging (ZIP streamed into an S3 multipart upload, plus each file copied) next to
a plain boto3 multipart upload of the same bytes, in the same run; and the packer's peak RSS.

Every side reads the ~500 MB of source images from S3 and write to S3, each in a fresh child
process (so the peak RSS is the packer's own, whatever the parent did):
- anchor: boto3 `upload_fileobj` (managed multipart, default TransferConfig) of the source
  objects streamed one after the other into one object;
- zip: the ZIP alone (`write_archive`), streamed with its SHA256SUMS manifest into a verified
  multipart upload: the "ZIP-and-upload" figure;
- delivery: `build_package`, the whole delivery: the ZIP plus every file copied on its own
  (server-side CopyObject: no byte passes through the packer, but S3 reads and writes every
  byte once more), everything verified.

The 1-minute load average at the start and the end is printed too: on a shared machine the
figures are only as steady as the load (BENCH_DELIVERY_REPEATS=n for more interleaved rounds).

    set -a && . .local/test/env && set +a && .venv/bin/python bench/delivery.py
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import IO, Any

from _harness import report, summary

from kit.settings import InfraSettings
from kit.storage import S3Storage

FILES = 100
FILE_BYTES = 5 * 1024 * 1024  # ~500 MiB in all; random bytes compress like JPEGs: not at all
REPEATS = int(os.environ.get("BENCH_DELIVERY_REPEATS", "3"))  # more on a busy machine


class ConcatenatedObjects:
    """A read-only stream of several S3 objects, one after the other (never whole in memory)."""

    def __init__(self, client: Any, bucket: str, keys: list[str]) -> None:
        self._client, self._bucket, self._keys = client, bucket, list(keys)
        self._body: IO[bytes] | None = None

    def read(self, size: int = -1) -> bytes:
        # Fill the request: s3transfer takes a short read from a stream for its end.
        wanted = size if size > 0 else 8 * 1024 * 1024
        out = bytearray()
        while len(out) < wanted and (self._keys or self._body is not None):
            if self._body is None:
                answer = self._client.get_object(Bucket=self._bucket, Key=self._keys.pop(0))
                self._body = answer["Body"]
            chunk = self._body.read(wanted - len(out))
            if chunk:
                out += chunk
            else:
                self._body.close()
                self._body = None
        return bytes(out)


def child(kind: str, images: str, deliveries: str, keys: list[str]) -> None:
    """One measured run in this (fresh) process; prints seconds and peak RSS as JSON."""
    storage = S3Storage(InfraSettings())
    client = storage.client
    started = time.perf_counter()
    if kind == "anchor":
        key = f"anchor/{uuid.uuid4().hex}"
        client.upload_fileobj(ConcatenatedObjects(client, images, keys), deliveries, key)
        stored = client.head_object(Bucket=deliveries, Key=key)["ContentLength"]
        assert stored == len(keys) * FILE_BYTES, f"the anchor stored {stored} bytes"
    else:
        # This file is bench/delivery.py: keep its folder from shadowing the service package.
        here = Path(__file__).resolve().parent
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
        from delivery.config import DeliverySettings
        from delivery.packaging.package import (
            PackagingOptions,
            build_package,
            file_names,
            write_archive,
        )

        settings = DeliverySettings()
        options = PackagingOptions(
            part_bytes=settings.upload_part_bytes,
            concurrency=settings.upload_concurrency,
            archive_cap_bytes=settings.archive_cap_bytes,
        )
        if kind == "zip":  # the ZIP alone: streamed, manifest, verified; no per-file copies
            write_archive(
                client,
                images,
                deliveries,
                f"zip/{uuid.uuid4().hex}.zip",
                file_names(keys),
                [client.head_object(Bucket=images, Key=key) for key in keys],
                options,
                {},
            )
        else:
            build_package(
                client,
                images_bucket=images,
                deliveries_bucket=deliveries,
                prefix=f"deliveries/{uuid.uuid4().hex}",
                archive_stem="bench",
                sources=file_names(keys),
                options=options,
            )
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mib": rss}))


def measure(kind: str, images: str, deliveries: str, keys: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, images, deliveries, *keys],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    storage = S3Storage(InfraSettings())
    client = storage.client
    run = uuid.uuid4().hex[:8]
    images, deliveries = f"bench-{run}-images", f"bench-{run}-deliveries"
    client.create_bucket(Bucket=images)
    client.create_bucket(Bucket=deliveries)
    keys = [f"sessions/bench/hires/IMG_{i:04d}.jpg" for i in range(FILES)]
    for key in keys:
        client.put_object(Bucket=images, Key=key, Body=os.urandom(FILE_BYTES))
    total_mb = FILES * FILE_BYTES / 1e6

    load_before = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    runs: dict[str, list[dict[str, float]]] = {"anchor": [], "zip": [], "delivery": []}
    for _ in range(REPEATS):  # interleaved, so drift hits all alike
        for kind in runs:
            runs[kind].append(measure(kind, images, deliveries, keys))
    rates = {k: [total_mb / r["seconds"] for r in v] for k, v in runs.items()}
    anchor, zipped, ours = (summary(rates[k]) for k in ("anchor", "zip", "delivery"))
    peak = max(r["peak_rss_mib"] for r in runs["delivery"] + runs["zip"])
    figures = {
        "source_mb": round(total_mb, 1),
        "files": FILES,
        "repeats": REPEATS,
        "anchor_mb_per_s": {k: round(v, 1) for k, v in anchor.items()},
        "zip_mb_per_s": {k: round(v, 1) for k, v in zipped.items()},
        "delivery_mb_per_s": {k: round(v, 1) for k, v in ours.items()},
        "zip_over_anchor": round(zipped["median"] / anchor["median"], 3),
        "delivery_over_anchor": round(ours["median"] / anchor["median"], 3),
        "delivery_process_peak_rss_mib": round(peak, 1),
        "anchor_process_peak_rss_mib": round(max(r["peak_rss_mib"] for r in runs["anchor"]), 1),
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    rows = [
        (
            "measure",
            "boto3 multipart upload (anchor)",
            "ZIP streamed | files + ZIP (whole delivery)",
        ),
        (
            "MB/s (median)",
            f"{anchor['median']:.0f}",
            f"{zipped['median']:.0f} | {ours['median']:.0f}",
        ),
        (
            "spread",
            f"{anchor['spread_pct']:.0f}%",
            f"{zipped['spread_pct']:.0f}% | {ours['spread_pct']:.0f}%",
        ),
        (
            "peak RSS of the process (MiB)",
            f"{figures['anchor_process_peak_rss_mib']}",
            f"{figures['delivery_process_peak_rss_mib']} (max of both)",
        ),
        (
            "ratio to anchor",
            "1.00",
            f"{figures['zip_over_anchor']} | {figures['delivery_over_anchor']}",
        ),
        ("1-min load average (start, end)", f"{load_before:.2f}", f"{os.getloadavg()[0]:.2f}"),
    ]
    for bucket in (images, deliveries):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=item["Key"])
        client.delete_bucket(Bucket=bucket)
    report("delivery", rows, figures)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    else:
        main()
