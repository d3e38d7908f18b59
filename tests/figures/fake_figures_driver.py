"""Child-process driver for the figure-set tests (and audits/hostile/kind_04): ``ramplab figures`` on fake figures.

Run as ``python fake_figures_driver.py [ramplab figures arguments …]``. The registry is replaced by
fake figures named in ``FAKE_NAMES`` (comma-separated) whose four files tell which run wrote them
(``FAKE_TAG`` = 1 or 2: in the CSV and JSON, and in the PNG's and PDF's width, 2 or 6 inches).
``os.replace`` is wrapped: ``FAKE_FAULT=kill|term`` sends this process SIGKILL/SIGTERM right after
replace number ``FAKE_FAULT_AFTER``; ``FAKE_REPLACE_SLEEP`` pauses after every replace (to widen
races between two writers), ``FAKE_MARK`` names a file created after the first one, and ``FAKE_WAIT_FOR`` a file to wait for
(at most ``FAKE_WAIT_MAX`` seconds) after the first one. Uses only API that existed before the set layout (commit de6f77e).
"""

import os
import signal
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ramplab.figures import REGISTRY, FigureTable, load_all  # noqa: E402
from ramplab.figures.cli import main  # noqa: E402
from ramplab.figures.registry import FigureSpec  # noqa: E402

TAG = int(os.environ.get("FAKE_TAG", "1"))


def data(ctx):
    time.sleep(float(os.environ.get("FAKE_DATA_SLEEP", "0")))
    return FigureTable([{"tag": TAG, "x": 0.0}], {"tag": TAG})


def draw(table):
    fig, ax = plt.subplots(figsize=(2 + 4 * (TAG - 1), 2))
    ax.plot([0, 1], [0, 1])
    return fig


load_all()
REGISTRY.clear()
for name in os.environ.get("FAKE_NAMES", "fake_a").split(","):
    REGISTRY[name] = FigureSpec(name, "a fake figure", data, draw)

_real_replace = os.replace
_count = [0]
_after = int(os.environ.get("FAKE_FAULT_AFTER", "0"))
_action = os.environ.get("FAKE_FAULT", "")
_pause = float(os.environ.get("FAKE_REPLACE_SLEEP", "0"))


def _replace(src, dst, **kw):
    _real_replace(src, dst, **kw)
    _count[0] += 1
    mark = os.environ.get("FAKE_MARK")
    if mark and _count[0] == 1:
        open(mark, "w").close()  # tells a test that this run has begun moving files into place
    wait_for = os.environ.get("FAKE_WAIT_FOR")
    if wait_for and _count[0] == 1:  # hold still until the other writer moves files too (bounded)
        deadline = time.monotonic() + float(os.environ.get("FAKE_WAIT_MAX", "20"))
        while not os.path.exists(wait_for) and time.monotonic() < deadline:
            time.sleep(0.05)
    if _pause:
        time.sleep(_pause)
    if _after and _count[0] == _after and _action in ("kill", "term"):
        os.kill(os.getpid(), signal.SIGKILL if _action == "kill" else signal.SIGTERM)
        time.sleep(5)  # SIGTERM's handler runs here


os.replace = _replace
sys.exit(main(sys.argv[1:]))
