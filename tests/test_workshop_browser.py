"""Workshop mode in real browsers: Playwright driving Debian's chromium.

``copsim workshop`` runs on a free local port; a facilitator, two projectors (1280x720 and
1920x1080) and three participants (phone-sized) each have their own browser context. They
play two rounds;
a participant reloads and keeps their entrepreneur; a forged action for another
entrepreneur and a replayed one are refused; the debrief appears everywhere and the
record downloads. Every request to anything but the server is blocked and recorded.
Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copsim.workshop.loadtest import Client, LocalServer, local_server
from test_dashboard_browser import (CHROMIUM, OUTPUT, SIZES, Console,  # noqa: F401
                                    assert_in_viewport, assert_no_overflow, box,
                                    browser)  # browser: a fixture

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (.ci/run installs it)")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def workshop() -> Iterator[LocalServer]:
    with local_server("--rounds", "2", "--round-seconds", "300", "--seed", "3") as server:
        yield server


class Person:
    """One browser context (its own storage, so its own participant)."""

    def __init__(self, browser: Any, url: str, viewport: dict[str, int],
                 fake_clock: bool = False) -> None:
        self.context = browser.new_context(viewport=viewport, accept_downloads=True)
        self.page = self.context.new_page()
        self.console = Console(self.page)
        self.external: list[str] = []
        self.page.route("**/*", self._route)
        if fake_clock:  # the page's timers run only when the test moves the clock on
            self.page.clock.install()
        self.page.goto(url)

    def _route(self, route: Any) -> None:
        if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def shot(self, name: str, full: bool = True) -> None:
        OUTPUT.mkdir(exist_ok=True)
        self.page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=full)

    def text(self, selector: str) -> str:
        return self.page.locator(selector).inner_text()


class Participant(Person):
    def join(self, code: str, name: str) -> None:
        self.page.fill("#code", code.lower())
        self.page.fill("#name", name)
        self.page.click("#join-form button")
        self.page.wait_for_selector("#firm-name", timeout=30_000)
        self.firm = self.text("#firm-name")

    def decide(self, round_id: int, attend: bool = True, topic: str | None = None,
               talk: bool = False, propose: bool = False) -> None:
        self.page.wait_for_selector(f"#decide h2:has-text('Round {round_id}')", timeout=30_000)
        self.page.check(f"input[name=attend][value={'yes' if attend else 'no'}]")
        if topic:
            self.page.select_option("#topic", topic)
        if talk:
            self.page.select_option("#talk_to", index=1)
        if propose:
            self.page.select_option("#propose_to", index=1)
        self.page.click("#send")
        self.page.wait_for_selector("#sent-status:has-text('Decision received')", timeout=30_000)

    def api(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """A request from this page with its own token (as a forger would send it)."""
        return self.page.evaluate(
            """async ([method, path, body]) => {
                 const r = await fetch(path, {method, body: body === null ? undefined : JSON.stringify(body),
                   headers: {"Content-Type": "application/json",
                             "X-Copsim-Token": localStorage.getItem("copsim-workshop-token")}});
                 return {status: r.status, data: await r.json()};
               }""", [method, path, body])


def wait_state(page: Any, text: str) -> None:
    """Wait for the facilitator's status line (the pages' CSP forbids eval: no wait_for_function)."""
    page.wait_for_selector(f"#state:has-text({json.dumps(text)})", timeout=60_000)


def assert_projector_reads(projector: Person) -> None:
    """The feed in week order, its heading and newest line on screen; every group's name
    inside the map."""
    page = projector.page
    weeks = [int(line.split(":")[0].split()[1]) for line in page.locator("#feed li").all_inner_texts()]
    assert weeks and weeks == sorted(weeks)
    assert_in_viewport(page, "#feed h3")
    feed, last = box(page, "#feed"), page.locator("#feed li").last.bounding_box()
    assert last["y"] + last["height"] <= feed["y"] + feed["height"] + 0.5
    assert last["y"] + last["height"] <= page.viewport_size["height"]
    names, network = page.locator("text.group-label"), box(page, "svg#network")
    assert names.count() >= 1
    for i in range(names.count()):
        name = names.nth(i).bounding_box()
        assert network["y"] <= name["y"] and name["y"] + name["height"] <= network["y"] + network["height"]


def test_a_facilitator_and_three_participants_play_two_rounds(workshop: LocalServer, browser: Any) -> None:
    facilitator = Person(browser, workshop.facilitator, {"width": 1280, "height": 1000})
    projectors = [Person(browser, workshop.base + "projector", {"width": w, "height": h})
                  for w, h in SIZES]
    people = [Participant(browser, workshop.base, PHONE) for _ in range(3)]
    try:
        for person, name in zip(people, ["Anna", "Ben", "Carl"], strict=True):
            person.join(workshop.code, name)
        assert len({p.firm for p in people}) == 3
        for projector in projectors:
            projector.page.wait_for_selector("svg#network circle.person", timeout=30_000)
            expect(projector.page.locator("circle.person")).to_have_count(3, timeout=30_000)
        people[0].shot("workshop-participant-card", full=False)

        # Round 1: everyone decides; the round closes as soon as all three have.
        facilitator.page.click("#open")
        wait_state(facilitator.page, "Round 1 of 2 open")
        for projector in projectors:
            projector.page.wait_for_selector("#timer", timeout=30_000)
        # On a phone the decision form scrolls into view, below the sticky bar.
        phone = people[0].page
        phone.wait_for_selector("#decision-form")
        phone.wait_for_timeout(500)
        bar = box(phone, "header.bar")
        assert box(phone, "#decide h2")["y"] >= bar["y"] + bar["height"] - 0.5
        assert_in_viewport(phone, "#decide h2, #decision-form fieldset.attend")
        people[0].shot("workshop-participant-round", full=False)
        people[0].decide(1, attend=True, topic="export", talk=True)
        people[1].decide(1, attend=False)
        people[2].decide(1, attend=True, propose=True)
        wait_state(facilitator.page, "1 of 2 rounds played")
        for projector, (w, h) in zip(projectors, SIZES, strict=True):
            projector.page.wait_for_selector("#feed li", timeout=30_000)
            assert_projector_reads(projector)
            projector.shot(f"workshop-projector-{w}x{h}", full=False)

        # A participant who reloads keeps their entrepreneur.
        people[1].page.reload()
        people[1].page.wait_for_selector("#firm-name", timeout=30_000)
        assert people[1].text("#firm-name") == people[1].firm

        # Round 2: forged and replayed actions are refused; the facilitator closes it.
        facilitator.page.click("#open")
        wait_state(facilitator.page, "Round 2 of 2 open")
        people[0].page.wait_for_selector("#decide h2:has-text('Round 2')", timeout=30_000)
        other_row = people[1].api("GET", "/api/me")["data"]["row"]
        forged = people[0].api("POST", "/api/decide", {
            "round": 2, "nonce": "forged-action-01",
            "decision": {"entrepreneur": other_row, "attend": False}})
        assert forged["status"] == 403 and forged["data"]["error"] == "not_yours"
        own_row = people[0].api("GET", "/api/me")["data"]["row"]
        body = {"round": 2, "nonce": "replayed-action-1", "decision": {"entrepreneur": own_row, "attend": True}}
        assert people[0].api("POST", "/api/decide", body)["status"] == 200
        replay = people[0].api("POST", "/api/decide", body)
        assert replay["status"] == 409 and replay["data"]["error"] == "replay"
        people[0].console.problems.clear()  # the two refusals just provoked, logged as 403 and 409
        people[0].decide(2, attend=True, topic="finance")
        people[1].decide(2, attend=True, talk=True)
        people[0].page.reload()  # mid-round: still the same entrepreneur and decision
        people[0].page.wait_for_selector("#firm-name", timeout=30_000)
        assert people[0].text("#firm-name") == people[0].firm
        facilitator.page.click("#close")  # Carl has not decided: the model plays him

        # The debrief appears for everyone; the record downloads.
        for p in [facilitator, *projectors, *people]:
            p.page.wait_for_selector(".copsim-debrief", timeout=60_000)
        assert "played by people" in projectors[0].text("#debrief")
        for i in (0, 2):  # phones: the debrief fits the width, its heading below the bar
            phone = people[i].page
            phone.wait_for_timeout(500)
            assert_no_overflow(phone, "html, .copsim-debrief, .person-card")
            bar = box(phone, "header.bar")
            assert box(phone, ".copsim-debrief h2")["y"] >= bar["y"] + bar["height"] - 0.5
            assert_in_viewport(phone, ".copsim-debrief h2")
            cards = phone.locator(".person-card")
            assert cards.count() == 3
            for c in range(3):
                b = cards.nth(c).bounding_box()
                assert b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"]
        for projector, (w, h) in zip(projectors, SIZES, strict=True):
            projector.shot(f"workshop-projector-debrief-{w}x{h}", full=False)
            projector.page.keyboard.press("Escape")  # the debrief closes
            assert_projector_reads(projector)
        # The facilitator: no round to open, close or end any more.
        for button in ("#open", "#close", "#end"):
            expect(facilitator.page.locator(button)).to_be_disabled(timeout=10_000)
        people[2].shot("workshop-participant-debrief")
        facilitator.shot("workshop-facilitator")
        with facilitator.page.expect_download() as info:
            facilitator.page.click("#download")
        record = json.loads(open(info.value.path(), encoding="utf-8").read())
        assert record["decisions"] == 5 and [r["closed_by"] for r in record["rounds"]] == [
            "everyone decided", "facilitator"]
        assert {p["name"] for p in record["participants"]} == {"Anna", "Ben", "Carl"}
        assert all(p.external == [] for p in [facilitator, *projectors, *people])
        for p in [facilitator, *projectors, *people]:
            p.console.assert_quiet()
    finally:
        for p in [facilitator, *projectors, *people]:
            p.context.close()


def test_wrong_code_gets_a_clear_message(workshop: LocalServer, browser: Any) -> None:
    person = Participant(browser, workshop.base, PHONE)
    try:
        person.page.fill("#code", "ZZZZZZ" if workshop.code != "ZZZZZZ" else "YYYYYY")
        person.page.fill("#name", "Eve")
        person.page.click("#join-form button")
        person.page.wait_for_selector("#join-error:has-text('not right')", timeout=30_000)
        bad = person.page.goto(workshop.base.rstrip("/") + "/facilitator#key=wrong")
        assert bad.ok
        wait_state(person.page, "facilitator key")
    finally:
        person.context.close()


def test_join_errors_stay_until_the_person_acts(browser: Any) -> None:
    """The page re-checks every two seconds; that must not wipe a join error nobody has read."""
    with local_server("--rounds", "1", "--round-seconds", "300", "--seed", "6") as server:
        person = Participant(browser, server.base, PHONE, fake_clock=True)
        try:
            page, error = person.page, person.page.locator("#join-error")
            page.fill("#code", "ZZZZZZ" if server.code != "ZZZZZZ" else "YYYYYY")
            page.fill("#name", "Eve")
            page.click("#join-form button")
            expect(error).to_contain_text("not right", timeout=30_000)
            page.clock.run_for(10_000)  # five of the page's re-checks
            assert "not right" in error.inner_text()
            page.fill("#code", server.code)  # acting clears it
            assert error.inner_text() == ""

            facilitator = Client("127.0.0.1", server.port)
            assert facilitator.request("POST", "/api/facilitator/end", {},
                                       {"X-Copsim-Key": server.key})[0] == 200
            facilitator.close()
            page.click("#join-form button")
            expect(error).to_contain_text("This session has ended", timeout=30_000)
            page.clock.run_for(10_000)
            assert "This session has ended" in error.inner_text()
        finally:
            person.context.close()
