#!/usr/bin/env python3
"""Measures our terminals and file sync the way ../shared/peers/jupyter_bench.py measures
JupyterLab's terminals, so the two can be compared.

Usage: terminal_bench.py --server BIN --site-root DIR --data-dir DIR --port N --json OUT

It starts the server itself (private PostgreSQL under the data directory), because the
sync figures need restarts. Measured:
  start      a new terminal in a running sandbox: socket opened -> first prompt byte, x20;
             and the first terminal of a new session (sandbox start + sync of its files)
  echo       keystroke 'a' sent -> echoed, then backspace -> erased, x500 each
  bulk       head -c 50000000 /dev/urandom | base64 until a sentinel arrives: MB/s
  mem        server RSS before -> with 20 terminals open (prompt received), per terminal;
             and the sandboxes' own processes
  sync       10,000 files made in the terminal -> all in Postgres (after the command ends);
             one changed file among 10,000: command end (OSC 133 D) -> the page's `tree`
             event (sent after the commit), x20; opening the sandbox after a restart with
             its folder gone (10,000 files written) and with it kept (10,000 hashed, none written);
             and, as the disk's floor, 10,000 files created by a bare loop just before and after
"""
import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import time
import uuid

import aiohttp
import psutil
import websockets

MB = 1e6
MiB = 1024 * 1024
PROMPT_END = "\x1b]133;B\x07"
COMMAND_END = "\x1b]133;D"


def pct(xs, q):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


class Server:
    def __init__(self, a, extra=()):
        self.a, self.proc, self.extra = a, None, list(extra)
        self.log = open(os.path.join(os.path.dirname(a.json) or ".", "ours.server.log"), "a")

    async def start(self):
        if self.proc and self.proc.poll() is None:
            raise RuntimeError("already running")
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        self.proc = subprocess.Popen(
            [self.a.server, "--listen", f"127.0.0.1:{self.a.port}", "--data-dir", self.a.data_dir,
             "--site-root", self.a.site_root, "--log", "warn,server::workspaces=info,server::sync=debug", *self.extra],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        async with aiohttp.ClientSession() as s:
            for _ in range(240):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited; see {self.log.name}")
                try:
                    async with s.get(f"http://127.0.0.1:{self.a.port}/readyz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.25)
        raise RuntimeError("server did not become ready")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)

    def rss(self):
        return psutil.Process(self.proc.pid).memory_info().rss

    def children_rss(self):
        kids = psutil.Process(self.proc.pid).children(recursive=True)
        shells = [k for k in kids if k.name() not in ("postgres", "initdb", "pg_ctl")]
        total = 0
        for k in shells:
            try:
                total += k.memory_info().rss
            except psutil.Error:
                pass
        return total, len(shells)

    def sandbox_opens(self):
        """(ops, ms) of every 'sandbox started' line in the log so far."""
        self.log.flush()
        text = open(self.log.name, errors="replace").read()
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
        return [(int(o), int(m)) for o, m in re.findall(r"sandbox started ops=(\d+) ms=(\d+)", text)]


class Term:
    def __init__(self, ws):
        self.ws, self.buf = ws, ""

    @classmethod
    async def open(cls, base, cookie, session):
        ws = await websockets.connect(f"{base}/ws/terminal/{session}?cols=120&rows=40",
                                      additional_headers={"Cookie": cookie}, max_size=None,
                                      ping_interval=None, open_timeout=30)
        return cls(ws)

    async def read(self, timeout=30.0):
        """The next output frame as text (control messages skipped)."""
        while True:
            m = await asyncio.wait_for(self.ws.recv(), timeout)
            if isinstance(m, bytes):
                return m.decode("utf-8", "replace")

    async def until(self, marker, timeout=60.0):
        end = time.perf_counter() + timeout
        while marker not in self.buf:
            self.buf += await self.read(max(0.01, end - time.perf_counter()))
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    async def drain(self, quiet=0.3):
        """Reads until the terminal has been quiet for `quiet` seconds."""
        try:
            while True:
                await self.read(quiet)
        except asyncio.TimeoutError:
            self.buf = ""

    async def run(self, line, timeout=120.0):
        await self.ws.send(f"{line}\r".encode())
        out = await self.until(COMMAND_END, timeout)
        await self.until(PROMPT_END, timeout)
        return out

    async def close(self):
        await self.ws.close()


async def sign_up(http, base):
    name = f"bench{uuid.uuid4().hex[:8]}"
    body = {"username": name, "email": f"{name}@example.com", "password": "correct horse"}
    async with http.post(f"{base}/api/auth/register", json=body) as r:
        assert r.status == 200, await r.text()
        return "webide_session=" + r.cookies["webide_session"].value


async def new_session(http, base, cookie):
    body = {"name": "bench", "language": "python"}
    async with http.post(f"{base}/api/sessions/create", json=body, headers={"Cookie": cookie}) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["uuid"]


async def tree_size(http, base, cookie, session):
    async with http.post(f"{base}/api/files/tree", json={"session": session},
                         headers={"Cookie": cookie}) as r:
        return len(await r.json())


async def main(a):
    srv = Server(a)
    try:
        await measure(a, srv)
    finally:
        if srv.proc and srv.proc.poll() is None:
            srv.stop()


async def measure(a, srv):
    await srv.start()
    base = f"http://127.0.0.1:{a.port}"
    wsbase = f"ws://127.0.0.1:{a.port}"
    out = {}
    async with aiohttp.ClientSession() as http:
        cookie = await sign_up(http, base)

        # start: the first terminal of a session, then more in the running sandbox
        session = await new_session(http, base, cookie)
        t0 = time.perf_counter()
        first = await Term.open(wsbase, cookie, session)
        await first.read()
        out["first_start_ms"] = (time.perf_counter() - t0) * 1e3
        await first.until(PROMPT_END)
        starts = []
        for _ in range(a.term_starts):
            t0 = time.perf_counter()
            t = await Term.open(wsbase, cookie, session)
            await t.read()
            starts.append((time.perf_counter() - t0) * 1e3)
            await t.ws.send(b"exit\r")
            await t.close()
            await asyncio.sleep(0.1)
        out["term_start"] = {"total": starts}

        # echo and bulk on the first terminal
        t = first
        echo_a, echo_bs = [], []
        for _ in range(a.echo):
            t0 = time.perf_counter()
            await t.ws.send(b"a")
            while "a" not in await t.read(5.0):
                pass
            echo_a.append((time.perf_counter() - t0) * 1e3)
            t0 = time.perf_counter()
            await t.ws.send(b"\x7f")
            while True:
                s = await t.read(5.0)
                if "\b" in s or "\x1b[K" in s:
                    break
            echo_bs.append((time.perf_counter() - t0) * 1e3)
        out["echo_a"], out["echo_bs"] = echo_a, echo_bs
        await t.ws.send(b"\x15")
        await t.drain()

        cmd = f"head -c {a.bulk_bytes} /dev/urandom | base64; echo __BENCH''_DONE__\r"
        n, tail = 0, ""
        t0 = time.perf_counter()
        await t.ws.send(cmd.encode())
        while True:
            m = await asyncio.wait_for(t.ws.recv(), 60)
            if not isinstance(m, bytes):
                continue
            n += len(m)
            s = tail + m.decode("latin-1")
            if "__BENCH_DONE__" in s:
                t.buf = s[s.index("__BENCH_DONE__"):]
                break
            tail = s[-64:]
        el = time.perf_counter() - t0
        out["bulk"] = {"bytes": n, "s": el}
        await t.until(PROMPT_END)

        # memory: 20 more terminals, each at its prompt
        await asyncio.sleep(1.0)
        before = srv.rss()
        kids_before, _ = srv.children_rss()
        socks = []
        for _ in range(a.mem_terms):
            s = await Term.open(wsbase, cookie, session)
            await s.until(PROMPT_END)
            socks.append(s)
        await asyncio.sleep(2.0)
        with_n = srv.rss()
        kids, nk = srv.children_rss()
        out["mem"] = {"before": before, "with": with_n, "children": kids - kids_before,
                      "nchildren": nk, "terms": a.mem_terms}
        for s in socks:
            await s.ws.send(b"exit\r")
            await s.close()

        # sync: 10,000 files made by a command
        await t.run("mkdir -p many && cd many")
        t0 = time.perf_counter()
        await t.run(f"for i in $(seq {a.files}); do echo \"file $i\" > f$i.txt; done; cd ..")
        ended = time.perf_counter()
        want = a.files + 2  # the files, their folder and the starter file
        while await tree_size(http, base, cookie, session) < want:
            await asyncio.sleep(0.02)
        out["sync_many_new"] = {"command_s": ended - t0, "after_end_ms": (time.perf_counter() - ended) * 1e3}

        # one changed file among 10,000: command end -> tree event
        events = await http.get(f"{base}/events/{session}", headers={"Cookie": cookie},
                                timeout=aiohttp.ClientTimeout(total=None, sock_read=None))
        one = []
        for i in range(a.one_changes):
            await asyncio.sleep(0.3)
            await t.ws.send(f"echo change {i} >> many/f{i + 1}.txt\r".encode())
            await t.until(COMMAND_END)
            ended = time.perf_counter()
            while True:
                line = (await asyncio.wait_for(events.content.readline(), 10)).decode()
                if line.startswith("data:") and '"tree"' in line:
                    break
            one.append((time.perf_counter() - ended) * 1e3)
            await t.until(PROMPT_END)
        events.close()
        out["sync_one"] = one
        await t.close()

    # opening the sandbox after a restart: folder gone (a new machine), then kept
    srv.stop()
    ws_dir = os.path.join(a.data_dir, "workspaces", session)
    subprocess.run(["rm", "-rf", ws_dir], check=True)
    # This disk's speed at creating files swings 10x after mass deletes (ext4 with
    # `discard`): let it settle, and measure the bare floor in the same conditions.
    settle()
    floors = [create_floor(a.data_dir, a.files, "before")]
    settle()
    for label in ("sync_open_empty", "sync_open_same"):
        await srv.start()
        async with aiohttp.ClientSession() as http:
            t0 = time.perf_counter()
            term = await Term.open(wsbase, cookie, session)
            await term.until(PROMPT_END)
            ms = (time.perf_counter() - t0) * 1e3
            ops, server_ms = srv.sandbox_opens()[-1]
            out[label] = {"to_prompt_ms": ms, "ops": ops, "server_ms": server_ms}
            await term.close()
        srv.stop()
    settle()
    floors.append(create_floor(a.data_dir, a.files, "after"))
    out["create_floor_ms"] = floors
    json.dump({"samples": out}, open(a.json, "w"), indent=1)


def settle():
    os.sync()
    time.sleep(5)


def create_floor(parent, n, name):
    """The same number of small files created by a bare loop: what the disk allows."""
    d = os.path.join(parent, "floor", name, "many")
    os.makedirs(d)
    t0 = time.perf_counter()
    for i in range(n):
        with open(os.path.join(d, f"f{i + 1}.txt"), "w") as f:
            f.write(f"file {i + 1}\n")
    return (time.perf_counter() - t0) * 1e3


def server_args(doc, port):
    """The arguments of a bench that starts the server itself."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True)
    ap.add_argument("--site-root", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--port", type=int, default=port)
    ap.add_argument("--json", required=True)
    return ap


if __name__ == "__main__":
    ap = server_args(__doc__, 3191)
    ap.add_argument("--echo", type=int, default=500)
    ap.add_argument("--bulk-bytes", type=int, default=50_000_000)
    ap.add_argument("--term-starts", type=int, default=20)
    ap.add_argument("--mem-terms", type=int, default=20)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--one-changes", type=int, default=20)
    asyncio.run(main(ap.parse_args()))
