"""The built site as a reader sees it: headless Chromium loads the tutorial pages and the
mathematics page, with every request outside the site refused, and checks that the figures loaded
and the equations were typeset by the site's own MathJax (``make docs-check``).

Debian's Chromium (``/usr/bin/chromium``; ``.ci/run`` installs it with apt-get when missing),
driven by Playwright without Playwright's own browser download. Flags: headless, no sandbox (CI
runs as root), no GPU, and nothing that calls home (background networking, component updates,
sync, first-run tasks), with an empty profile. Full-page screenshots go to docs/_build/screenshots/.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
TUTORIALS = DOCS / "tutorials"
SCREENSHOTS = DOCS / "_build" / "screenshots"

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
RAW_MATH = re.compile(r"\$[^$\s][^$]*\$|\\\(|\\\)|\\\[|\\\]")

#: The visible text of the page outside code, scripts and typeset math.
VISIBLE_TEXT = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('pre, code, script, style, mjx-container, .MathJax, textarea')
      .forEach(e => e.remove());
  return body.textContent;
}"""
IMAGES = """() => Array.from(document.querySelectorAll('article img, .body img, main img')).map(
  img => ({src: img.getAttribute('src'), complete: img.complete, width: img.naturalWidth}))"""


def tutorial_pages() -> list[str]:
    return [f"tutorials_built/{p.stem}.html" for p in sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))]


@pytest.fixture(scope="module")
def browser(built_site, require):
    require(CHROMIUM.is_file() or shutil.which("chromium") is not None,
            "no Chromium at /usr/bin/chromium: `apt-get install -y chromium` (Debian)")
    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tempfile.mkdtemp(prefix="ramplab-chromium-")  # empty --user-data-dir
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM if CHROMIUM.is_file() else shutil.which("chromium")),
            headless=True, args=FLAGS, chromium_sandbox=False, viewport={"width": 1280, "height": 900})
        outside: list[str] = []

        def only_the_site(route):
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_the_site)
        try:
            yield context, outside
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def _load(browser, built_site: Path, page_path: str):
    context, outside = browser
    path = built_site / page_path
    assert path.is_file(), f"{page_path} was not built"
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri(), wait_until="load")
    typeset = page.evaluate("""() => (window.MathJax && MathJax.startup && MathJax.startup.promise)
        ? MathJax.startup.promise.then(() => true) : false""")
    return page, typeset, errors, outside


def _check(page, typeset, errors, outside, page_path, *, figures: bool, math: bool):
    text = page.evaluate(VISIBLE_TEXT)
    raw = sorted(set(RAW_MATH.findall(text)))
    assert not raw, f"{page_path}: raw TeX left in the text: {raw[:10]}"
    if math:
        assert typeset, f"{page_path}: MathJax did not load (expected _static/mathjax/tex-chtml.js)"
        assert page.locator("mjx-container").count() > 0, f"{page_path}: no typeset equation"
        assert page.locator("mjx-merror").count() == 0, f"{page_path}: MathJax reported a TeX error"
    if figures:
        images = page.evaluate(IMAGES)
        plots = [i for i in images if "sphx_glr" in (i["src"] or "")]
        assert plots, f"{page_path}: no figure"
        broken = [i["src"] for i in images if not (i["complete"] and i["width"] > 0)]
        assert not broken, f"{page_path}: images that did not load: {broken}"
    assert not errors, f"{page_path}: JavaScript errors: {errors}"
    assert not outside, f"requests outside the site (refused): {sorted(set(outside))[:5]}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / (page_path.replace("/", "__").removesuffix(".html") + ".png")),
                    full_page=True)


@pytest.mark.parametrize("page_path", tutorial_pages())
def test_tutorial_page_shows_figures_and_equations(browser, built_site, page_path):
    page, typeset, errors, outside = _load(browser, built_site, page_path)
    try:
        _check(page, typeset, errors, outside, page_path, figures=True, math=True)
    finally:
        page.close()


@pytest.mark.parametrize("page_path", ["math.html", "index.html",
                                       "api/generated/ramplab.theory.expected_risk.html"])
def test_reference_page_renders(browser, built_site, page_path):
    page, typeset, errors, outside = _load(browser, built_site, page_path)
    try:
        _check(page, typeset, errors, outside, page_path, figures=False, math=page_path == "math.html")
    finally:
        page.close()


#: Code blocks whose text is cut: wider than their box without wrapping or a scroll bar of their own.
CUT_CODE = """() => Array.from(document.querySelectorAll('article pre, main pre')).filter(pre => {
  const style = getComputedStyle(pre), box = getComputedStyle(pre.parentElement);
  const scrolls = ['auto', 'scroll'].includes(style.overflowX) || ['auto', 'scroll'].includes(box.overflowX);
  return pre.scrollWidth > pre.clientWidth + 1 && !scrolls && !style.whiteSpace.startsWith('pre-wrap');
}).map(pre => pre.textContent.slice(0, 60))"""


@pytest.mark.parametrize("page_path", ["api/generated/ramplab.theory.expected_risk.html",
                                       "api/generated/ramplab.theory.max_stable_lr.html",
                                       "tutorials_built/03_normalized_sgd_and_seesaw.html"])
def test_titles_links_and_code_blocks(browser, built_site, page_path):
    """#21 item 6: an API page is titled by its public import path; its docs/math.md citations are
    links into the mathematics page; no code block or output is cut off sideways and the page does
    not scroll sideways."""
    page, typeset, errors, outside = _load(browser, built_site, page_path)
    try:
        if page_path.startswith("api/"):
            title = page.locator("article h1").first.inner_text().strip().rstrip("¶#").strip()
            assert title == page_path.rsplit("/", 1)[1].removesuffix(".html"), f"{page_path}: title {title!r}"
            links = page.evaluate("""() => Array.from(document.querySelectorAll('article a'))
                .filter(a => /math\\.html#/.test(a.getAttribute('href') || '')).map(a => a.textContent)""")
            assert links and all("docs/math.md#" in t for t in links), f"{page_path}: math links {links}"
        cut = page.evaluate(CUT_CODE)
        assert not cut, f"{page_path}: code blocks cut off sideways: {cut}"
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), \
            f"{page_path}: the page scrolls sideways"
        _check(page, typeset, errors, outside, page_path, figures=page_path.startswith("tutorials"),
               math=page_path.startswith("tutorials"))
    finally:
        page.close()


def test_raw_math_pattern_catches_untypeset_tex():
    """The pattern the checks rely on finds the delimiters MathJax would have consumed."""
    for raw in ("where $x^2$ grows", r"a \(x\) b", r"\[ y \]"):
        assert RAW_MATH.search(raw), raw
    assert not RAW_MATH.search("costs 5 dollars and (x) [y]")


@pytest.mark.parametrize("page_path", ["api/generated/ramplab.theory.gradient_noise_scale.html",
                                       "api/generated/ramplab.theory.seesaw_schedule.html"])
def test_docstring_formulas_are_typeset(browser, built_site, page_path):
    """#21 item 6: a formula a docstring writes in double backticks (``η/√B``) is typeset by MathJax on the
    API page, without a TeX error, and no formula is left as raw TeX."""
    page, typeset, errors, outside = _load(browser, built_site, page_path)
    try:
        _check(page, typeset, errors, outside, page_path, figures=False, math=True)
        greek_in_code = page.evaluate("""() => Array.from(document.querySelectorAll('article code'))
            .map(c => c.textContent).filter(t => /[\\u03b1-\\u03c9]/.test(t))""")
        assert not greek_in_code, f"{page_path}: formulas left as code: {greek_in_code[:5]}"
    finally:
        page.close()


def test_topical_index_and_sidebar(browser, built_site):
    """#21 item 6: the topical index lists the topics with links to the API pages, and the sidebar never
    breaks an import path mid-word (a long path scrolls inside the sidebar)."""
    page, typeset, errors, outside = _load(browser, built_site, "api/topics.html")
    try:
        headings = page.evaluate("() => Array.from(document.querySelectorAll('article h2')).map(h => h.textContent)")
        assert any("Exact expected risk" in h for h in headings) and len(headings) >= 10, headings
        links = page.evaluate("""() => Array.from(document.querySelectorAll('article a'))
            .map(a => a.getAttribute('href') || '').filter(h => h.includes('generated/ramplab.'))""")
        assert len(links) > 100, f"topics page links {len(links)} API pages"
        wrapped = page.evaluate("""() => Array.from(document.querySelectorAll('.sidebar-tree .reference'))
            .filter(a => a.getClientRects().length > 1).map(a => a.textContent)""")
        assert not wrapped, f"sidebar entries broken over lines: {wrapped[:5]}"
    finally:
        page.close()
