#!/usr/bin/env python3
"""Start time of two volctl builds, side by side: `volctl --version` of
each, run alternately (so both see the same machine noise), the median
and p90 of each.

    benches/start-ab.py OLD_BINARY NEW_BINARY [RUNS]   (default 400 runs each)
"""
import statistics
import subprocess
import sys
import time

def once(binary):
    t = time.perf_counter()
    subprocess.run([binary, "--version"], stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) * 1000.0

def main():
    old, new = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    times = {old: [], new: []}
    for _ in range(20):  # warm the page cache
        once(old), once(new)
    for _ in range(runs):
        for b in (old, new):
            times[b].append(once(b))
    print("| build | runs | median | p90 |")
    print("|---|---|---|---|")
    for b in (old, new):
        v = sorted(times[b])
        print(f"| {b} | {runs} | {statistics.median(v):.2f} ms | {v[int(len(v) * 0.9)]:.2f} ms |")

main()
