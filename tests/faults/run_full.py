"""The full fault-injection run of issue 20: kill/interrupt trials and corrupted-file cases.

    python tests/faults/run_full.py                      # 1,512 kill trials, about 10,080 cases
    python tests/faults/run_full.py --trials 0 --cases 2000 --seed 3 --json out.json

Prints a summary (counts by operation, mode and outcome; leaked exception types; hangs; wrong
counts; memory blow-ups; mixed or damaged datasets; leftover temporary files) and every problem
found, and exits 1 if there was any. Seeded: the same arguments give the same trials and cases.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1512, help="kill/interrupt trials (default 1512)")
    parser.add_argument(
        "--cases",
        type=int,
        default=10100,
        help="corrupted-file cases (default 10100; the few draws that change nothing are skipped)",
    )
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument(
        "--memory-limit", type=float, default=4.0, help="address-space limit in GiB (a blow-up raises MemoryError)"
    )
    parser.add_argument("--dir", default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--json", default=None, help="also write the summary and problems to this file")
    args = parser.parse_args(argv)
    import faults_harness as harness  # this script's folder is on sys.path

    limit = int(args.memory_limit * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    result: dict = {"seed": args.seed}
    with tempfile.TemporaryDirectory(dir=args.dir) as work:
        base = Path(work)
        if args.trials:
            start = time.perf_counter()
            trials = harness.run_trials(base / "trials", args.trials, args.seed, progress=True)
            result["kill_trials"] = harness.summarize_trials(trials) | {
                "seconds": round(time.perf_counter() - start, 1)
            }
            result["kill_problems"] = list(harness.iter_problems(trials))
        if args.cases:
            start = time.perf_counter()
            cases = harness.run_cases(base / "cases", args.cases, args.seed, progress=True)
            result["corrupted_files"] = harness.summarize_cases(cases) | {
                "seconds": round(time.perf_counter() - start, 1)
            }
            result["case_problems"] = list(harness.iter_problems(cases))
    print(json.dumps({k: v for k, v in result.items() if not k.endswith("problems")}, indent=1))
    problems = result.get("kill_problems", []) + result.get("case_problems", [])
    for problem in problems[:200]:
        print(problem)
    if len(problems) > 200:
        print(f"... and {len(problems) - 200} more")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
