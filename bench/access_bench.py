#!/usr/bin/env python3
"""How fast losing access takes effect: a collaborator's open terminal socket and
events stream, from the owner's request to each one closing on the client.

Each round: alice shares her session with bob as an editor, bob opens a terminal
(waits for its `attached`) and the events stream (its headers), then one of:
  remove: alice removes bob (/api/sharing/remove);
  demote: alice makes bob a viewer (his terminal closes; the stream says `role`);
  logout: bob signs out (/api/auth/logout).
Times run from just before the request is sent. Goal: every close within 1 s.

Usage: access_bench.py --url http://127.0.0.1:PORT [--rounds N] [--json OUT]
Loopback only; every wait is bounded.
"""
import argparse
import asyncio
import json
import time

import aiohttp

from api_bench import pct

PASSWORD = "correct horse"


async def signed_in(base, name, register):
    jar = aiohttp.CookieJar(unsafe=True)
    http = aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=30))
    if register:
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        path = "auth/register"
    else:
        body = {"login": name, "password": PASSWORD}
        path = "auth/login"
    async with http.post(f"{base}/api/{path}", json=body) as r:
        assert r.status == 200, await r.text()
    return http


async def call(http, base, name, body):
    async with http.post(f"{base}/api/{name}", json=body) as r:
        data = await r.read()
        assert r.status == 200, f"{name}: {r.status} {data[:200]!r}"
        return json.loads(data)


async def closed_terminal(ws, t0):
    """Seconds from t0 until the socket closes, and whether it said `revoked`."""
    revoked = False
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data).get("type") == "revoked":
            revoked = True
    return time.perf_counter() - t0, revoked


async def ended_stream(resp, t0, want):
    """Seconds from t0 until the stream carries an event of type `want` (or ends)."""
    buf = b""
    async for chunk in resp.content.iter_any():
        buf += chunk
        while b"\n\n" in buf:
            event, buf = buf.split(b"\n\n", 1)
            for line in event.split(b"\n"):
                if line.startswith(b"data:") and json.loads(line[5:]).get("type") == want:
                    return time.perf_counter() - t0
    return time.perf_counter() - t0


async def round_(base, ws_base, alice, bob_name, session, kind):
    await call(alice, base, "sharing/set", {"session": session, "user": bob_name, "role": "editor"})
    bob = await signed_in(base, bob_name, register=False)
    try:
        ws = await bob.ws_connect(f"{ws_base}/ws/terminal/{session}")
        while True:
            msg = await asyncio.wait_for(ws.receive(), 20)
            if msg.type == aiohttp.WSMsgType.TEXT and json.loads(msg.data)["type"] == "attached":
                break
        events = await bob.get(f"{base}/events/{session}")
        assert events.status == 200
        want = "role" if kind == "demote" else "revoked"
        t0 = time.perf_counter()
        term_task = asyncio.create_task(closed_terminal(ws, t0))
        stream_task = asyncio.create_task(ended_stream(events, t0, want))
        if kind == "remove":
            await call(alice, base, "sharing/remove", {"session": session, "user": bob_name})
        elif kind == "demote":
            await call(alice, base, "sharing/set", {"session": session, "user": bob_name, "role": "viewer"})
        else:
            await call(bob, base, "auth/logout", {})
        answered = time.perf_counter() - t0
        (term, revoked), stream = await asyncio.wait_for(asyncio.gather(term_task, stream_task), 10)
        events.close()
        return answered, term, stream, revoked
    finally:
        await bob.close()


async def main(a):
    base = a.url
    ws_base = base.replace("http://", "ws://")
    tag = f"{int(time.time())}"
    alice = await signed_in(base, f"alice{tag}", register=True)
    bob_name = f"bob{tag}"
    await (await signed_in(base, bob_name, register=True)).close()
    session = (await call(alice, base, "sessions/create", {"name": "access bench"}))["uuid"]
    results = {}
    for kind in ["remove", "demote", "logout"]:
        rows = []
        for _ in range(a.rounds):
            rows.append(await round_(base, ws_base, alice, bob_name, session, kind))
        results[kind] = rows
        assert all(r[3] for r in rows), f"{kind}: a terminal closed without saying why"
    await alice.close()

    print("| change | n | request answered p50 ms | terminal closed p50 / p99 / max ms | events stream told p50 / p99 / max ms | goal (≤ 1000 ms) |")
    print("|---|---:|---:|---:|---:|---|")
    out = {}
    for kind, rows in results.items():
        ans = [r[0] * 1e3 for r in rows]
        term = [r[1] * 1e3 for r in rows]
        stream = [r[2] * 1e3 for r in rows]
        worst = max(max(term), max(stream))
        print(f"| {kind} | {len(rows)} | {pct(ans, 50):.1f} | {pct(term, 50):.1f} / {pct(term, 99):.1f} / {max(term):.1f} "
              f"| {pct(stream, 50):.1f} / {pct(stream, 99):.1f} / {max(stream):.1f} | {'met' if worst <= 1000 else 'NOT met'} |")
        out[kind] = {"answered_ms": ans, "terminal_ms": term, "stream_ms": stream}
    if a.json:
        json.dump(out, open(a.json, "w"))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--json")
    asyncio.run(main(p.parse_args()))
