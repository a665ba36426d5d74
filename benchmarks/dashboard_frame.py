"""Frame time of the dashboard's Explore view at 500 entrepreneurs, in a real browser.

Starts ``copsim dashboard``, opens it in Debian's chromium (Playwright), plays the
default scenario to week 150 (groups, ties and ventures are busy by then), then
clicks Step 40 times and measures, for each, the time from the click until the
page shows the new week: the server steps the model, redraws the network, the
three plots and the feed, and the browser applies the update. Target: under
250 ms. Writes ``benchmarks/dashboard_frame.json``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from copsim.outputs.files import write_text_atomic

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_dashboard_browser import BROWSER_ARGS, CHROMIUM, serve  # noqa: E402

WARM_WEEKS = 150
FRAMES = 40


def main() -> None:
    server = serve("dashboard")
    url = next(server)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1300})
            page.goto(url)
            page.wait_for_selector(".copsim-week", timeout=90_000)
            page.click(".copsim-play")
            page.wait_for_function(
                "parseInt(document.querySelector('.copsim-week').innerText.split(' ').pop()) >= "
                f"{WARM_WEEKS}", timeout=300_000)
            page.click(".copsim-play")
            time.sleep(1.0)
            frames = []
            for _ in range(FRAMES):
                week = int(page.locator(".copsim-week").inner_text().split()[-1])
                start = time.perf_counter()
                page.click(".copsim-step")
                page.wait_for_function(
                    f"document.querySelector('.copsim-week').innerText.endsWith(' {week + 1}')")
                frames.append(time.perf_counter() - start)
            nodes = page.locator("circle.copsim-node").count()
            edges = page.locator("svg.copsim-network line").count()
            browser.close()
    finally:
        server.close()
    ms = sorted(1000 * f for f in frames)
    result = {"entrepreneurs": 500, "nodes": nodes, "edges": edges, "frames": FRAMES,
              "median_ms": round(statistics.median(ms), 1),
              "p95_ms": round(ms[int(0.95 * len(ms)) - 1], 1), "max_ms": round(ms[-1], 1),
              "target_ms": 250, "meets_target": statistics.median(ms) < 250}
    write_text_atomic(Path(__file__).with_name("dashboard_frame.json"), json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
