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
  asio_coroutine  the same coroutine with Asio alone (a steady_timer): the
                  floor under `async`, reported as `async_*_over_asio_coroutine`

`sync` and `async` are compiled twice: header-only (the default) and with
REDIS_HA_SEPARATE_COMPILATION (the user's side of the compiled mode; the
library's src.hpp TU, compiled once, is reported separately as `src`).

Prints a table, then ONE JSON object as the last line with the ratios to
`asio`. Usage:

  compile_bench.py --cxx g++ --include <repo>/include [--reps 3]
                   [--baseline-include <old checkout>/include] [-- extra flags]

With --baseline-include, every translation unit is also compiled against
that include directory (e.g. a checkout of main before a change),
alternating with the current one so that machine load hits both alike; the
table gets a second column and the JSON a "baseline" object.
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
    ap.add_argument("--baseline-include", default=None, help="also measure this include directory")
    ap.add_argument("--only", default=None,
                    help="comma-separated case names to run (asio is always run), e.g. sync_separate,async_separate")
    ap.add_argument("extra", nargs="*", help="extra compiler flags (after --)")
    args = ap.parse_args()

    def cases_for(include):
        have_separate = os.path.exists(os.path.join(include, "redis_ha", "src.hpp"))
        sep = ["-DREDIS_HA_SEPARATE_COMPILATION"]
        cases = [
            ("asio", "asio_only.cpp", []),
            ("include", "include_only.cpp", []),
            ("sync_header_only", "sync_min.cpp", []),
            ("async_header_only", "async_min.cpp", []),
            ("asio_coroutine", "asio_coroutine.cpp", []),
        ]
        if have_separate:
            cases += [
                ("include_separate", "include_only.cpp", sep),
                ("sync_separate", "sync_min.cpp", sep),
                ("async_separate", "async_min.cpp", sep),
                ("src", None, sep),
            ]
        if args.only:
            wanted = set(args.only.split(",")) | {"asio"}
            cases = [c for c in cases if c[0] in wanted]
        return cases

    variants = [("current", args.include)]
    if args.baseline_include:
        variants.insert(0, ("baseline", args.baseline_include))
    results = {v: {} for v, _ in variants}
    samples = {v: {} for v, _ in variants}
    with tempfile.TemporaryDirectory() as tmp:
        src_tu = os.path.join(tmp, "src.cpp")
        with open(src_tu, "w") as f:
            f.write("#include <redis_ha/src.hpp>\n")
        for rep in range(args.reps):
            for variant, include in variants:
                base = [args.cxx, f"-std={args.std}", "-O2", "-I", include] + args.extra
                for name, tu, flags in cases_for(include):
                    path = os.path.join(HERE, tu) if tu else src_tu
                    t = user_time(base + flags + ["-c", path, "-o", os.path.join(tmp, "out.o")])
                    samples[variant].setdefault(name, []).append(t)
                    sys.stderr.write(f"  [{rep + 1}/{args.reps}] {variant} {name}: {t:.2f} s\n")
    for variant in samples:
        for name, ts in samples[variant].items():
            results[variant][name] = statistics.median(ts)

    def ratios(res):
        ref = res["asio"]

        def ratio(key):
            return round(res[key] / ref, 3) if key in res else None

        return {
            "asio_s": round(ref, 3),
            "include_over_asio": ratio("include"),
            "sync_header_only_over_asio": ratio("sync_header_only"),
            "sync_separate_over_asio": ratio("sync_separate"),
            "async_header_only_over_asio": ratio("async_header_only"),
            "async_separate_over_asio": ratio("async_separate"),
            "include_separate_over_asio": ratio("include_separate"),
            "asio_coroutine_over_asio": ratio("asio_coroutine"),
            "async_separate_over_asio_coroutine": (round(res["async_separate"] / res["asio_coroutine"], 3)
                                                   if "async_separate" in res and "asio_coroutine" in res else None),
            "src_s": round(res["src"], 3) if "src" in res else None,
        }

    cur = results["current"]
    base = results.get("baseline")
    print(f"compiler: {args.cxx} -std={args.std} -O2, median of {args.reps} runs, user seconds")
    header = f"{'translation unit':<22} {'user s':>8} {'vs asio':>8}"
    if base:
        header += f" {'baseline s':>11} {'vs asio':>8}"
    print(header)
    for name, t in cur.items():
        line = f"{name:<22} {t:8.2f} {t / cur['asio']:7.2f}x"
        if base:
            line += f" {base[name]:11.2f} {base[name] / base['asio']:7.2f}x" if name in base else f" {'-':>11} {'-':>8}"
        print(line)
    out = ratios(cur)
    out["reps"] = args.reps
    if base:
        out["baseline"] = ratios(base)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
