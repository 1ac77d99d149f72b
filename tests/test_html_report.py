"""report.html in a real headless browser (Debian's Chromium, driven by Selenium through chromedriver):
it renders without console errors, shows a row per shot and the plot, and clicking a row seeks."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from filmscore.cli.main import main

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
BROWSER_ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
    "--window-size=1200,900",
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="needs chromium and chromium-driver (scripts/setup.sh installs them)",
    ),
]


@pytest.fixture(scope="module")
def scored_folder(tmp_path_factory, mood_films) -> Path:
    folder = tmp_path_factory.mktemp("html")
    film = folder / "scene 1.mp4"  # a space, as editors' files have
    film.write_bytes(mood_films["frightened"].read_bytes())
    assert main(["run", str(film), "-q"]) == 0
    return folder / "scene 1.scored.filmscore"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in BROWSER_ARGUMENTS:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def _wait_for(condition, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return condition()


def test_the_report_renders_with_a_row_per_shot_the_plot_and_no_console_errors(browser, scored_folder):
    from selenium.webdriver.common.by import By

    report = json.loads((scored_folder / "report.json").read_text())
    browser.get((scored_folder / "report.html").as_uri())
    assert _wait_for(lambda: browser.execute_script("return document.readyState") == "complete")
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.shot")) == len(report["shots"])
    assert len(browser.find_elements(By.CSS_SELECTOR, "#plot rect.band")) == len(report["shots"])
    points = browser.find_element(By.CSS_SELECTOR, "#plot polyline.valence").get_attribute("points")
    assert len(points.split()) == len(report["timeline"])
    assert browser.find_element(By.ID, "plot").size["height"] > 100  # drawn, not collapsed
    images = browser.execute_script("return [...document.images].map(i => i.naturalWidth)")
    assert images and all(width > 0 for width in images)  # every thumbnail decoded
    assert len(browser.find_elements(By.CSS_SELECTOR, "#cues tbody tr")) == len(report["cues"])
    heard = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#cues td.heard")]
    assert len(heard) == len(report["cues"]) and all("tolerance" in t or "missed" in t for t in heard)
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_clicking_a_shot_seeks_the_player_to_it(browser, scored_folder):
    from selenium.webdriver.common.by import By

    browser.get((scored_folder / "report.html").as_uri())
    # The player holds the scored film; wait until the browser has read its length.
    assert _wait_for(
        lambda: browser.execute_script("return document.getElementById('player').readyState >= 1")
    )
    duration = browser.execute_script("return document.getElementById('player').duration")
    report = json.loads((scored_folder / "report.json").read_text())
    assert duration == pytest.approx(report["input"]["duration_s"], abs=0.1)
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.shot")
    target = rows[-1]
    start = float(target.get_attribute("data-start"))
    browser.execute_script("arguments[0].scrollIntoView()", target)
    target.click()
    position = _wait_for(
        lambda: (
            abs(browser.execute_script("return document.getElementById('player').currentTime") - start) < 0.5
        )
    )
    assert position, browser.execute_script("return document.getElementById('player').currentTime")


@pytest.fixture
def downloading_browser(tmp_path):
    """A headless Chromium whose downloads land in tmp_path/downloads."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    folder = tmp_path / "downloads"
    folder.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in BROWSER_ARGUMENTS:
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(folder), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
    yield driver, folder
    driver.quit()


def test_an_editor_sets_two_moods_downloads_the_spotting_and_the_run_follows_it(
    downloading_browser, tmp_path
):
    """In the analysis page of the four-mood film (afraid, calm, joyful, sad; 5 s shots at 25 fps): the
    calm shot is set tense from its row, 15 s to 00:00:17:12 is marked no music, the CSV downloaded, and
    `run --spotting` with it follows both."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from tests.synthetic import four_mood_film

    browser, downloads = downloading_browser
    film = four_mood_film(tmp_path / "four.mp4")
    report_dir = tmp_path / "four.filmscore"
    assert main(["analyze", str(film), "-q", "--report-dir", str(report_dir)]) == 0
    shots = json.loads((report_dir / "report.json").read_text())["shots"]
    assert [s["start_s"] for s in shots] == [0, 5, 10, 15]
    browser.get((report_dir / "report.html").as_uri())
    assert _wait_for(lambda: browser.execute_script("return document.readyState") == "complete")

    selects = browser.find_elements(By.CSS_SELECTOR, "select.shot-mood")
    assert len(selects) == len(shots)
    browser.execute_script("arguments[0].scrollIntoView()", selects[1])
    Select(selects[1]).select_by_value("tense")
    browser.find_element(By.ID, "spot-in").send_keys("15")
    browser.find_element(By.ID, "spot-out").send_keys("00:00:17:12")
    Select(browser.find_element(By.ID, "spot-mood")).select_by_value("none")
    browser.find_element(By.ID, "spot-note").send_keys("=HYPERLINK(x)")  # safe in a spreadsheet
    browser.find_element(By.ID, "spot-add").click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#spots tbody tr")) == 2
    link = browser.find_element(By.ID, "spot-download")
    browser.execute_script("arguments[0].scrollIntoView()", link)
    link.click()
    downloaded = _wait_for(lambda: next(iter(downloads.glob("four*.csv")), None))
    assert downloaded is not None, list(downloads.iterdir())
    assert downloaded.read_text().splitlines() == [
        "start,end,mood,style,intensity,note,take",
        "5.0000,10.0000,tense,,,,",
        "15.0000,17.4800,none,,,'=HYPERLINK(x),",
    ]
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []

    out = tmp_path / "four.scored.mp4"
    assert main(["run", str(film), "-q", "-o", str(out), "--spotting", str(downloaded), "--takes", "2"]) == 0
    report = json.loads((tmp_path / "four.scored.filmscore" / "report.json").read_text())
    spotted = next(c for c in report["cues"] if c["start_s"] == 5.0)
    assert (spotted["end_s"], spotted["mood"], spotted["mode"]) == (10.0, "tense", "minor")
    assert report["silences"] == [{"start_s": 15.0, "end_s": 17.48}]
    assert report["spotting"]["spots"][-1]["note"] == "=HYPERLINK(x)"  # the apostrophe taken off again

    # The run's page starts from the spotting it followed: the calm shot's row says tense.
    browser.get((tmp_path / "four.scored.filmscore" / "report.html").as_uri())
    assert _wait_for(lambda: browser.execute_script("return document.readyState") == "complete")
    values = [s.get_attribute("value") for s in browser.find_elements(By.CSS_SELECTOR, "select.shot-mood")]
    assert values == ["", "tense", "", ""]

    # Issue 36: the tense cue's two takes play side by side; picking take b writes it into the download.
    downloaded.unlink()
    takes = browser.find_elements(By.CSS_SELECTOR, f'input.take[name="take-{spotted["id"]}"]')
    assert [t.get_attribute("value") for t in takes] == ["a", "b"] and takes[0].is_selected()
    players = browser.find_elements(By.CSS_SELECTOR, "tr.takes-row audio")
    assert len(players) == 2 * len(report["cues"])
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", takes[1])  # clear of the header
    takes[1].click()
    link = browser.find_element(By.ID, "spot-download")
    browser.execute_script("arguments[0].scrollIntoView()", link)
    link.click()
    picked = _wait_for(lambda: next(iter(downloads.glob("four*.csv")), None))
    assert picked is not None
    assert picked.read_text().splitlines()[-1] == "5.0000,10.0000,auto,,,,b"
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
