#!/usr/bin/env python3
"""Compile-time benchmark of redis-ha (`redis_ha_bench_compile`).

Compiles a few translation units several times each with the project's
compiler at -O2 and reports the median user CPU time of the compiler
(children's rusage, so parallel load on the machine matters less than wall
time would):

  asio            <asio.hpp> alone, the reference
  include         <redis_ha.hpp> alone, nothing used
  sync            a main() using sync_client (set/get)
  async           a coroutine using the async client

`sync` and `async` are compiled twice: header-only (the default) and with
REDIS_HA_SEPARATE_COMPILATION (the user's side of the compiled mode; the
library's src.hpp TU, compiled once, is reported separately as `src`).

Prints a table, then ONE JSON object as the last line with the ratios to
`asio`. Usage:

  compile_bench.py --cxx g++ --include <repo>/include [--reps 3] [-- extra flags]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def user_time(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    if proc.returncode != 0:
        sys.stderr.write(f"compile failed: {' '.join(cmd)}\n{proc.stdout[-4000:]}\n")
        sys.exit(1)
    return after - before


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cxx", default=os.environ.get("CXX", "c++"))
    ap.add_argument("--include", required=True, help="redis-ha's include directory")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--std", default="c++20")
    ap.add_argument("extra", nargs="*", help="extra compiler flags (after --)")
    args = ap.parse_args()

    have_separate = os.path.exists(os.path.join(args.include, "redis_ha", "src.hpp"))
    base = [args.cxx, f"-std={args.std}", "-O2", "-I", args.include] + args.extra
    sep = ["-DREDIS_HA_SEPARATE_COMPILATION"]
    cases = [
        ("asio", "asio_only.cpp", []),
        ("include", "include_only.cpp", []),
        ("sync_header_only", "sync_min.cpp", []),
        ("async_header_only", "async_min.cpp", []),
    ]
    if have_separate:
        cases += [
            ("include_separate", "include_only.cpp", sep),
            ("sync_separate", "sync_min.cpp", sep),
            ("async_separate", "async_min.cpp", sep),
            ("src", None, sep),
        ]

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        src_tu = os.path.join(tmp, "src.cpp")
        with open(src_tu, "w") as f:
            f.write("#include <redis_ha/src.hpp>\n")
        for name, tu, flags in cases:
            path = os.path.join(HERE, tu) if tu else src_tu
            times = []
            for _ in range(args.reps):
                times.append(user_time(base + flags + ["-c", path, "-o", os.path.join(tmp, "out.o")]))
            results[name] = statistics.median(times)
            sys.stderr.write(f"  {name}: {results[name]:.2f} s\n")

    ref = results["asio"]
    print(f"compiler: {args.cxx} -std={args.std} -O2, median of {args.reps} runs, user seconds")
    print(f"{'translation unit':<28} {'user s':>8} {'vs asio':>8}")
    for name, t in results.items():
        print(f"{name:<28} {t:8.2f} {t / ref:7.2f}x")

    def ratio(key):
        return round(results[key] / ref, 3) if key in results else None

    out = {
        "asio_s": round(ref, 3),
        "include_over_asio": ratio("include"),
        "sync_header_only_over_asio": ratio("sync_header_only"),
        "sync_separate_over_asio": ratio("sync_separate"),
        "async_header_only_over_asio": ratio("async_header_only"),
        "async_separate_over_asio": ratio("async_separate"),
        "include_separate_over_asio": ratio("include_separate"),
        "src_s": round(results["src"], 3) if "src" in results else None,
        "reps": args.reps,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
