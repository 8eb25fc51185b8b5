"""CPU seconds of the tokenizer and the splitter on bench files, for comparing two checkouts.

Run by hand, once per checkout and interleaved (the machine is shared: CPU time of one child
is steadier than wall time), e.g. for main in /tmp/base against this branch:

    for i in 1 2 3 4; do for side in /tmp/base .; do
        PYTHONPATH=$side .venv/bin/python bench/bench_scanner_cpu.py tokenizer FILE; done; done

``tokenizer`` iterates every segment (gateway.x12.syntax.tokenizer.iter_segments); ``split``
runs split_835 with no roster and parts discarded (NullPartWriter). Files: the ones
bench_x12.py and bench_split.py generate into bench/data/.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main() -> None:
    kind, path = sys.argv[1], Path(sys.argv[2])
    if kind == "tokenizer":
        from gateway.x12.syntax.tokenizer import iter_segments

        start = time.process_time()
        with path.open("rb") as stream:
            for _ in iter_segments(stream, findings=[]):
                pass
    else:
        from gateway.routing.policy import ProviderPolicy
        from gateway.x12.split.splitter import split_835
        from gateway.x12.split.writers import NullPartWriter
        from gateway.x12.write.control_numbers import MemoryControlNumbers

        start = time.process_time()
        split_835(path, policy=ProviderPolicy(), writer=NullPartWriter(),
                  numbers=MemoryControlNumbers())
    print(f"{kind} {path.name} {time.process_time() - start:.3f} s CPU")


if __name__ == "__main__":
    main()
