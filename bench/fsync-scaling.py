#!/usr/bin/env python3
"""How this disk's synced appends scale with the number of logs written at once: the figure that
decides whether the Raft groups of one node keep a log each or share one (docs/scale-out.md).

For each count of logs (--logs 1,2,4,8,16), that many threads each append RECORD_BYTES to a file of
its own, preallocated and zero-filled as the segment log store does, and fdatasync it after every
append, for --seconds. Prints, per count: syncs per second over all logs, the median and p99 latency
of one append + fdatasync, and the ratio of total syncs per second to the one-log case. If the
total stays flat as logs are added, G groups each syncing their own log share one disk's sync rate
and a shared log (one sync per round for all groups) is worth building; if it grows, separate logs
cost little.

Usage: bench/fsync-scaling.py [--dir DIR] [--logs 1,2,4,8,16] [--seconds 5] [--record-bytes 2048]
DIR must be on the disk the nodes' --data-dir uses (default: a new directory under /tmp).
"""
import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time

SEGMENT_BYTES = 64 << 20


def preallocate(path):
    with open(path, "wb") as f:
        chunk = b"\0" * (1 << 20)
        for _ in range(SEGMENT_BYTES // len(chunk)):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())


def writer(path, record, deadline, latencies):
    fd = os.open(path, os.O_WRONLY)
    try:
        offset = 0
        while time.monotonic() < deadline:
            start = time.perf_counter()
            os.pwrite(fd, record, offset)
            os.fdatasync(fd)
            latencies.append(time.perf_counter() - start)
            offset = (offset + len(record)) % (SEGMENT_BYTES - len(record))
    finally:
        os.close(fd)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir")
    parser.add_argument("--logs", default="1,2,4,8,16")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--record-bytes", type=int, default=2048)
    args = parser.parse_args()
    counts = [int(n) for n in args.logs.split(",")]
    if not counts or min(counts) < 1 or max(counts) > 64 or not 0 < args.seconds <= 600 \
            or not 0 < args.record_bytes <= 1 << 20:
        parser.error("logs 1 to 64, seconds up to 600, record up to 1 MB")
    directory = tempfile.mkdtemp(prefix="fsync-scaling-", dir=args.dir)
    try:
        paths = [os.path.join(directory, "log-%02d" % i) for i in range(max(counts))]
        for path in paths:
            preallocate(path)
        record = os.urandom(args.record_bytes)
        print("logs  syncs/s  per log/s  p50 us  p99 us  total / one log")
        base = None
        for count in counts:
            latencies = [[] for _ in range(count)]
            deadline = time.monotonic() + args.seconds
            threads = [threading.Thread(target=writer, args=(paths[i], record, deadline, latencies[i]))
                       for i in range(count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            every = sorted(x for per_log in latencies for x in per_log)
            rate = len(every) / args.seconds
            base = base or rate
            p99 = every[min(len(every) - 1, int(len(every) * 0.99))]
            print("%4d  %7.0f  %9.0f  %6.0f  %6.0f  %15.2f" % (count, rate, rate / count,
                  statistics.median(every) * 1e6, p99 * 1e6, rate / base))
    finally:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
