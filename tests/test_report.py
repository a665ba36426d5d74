"""The policymaker's report (report.html of ``copsim compare``): an executive summary from the
numbers, titles, a date, caveats, plain words, bands within possible values, and a clean print
to PDF in Debian's chromium (page count with pypdf, every table within the page, none cut).

One small comparison (two scenarios of 1,500 firms, one year, three replicates) feeds every
test: in one year most MicroENTRE groups have not started yet, which the report must explain.
"""

from __future__ import annotations

import datetime
import html
import io
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import copsim
from copsim.studies import report
from copsim.studies.compare import Interval

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
A4_PRINTABLE_PX = round((210 - 2 * 14) / 25.4 * 96)  # @page A4 with 14 mm margins, at 96 dpi
A4_PRINTABLE_HEIGHT_PX = round((297 - 2 * 14) / 25.4 * 96)


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[copsim.CompareResult, Path]:
    """The report a policymaker gets by default: parameters drawn from the shipped posterior."""
    out = tmp_path_factory.mktemp("report") / "cmp"
    result = copsim.compare(["microentre", "self_organised"], reps=3, years=1, population=1500,
                            workers=1, out=out)
    assert result.provenance["posterior"] is not None
    return result, out / "report.html"


@pytest.fixture(scope="module")
def noise_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same comparison with the scenarios' own values (--no-posterior)."""
    out = tmp_path_factory.mktemp("report") / "plain"
    copsim.compare(["microentre", "self_organised"], reps=3, years=1, population=1500,
                   workers=1, out=out, posterior=None)
    return out / "report.html"


def _text(page: str) -> str:
    """The visible text of the page, without tags and images."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _section(page: str, heading: str) -> str:
    return page.split(f"<h2>{heading}</h2>", 1)[1].split("<h2>", 1)[0]


def test_executive_summary_is_five_sentences_from_the_numbers(compared) -> None:
    result, path = compared
    page = path.read_text()
    summary = _section(page, "Summary")
    sentences = [_text(s) for s in re.findall(r'<span class="sentence">(.*?)</span>', summary)]
    assert len(sentences) == 5
    assert all(s.strip().endswith(".") for s in sentences)
    rows = result.table.set_index("scenario")
    micro, selforg = rows.loc["microentre"], rows.loc["self_organised"]
    assert "MicroENTRE regional groups" in sentences[0]
    assert "Self-organised groups (no funding)" in sentences[0]
    assert "1,500 firms over 1 years, each simulated 3 times" in sentences[0]
    assert f"reaches about {micro['participants_mean']:,.0f} firms" in sentences[1]
    assert f"reaches about {selforg['participants_mean']:,.0f} firms at no cost" in sentences[1]
    effect = report.value(micro.to_dict() | {"scenario": "microentre"}, "survival_effect_pp")
    assert f"{effect} points with MicroENTRE regional groups" in sentences[2]
    assert "drawn from the calibrated posterior" in sentences[4]
    assert "calibrated parameters as well as random variation" in sentences[4]


def test_without_a_posterior_the_report_says_its_ranges_are_noise_only(noise_only: Path) -> None:
    page = noise_only.read_text()
    sentences = re.findall(r'<span class="sentence">(.*?)</span>', _section(page, "Summary"))
    assert "random variation only" in _text(sentences[4])
    assert "only the random variation between the 3 replicates" in _text(_section(page, "Caveats"))
    assert "Where the spread comes from" not in page


def test_titles_and_a_date_replace_internal_names(compared) -> None:
    _, path = compared
    page = path.read_text()
    assert f"Generated on {datetime.date.today().isoformat()}" in page
    outcomes = _section(page, "Outcomes")
    headings = re.findall(r"<th>(.*?)</th>", outcomes.split("</thead>")[0])
    assert headings == ["", "MicroENTRE regional groups", "Self-organised groups (no funding)",
                        "No programme"]
    findings = _text(_section(page, "What each scenario buys"))
    assert "MicroENTRE regional groups: 13 regional core groups" in findings
    assert "microentre:" not in findings and "self_organised:" not in findings


def test_knowledge_gain_in_plain_words(compared) -> None:
    result, path = compared
    findings = _text(_section(path.read_text(), "What each scenario buys"))
    gain = result.table.set_index("scenario").loc["microentre", "knowledge_gain_mean"]
    assert f"about {gain * 100:.0f} % of the whole scale" in findings
    assert "from 0, knowing nothing, to 1" in findings


def test_groups_that_never_started_are_explained(compared) -> None:
    result, path = compared
    scenario = result.arms["microentre"]
    late = [g.name for g in scenario.groups if g.start_week >= 52]
    assert 0 < len(late) < len(scenario.groups)
    text = _text(path.read_text())
    assert (f"{len(late)} of its {len(scenario.groups)} groups ({', '.join(late)}) are planned "
            "to start after the 52-week horizon, so they never met") in text
    started = len(scenario.groups) - len(late)
    assert result.table.set_index("scenario").loc["microentre", "groups_active_end_mean"] <= started


def test_caveats_say_what_is_assumed_and_what_intervals_include(compared) -> None:
    _, path = compared
    caveats = _section(path.read_text(), "Caveats")
    assumed, total = report.assumed_parameters()
    assert 0 < assumed < total
    assert f"{assumed} of the model's {total} numeric parameters" in _text(caveats)
    assert "the uncertainty of the 11 calibrated parameters" in _text(caveats)
    link = re.search(r'<a href="([^"]+)">docs/validation.md</a>', caveats)
    assert link and Path(link.group(1).removeprefix("file://")).is_file()


def test_bands_stay_within_possible_values() -> None:
    weeks = np.repeat([0, 1], 3)
    frame = pd.DataFrame({"week": weeks, "jv_active": [0, 0, 5, 0, 0, 0],
                          "knowledge_members": [0.99, 0.6, 1.0, 0.2, 0.0, 0.01],
                          "revenue_gain_k": [-5.0, 0.0, 5.0, 1.0, 1.0, 1.0]})
    jv = report.band(frame, "jv_active")
    assert jv.loc[0, "lo"] == 0.0 and jv.loc[0, "hi"] > 5 and jv.loc[0, "mean"] == pytest.approx(5 / 3)
    knowledge = report.band(frame, "knowledge_members")
    assert knowledge["lo"].min() >= 0.0 and knowledge["hi"].max() <= 1.0
    assert report.band(frame, "revenue_gain_k").loc[0, "lo"] < 0  # a difference may be negative
    # The raw t band goes below zero: the clipping is what keeps it at 0.
    raw = frame[frame.week == 0]["jv_active"]
    assert raw.mean() - 4.30 * raw.std() / np.sqrt(3) < 0
    # Error bars of counts in the cost figure stop at zero too; effects may cross it.
    assert report._err(Interval(2.0, -1.0, 5.0, 3, 3), "joint_ventures") == [[2.0], [3.0]]
    assert report._err(Interval(2.0, -1.0, 5.0, 3, 3), "additional_surviving_firms") == [[3.0], [3.0]]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_prints_to_pdf_with_every_table_whole_and_within_the_page(compared,
                                                                   tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    _, path = compared
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": A4_PRINTABLE_PX, "height": 1000})
            page.goto(path.as_uri())
            page.emulate_media(media="print")
            tables = page.evaluate("""() => [...document.querySelectorAll('table')].map(t => ({
                scroll: t.scrollWidth, width: t.getBoundingClientRect().width,
                height: t.getBoundingClientRect().height,
                breaks: getComputedStyle(t).breakInside,
                first: t.rows[1].cells[0].innerText, last: t.rows[t.rows.length - 1].cells[0].innerText,
                cells: [...t.querySelectorAll('td,th')].every(c => c.scrollWidth <= c.clientWidth + 1)}))""")
            pdf = page.pdf(format="A4", print_background=True)
        finally:
            browser.close()
    (tmp_path / "report.pdf").write_bytes(pdf)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    assert 3 <= len(pages) <= 8
    assert len(tables) == 5  # outcomes; where the spread comes from; groups; funding
    for t in tables:
        assert t["scroll"] <= A4_PRINTABLE_PX and t["width"] <= A4_PRINTABLE_PX, t
        assert t["cells"], f"a cell's content overflows: {t}"
        assert t["breaks"] == "avoid"
        assert t["height"] < A4_PRINTABLE_HEIGHT_PX, "a table taller than a page must break"
    # The outcome table: its first and last rows on the same page (the spread table after it
    # repeats the later row labels, not "Years simulated").
    first = [i for i, text in enumerate(pages) if "Years simulated" in text]
    last = [i for i, text in enumerate(pages) if "Cost per joint venture (EUR)" in text]
    assert len(first) == 1 and first[0] == last[0]
    assert "Summary" in pages[0] and "Caveats" in "".join(pages)
