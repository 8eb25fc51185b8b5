"""Profile workload B of bench_scale.py (one single-ST central pay to 1,000 pharmacies, one
``run --once`` on a fresh PostgreSQL store) with pyinstrument, in this process.

    .venv/bin/pip install pyinstrument
    .venv/bin/python bench/profile_cycle.py 100000 /tmp/profile.txt
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_scale


def main() -> None:
    from pyinstrument import Profiler

    claims, out = int(sys.argv[1]), Path(sys.argv[2])
    with bench_scale.big_file_cycle(claims) as (run_once, url):
        profiler = Profiler(interval=0.002)
        started, cpu = time.perf_counter(), time.process_time()
        profiler.start()
        run_once()
        profiler.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"wall {time.perf_counter() - started:.1f} s, CPU "
              f"{time.process_time() - cpu:.1f} s, peak RSS {rss:.0f} MiB, "
              f"{bench_scale.figures(url)['deliveries']} deliveries")
        out.write_text(profiler.output_text(unicode=False, color=False))

if __name__ == "__main__":
    main()
