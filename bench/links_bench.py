#!/usr/bin/env python3
"""Forks, zip exports and public pages, measured against the running server.

fork:   /api/sessions/fork of a session with 1,000 files in 10 folders (20 forks;
        goal: p50 under 200 ms).
zip:    GET /download/{session} of a 50 MB session and of a 6 MB one (25 and 3
        files of 2 MB of text that compresses little): throughput, and the
        server's resident memory during each, above what it held before (goal: no
        more for 50 MB than for 6 MB).
page:   GET /p/{token} (server-rendered, the first file in it) 200 times: time to
        the first byte, p50/p99.

Usage: links_bench.py --url http://127.0.0.1:PORT --pid SERVER_PID [--json OUT]
"""
import argparse
import asyncio
import json
import random
import string
import time

import aiohttp

from access_bench import call, signed_in
from api_bench import pct

MB = 1024 * 1024


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def session(http, base, name):
    return (await call(http, base, "sessions/create", {"name": name, "language": "python"}))["uuid"]


async def fill(http, base, s, files, sem=8):
    """Creates `files` ({path: content}) in session `s`, a few at a time."""
    gate = asyncio.Semaphore(sem)

    async def one(path, content):
        async with gate:
            await call(http, base, "files/create",
                       {"session": s, "path": path, "kind": "file", "content": content})

    await asyncio.gather(*(one(p, c) for p, c in files.items()))


def text_mb(seed):
    """2 MB of words that compress about 2:1, not 100:1."""
    rnd = random.Random(seed)
    words = ["".join(rnd.choices(string.ascii_lowercase, k=rnd.randint(2, 9))) for _ in range(5000)]
    out, size = [], 0
    while size < 2 * MB - 200:
        line = " ".join(rnd.choices(words, k=12)) + "\n"
        out.append(line)
        size += len(line)
    return "".join(out)


async def export(http, base, s, pid):
    before = rss_kb(pid)
    peak = before
    got = 0
    t0 = time.perf_counter()
    async with http.get(f"{base}/download/{s}") as r:
        assert r.status == 200, r.status
        async for chunk in r.content.iter_chunked(256 * 1024):
            got += len(chunk)
            peak = max(peak, rss_kb(pid))
    secs = time.perf_counter() - t0
    return {"bytes": got, "secs": secs, "rss_before_kb": before, "rss_peak_kb": peak}


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--json")
    a = ap.parse_args()
    base = a.url
    http = await signed_in(base, f"links{random.randrange(10**8)}", register=True)
    results = {}

    # fork of a 1,000-file session
    big = await session(http, base, "thousand")
    await fill(http, base, big, {f"pkg{i % 10}/mod{i}.py": f"VALUE_{i} = {i}\n" * 20 for i in range(1000)})
    forks = []
    for _ in range(20):
        t0 = time.perf_counter()
        await call(http, base, "sessions/fork", {"session": big})
        forks.append(time.perf_counter() - t0)
    results["fork_ms"] = {"p50": pct(forks, 50) * 1000, "p99": pct(forks, 99) * 1000}

    # zip exports, 6 MB then 50 MB
    small = await session(http, base, "five")
    await fill(http, base, small, {f"data/part{i}.txt": text_mb(i) for i in range(3)})
    large = await session(http, base, "fifty")
    await fill(http, base, large, {f"data/part{i}.txt": text_mb(100 + i) for i in range(25)}, sem=4)
    results["zip_small"] = await export(http, base, small, a.pid)
    results["zip_large"] = await export(http, base, large, a.pid)

    # public page time to first byte
    link = await call(http, base, "links/create", {"session": big})
    anon = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
    ttfb = []
    for _ in range(200):
        t0 = time.perf_counter()
        async with anon.get(f"{base}/p/{link['token']}") as r:
            ttfb.append(time.perf_counter() - t0)
            assert r.status == 200, r.status
            await r.read()
    await anon.close()
    results["page_ttfb_ms"] = {"p50": pct(ttfb, 50) * 1000, "p99": pct(ttfb, 99) * 1000}
    await http.close()

    zs, zl = results["zip_small"], results["zip_large"]
    grow = lambda z: (z["rss_peak_kb"] - z["rss_before_kb"]) / 1024
    print("| measure | value | goal |")
    print("|---|---|---|")
    print(f"| fork of 1,000 files, p50 / p99 | {results['fork_ms']['p50']:.1f} / {results['fork_ms']['p99']:.1f} ms | p50 < 200 ms |")
    for label, z, size in [("zip export 6 MB", zs, 6), ("zip export 50 MB", zl, 50)]:
        print(f"| {label}: archive, time, throughput | {z['bytes'] / MB:.1f} MB, {z['secs']:.2f} s, "
              f"{size / z['secs']:.0f} MB/s of files | |")
        print(f"| {label}: server memory growth (peak RSS over before) | {grow(z):.1f} MiB | same for both |")
    print(f"| /p/{{token}} time to first byte, p50 / p99 | {results['page_ttfb_ms']['p50']:.1f} / "
          f"{results['page_ttfb_ms']['p99']:.1f} ms | |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


asyncio.run(main())
