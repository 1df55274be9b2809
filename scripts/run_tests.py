"""Run the test suite once per Keras backend, each in its own process.

Usage: python scripts/run_tests.py [--backends tensorflow,jax,torch] [--jobs N]
                                   [pytest args...]

Prints pytest's output for each backend, then one summary line per backend
and a closing total; exits non-zero if any backend failed, errored or ran
no tests. With `--jobs 2` (or 3) the backends run concurrently, each with one
intra-op thread (most unit tests are bound by Python and compilation, which
are single-threaded, so two processes use a 2-core machine better than one);
each backend's output is printed when it finishes.
"""

import argparse
import concurrent.futures
import io
import os
import re
import subprocess
import sys
import time

BACKENDS = ("tensorflow", "jax", "torch")
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")


# One intra-op thread per process when backends share the machine.
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1",
                 "TF_NUM_INTEROP_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run(backend, pytest_args, out=None, single_thread=False):
    out = out or sys.stdout
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2",
               TF_ENABLE_ONEDNN_OPTS="0", MPLBACKEND="Agg")
    if single_thread:
        env.update(SINGLE_THREAD)
    out.write(f"\n===== KERAS_BACKEND={backend} =====\n")
    out.flush()
    start = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                             *pytest_args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    last = ""
    for line in proc.stdout:
        out.write(line)
        if COUNT.search(line):
            last = line
    proc.wait()
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    for n, kind in COUNT.findall(last):
        kind = "errors" if kind.startswith("error") else kind
        if kind in counts:
            counts[kind] += int(n)
    return proc.returncode, counts, time.time() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--jobs", type=int, default=1,
                        help="backends run at once (default 1: one after the other)")
    args, pytest_args = parser.parse_known_args()
    if not 1 <= args.jobs <= len(BACKENDS):
        parser.error(f"--jobs must be 1..{len(BACKENDS)}, received {args.jobs}")
    backends = [b for b in args.backends.split(",") if b]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s) {sorted(unknown)}; expected some of {BACKENDS}")
    pytest_args = pytest_args or ["tests"]
    if args.jobs == 1:
        results = {b: run(b, pytest_args) for b in backends}
    else:
        def buffered(backend):
            out = io.StringIO()
            result = run(backend, pytest_args, out=out, single_thread=True)
            sys.stdout.write(out.getvalue())
            sys.stdout.flush()
            return result

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {b: pool.submit(buffered, b) for b in backends}
            results = {b: futures[b].result() for b in backends}
    print("\n===== summary =====")
    ok = True
    total = {"passed": 0, "failed": 0, "skipped": 0}
    for backend, (rc, counts, seconds) in results.items():
        good = rc == 0 and counts["passed"] > 0
        ok &= good
        for k in total:
            total[k] += counts[k]
        total["failed"] += counts["errors"]
        print(f"{backend:>10}: {'OK  ' if good else 'FAIL'} {counts['passed']} passed, "
              f"{counts['failed']} failed, {counts['errors']} errors, "
              f"{counts['skipped']} skipped in {seconds:.0f} s (exit {rc})")
    print(f"all backends: {total['passed']} passed, {total['failed']} failed, "
          f"{total['skipped']} skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
