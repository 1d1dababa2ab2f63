#!/usr/bin/env python3
"""What a run costs, against the floor measured in the same run.

floor:  `bwrap` with the local runner's flags (namespaces, read-only system, the
        workspace at /app, private /tmp and home, its passwd) running
        `/bin/bash -c true`, started and waited for directly: the bare sandbox start
        of the same program, without a control group, limits or a user switch.
ours:   POST /api/runs/execute {"command": "true"}: access, sync, the run's
        record, its control group and limits, the same sandbox, the result stored.
batch:  100 runs of a short Python program over 10 sessions (10 users), 8 at a
        time: runs/s, p50/p99 of each, and every output checked.

Usage: runs_bench.py --url http://127.0.0.1:PORT [--rounds N] [--json OUT]
"""
import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time

import aiohttp

from api_bench import pct

PASSWORD = "correct horse"
PROGRAM = "import sys\nn = int(sys.stdin.read())\nprint(sum(i * i for i in range(n)))\n"


def bwrap_argv(root):
    """The local runner's flags (runner/local.rs), for a sandbox under `root`."""
    for d in ["app", "tmp", "home"]:
        os.makedirs(f"{root}/{d}", exist_ok=True)
    uid, gid = os.getuid(), os.getgid()
    with open(f"{root}/passwd", "w") as f:
        f.write(f"root:x:0:0:root:/root:/bin/bash\nuser:x:{uid}:{gid}:user:/home/user:/bin/bash\n")
    with open(f"{root}/group", "w") as f:
        f.write(f"root:x:0:\nuser:x:{gid}:\n")
    with open(f"{root}/bashrc", "w") as f:
        f.write("")
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr"]
    for top in ["/bin", "/sbin", "/lib", "/lib64", "/lib32"]:
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    argv += ["--ro-bind", "/etc", "/etc", "--ro-bind", "/dev/null", "/etc/shadow",
             "--ro-bind", "/dev/null", "/etc/gshadow", "--dev", "/dev", "--proc", "/proc",
             "--hostname", "webide", "--chdir", "/app",
             "--bind", f"{root}/app", "/app", "--bind", f"{root}/tmp", "/tmp",
             "--bind", f"{root}/home", "/home/user",
             "--ro-bind", f"{root}/passwd", "/etc/passwd", "--ro-bind", f"{root}/group", "/etc/group",
             "--ro-bind", f"{root}/bashrc", "/opt/webide/bashrc",
             "--", "/bin/bash", "-c", "true"]
    return argv


def floor(rounds):
    with tempfile.TemporaryDirectory() as root:
        argv = bwrap_argv(root)
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            subprocess.run(argv, check=True, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            times.append(time.perf_counter() - t0)
        return times


async def user(base, name):
    jar = aiohttp.CookieJar(unsafe=True)
    http = aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=120))
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    async with http.post(f"{base}/api/auth/register", json=body) as r:
        assert r.status == 200, await r.text()
    async with http.post(f"{base}/api/sessions/create",
                         json={"name": "bench", "language": "python"}) as r:
        session = (await r.json())["uuid"]
    return http, session


async def execute(http, base, body):
    t0 = time.perf_counter()
    async with http.post(f"{base}/api/runs/execute", json=body) as r:
        data = await r.json()
        assert r.status == 200, data
    return time.perf_counter() - t0, data


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--json")
    a = ap.parse_args()
    base = a.url

    bare = floor(a.rounds)
    http, session = await user(base, "solo")
    # The sandbox started and warm, as for every run after a session's first.
    await execute(http, base, {"session": session, "command": "true"})
    ours = []
    for _ in range(a.rounds):
        t, r = await execute(http, base, {"session": session, "command": "true"})
        assert r["status"] == "finished", r
        ours.append(t)
    await http.close()

    users = [await user(base, f"user{i}") for i in range(10)]
    for h, s in users:
        async with h.post(f"{base}/api/files/create", json={
                "session": s, "path": "sq.py", "kind": "file", "content": PROGRAM}) as r:
            assert r.status == 200, await r.text()
        await execute(h, base, {"session": s, "command": "true"})
    gate = asyncio.Semaphore(8)
    wrong = 0

    async def one(i):
        nonlocal wrong
        h, s = users[i % 10]
        n = 1000 + i
        async with gate:
            t, r = await execute(h, base, {"session": s, "path": "sq.py", "stdin": str(n)})
        if r["status"] != "finished" or r["stdout"] != f"{sum(k * k for k in range(n))}\n":
            wrong += 1
        return t

    t0 = time.perf_counter()
    batch = await asyncio.gather(*(one(i) for i in range(100)))
    elapsed = time.perf_counter() - t0
    for h, _ in users:
        await h.close()

    ms = lambda xs, q: pct(xs, q) * 1000
    rows = [
        ("floor: bwrap bash -c true", ms(bare, 50), ms(bare, 99), ""),
        ("ours: /api/runs/execute true", ms(ours, 50), ms(ours, 99),
         f"{ms(ours, 50) / ms(bare, 50):.2f}× floor (p50), {ms(ours, 99) / ms(bare, 99):.2f}× (p99)"),
        ("100 Python runs, 10 sessions, 8 at a time", ms(batch, 50), ms(batch, 99),
         f"{100 / elapsed:.1f} runs/s, {100 - wrong}/100 correct"),
    ]
    print("| what | p50 ms | p99 ms | note |")
    print("|---|---:|---:|---|")
    for name, p50, p99, note in rows:
        print(f"| {name} | {p50:.1f} | {p99:.1f} | {note} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"floor": bare, "ours": ours, "batch": batch, "elapsed": elapsed,
                       "wrong": wrong}, f)
    assert wrong == 0, f"{wrong} wrong results"


asyncio.run(main())
