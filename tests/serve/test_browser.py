"""The page in headless Chromium (Debian's chromium + chromium-driver, driven by Selenium): upload, result, errors.

Set RESATTN_SERVE_SCREENSHOT=docs/figures/serve.png to keep the screenshot of the result for the docs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if CHROMIUM is None or DRIVER is None:
    pytest.skip("headless Chromium is not installed (apt-get install chromium chromium-driver, or make install): "
                "the browser test of resattn serve is skipped", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

EXAMPLES = Path(__file__).parents[2] / "src" / "resattn" / "serve" / "static" / "examples"


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1200,1650", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)
    yield driver
    driver.quit()


def wait_for_state(driver, *states: str, timeout: float = 60) -> str:
    WebDriverWait(driver, timeout).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state")
                                         in states)
    return driver.find_element(By.TAG_NAME, "body").get_attribute("data-state")


def severe_console_messages(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_upload_shows_prediction_and_every_mask(browser, live_server, api):
    _, info = api.call("/api/model")
    _, expected = api.post_file("/api/masks", (EXAMPLES / "trouser.png").read_bytes())
    browser.get_log("browser")  # forget the messages of earlier tests
    browser.get(live_server.url + "/")
    assert wait_for_state(browser, "ready", "error") == "ready"
    assert "attention56_cifar.fmnist" in browser.find_element(By.ID, "model-line").text

    browser.find_element(By.ID, "file").send_keys(str(EXAMPLES / "trouser.png"))
    assert wait_for_state(browser, "done", "error") == "done", browser.find_element(By.ID, "error").text
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#topk li .label")]
    assert labels[0] == "Trouser" and len(labels) == 5

    cards = browser.find_elements(By.CSS_SELECTOR, "#modules .card")
    assert len(cards) == len(info["modules"]) == 3
    masks = browser.find_elements(By.CSS_SELECTOR, "#modules img.mask")
    assert len(masks) == len(info["modules"])
    for img in masks + browser.find_elements(By.CSS_SELECTOR, "#modules img.input, #input-image, #colorbar"):
        # decoded and drawn: complete with a real size, and laid out on the page
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0
        assert img.is_displayed() and img.size["width"] > 0
    assert browser.execute_script("return document.getElementById('colorbar').naturalWidth") == 256
    ticks = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#ticks span")]
    assert ticks == ["0", "0.25", "0.5", "0.75", "1"]  # the fixed scale, whatever the maps' own ranges

    # the flat flag follows the server's verdict, module by module
    flat_banner = browser.find_element(By.ID, "flat-banner")
    assert flat_banner.is_displayed() == any(m["flat"] for m in expected["modules"])
    badges = [len(card.find_elements(By.CSS_SELECTOR, ".flat")) == 1 for card in cards]
    assert badges == [m["flat"] for m in expected["modules"]]

    # controls: the module selector fills the large view, the slider sets every mask's opacity
    Select(browser.find_element(By.ID, "module-select")).select_by_index(2)
    assert "stages.2.blocks.1" in browser.find_element(By.ID, "focus").text
    browser.execute_script("const s = document.getElementById('opacity'); s.value = 25; "
                           "s.dispatchEvent(new Event('input'));")
    opacities = {img.value_of_css_property("opacity") for img in browser.find_elements(By.CSS_SELECTOR, "img.mask")}
    assert opacities == {"0.25"}
    browser.execute_script("const s = document.getElementById('opacity'); s.value = 60; "
                           "s.dispatchEvent(new Event('input'));")
    Select(browser.find_element(By.ID, "module-select")).select_by_index(0)
    assert severe_console_messages(browser) == []  # no script error, no asset that failed to load

    keep = os.environ.get("RESATTN_SERVE_SCREENSHOT")
    if keep:
        Path(keep).parent.mkdir(parents=True, exist_ok=True)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1200, height + 140)  # the whole page in one picture
        assert browser.save_screenshot(keep)


def test_example_button_sends_the_bundled_image(browser, live_server, api):
    _, expected = api.post_file("/api/predict", (EXAMPLES / "ankle_boot.png").read_bytes())
    browser.get(live_server.url + "/")
    wait_for_state(browser, "ready")
    browser.find_element(By.CSS_SELECTOR, "#examples button[title*='ankle boot']").click()
    assert wait_for_state(browser, "done", "error") == "done"
    top = browser.find_element(By.CSS_SELECTOR, "#topk li .label").text
    assert top == expected["predictions"][0]["label"] == "Ankle boot"


def test_bad_upload_shows_the_servers_reason(browser, live_server, tmp_path):
    notes = tmp_path / "notes.png"  # named like an image, but text
    notes.write_text("this is not a picture\n")
    browser.get(live_server.url + "/")
    wait_for_state(browser, "ready")
    browser.find_element(By.ID, "file").send_keys(str(notes))
    assert wait_for_state(browser, "done", "error") == "error"
    error = browser.find_element(By.ID, "error")
    assert error.is_displayed()
    assert "HTTP 422" in error.text and "not an image" in error.text

    # the page and the server go on: a good image afterwards gives a result and hides the error
    browser.find_element(By.ID, "file").send_keys(str(EXAMPLES / "trouser.png"))
    assert wait_for_state(browser, "done", "error") == "done"
    assert not error.is_displayed()


def test_api_docs_render_from_local_files(browser, live_server):
    browser.get_log("browser")  # forget the messages of earlier tests (a refused upload logs its 422)
    browser.get(live_server.url + "/docs")
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"))
    paths = {e.get_attribute("data-path") or e.text for e in browser.find_elements(By.CSS_SELECTOR,
                                                                                     ".opblock-summary-path")}
    assert {"/api/model", "/api/predict", "/api/masks"} <= paths
    assert severe_console_messages(browser) == []
