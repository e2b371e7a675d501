"""Imports decode within one process-wide pixel budget: files that do not fit together wait for
each other, one larger than the budget decodes alone, and an import of several large PNGs
holds no more decoded pixels at once than the budget allows."""

from __future__ import annotations

import threading
import time

from image_factory import booked_session, picture
from test_image_import import import_files
from workflow_harness import Workflow

from workflow.images.decode_budget import PixelBudget, budget_of


def test_holds_that_do_not_fit_together_wait_and_a_larger_one_goes_alone() -> None:
    budget = PixelBudget(100)
    inside: list[int] = []
    at_once = 0
    lock = threading.Lock()

    def decode(pixels: int) -> None:
        nonlocal at_once
        with budget.hold(pixels):
            with lock:
                inside.append(pixels)
                at_once = max(at_once, len(inside))
            time.sleep(0.05)
            with lock:
                inside.remove(pixels)

    threads = [threading.Thread(target=decode, args=(p,)) for p in (60, 60, 60, 150, 30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert not any(t.is_alive() for t in threads)
    assert budget.peak <= 100
    assert at_once <= 2  # a 60 and the 30 at most; never two 60s, never the 150 with another


async def test_an_import_of_large_pngs_decodes_one_at_a_time_within_the_budget(
    workflow: Workflow, unique: str
) -> None:
    capacity = 5_000_000
    workflow.context.settings.decode_budget_pixels = capacity
    session_id = await booked_session(workflow, f"big-{unique}")
    files = [(f"PANO_{n}.png", picture("PNG", size=(2000, 1500), shade=n)) for n in range(4)]

    report = await import_files(workflow, session_id, files)

    assert [f["outcome"] for f in report["files"]] == ["stored"] * 4
    assert workflow.context.settings.import_concurrency >= 4  # they were checked at once
    assert budget_of(capacity).peak == 3_000_000  # one 3-megapixel PNG at a time
