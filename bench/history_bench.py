#!/usr/bin/env python3
"""File history: what 1,000 saves of a 100 KiB file cost in storage, and what
keeping history costs a save.

  storage: a 100 KiB file of this repository's own Rust code, saved 1,000 times
  through the API, each save changing one line; once the server has packed the
  versions, the bytes the history holds (contents plus version rows) against the
  naive 1,000 x 100 KiB.
  latency: saves with history on and off (the database trigger that keeps
  versions disabled), interleaved in rounds so both see the same machine.

Usage: history_bench.py --url URL --psql PSQL_URL --source DIR [--json OUT]
Loopback only; every wait is bounded.
"""
import argparse
import asyncio
import json
import pathlib
import subprocess
import time

import aiohttp

from api_bench import pct

SIZE = 100 * 1024


def code(source: pathlib.Path) -> str:
    """100 KiB of real code: this repository's Rust files, concatenated."""
    text = ""
    for p in sorted(source.rglob("*.rs")):
        text += p.read_text()
        if len(text) >= SIZE:
            break
    lines = text[:SIZE].split("\n")
    return "\n".join(lines[:-1]) + "\n"


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-XtAq", "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


class Saver:
    def __init__(self, http, base, session, content, hash_):
        self.http, self.base, self.session = http, base, session
        self.lines = content.split("\n")
        self.hash = hash_
        self.n = 0

    async def save(self):
        """Changes one line (a different one each time) and saves; ms."""
        self.n += 1
        i = (self.n * 7919) % (len(self.lines) - 1)
        self.lines[i] = f"// edit {self.n}: " + self.lines[i][:40]
        body = {"session": self.session, "path": "big.rs", "content": "\n".join(self.lines),
                "base_hash": self.hash}
        t0 = time.perf_counter()
        async with self.http.post(f"{self.base}/api/files/save", json=body) as r:
            data = await r.json()
            assert r.status == 200, data
        self.hash = data["hash"]
        return (time.perf_counter() - t0) * 1e3


async def main(a):
    content = code(pathlib.Path(a.source))
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=60)) as http:
        name = f"hist{int(time.time())}"
        async with http.post(f"{a.url}/api/auth/register",
                             json={"username": name, "email": f"{name}@example.com",
                                   "password": "correct horse"}) as r:
            assert r.status == 200
        async with http.post(f"{a.url}/api/sessions/create", json={"name": "history bench"}) as r:
            session = (await r.json())["uuid"]
        async with http.post(f"{a.url}/api/files/create",
                             json={"session": session, "path": "big.rs", "kind": "file",
                                   "content": content}) as r:
            created = await r.json()
        saver = Saver(http, a.url, session, content, created["hash"])
        sid = psql(a.psql, f"SELECT id FROM code_sessions WHERE uuid = '{session}'")

        # Storage: 1,000 saves, then wait for the packer.
        for _ in range(1000):
            await saver.save()
        for _ in range(600):
            if psql(a.psql, f"SELECT count(*) FROM blobs WHERE session_id = {sid} AND encoding = 'raw'") == "0":
                break
            await asyncio.sleep(0.1)
        blob_bytes, blobs, deltas = map(int, psql(
            a.psql, f"SELECT sum(octet_length(data)), count(*), count(*) FILTER (WHERE encoding = 'delta') "
                    f"FROM blobs WHERE session_id = {sid}").split("|"))
        version_bytes, versions = map(int, psql(
            a.psql, f"SELECT sum(pg_column_size(v.*)), count(*) FROM file_versions v "
                    f"WHERE session_id = {sid}").split("|"))

        # Latency: rounds of saves with history on, then off.
        on, off = [], []
        trigger = "ALTER TABLE workspace_items {} TRIGGER workspace_items_versions"
        for _ in range(a.rounds):
            on += [await saver.save() for _ in range(a.per_round)]
            psql(a.psql, trigger.format("DISABLE"))
            off += [await saver.save() for _ in range(a.per_round)]
            psql(a.psql, trigger.format("ENABLE"))

    naive = 1000 * len(content.encode())
    stored = blob_bytes + version_bytes
    print("| figure | value | goal |")
    print("|---|---:|---|")
    print(f"| file | {len(content.encode()):,} bytes of Rust, one line changed per save | |")
    print(f"| history of 1,001 versions (contents + version rows) | {stored:,} bytes "
          f"({blob_bytes:,} in {blobs} contents, {deltas} of them deltas; {version_bytes:,} in {versions} rows) "
          f"| < 2,000,000 {'met' if stored < 2_000_000 else 'NOT met'} |")
    print(f"| stored naively | {naive:,} bytes ({naive / stored:.0f}x more) | |")
    ratio = pct(on, 99) / pct(off, 99)
    print(f"| save p50 / p99, history on | {pct(on, 50):.2f} / {pct(on, 99):.2f} ms ({len(on)} saves) | |")
    print(f"| save p50 / p99, history off | {pct(off, 50):.2f} / {pct(off, 99):.2f} ms ({len(off)} saves) | |")
    print(f"| save p99 on / off | {ratio:.2f} (p50 {pct(on, 50) / pct(off, 50):.2f}) "
          f"| <= 1.2 {'met' if ratio <= 1.2 else 'NOT met'} |")
    if a.json:
        json.dump({"stored": stored, "blob_bytes": blob_bytes, "version_bytes": version_bytes,
                   "naive": naive, "on": on, "off": off}, open(a.json, "w"))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--psql", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--per-round", type=int, default=200)
    p.add_argument("--json")
    asyncio.run(main(p.parse_args()))
