#!/usr/bin/env python3
"""Workspace search beside ripgrep, on the same files in the same run.

The workspace: 10,000 files of generated Python-like code, about 50 MB, made with
a fixed seed, written to a folder on disk (for ripgrep) and created in a session
through the API (for us). The query set, all case-sensitive (ripgrep's default):
  rare literal     zq_marker_771          (3 files)
  common literal   self.cache.get         (thousands of lines)
  word regex       \\bparse_[a-z]+\\b      (thousands)
  class regex      [A-Z][a-z]+Error       (thousands)
Each query runs 3 times to warm up, then 20 times each for us (POST /api/search/text,
max_results 20,000, the whole answer read) and for ripgrep (`rg -n`, its output
read by this script), interleaved. Goals: the rare literal at most ripgrep's time,
the others at most 2x.

Usage: search_bench.py --url URL --psql PSQL_URL --dir DIR [--json OUT]
"""
import argparse
import asyncio
import json
import pathlib
import random
import subprocess
import time

import aiohttp

from api_bench import pct

FILES = 10_000
QUERIES = [
    ("rare literal", "zq_marker_771", False, 1.0),
    ("common literal", "self.cache.get", False, 2.0),
    ("word-boundary regex", r"\bparse_[a-z]+\b", True, 2.0),
    ("character-class regex", "[A-Z][a-z]+Error", True, 2.0),
]

WORDS = ("alpha beta gamma delta token frame buffer record window cursor index value "
         "stream chunk batch queue entry state event handle config session user item").split()
ERRORS = ["ValueError", "KeyError", "TypeError", "IndexError", "RuntimeError", "LookupError"]


def line(rng: random.Random) -> str:
    w = rng.choice(WORDS)
    v = rng.choice(WORDS)
    r = rng.random()
    if r < 0.004:
        return "        return self.cache.get(key)"
    if r < 0.009:
        return f"        raise {rng.choice(ERRORS)}(\"bad {w}\")"
    if r < 0.014:
        return f"    result = parse_{w}({v}_{rng.randrange(100)})"
    if r < 0.05:
        return f"def handle_{w}_{rng.randrange(1000)}(self, {v}, count={rng.randrange(10)}):"
    if r < 0.10:
        return f"class {w.capitalize()}{v.capitalize()}{rng.randrange(100)}:"
    if r < 0.15:
        return f"    # {w} {v} {rng.randrange(10000)} keeps the {w} of the {v}"
    if r < 0.20:
        return ""
    return f"        {w}_{rng.randrange(50)} = {v}_{rng.randrange(50)} + {rng.randrange(1000)}"


def generate(root: pathlib.Path) -> dict:
    rng = random.Random(771)
    files = {}
    for i in range(FILES):
        path = f"pkg{i // 100:02d}/module_{i % 100:02d}.py"
        lines = [line(rng) for _ in range(rng.randrange(75, 225))]
        if i in (1234, 5678, 9012):
            lines.insert(len(lines) // 2, "    marker = 'zq_marker_771'")
        text = "\n".join(lines) + "\n"
        files[path] = text
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return files


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-XtAq", "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


async def create_all(http, base, session, files):
    sem = asyncio.Semaphore(8)

    async def one(path, text):
        async with sem:
            async with http.post(f"{base}/api/files/create",
                                 json={"session": session, "path": path, "kind": "file",
                                       "content": text}) as r:
                assert r.status == 200, await r.text()

    await asyncio.gather(*(one(p, t) for p, t in files.items()))


async def ours(http, base, session, query, regex):
    body = {"session": session, "query": query, "regex": regex, "case_sensitive": True,
            "max_results": 20_000}
    t0 = time.perf_counter()
    async with http.post(f"{base}/api/search/text", json=body) as r:
        data = await r.json()
        assert r.status == 200, data
    ms = (time.perf_counter() - t0) * 1e3
    lines = {(m["path"], m["line"]) for m in data["matches"]}
    return ms, len(lines), data["truncated"]


def rg(root, query, regex):
    args = ["rg", "-n", "--no-heading"] + ([] if regex else ["-F"]) + ["--", query, "."]
    t0 = time.perf_counter()
    out = subprocess.run(args, cwd=root, capture_output=True).stdout
    return (time.perf_counter() - t0) * 1e3, out.count(b"\n")


async def main(a):
    root = pathlib.Path(a.dir)
    files = generate(root)
    total = sum(len(t.encode()) for t in files.values())
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=120)) as http:
        name = f"search{int(time.time())}"
        async with http.post(f"{a.url}/api/auth/register",
                             json={"username": name, "email": f"{name}@example.com",
                                   "password": "correct horse"}) as r:
            assert r.status == 200
        async with http.post(f"{a.url}/api/sessions/create", json={"name": "search bench"}) as r:
            session = (await r.json())["uuid"]
        t0 = time.perf_counter()
        await create_all(http, a.url, session, files)
        made = time.perf_counter() - t0
        # The index copy catches up in the background.
        t0 = time.perf_counter()
        while int(psql(a.psql, "SELECT count(*) FROM search_docs")) < FILES:
            await asyncio.sleep(0.2)
        indexed = time.perf_counter() - t0
        rows = []
        for label, query, regex, goal in QUERIES:
            for _ in range(3):
                await ours(http, a.url, session, query, regex)
                rg(root, query, regex)
            mine, theirs = [], []
            for _ in range(a.runs):
                ms, hits, truncated = await ours(http, a.url, session, query, regex)
                mine.append(ms)
                rms, rhits = rg(root, query, regex)
                theirs.append(rms)
            assert hits == rhits, f"{label}: we found {hits} lines, ripgrep {rhits}"
            rows.append((label, query, hits, truncated, mine, theirs, goal))
    print(f"{FILES:,} files, {total / 1e6:.1f} MB; created through the API in {made:.1f} s, "
          f"in the search index {indexed:.1f} s later\n")
    print("| query | pattern | lines | ours p50 / p99 ms | ripgrep p50 / p99 ms | p50 ratio | goal |")
    print("|---|---|---:|---:|---:|---:|---|")
    out = {}
    for label, query, hits, truncated, mine, theirs, goal in rows:
        ratio = pct(mine, 50) / pct(theirs, 50)
        met = "met" if ratio <= goal else "NOT met"
        print(f"| {label} | `{query}` | {hits:,}{' (truncated)' if truncated else ''} "
              f"| {pct(mine, 50):.1f} / {pct(mine, 99):.1f} | {pct(theirs, 50):.1f} / {pct(theirs, 99):.1f} "
              f"| {ratio:.2f} | <= {goal:g}: {met} |")
        out[label] = {"ours": mine, "rg": theirs, "lines": hits}
    if a.json:
        json.dump(out, open(a.json, "w"))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--psql", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--json")
    asyncio.run(main(p.parse_args()))
