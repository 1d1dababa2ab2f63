#!/usr/bin/env python3
"""Many users at once against one server on this machine.

For each number of users (default 25, 50, 100, 200) it starts a fresh server (private
PostgreSQL, fresh data), signs the users up, gives each a session with a file, an open
events stream and an open terminal (prompt received), then for a bounded time every user
saves the file about once a second and types a command about every 3 seconds. Measured:
  saves/s and save p50/p99 (each save a compare-and-set on the previous hash)
  echo p50/p99: a command typed -> its output back on the socket
  errors: failed saves, commands without an answer, streams that ended
  server RSS per user: (with every user's session open - once all have signed up) / users;
           again after the busy time, and once every socket is closed and the sandboxes have
           been stopped as idle (memory given back); and the server's RSS after the sign-ups
  Postgres connections in use at the end of the run

Usage: load_bench.py --server BIN --site-root DIR --data-dir DIR --port N --json OUT
                     [--users 25,50,100,200] [--seconds 30]
"""
import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import subprocess
import time

import aiohttp

from api_bench import pct
from terminal_bench import PROMPT_END, Server, Term, new_session, server_args, sign_up

MiB = 1024 * 1024
# Sandboxes are stopped this long after their last socket (and the server's culling round).
IDLE_SECS = 5


class User:
    def __init__(self, http, base, cookie, session):
        self.http, self.base, self.cookie, self.session = http, base, cookie, session
        self.hash, self.term, self.events = None, None, None
        self.saves, self.echoes, self.errors, self.event_count = [], [], [], 0

    async def call(self, name, body):
        async with self.http.post(f"{self.base}/api/{name}", json=body,
                                  headers={"Cookie": self.cookie}) as r:
            data = await r.read()
            if r.status != 200:
                raise RuntimeError(f"{name}: HTTP {r.status} {data[:200]!r}")
            return json.loads(data)

    async def open(self, wsbase):
        item = await self.call("files/create", {"session": self.session, "path": "load.txt",
                                                "kind": "file", "content": "0\n"})
        self.hash = item["hash"]
        self.events = asyncio.create_task(self.follow_events())
        self.term = await Term.open(wsbase, self.cookie, self.session)
        await self.term.until(PROMPT_END, 120)

    async def follow_events(self):
        try:
            async with self.http.get(f"{self.base}/events/{self.session}",
                                     headers={"Cookie": self.cookie},
                                     timeout=aiohttp.ClientTimeout(total=None)) as r:
                async for line in r.content:
                    if line.startswith(b"data:"):
                        self.event_count += 1
            self.errors.append("events stream ended")
        except asyncio.CancelledError:
            pass
        except Exception as e:  # noqa: BLE001 (any failure is counted, not raised)
            self.errors.append(f"events: {e}")

    async def saver(self, until):
        n = 0
        while time.perf_counter() < until:
            n += 1
            t0 = time.perf_counter()
            try:
                r = await self.call("files/save", {"session": self.session, "path": "load.txt",
                                                   "content": f"{n}\n" * 20, "base_hash": self.hash})
                self.hash = r["hash"]
                self.saves.append((time.perf_counter() - t0) * 1e3)
            except Exception as e:  # noqa: BLE001
                self.errors.append(f"save: {e}")
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - t0)) * random.uniform(0.8, 1.2))

    async def typist(self, until):
        n = 0
        await asyncio.sleep(random.uniform(0, 3))
        while time.perf_counter() < until:
            n += 1
            # The typed line echoes `$((n*7))`; only the command's output holds `<7n>`.
            mark = f"<{n * 7}>"
            t0 = time.perf_counter()
            try:
                await self.term.ws.send(f'echo "<$(({n}*7))>"\r'.encode())
                await self.term.until(mark, 30)
                self.echoes.append((time.perf_counter() - t0) * 1e3)
                await self.term.until(PROMPT_END, 30)
            except Exception as e:  # noqa: BLE001
                self.errors.append(f"echo: {e!r}")
                return
            await asyncio.sleep(random.uniform(2.5, 3.5))

    async def close(self):
        if self.term:
            await self.term.close()
        if self.events:
            self.events.cancel()


async def bounded(tasks, limit):
    gate = asyncio.Semaphore(limit)

    async def one(t):
        async with gate:
            return await t

    return await asyncio.gather(*(one(t) for t in tasks))


def pg_connections(data_dir):
    """Connections to the server's database, from its private PostgreSQL's socket."""
    out = subprocess.run(
        ["psql", "-At", "-h", os.path.join(data_dir, "run"), "-U", "postgres", "-d", "webide",
         "-c", "SELECT count(*) FROM pg_stat_activity WHERE datname = 'webide'"],
        capture_output=True, text=True)
    return int(out.stdout.strip()) - 1 if out.returncode == 0 else None


async def level(a, users):
    data = os.path.join(a.data_dir, f"u{users}")
    os.makedirs(data)
    os.chmod(data, 0o755)
    args = argparse.Namespace(**{**vars(a), "data_dir": data})
    srv = Server(args, ["--signups-per-hour", "1000000", "--max-sandboxes", str(users + 10),
                        "--idle-secs", str(IDLE_SECS)])
    await srv.start()
    base, wsbase = f"http://127.0.0.1:{a.port}", f"ws://127.0.0.1:{a.port}"
    conn = aiohttp.TCPConnector(limit=0)
    http = aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=120))
    try:
        rss_start = srv.rss()

        async def make():
            cookie = await sign_up(http, base)
            return User(http, base, cookie, await new_session(http, base, cookie))

        people = await bounded([make() for _ in range(users)], 8)
        # Sessions are measured from here: what signing up cost is apart.
        rss0 = srv.rss()
        await bounded([u.open(wsbase) for u in people], 8)
        await asyncio.sleep(2)
        rss_open = srv.rss()

        until = time.perf_counter() + a.seconds
        t0 = time.perf_counter()
        await asyncio.gather(*(u.saver(until) for u in people), *(u.typist(until) for u in people))
        wall = time.perf_counter() - t0
        rss_busy = srv.rss()
        conns = pg_connections(data)
        saves = [x for u in people for x in u.saves]
        echoes = [x for u in people for x in u.echoes]
        errors = [e for u in people for e in u.errors]
        for u in people:
            await u.close()
        # The pages are gone: their kept-alive connections too.
        await http.close()
        # Two idle times and a culling round: terminals, then sandboxes, are stopped.
        await asyncio.sleep(2 * IDLE_SECS + 6)
        rss_idle = srv.rss()
        return {
            "users": users, "wall_s": wall, "saves": len(saves), "saves_per_s": len(saves) / wall,
            "save_p50": pct(saves, 50), "save_p99": pct(saves, 99),
            "echoes": len(echoes), "echo_p50": pct(echoes, 50), "echo_p99": pct(echoes, 99),
            "errors": len(errors), "error_samples": errors[:5],
            "rss_start_mib": rss_start / MiB, "rss_signed_up_mib": rss0 / MiB,
            "rss_open_per_user_mib": (rss_open - rss0) / users / MiB,
            "rss_busy_per_user_mib": (rss_busy - rss0) / users / MiB,
            "rss_idle_per_user_mib": (rss_idle - rss0) / users / MiB,
            "pg_connections": conns,
        }
    finally:
        await http.close()
        srv.stop()
        shutil.rmtree(data, ignore_errors=True)


def table(rows):
    out = ["| users | saves/s | save p50 / p99 ms | echo p50 / p99 ms | errors "
           "| server RSS after sign-ups MiB | server RSS per session, open / busy / idle MiB "
           "| PG connections |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(
            f"| {r['users']} | {r['saves_per_s']:.0f} | {r['save_p50']:.1f} / {r['save_p99']:.1f} "
            f"| {r['echo_p50']:.1f} / {r['echo_p99']:.1f} | {r['errors']} "
            f"| {r['rss_signed_up_mib']:.0f} "
            f"| {r['rss_open_per_user_mib']:.2f} / {r['rss_busy_per_user_mib']:.2f} / "
            f"{r['rss_idle_per_user_mib']:.2f} | {r['pg_connections']} |")
    return "\n".join(out)


async def main(a):
    rows = []
    for n in [int(x) for x in a.users.split(",")]:
        r = await level(a, n)
        rows.append(r)
        print(f"{n} users: {json.dumps(r)}", flush=True)
    with open(a.json, "w") as f:
        json.dump(rows, f, indent=1)
    print(table(rows))


if __name__ == "__main__":
    ap = server_args(__doc__, 3194)
    ap.add_argument("--users", default="25,50,100,200")
    ap.add_argument("--seconds", type=float, default=30)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(ap.parse_args()))
