"""The leaderboard site in a real browser (Debian's headless Chromium through selenium), on a three-
schedule sweep (one staged, one named with HTML markup): the "done when" list of the redesign
(``site_check.check_site``: landing table with the analysis columns, axis titles on every plot, one
colour per schedule everywhere, the sample viewer's prompt and gold answer, the hostile name as text,
no console errors, weight and render time, screenshots; the Probes tab), sorting and filters, and generations holding
HTML/JS shown as text."""
import json
import os
from dataclasses import replace

import pytest
from conftest import sharpened_sweep, write_reports
from site_check import CHROMIUM, DRIVER, _wait, check_site, chromium

import creval
from creval.records import GenerationConfig
from creval.runner import load_task

if os.environ.get("CI") == "true":
    assert CHROMIUM and DRIVER, "CI installs chromium and chromium-driver (.ci/run)"
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="apt-get install chromium chromium-driver")

PAYLOAD = "</textarea><script>window.PWNED = 1</script><img src=x onerror=\"window.PWNED = 2\">"
HOSTILE = '<a href="#pwned">x</a><b>bold</b>'


@pytest.fixture(scope="module")
def site(tmp_path_factory, stored_reports):
    """Three schedules (joint, a staged one, one named HOSTILE), a probe report (joint and HOSTILE) and a
    recommendation; one checkpoint of joint answering with
    an HTML/JS payload (replayed). Manifests only take plain schedule names, so the third schedule is
    renamed in the built leaderboard, which is then written again: every name on the page goes through
    the escaping the test checks."""
    from creval.leaderboards.build import build
    from creval.leaderboards.collect import read_results
    from creval.leaderboards.site import write_site
    from creval.manifest import load_manifest
    from creval.sweep import placed, sweep

    root = tmp_path_factory.mktemp("site")
    stages = {"staged": "[{name: structured, until: 150, families: [math]}, {name: creative, families: [writing]}]"}
    manifest = sharpened_sweep(root, {"joint": (1.0, 2.0, 4.0), "staged": (1.5, 3.0, 8.0), "hostile": (1.0, 6.0)},
                               stages=stages)
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
    # a probe report (its second checkpoint labelled hostile, renamed with the schedule) and a recommendation
    write_reports(root / "results", stored_reports, rename={"staged": "hostile"})
    out = root / "out"
    board = build(root / "results", manifest, out)
    renamed = json.loads(json.dumps(board).replace('"hostile"', json.dumps(HOSTILE)))
    m = load_manifest(manifest)
    cells = {c.key: c for c in read_results(root / "results")}
    places = [(replace(p, schedule=HOSTILE) if p.schedule == "hostile" else p, cells[p.key])
              for p in placed(m) if p.state == "done" and p.key in cells]
    write_site(renamed, places, root / "results", out, m.tasks)
    # the same leaderboard without probe or recommendation reports, beside it (``site.parent / "plain"``)
    reportless = {k: v for k, v in renamed.items() if k not in ("probes", "recommendations", "unreadable_reports")}
    write_site(reportless, places, root / "results", root / "plain", m.tasks)
    return out


@pytest.fixture(scope="module")
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def test_the_done_when_list_of_the_redesign(site, browser, tmp_path_factory):
    shots = tmp_path_factory.mktemp("screenshots")
    measured = check_site(browser, site, hostile=HOSTILE, shots=shots, sample=("joint", "mini_math"))
    for name in ("landing.png", "plot.png", "samples.png", "probes.png"):
        assert (shots / name).stat().st_size > 10_000, name
    assert measured["first_view_bytes"] < 5_000_000 and min(measured["render_ms"]) < 3000


def test_the_probes_tab_shows_only_with_reports(site, browser):
    from selenium.webdriver.common.by import By

    for folder, shown in ((site.parent / "plain", False), (site, True)):
        browser.get((folder / "index.html").as_uri())
        _wait(browser, "return document.querySelector('#landing tbody tr')")
        assert browser.find_element(By.ID, "nav-probes").is_displayed() == shown, folder


def test_site_sorts_filters_and_shows_payloads_as_text(site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get((site / "index.html").as_uri() + "#values")
    rows = lambda: browser.find_elements(By.CSS_SELECTOR, "#values tbody tr")  # noqa: E731
    assert {r.find_elements(By.CSS_SELECTOR, "td")[4].text for r in rows()} == {"pass@1"}  # filtered, not 600 rows
    Select(browser.find_element(By.ID, "f-values-statistic")).select_by_value("")
    Select(browser.find_element(By.ID, "f-values-task")).select_by_value("mini_writing")
    shown = rows()
    assert len(shown) > 10 and {r.find_elements(By.CSS_SELECTOR, "td")[3].text for r in shown} == {"mini_writing"}
    assert not any(r.find_elements(By.CSS_SELECTOR, "td")[4].text.endswith(("_lo", "_hi")) for r in shown)  # exact: no bounds
    header = browser.find_elements(By.CSS_SELECTOR, "#values th button")[5]  # mean
    values = lambda: [float(td.get_attribute("data-v")) for td in browser.find_elements(By.CSS_SELECTOR, "#values td:nth-child(6)")  # noqa: E731
                      if td.get_attribute("data-v")]
    cells = lambda: [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#values td:nth-child(6)")]  # noqa: E731
    for descending in (False, True):
        header.click()
        assert values() == sorted(values(), reverse=descending)
        assert "n/a" not in cells()[:len(values())]  # undefined values sort last either way
    # the landing table's sorting keeps n/a last too, and a final value links to its samples
    browser.get((site / "index.html").as_uri())
    link = browser.find_element(By.CSS_SELECTOR, "#landing tbody td a")
    target = link.get_attribute("href").split("#", 1)[1]
    assert target.startswith("samples/")
    link.click()
    _wait(browser, "return document.querySelector('#s-view .col.focus')")  # its data loads with the tab
    # the sample viewer: the payload shows as text and ran nothing; the distinct toggle counts repeats
    Select(browser.find_element(By.ID, "s-schedule")).select_by_value("joint")
    _wait(browser, "return S.cells['joint'] && document.querySelector('#s-task option[value=\"mini_writing\"]')")
    Select(browser.find_element(By.ID, "s-task")).select_by_value("mini_writing")
    texts = [pre.text for pre in browser.find_elements(By.CSS_SELECTOR, "#s-view pre")]
    assert PAYLOAD in texts
    assert browser.execute_script("return window.PWNED === undefined")
    assert not browser.find_elements(By.CSS_SELECTOR, "#s-view img, #s-view script, #s-view textarea")
    assert browser.find_element(By.ID, "s-gold").text.startswith("no gold answer")
    before = len(browser.find_elements(By.CSS_SELECTOR, "#s-view .sample"))
    browser.find_element(By.ID, "s-distinct").click()
    metas = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "#s-view .sample .meta")]
    assert len(metas) <= before and all("×" in m for m in metas)
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
