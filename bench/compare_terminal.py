#!/usr/bin/env python3
"""Prints our terminal figures beside JupyterLab's from the same run, with ratios and the
issue's targets.

Usage: compare_terminal.py OURS.json PEER.json
"""
import json
import sys

from terminal_bench import MB, MiB, pct

ours = json.load(open(sys.argv[1]))["samples"]
peer = json.load(open(sys.argv[2]))["samples"]

print("| latency | ours p50 ms | ours p99 ms | JupyterLab p50 ms | JupyterLab p99 ms | p99 ratio | target |")
print("|---|---:|---:|---:|---:|---:|---|")
for key, label, target in [("echo_a", "keystroke echo 'a'", "≤ 0.5"),
                           ("echo_bs", "keystroke echo backspace", "≤ 0.5")]:
    o, p = ours[key], peer[key]
    print(f"| {label} | {pct(o, 50):.2f} | {pct(o, 99):.2f} | {pct(p, 50):.2f} | {pct(p, 99):.2f} "
          f"| {pct(o, 99) / pct(p, 99):.2f} | {target} |")
o, p = ours["term_start"]["total"], peer["term_start"]["total"]
print(f"| terminal start (socket -> first prompt byte; peer: POST -> prompt) | {pct(o, 50):.2f} "
      f"| {pct(o, 99):.2f} | {pct(p, 50):.2f} | {pct(p, 99):.2f} | {pct(o, 99) / pct(p, 99):.2f} | < 50 ms |")

print()
floor = peer["floor"]["pty_bytes"] / MB / peer["floor"]["pty_s"]
ob = ours["bulk"]["bytes"] / MB / ours["bulk"]["s"]
pb = peer["bulk"]["bytes"] / MB / peer["bulk"]["s"]
print("| bulk output (50 MB base64) | MB/s | of the bare-PTY floor |")
print("|---|---:|---:|")
print(f"| ours | {ob:.1f} | {ob / floor:.0%} (target ≥ 90%) |")
print(f"| JupyterLab | {pb:.1f} | {pb / floor:.0%} |")
print(f"| bare PTY, no server (peer script, same run) | {floor:.1f} | 100% |")

print()
om, pm = ours["mem"], peer["mem"]
ours_inc = (om["with"] - om["before"]) / om["terms"]
peer_inc = (pm["with"] - pm["before"]) / 20
print("| memory per open terminal | ours | JupyterLab |")
print("|---|---:|---:|")
print(f"| server RSS increment | {ours_inc / 1024:.0f} KiB | {peer_inc / 1024:.0f} KiB |")
print(f"| shell processes (ours: bwrap + bash in the sandbox) | "
      f"{om['children'] / om['terms'] / 1024:.0f} KiB | "
      f"{pm['children'] / max(1, pm['nchildren']) / 1024:.0f} KiB per process |")

print()
one = ours["sync_one"]
many = ours["sync_many_new"]
print("| sync (ours only: JupyterLab has no database copy) | figure | target |")
print("|---|---:|---|")
print(f"| 1 changed file among 10,000: command end -> page told (after commit), p50 / p99 | "
      f"{pct(one, 50):.1f} / {pct(one, 99):.1f} ms | < 50 ms |")
print(f"| 10,000 new files made by a command: command end -> all in Postgres | "
      f"{many['after_end_ms']:.0f} ms | |")
for key, label in [("sync_open_empty", "open after a restart, folder gone: 10,000 files written"),
                   ("sync_open_same", "open after a restart, folder kept: 10,000 files hashed")]:
    v = ours[key]
    print(f"| {label} | {v['server_ms']} ms (to prompt {v['to_prompt_ms']:.0f} ms, {v['ops']} writes) "
          f"| < 1 s |")
before, after = ours["create_floor_ms"]
print(f"| floor: the same 10,000 files created by a bare Python loop just before / after | "
      f"{before:.0f} / {after:.0f} ms | |")
print(f"| first terminal of a new session (sandbox start + sync) | {ours['first_start_ms']:.1f} ms | |")
