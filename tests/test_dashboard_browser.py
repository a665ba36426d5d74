"""The dashboard in a real browser: Playwright driving Debian's chromium.

The server is ``copsim dashboard`` on a free local port; every request the page
makes to anything but that server is blocked and recorded, so the tests also show
that the dashboard needs no internet. Every tab records its console: a test fails on
any console error, warning or uncaught page error (:class:`Console`). Layout tests
measure boxes at a projector's 1280x720 and 1920x1080, not pixels. Screenshots go
to ``test-output/``.

The server culls the kernel of a tab that vanished without a goodbye after
:data:`CULL` (the app's own default is a minute), so the test of a lost
connection does not wait long.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CULL = "5s"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (.ci/run installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


@dataclass
class Server:
    """A running ``copsim dashboard``: its URL and its process."""

    url: str
    process: subprocess.Popen

    def app_pid(self) -> int:
        """The process that runs the app: ``solara run``, the child of ``copsim dashboard``."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return int(children[0]) if children else pid


def serve(command: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start a copsim server subcommand on a free port; yield it; stop it."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "copsim.cli", command, "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(url)
        yield Server(url, server)
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def dashboard_server() -> Iterator[Server]:
    yield from serve("dashboard", {"SOLARA_KERNEL_CULL_TIMEOUT": CULL})


@pytest.fixture(scope="module")
def dashboard(dashboard_server: Server) -> str:
    return dashboard_server.url


def thread_cpu(pid: int) -> dict[int, int]:
    """CPU time (clock ticks, user + system) of every live thread of process ``pid``."""
    ticks = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            stat = (task / "stat").read_text().rsplit(")", 1)[1].split()
            ticks[int(task.name)] = int(stat[11]) + int(stat[12])  # utime, stime
    return ticks


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield b
        b.close()


class Console:
    """Console errors and warnings, failed requests and uncaught errors of one page."""

    def __init__(self, page: object) -> None:
        self.problems: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.status} {r.url}"))

    def _message(self, message: object) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"{message.type}: {message.text}")

    def assert_quiet(self) -> None:
        """Nothing went wrong since the last check."""
        problems, self.problems = self.problems, []
        assert problems == []


def box(page: object, selector: str) -> dict[str, float]:
    """The bounding box of the first element matching ``selector`` (it must be visible)."""
    found = page.locator(selector).first
    assert found.is_visible(), f"{selector} is not visible"
    return found.bounding_box()


def assert_in_viewport(page: object, selector: str) -> None:
    """Every element matching ``selector`` lies wholly inside the window."""
    size = page.viewport_size
    for i in range(page.locator(selector).count()):
        b = page.locator(selector).nth(i).bounding_box()
        assert b is not None and b["x"] >= 0 and b["y"] >= 0, (selector, i, b)
        assert b["x"] + b["width"] <= size["width"] + 0.5, (selector, i, b, size)
        assert b["y"] + b["height"] <= size["height"] + 0.5, (selector, i, b, size)


def assert_within_width(page: object, selector: str) -> None:
    """Every element matching ``selector`` lies between the window's left and right edges
    (it may go on below the window: the page scrolls down, never sideways)."""
    width = page.viewport_size["width"]
    boxes = [page.locator(selector).nth(i).bounding_box() for i in range(page.locator(selector).count())]
    assert boxes and all(b["x"] >= 0 and b["x"] + b["width"] <= width + 0.5 for b in boxes), (selector, boxes)


def assert_no_overflow(page: object, selector: str = "html") -> None:
    """Nothing inside ``selector`` is wider than it (no horizontal scrolling, nothing cut)."""
    widths = page.eval_on_selector_all(selector, "els => els.map(e => [e.scrollWidth, e.clientWidth])")
    assert widths and all(scroll <= client for scroll, client in widths), (selector, widths)


def line_count(page: object, selector: str) -> int:
    """How many lines the text of ``selector`` takes (a word broken in two takes two)."""
    return page.eval_on_selector(selector, """el => { const r = document.createRange();
        r.selectNodeContents(el); return new Set([...r.getClientRects()].map(c => Math.round(c.top))).size; }""")


def overlapping(boxes: list[dict[str, float]]) -> list[tuple[int, int]]:
    """Pairs of boxes that overlap."""
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes) if i < j
            and a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]]


class Tab:
    """One browser tab on the dashboard, recording requests that leave the machine and
    everything its console says."""

    def __init__(self, browser: object, url: str, width: int = 1600, height: int = 1300) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.console = Console(self.page)
        self.external: list[str] = []
        self.page.route("**/*", self._route)
        self.page.goto(url)
        self.page.wait_for_selector(".copsim-week", timeout=90_000)

    def _route(self, route: object) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "http://localhost", "ws://", "data:", "blob:")):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def week(self) -> int:
        return int(self.page.locator(".copsim-week").inner_text().split()[-1])

    def wait_week(self, week: int) -> None:
        self.page.wait_for_function(
            f"document.querySelector('.copsim-week').innerText.endsWith(' {week}')", timeout=30_000)

    def wait_week_at_least(self, week: int) -> None:
        self.page.wait_for_function(
            f"parseInt(document.querySelector('.copsim-week').innerText.split(' ').pop()) >= {week}",
            timeout=60_000)

    def step(self, times: int = 1) -> None:
        for _ in range(times):
            before = self.week()
            self.page.click(".copsim-step")
            self.wait_week(before + 1)

    def network(self) -> str:
        return self.page.locator("svg.copsim-network").inner_html()

    def plots(self) -> str:
        return self.page.locator(".copsim-timeseries").inner_html()

    def analyse_sweep(self, directory: str) -> None:
        """Type a sweep directory on the Sweeps page and press Analyse."""
        self.page.get_by_role("tab", name="Sweeps").click()
        field = self.page.get_by_label("Sweep output directory")
        field.fill(directory)
        field.press("Enter")
        self.page.wait_for_selector(".copsim-sweep-analyse:not([disabled])", timeout=30_000)
        self.page.click(".copsim-sweep-analyse")

    def assert_error_in_page(self, selector: str, expected: str) -> None:
        """The page's own error box says ``expected``, and the rest of the app still works."""
        error = self.page.locator(selector)
        error.wait_for(timeout=60_000)
        assert expected in error.inner_text()
        self.page.get_by_role("tab", name="Explore").click()
        assert self.week() == 0

    def shot(self, name: str, full: bool = True) -> None:
        OUTPUT.mkdir(exist_ok=True)
        self.page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=full)

    def set_lever(self, label: str, value: str) -> None:
        field = self.page.get_by_label(label)
        field.fill(value)
        field.press("Enter")

    def start_comparison(self, reps: int, years: float, population: int) -> None:
        """On the Compare page, run the default scenarios with these settings."""
        self.page.get_by_role("tab", name="Compare").click()
        for label, value in (("Replicates", reps), ("Years", years),
                             ("Entrepreneurs (population of every scenario)", population)):
            self.set_lever(label, str(value))
        self.page.click(".copsim-compare-run")

    def close(self) -> None:
        self.context.close()


def test_play_levers_network_and_card(dashboard: str, browser: object) -> None:
    tab = Tab(browser, dashboard)
    try:
        assert tab.week() == 0
        tab.page.click(".copsim-play")
        tab.wait_week_at_least(12)
        tab.page.click(".copsim-play")  # pause
        tab.step(2)
        assert tab.page.locator("circle.copsim-node").count() > 400
        network_before, plots_before = tab.network(), tab.plots()

        field = tab.page.get_by_label("Funding level (x funded hours)")
        field.fill("2.5")
        field.press("Enter")
        tab.step(3)
        assert tab.network() != network_before
        assert tab.plots() != plots_before
        assert tab.page.locator(".copsim-lever-error").count() == 0
        tab.shot("explore-after-lever")

        tab.page.locator("circle.copsim-node").nth(3).click(force=True)
        tab.page.wait_for_selector(".copsim-card", timeout=30_000)
        assert "Knowledge:" in tab.page.locator(".copsim-card").inner_text()
        tab.page.wait_for_timeout(1000)  # time for anything the card loads to fail
        tab.shot("explore-card")
        assert tab.external == []
        tab.console.assert_quiet()
    finally:
        tab.close()


@pytest.mark.parametrize("typed", ["-3", "lots", "99"])
def test_invalid_lever_values_are_refused_visibly(dashboard: str, browser: object,
                                                  typed: str) -> None:
    tab = Tab(browser, dashboard)
    try:
        field = tab.page.get_by_label("Funding level (x funded hours)")
        field.fill(typed)
        field.press("Enter")
        error = tab.page.locator(".copsim-lever-error")
        error.wait_for(timeout=30_000)
        assert "refused" in error.inner_text()
        tab.step()  # the run goes on
        assert tab.week() == 1
        tab.console.assert_quiet()
    finally:
        tab.close()


def test_a_refused_lever_value_leaves_the_value_in_use(dashboard: str, browser: object) -> None:
    tab = Tab(browser, dashboard)
    try:
        label = "Funding level (x funded hours)"
        field = tab.page.get_by_label(label)
        field.fill("2")
        field.press("Enter")
        tab.step()  # the accepted value is in use
        field.fill("-3")
        field.press("Enter")
        tab.page.locator(".copsim-lever-error").wait_for(timeout=30_000)
        playwright.expect(tab.page.get_by_label(label)).to_have_value("2.0", timeout=30_000)
        tab.console.assert_quiet()
    finally:
        tab.close()


@pytest.mark.parametrize("goodbye", [True, False], ids=["tab-closed", "connection-lost"])
def test_a_closed_tab_stops_its_simulation(dashboard_server: Server, browser: object,
                                           goodbye: bool) -> None:
    """The thread that plays a tab's model ends once the tab is gone: at once when the page
    says goodbye (Solara's close beacon), after the cull time when the connection just dropped."""
    pid = dashboard_server.app_pid()
    tab = Tab(browser, dashboard_server.url)
    before = set(thread_cpu(pid))
    tab.page.click(".copsim-play")
    tab.wait_week_at_least(4)
    started = {tid: ticks for tid, ticks in thread_cpu(pid).items() if tid not in before}
    player = max(started, key=started.__getitem__)  # the new thread that worked the most
    tab.wait_week_at_least(tab.week() + 4)
    assert thread_cpu(pid).get(player, 0) > started[player]  # it is the one stepping the model
    if goodbye:
        tab.page.goto("about:blank")  # leaving the page sends the close beacon
    tab.close()
    deadline = time.monotonic() + 120
    while player in thread_cpu(pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert player not in thread_cpu(pid), "the simulation of a closed tab still runs"


def test_two_tabs_have_their_own_model(dashboard: str, browser: object) -> None:
    first, second = Tab(browser, dashboard), Tab(browser, dashboard)
    try:
        first.step(4)
        second.page.reload()
        second.page.wait_for_selector(".copsim-week", timeout=90_000)
        assert first.week() == 4
        assert second.week() == 0
        second.step()
        assert (first.week(), second.week()) == (4, 1)
        first.console.assert_quiet()
        second.console.assert_quiet()
    finally:
        first.close()
        second.close()


def test_compare_page_runs_a_tiny_comparison(dashboard: str, browser: object) -> None:
    tab = Tab(browser, dashboard)
    try:
        page = tab.page
        tab.start_comparison(2, 1, 1200)
        page.wait_for_selector(".copsim-compare-done", timeout=180_000)
        text = page.inner_text("body")
        for expected in ("Participants reached", "Cost per participant", "microentre",
                         "self_organised", "no programme"):
            assert expected in text
        assert page.locator("img").count() >= 2  # banded time series, cost against outcome
        assert_within_width(page, "img, .copsim-compare-table")
        assert "runs/dashboard" not in text  # no server path: the report downloads
        with page.expect_download() as download:
            page.get_by_role("button", name="Download report.html").click()
        assert download.value.suggested_filename == "report.html"
        report = Path(download.value.path()).read_text(encoding="utf-8")
        assert report.lstrip().lower().startswith("<!doctype html") and "<table" in report
        tab.shot("compare")
        assert tab.external == []
        tab.console.assert_quiet()
    finally:
        tab.close()



def compare_outputs() -> set[Path]:
    """The comparisons the dashboard has written (it runs in this directory)."""
    return set((Path("runs") / "dashboard").glob("compare-*"))


def test_a_closed_tab_stops_its_comparison(dashboard_server: Server, browser: object) -> None:
    """A comparison whose tab closes stops at its next finished run: the threads it started
    in the app (the page's task, the worker pool's) end and nothing is written; without the
    stop they would run every remaining replicate and then write the outputs."""
    pid = dashboard_server.app_pid()
    tab = Tab(browser, dashboard_server.url)
    page = tab.page
    written, before = compare_outputs(), set(thread_cpu(pid))
    tab.start_comparison(10, 5, 30000)
    page.get_by_text(re.compile(r"^[1-9]\d*% of the runs done")).wait_for(timeout=120_000)
    started = set(thread_cpu(pid)) - before
    assert started  # the page's task and the pool's threads
    page.goto("about:blank")  # leaving the page sends the close beacon
    tab.close()
    deadline = time.monotonic() + 120
    while started & set(thread_cpu(pid)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not started & set(thread_cpu(pid)), "the comparison of a closed tab still runs"
    assert compare_outputs() == written


TINY_GRID = """
name = "tiny_grid"
base = "microentre"
population = 600
years = 0.5
design = "grid"
replicates = 1
seed = 7
[[factors]]
name = "skill"
key = "facilitators.pbas.skill"
values = [0.3, 0.9]
[[factors]]
name = "hours"
key = "funding.phases.0.facilitation_hours_per_week"
values = [5.0, 20.0]
[[outcomes]]
name = "participants_total"
"""


def test_sweeps_page_shows_the_analysis(dashboard: str, browser: object, tmp_path: Path) -> None:
    experiment = tmp_path / "tiny.toml"
    experiment.write_text(TINY_GRID)
    out = tmp_path / "sweep"
    subprocess.run([sys.executable, "-m", "copsim.cli", "sweep", str(experiment), "--out", str(out),
                    "--workers", "1"], check=True, capture_output=True, timeout=300)
    tab = Tab(browser, dashboard)
    try:
        page = tab.page
        tab.analyse_sweep(str(out))
        page.wait_for_selector(".copsim-sweep-summary, .copsim-sweep-error", timeout=120_000)
        assert page.locator(".copsim-sweep-error").count() == 0, page.inner_text(".copsim-sweep-error")
        assert "participants_total" in page.inner_text(".copsim-sweep-summary")
        assert page.locator("img").count() >= 1  # the heatmap over skill and hours
        tab.shot("sweeps")
        assert tab.external == []
        tab.console.assert_quiet()
    finally:
        tab.close()


def test_compare_error_shows_in_the_page(dashboard: str, browser: object) -> None:
    tab = Tab(browser, dashboard)
    try:
        page = tab.page
        page.get_by_role("tab", name="Compare").click()
        page.get_by_label("Scenarios (2-4, same population)").click(force=True)  # opens the menu
        page.get_by_role("option", name="self_organised", exact=True).click()
        page.get_by_role("option", name="ekollega", exact=True).click()
        page.keyboard.press("Escape")
        page.click(".copsim-compare-run")
        tab.assert_error_in_page(".copsim-compare-error", "cannot be compared")
        tab.console.assert_quiet()
    finally:
        tab.close()


def test_sweeps_error_shows_in_the_page(dashboard: str, browser: object) -> None:
    tab = Tab(browser, dashboard)
    try:
        tab.analyse_sweep("sweeps/does_not_exist")
        tab.assert_error_in_page(".copsim-sweep-error", "no such sweep output directory")
        tab.console.assert_quiet()
    finally:
        tab.close()


SIZES = [(1280, 720), (1920, 1080)]
FOOTER = "text=runs on Solara"  # Solara's floating banner, or the line that ends the page


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_explore_reads_on_a_projector(dashboard: str, browser: object, width: int, height: int) -> None:
    """At each size: nothing cut or wider than the window, legends in words, count axes from
    zero, lever markers named for the lever and apart, a knowledge key, the feed on screen."""
    tab = Tab(browser, dashboard, width, height)
    try:
        page = tab.page
        tab.step(6)
        tab.set_lever("Funding level (x funded hours)", "2")  # two levers in the same week
        tab.set_lever("Facilitator skill (0-1)", "0.9")
        tab.step(3)
        tab.set_lever("Recruitment effort (x)", "1.5")
        tab.step(2)
        assert_no_overflow(page)
        assert_in_viewport(page, ".copsim-play, .copsim-step, .copsim-reset")
        reset, run_card = box(page, ".copsim-reset"), box(page, ".v-card")
        assert reset["x"] + reset["width"] <= run_card["x"] + run_card["width"]
        assert line_count(page, ".copsim-levers .v-card__title") == 1

        legend = [t.strip() for t in page.locator(".copsim-legend-item").all_text_contents()]
        assert "members" in legend and "joint ventures" in legend
        assert not [label for label in legend if "_" in label]
        ticks = [[t.strip() for t in page.locator(".copsim-panel").nth(p).locator(".copsim-tick").all_text_contents()]
                 for p in (0, 2)]  # the two panels of counts
        for labels in ticks:
            assert labels[0] == "0" and 3 <= len(labels) <= 7, labels
            assert all(label.isdigit() for label in labels)
        markers = page.locator(".copsim-panel").first.locator(".copsim-marker text")
        assert [t.strip() for t in markers.all_text_contents()] == ["Funding level 2.0", "Facilitator skill 0.9",
                                             "Recruitment effort 1.5"]
        boxes = [markers.nth(i).bounding_box() for i in range(markers.count())]
        assert overlapping(boxes) == [], boxes

        assert page.locator(".copsim-group-label").count() >= 1
        if height >= 1080:
            assert_in_viewport(page, ".copsim-feed .v-card__title")
            assert_in_viewport(page, ".copsim-feed .v-card__text > :first-child")
        assert_within_width(page, ".v-card, svg.copsim-network, .copsim-chart-column, .copsim-timeseries")
        assert overlapping([box(page, ".copsim-chart-column"), box(page, FOOTER)]) == []
        tab.shot(f"explore-{width}x{height}", full=False)

        page.get_by_role("button", name="knowledge").click()
        page.wait_for_selector(".copsim-knowledge-scale")
        assert "knowledge 0.2 or less" in page.locator(".copsim-knowledge-scale").inner_text()
        page.locator("circle.copsim-node").nth(3).click(force=True)
        page.wait_for_selector(".copsim-card")
        page.wait_for_timeout(1000)  # time for anything the card loads to fail
        assert_no_overflow(page)
        assert overlapping([box(page, ".copsim-chart-column"), box(page, FOOTER)]) == []
        tab.shot(f"explore-card-{width}x{height}", full=False)
        tab.console.assert_quiet()
    finally:
        tab.close()
