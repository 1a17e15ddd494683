"""``make bench``: run every ``tests/bench/bench_*.py`` and collect their figures.

Each benchmark module has ``run() -> dict[str, float]``; the figures are printed and written,
merged into one flat object, to ``bench-results.json`` at the repository root.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _quiet() -> None:
    """Benchmarks print figures; the code under test's INFO logs and EMF metrics would bury them."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from tray_agent.observability import logger

    logger.setLevel("ERROR")  # alerts raised on purpose by a benchmark are not news


def main() -> int:
    _quiet()
    only = set(sys.argv[1:])
    results: dict[str, float] = {}
    package_dir = Path(__file__).parent
    for module in sorted(m.name for m in pkgutil.iter_modules([str(package_dir)])):
        if not module.startswith("bench_") or (only and module not in only):
            continue
        started = time.perf_counter()
        print(f"== {module}", flush=True)
        figures = importlib.import_module(f"tests.bench.{module}").run()
        for name, value in figures.items():
            print(f"   {name} = {value}", flush=True)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
        results.update(figures)
    out = ROOT / "bench-results.json"
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(results)} figures to {out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
