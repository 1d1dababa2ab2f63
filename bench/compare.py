#!/usr/bin/env python3
"""Prints our figures beside the peer's from the same run, with ratios.

Usage: compare.py OURS.json PEER.json
"""
import json
import sys

from api_bench import pct

ours = json.load(open(sys.argv[1]))["samples"]
peer = json.load(open(sys.argv[2]))["samples"]

print("| metric | ours p50 ms | ours p99 ms | JupyterLab p50 ms | JupyterLab p99 ms | p99 ratio (ours/peer) |")
print("|---|---:|---:|---:|---:|---:|")


def lat(v):
    return v["lat"] if isinstance(v, dict) else v


for key, label in [("save_seq_1024", "save 1 KiB"), ("save_seq_102400", "save 100 KiB"),
                   ("save_conc_1024", "save 1 KiB, 32 clients"),
                   ("save_conc_102400", "save 100 KiB, 32 clients"),
                   ("read_1024", "read 1 KiB"), ("read_102400", "read 100 KiB"),
                   ("list", "tree / listing of 1,000 files")]:
    o, p = lat(ours[key]), lat(peer[key])
    print(f"| {label} | {pct(o, 50):.2f} | {pct(o, 99):.2f} | {pct(p, 50):.2f} | {pct(p, 99):.2f} "
          f"| {pct(o, 99) / pct(p, 99):.3f} |")

print()
print("| throughput | ours saves/s | JupyterLab saves/s | ratio (ours/peer) |")
print("|---|---:|---:|---:|")
for key, label in [("save_conc_1024", "1 KiB, 32 clients"), ("save_conc_102400", "100 KiB, 32 clients")]:
    o = len(ours[key]["lat"]) / ours[key]["wall_s"]
    p = len(peer[key]["lat"]) / peer[key]["wall_s"]
    print(f"| {label} | {o:.0f} | {p:.0f} | {o / p:.2f} |")
