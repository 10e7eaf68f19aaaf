"""What a reader of the leaderboard site must see, checked in headless Chromium (selenium): shared by
tests/test_site_browser.py (on a small sweep) and benchmarks/site_screenshots.py (on the demo's site,
which also saves the screenshots of docs/leaderboards.md)."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
WIDTH = 1280
MAX_BYTES = 5_000_000  # index.html and what it has loaded, opened on any one tab
MAX_RENDER_S = 3.0
LANDING_GROUPS = ("final correctness", "final writing diversity", "final entropy", "collapse step", "backward transfer",
                  "entropy law fit", "creativity retention")


def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", f"--window-size={WIDTH},1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def _wait(driver, script: str, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def _errors(driver) -> list:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _loaded_bytes(driver, site: Path) -> int:
    """index.html and every file the page has loaded so far (from disk: their sizes; the resource timing
    API lists nothing for file: pages, so the scripts and styles in the document are counted)."""
    names = driver.execute_script("return Array.from(document.querySelectorAll('script[src], link[href]'))"
                                  ".map(e => e.src || e.href)")
    files = {site / "index.html"} | {site / n.rsplit("/", 1)[-1] for n in names if n.startswith("file:")}
    return sum(f.stat().st_size for f in files)


def _shot(driver, path: Path | None, element=None) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if element is not None:
        element.screenshot(str(path))
        return
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(WIDTH, min(height + 120, 3000))
    driver.save_screenshot(str(path))
    driver.set_window_size(WIDTH, 1000)


def check_site(driver, site: Path, *, hostile: str | None = None, shots: Path | None = None,
               sample: tuple[str, str] | None = None) -> dict:
    """Assert the "done when" list of the leaderboard site on ``site``; save screenshots of the landing
    view, one plot and the sample viewer under ``shots``. Returns the measured page weight and render time.
    ``hostile``: a schedule name holding markup, which must show as text; ``sample``: (schedule, task)."""
    from selenium.webdriver.common.by import By

    renders = []
    for _ in range(3):  # the first load also compiles plotly.js; on a shared machine a load can stall
        driver.get((site / "index.html").as_uri())
        renders.append(_wait(driver, "return window.CREVAL_RENDERED"))
    first_bytes = _loaded_bytes(driver, site)
    assert first_bytes < MAX_BYTES, f"the first view weighs {first_bytes} bytes"
    assert min(renders) / 1000 < MAX_RENDER_S, f"rendered in {renders} ms"
    assert not _errors(driver)
    data = driver.execute_script("return DATA")
    schedules, colours = data["board"]["schedules"], data["colours"]
    # the landing table: a row per schedule, the analysis columns, intervals, the best marked
    groups = [th.text.lower() for th in driver.find_elements(By.CSS_SELECTOR, "#landing thead tr:first-child th")]
    for g in LANDING_GROUPS:
        assert any(h.startswith(g) for h in groups), (g, groups)
    body = driver.find_elements(By.CSS_SELECTOR, "#landing tbody tr")
    assert [r.find_element(By.CSS_SELECTOR, "td").text.split("\n")[0] for r in body] == schedules
    assert driver.find_elements(By.CSS_SELECTOR, "#landing td.best")
    assert driver.find_elements(By.CSS_SELECTOR, "#landing td .ci")
    _shot(driver, shots and shots / "landing.png")
    # every plot: axis titles on every panel, and each schedule in the one colour of the legend
    driver.get((site / "index.html").as_uri() + "#plots")
    _wait(driver, "return document.querySelectorAll('#plots .plot .main-svg').length > 0")
    plots = driver.find_elements(By.CSS_SELECTOR, "#plots .plot")
    assert len(plots) >= 3
    seen: dict[str, set[str]] = {}
    for p in plots:
        _axes_and_legend(driver, p, seen)
    for s in schedules:
        assert s in seen, f"{s!r} in no legend: {sorted(seen)}"
        assert len(seen[s]) == 1, (s, seen[s])
        assert _rgb(colours[s]) in seen[s], (s, colours[s], seen[s])
    if hostile is not None:
        assert hostile in seen
    assert not _errors(driver)
    _shot(driver, shots and shots / "plot.png", plots[0])
    # at 800 px no axis title lies over a neighbouring panel's plot area
    driver.set_window_size(800, 1000)
    try:
        overlaps = _wait(driver, OVERLAPS)
    finally:
        driver.set_window_size(WIDTH, 1000)
    assert overlaps == "none", overlaps
    extras = data["extras"]
    if extras["probes"] or extras["recommendations"]:
        check_extras(driver, site, extras, colours, shots=shots)
    else:
        assert not driver.find_element(By.ID, "nav-probes").is_displayed()  # no reports: no tab
    # the sample viewer: prompt text and gold answer, samples per checkpoint side by side
    schedule, task = sample or (schedules[0], None)
    target = "#samples/" + "/".join(driver.execute_script("return encodeURIComponent(arguments[0])", x)
                                    for x in (schedule, task) if x)
    driver.get("about:blank")  # a fresh page: what opening the viewer costs
    driver.get((site / "index.html").as_uri() + target)
    _wait(driver, "return document.querySelectorAll('#s-view .col').length > 1")
    prompt = driver.find_element(By.ID, "s-prompt-text").text
    gold = driver.find_element(By.ID, "s-gold").text
    assert prompt and "not available" not in prompt, prompt
    assert gold and gold != "n/a", gold
    assert driver.find_elements(By.CSS_SELECTOR, "#s-view .sample .meta")
    _shot(driver, shots and shots / "samples.png")
    sample_bytes = _loaded_bytes(driver, site)
    assert sample_bytes < MAX_BYTES, f"with the sample viewer open the page weighs {sample_bytes} bytes"
    assert not _errors(driver)
    # the longest table, behind its filters
    driver.get("about:blank")
    driver.get((site / "index.html").as_uri() + "#values")
    _wait(driver, "return document.querySelectorAll('#values tbody tr').length > 0")
    value_bytes = _loaded_bytes(driver, site)
    assert value_bytes < MAX_BYTES, f"with all values open the page weighs {value_bytes} bytes"
    assert not _errors(driver)
    return {"first_view_bytes": first_bytes, "with_samples_bytes": sample_bytes, "with_values_bytes": value_bytes,
            "render_ms": [round(r) for r in renders]}


# once the plots have re-laid out at the window's width: "none", or the plots whose y-axis titles cross a plot area
OVERLAPS = """
const plots = Array.from(document.querySelectorAll('#plots .js-plotly-plot'));
if (plots.some(p => (p.querySelector('.main-svg') || p).getBoundingClientRect().width > 820)) return null;
const bad = plots.filter(p => {
  const rect = e => e.getBoundingClientRect();
  const areas = Array.from(p.querySelectorAll('.draglayer .nsewdrag')).map(rect).filter(r => r.width > 0);
  const titles = Array.from(p.querySelectorAll('.infolayer [class^=g-y][class$=title] text')).map(rect).filter(r => r.width > 0);
  return titles.some(t => areas.some(a => t.left < a.right && t.right > a.left && t.top < a.bottom && t.bottom > a.top));
}).map(p => p.id);
return bad.length ? bad.join(', ') : 'none';
"""


def _axes_and_legend(driver, plot, seen: dict[str, set[str]]) -> None:
    """Every axis of ``plot`` has a title, names in its legend are text; each legend entry's colour into ``seen``."""
    from selenium.webdriver.common.by import By

    # every x axis has a title; a y axis has its own, or shares that of its row (panels of one unit)
    axes, titled = driver.execute_script(
        "const l = arguments[0].layout, t = a => ((a.title || {}).text || '').trim();"
        " const ax = k => Object.keys(l).filter(n => new RegExp('^' + k + 'axis\\\\d*$').test(n)).map(n => l[n]);"
        " const xs = ax('x'), ys = ax('y');"
        " return [xs.length + ys.length, xs.every(t) && ys.every(a => t(a) || ys.some(b => t(b) && b.domain[0] === a.domain[0]))"
        "  ? xs.filter(t).length + ys.filter(t).length : -1]", plot)
    titles = [t.text for t in plot.find_elements(By.CSS_SELECTOR, ".infolayer [class$='title']")
              if t.get_attribute("class").startswith(("xtitle", "ytitle", "x", "y")) and t.text.strip()]
    assert axes >= 2 and titled > 0 and len(titles) >= titled, (plot.get_attribute("id"), axes, titled, titles)
    assert not plot.find_elements(By.CSS_SELECTOR, ".legend a, .legend b")  # names are text, not markup
    for entry in driver.execute_script(
            "return Array.from(arguments[0].querySelectorAll('.legend .traces')).map(t => {"
            " const s = t.querySelector('.legendpoints path, .legendlines path');"
            " return [t.querySelector('.legendtext').textContent, s ? (s.style.stroke && s.style.stroke !== 'none'"
            " ? s.style.stroke : s.style.fill) : ''] })", plot):
        seen.setdefault(entry[0], set()).add(entry[1])


def check_extras(driver, site: Path, extras: dict, colours: dict[str, str], *, shots: Path | None = None) -> None:
    """The Probes tab: per probe report a plot (log sigma axis, axis titles, each checkpoint named for a
    schedule in that schedule's colour), its area and comparison tables; per recommendation the order
    and its tables; no console errors. Saves probes.png under ``shots``."""
    from selenium.webdriver.common.by import By

    driver.get("about:blank")
    driver.get((site / "index.html").as_uri() + "#probes")
    assert driver.find_element(By.ID, "nav-probes").is_displayed()
    _wait(driver, f"return document.querySelectorAll('#x-probes .plot .main-svg').length >= {extras['probes']}"
                  f" && document.querySelectorAll('#x-recommendations .recommendation').length == {extras['recommendations']}")
    seen: dict[str, set[str]] = {}
    for i, plot in enumerate(driver.find_elements(By.CSS_SELECTOR, "#x-probes .plot")):
        assert driver.execute_script("return arguments[0].layout.xaxis.type", plot) == "log"
        _axes_and_legend(driver, plot, seen)
        for table in ("areas", "comparisons"):
            rows = driver.find_elements(By.CSS_SELECTOR, f"#x-probe-{i}-{table} tbody tr")
            assert rows and all(r.find_elements(By.CSS_SELECTOR, "td") for r in rows), table
        names = {td.text for td in driver.find_elements(By.CSS_SELECTOR, f"#x-probe-{i}-areas td.sched")}
        assert names and names <= set(seen), (names, sorted(seen))  # checkpoint names as text
    for name, got in seen.items():
        if name in colours:
            assert got == {_rgb(colours[name])}, (name, colours[name], got)
    for i in range(extras["recommendations"]):
        box = driver.find_element(By.ID, f"x-rec-{i}")
        assert box.find_element(By.CSS_SELECTOR, ".recommended b").text
        assert "eparated" in box.find_element(By.CSS_SELECTOR, "p.verdict").text  # whether the pilot decides
        assert box.find_elements(By.CSS_SELECTOR, f"#x-rec-{i}-orders tbody tr")
        assert box.find_elements(By.CSS_SELECTOR, f"#x-rec-{i}-evidence tbody tr td.num .ci")
    assert not _errors(driver)
    _shot(driver, shots and shots / "probes.png")


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"
