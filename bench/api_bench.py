#!/usr/bin/env python3
"""Benchmark our files API the way ../shared/peers/jupyter_bench.py measures JupyterLab's
contents API, so the two tables compare row by row.

  save 1 KiB / 100 KiB: 500 sequential saves each (each based on the previous hash, so each
  one is a real compare-and-set committed to PostgreSQL), then 32 clients x 100 saves, each
  client on its own connection and file; read of the same files, 500 each; the tree of a
  session holding 1,000 files, 100 calls.

Usage: api_bench.py --url http://127.0.0.1:PORT [--json OUT]
Loopback only; every loop is bounded.
"""
import argparse
import asyncio
import json
import sys
import time

import aiohttp


def pct(xs, q):
    s = sorted(xs)
    k = (len(s) - 1) * q / 100.0
    f = int(k)
    c = min(f + 1, len(s) - 1)
    return s[f] + (s[c] - s[f]) * (k - f)


def text_of(size, tag):
    line = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"[:63] + "\n"
    return (f"{tag}\n" + line * (size // len(line) + 2))[:size]


class Api:
    def __init__(self, base, session, cookies):
        self.base = base
        self.http = session
        self.cookies = cookies

    async def call(self, name, body):
        t0 = time.perf_counter()
        async with self.http.post(f"{self.base}/api/{name}", json=body) as r:
            data = await r.read()
            if r.status != 200:
                raise RuntimeError(f"{name}: HTTP {r.status} {data[:200]!r}")
        return (time.perf_counter() - t0) * 1e3, json.loads(data)


async def client(base, jar):
    s = aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=60),
                              connector=aiohttp.TCPConnector(limit=1))
    return Api(base, s, jar)


async def main(a):
    rows, samples = [], {}
    jar = aiohttp.CookieJar(unsafe=True)
    api = await client(a.url, jar)
    name = f"bench{int(time.time())}"
    await api.call("auth/register", {"username": name, "email": f"{name}@example.com",
                                     "password": "benchmark password"})
    _, sess = await api.call("sessions/create", {"name": "bench", "language": "bash"})
    sid = sess["uuid"]

    async def create(c, path, content):
        _, item = await c.call("files/create", {"session": sid, "path": path, "kind": "file",
                                                "content": content})
        return item["hash"]

    async def save(c, path, content, base):
        ms, r = await c.call("files/save", {"session": sid, "path": path, "content": content,
                                            "base_hash": base})
        return ms, r["hash"]

    sizes = [("1 KiB", 1024), ("100 KiB", 100 * 1024)]
    for label, size in sizes:
        path = f"save_{size}.txt"
        h = await create(api, path, text_of(size, "init"))
        for i in range(a.warmup):
            _, h = await save(api, path, text_of(size, f"warm {i}"), h)
        lat = []
        for i in range(a.seq):
            ms, h = await save(api, path, text_of(size, f"seq {i}"), h)
            lat.append(ms)
        samples[f"save_seq_{size}"] = lat
        rows.append(("save", f"{label} sequential", lat))

    for label, size in sizes:
        clients = [await client(a.url, jar) for _ in range(a.clients)]
        hashes = [await create(clients[c], f"conc_{size}_{c}.txt", text_of(size, "init"))
                  for c in range(a.clients)]
        lat = []
        start = asyncio.Event()

        async def run(c):
            h = hashes[c]
            await start.wait()
            for i in range(a.per_client):
                ms, h = await save(clients[c], f"conc_{size}_{c}.txt", text_of(size, f"c{c} {i}"), h)
                lat.append(ms)

        tasks = [asyncio.create_task(run(c)) for c in range(a.clients)]
        await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - t0
        for c in clients:
            await c.http.close()
        samples[f"save_conc_{size}"] = {"lat": lat, "wall_s": wall}
        rows.append(("save", f"{label} {a.clients} clients x {a.per_client}", lat,
                     f"{len(lat) / wall:.0f} saves/s"))

    for label, size in sizes:
        lat = []
        for _ in range(a.seq):
            ms, f = await api.call("files/read", {"session": sid, "path": f"save_{size}.txt"})
            lat.append(ms)
        assert len(f["content"]) == size
        samples[f"read_{size}"] = lat
        rows.append(("read", f"{label}", lat))

    _, dsess = await api.call("sessions/create", {"name": "listing", "language": "bash"})
    did = dsess["uuid"]
    await api.call("files/delete", {"session": did, "path": "main.sh"})
    small = "x" * 100 + "\n"
    t0 = time.perf_counter()
    for i in range(a.dir_files):
        await api.call("files/create", {"session": did, "path": f"dir/f{i:05d}.txt", "kind": "file",
                                        "content": small})
    create_s = time.perf_counter() - t0
    lat = []
    for _ in range(a.list_calls):
        ms, tree = await api.call("files/tree", {"session": did})
        lat.append(ms)
    assert len(tree) == a.dir_files + 1
    samples["list"] = lat
    rows.append(("list", f"tree of {a.dir_files} files", lat,
                 f"creating them took {create_s:.1f}s ({a.dir_files / create_s:.0f}/s)"))
    await api.http.close()
    return rows, samples


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--json")
    ap.add_argument("--seq", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--per-client", type=int, default=100)
    ap.add_argument("--dir-files", type=int, default=1000)
    ap.add_argument("--list-calls", type=int, default=100)
    args = ap.parse_args()
    host = args.url.split("//", 1)[1].split(":")[0]
    if host not in ("127.0.0.1", "localhost"):
        sys.exit("refusing: only loopback targets are allowed")
    rows, samples = asyncio.run(main(args))
    if args.json:
        json.dump({"samples": samples}, open(args.json, "w"))
