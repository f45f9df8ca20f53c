"""Run every benchmark in turn: ``make bench`` (or ``python -m benchmarks``).

Each benchmark is a script of its own that prints its figures side by side with
the peers named in its issue; this runner only calls them one after another in
fresh processes.  The figures of record are in docs/benchmarks.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    ("CEL expressions", HERE / "cel_bench.py", []),
    ("Engine (issue 3)", HERE / "engine" / "bench.py", []),
    ("Petri-net analysis (issue 4)", HERE / "check" / "bench_petri.py", sys.argv[1:]),
    ("Trace generation (issue 6)", HERE / "traces" / "bench.py", []),
)


def main() -> int:
    failures = 0
    for title, script, args in SCRIPTS:
        print(f"\n=== {title}: {script.relative_to(HERE.parent)} ===", flush=True)
        completed = subprocess.run([sys.executable, str(script), *args], check=False)
        failures += completed.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
