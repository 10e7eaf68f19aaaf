"""The leaderboard site in a real browser (Debian's headless Chromium through selenium): no console
errors, tables and plots render, sorting works, and generations holding HTML/JS show as text."""
import json
import os
import shutil

import pytest
from conftest import sharpened_sweep

import creval
from creval.records import GenerationConfig
from creval.runner import load_task

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if os.environ.get("CI") == "true":
    assert CHROMIUM and DRIVER, "CI installs chromium and chromium-driver (.ci/run)"
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="apt-get install chromium chromium-driver")

PAYLOAD = "</textarea><script>window.PWNED = 1</script><img src=x onerror=\"window.PWNED = 2\">"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A two-schedule sweep, one checkpoint of it answering with an HTML/JS payload (replayed)."""
    from creval.leaderboards.build import build
    from creval.manifest import load_manifest
    from creval.sweep import sweep

    root = tmp_path_factory.mktemp("site")
    manifest = sharpened_sweep(root, {"joint": (1.0, 2.0, 4.0), "staged": (1.5, 3.0, 8.0)})
    sweep(load_manifest(manifest))
    # overwrite the writing cell of joint step 0 with generations holding the payload (replay, same key)
    from creval.store import Store
    from creval.sweep import plan

    cell = next(c for c in plan(load_manifest(manifest)) if c.schedule == "joint" and c.step == 0 and c.task == "mini_writing")
    # signatures now name the backend and the entropy kinds the generations carry: make the replayed
    # cell look like the hf cell it replaces, so the leaderboard compares it with its neighbours
    exact = {"token_entropy": [1.0], "entropy_kind": "exact", "token_entropy_model": [1.0], "model_entropy_kind": "exact"}
    rows = [{"prompt_id": p.id, "samples": [{"text": PAYLOAD, **exact}, {"text": "plain text", **exact}]}
            for p in load_task("mini_writing").prompt_set]
    gens = root / "payload.jsonl"
    gens.write_text("".join(json.dumps(r) + "\n" for r in rows))
    replayed = creval.run("x", ["mini_writing"], GenerationConfig(n=2, max_new_tokens=6), backend="replay",
                          backend_options={"generations": str(gens)}, out=str(root / "tmp"), metrics=["distinct_n"])
    store = Store(root / "results")
    table, meta = Store(root / "tmp").read_generations(replayed.cells[0].cell_key)
    old = store.read_generations(cell.key)[1]
    store.write_generations(cell.key, table, {**meta, **{k: old[k] for k in ("task", "config", "fingerprint", "entropy_kind", "backend", "backend_signature")}})
    creval.run(str(root / "joint" / "step-0"), ["mini_writing"], GenerationConfig(n=2, max_new_tokens=6),
               out=str(root / "results"), metrics=["pass_at_k", "distinct_n", "token_entropy"])  # rescore the cell
    out = root / "out"
    build(root / "results", manifest, out)
    return out


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,2000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def test_site_renders_sorts_and_shows_payloads_as_text(site, browser, tmp_path_factory):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get((site / "index.html").as_uri())
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    for table in ("final", "comparisons", "rows"):
        assert len(browser.find_elements(By.CSS_SELECTOR, f"#{table} tr")) > 1, table
    plots = browser.find_elements(By.CSS_SELECTOR, "#plots .plot")
    assert len(plots) >= 3 and all(p.find_elements(By.CSS_SELECTOR, ".main-svg") for p in plots)
    # sort "All values" by mean, ascending then descending
    header = browser.find_elements(By.CSS_SELECTOR, "#rows th")[5]
    header.click()
    values = [float(td.get_attribute("data-v")) for td in browser.find_elements(By.CSS_SELECTOR, "#rows td:nth-child(6)")
              if td.get_attribute("data-v")]
    assert values == sorted(values)
    header.click()
    values = [float(td.get_attribute("data-v")) for td in browser.find_elements(By.CSS_SELECTOR, "#rows td:nth-child(6)")
              if td.get_attribute("data-v")]
    assert values == sorted(values, reverse=True)
    # the sample viewer: the payload shows as text and ran nothing
    Select(browser.find_element(By.ID, "s-schedule")).select_by_value("joint")
    Select(browser.find_element(By.ID, "s-task")).select_by_value("mini_writing")
    texts = [pre.text for pre in browser.find_elements(By.CSS_SELECTOR, "#s-view pre")]
    assert PAYLOAD in texts
    assert browser.execute_script("return window.PWNED === undefined")
    assert not browser.find_elements(By.CSS_SELECTOR, "#s-view img, #s-view script, #s-view textarea")
    shot = tmp_path_factory.mktemp("artifacts") / "leaderboard.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
