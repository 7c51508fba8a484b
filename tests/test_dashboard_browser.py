"""A headless Chromium (Debian's ``chromium`` and ``chromedriver``, driven by WebDriver) loads
the Dask dashboard and sparkish's jobs page while a job runs.

The dashboard's plots are canvases, so the operation names are read from the page's bokeh
document (what the progress bars and the task stream are labelled with). The job's tasks wait
for a file, so the job is still running whatever the machine's speed. With
``SPARKISH_SCREENSHOT_DIR`` set, the screenshots are also copied there (the README's picture).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from operator import add
from pathlib import Path

import pytest

from tests import helpers
from tests.monitoring_helpers import scheduler_base_url

pytestmark = [pytest.mark.timeout(300)]

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1500,1100"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _not_blank(png: Path) -> bool:
    from matplotlib import image

    pixels = image.imread(str(png))
    return pixels.size > 0 and float(pixels.std()) > 0.02


def _keep(png: Path) -> None:
    target = os.environ.get("SPARKISH_SCREENSHOT_DIR")
    if target:
        shutil.copy(png, Path(target) / png.name)


def _held_tasks(release: Path):
    """The first half of the map tasks finish at once, the others wait for ``release``."""

    def held(x: int) -> tuple[int, int]:
        if x >= 8:
            helpers.wait_until(release.exists, "the browser test releases the job", 120)
        return x % 4, x

    return held


def test_dashboard_shows_sparkish_operations_while_a_job_runs(sc, browser, tmp_path):
    release = tmp_path / "release"
    group = "dashboard-demo"
    results: list = []

    def job() -> None:
        sc.setJobGroup(group, "word totals for the dashboard")
        pairs = sc.parallelize(range(16), 8).map(_held_tasks(release))
        results.append(pairs.reduceByKey(add, 4).collect())

    thread = threading.Thread(target=job)
    thread.start()
    try:
        tracker = sc.statusTracker()
        helpers.wait_until(lambda: tracker.getJobIdsForGroup(group), "the job started", 60)
        [job_id] = tracker.getJobIdsForGroup(group)

        def map_tasks_running() -> int:
            stages = [tracker.getStageInfo(s) for s in tracker.getJobInfo(job_id).stageIds]
            return sum(s.numActiveTasks for s in stages if s.name.endswith("(map side)"))

        # Each worker runs quick tasks until it reaches a held one: then both wait.
        helpers.wait_until(lambda: map_tasks_running() == 2, "both workers hold a task", 60)
        base = scheduler_base_url(sc)
        browser.get(base + "/status")

        def document() -> str:
            return browser.execute_script(
                "return (window.Bokeh && Bokeh.documents.length)"
                " ? JSON.stringify(Bokeh.documents[0].to_json()) : '';"
            )

        helpers.wait_until(lambda: "reduceByKey-map" in document(), "the plots name the stage", 60)
        # The canvases live in shadow DOM: ask bokeh whether every plot view has rendered.
        helpers.wait_until(
            lambda: browser.execute_script(
                "const roots = Bokeh.index.roots || [];"
                "return roots.length > 0 && roots.every(view => view.is_idle);"
            ),
            "the plots are drawn",
            60,
        )
        status_png = tmp_path / "dask-dashboard.png"
        assert browser.save_screenshot(str(status_png))
        assert _not_blank(status_png)
        _keep(status_png)

        browser.get(base + "/sparkish/jobs")
        body = browser.find_element("tag name", "body").text
        assert "word totals for the dashboard" in body
        assert group in body and "RUNNING" in body and "reduceByKey-map" in body
        jobs_png = tmp_path / "sparkish-jobs.png"
        assert browser.save_screenshot(str(jobs_png))
        assert _not_blank(jobs_png)
        _keep(jobs_png)
    finally:
        release.touch()
        thread.join(120)
    assert sorted(results[0]) == [(k, sum(x for x in range(16) if x % 4 == k)) for k in range(4)]

    browser.get(base + "/sparkish/api/jobs")
    jobs = json.loads(browser.find_element("tag name", "body").text)
    ours = [job for job in jobs if job["jobGroup"] == group]
    assert ours and ours[0]["status"] in ("RUNNING", "SUCCEEDED")
