"""Open the built site in headless Chromium and check what a reader would see.

Run it after building the site::

    python -m sphinx -W -b html docs docs/_build/html
    python docs/check_site.py [--install] [--html docs/_build/html] [--shots DIR]

It serves the site on 127.0.0.1 and checks, in a real browser:

- the index, an API page, a gallery page and a tutorial load with no console
  error (a failed image or script load is one);
- formulas are rendered: MathJax has put its ``mjx-container`` elements in the
  page after its scripts ran, on the index, the API page and the tutorial;
- the search page lists ``fisher_rao_distance`` when asked for it;
- every gallery page shows its figure (an image that loaded, with a width).

It saves a screenshot of each of the four pages (``--shots``, by default
``docs/_build/screenshots``): look at them. It needs Chromium, chromedriver
and selenium; ``--install`` installs the first two from Debian's packages
(``apt-get``) where they are missing. Where they cannot be had it prints why
and exits with status 77 (skipped); a failed check exits 1.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
SKIPPED = 77

PAGES = {
    "index": "index.html",
    "api": "api/generated/expfam.plot.barycentric.html",
    "gallery": "auto_gallery/fig9_geodesics.html",
    "tutorial": "auto_tutorials/tutorial2_geometry.html",
}
WITH_MATH = ("index", "api", "tutorial")


def find_browser(install: bool) -> tuple[str, str] | str:
    """Return ``(chromium, chromedriver)`` paths, or a sentence saying why not."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if (chromium is None or driver is None) and install and shutil.which("apt-get"):
        for command in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"],
        ):
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                return f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}"
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        return "chromium and chromedriver are not installed (Debian: chromium, chromium-driver)"
    return chromium, driver


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``root`` on a free port of 127.0.0.1 in a daemon thread."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def new_driver(chromium: str, chromedriver: str):
    """A headless Chromium driven through chromedriver, its console log kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,1500",
        "--disable-dev-shm-usage",
        "--no-first-run",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)


def wait_for(driver, script: str, timeout: float = 30.0):
    """Poll a JavaScript expression until it is truthy; return its last value."""
    deadline = time.monotonic() + timeout
    value = driver.execute_script(f"return {script};")
    while not value and time.monotonic() < deadline:
        time.sleep(0.2)
        value = driver.execute_script(f"return {script};")
    return value


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def check(root: Path, chromium: str, chromedriver: str, shots: Path) -> list[str]:
    """Run every check; return the failures (empty when the site is good)."""
    failures: list[str] = []
    missing = [page for page in PAGES.values() if not (root / page).is_file()]
    if missing:
        return [f"not built: {', '.join(missing)} (build the site first)"]
    shots.mkdir(parents=True, exist_ok=True)
    server, base = serve(root)
    driver = new_driver(chromium, chromedriver)
    try:
        for name, page in PAGES.items():
            driver.get(base + page)
            wait_for(driver, "document.readyState === 'complete'")
            if name in WITH_MATH:
                rendered = wait_for(driver, "document.querySelectorAll('mjx-container').length")
                if not rendered:
                    failures.append(f"{page}: no formula rendered (no mjx-container)")
                else:
                    print(f"ok   {page}: {rendered} formulas rendered")
            driver.save_screenshot(str(shots / f"{name}.png"))
            errors = console_errors(driver)
            failures += [f"{page}: console error: {e}" for e in errors]
            if not errors:
                print(f"ok   {page}: loaded, no console error")

        driver.get(base + "search.html?q=fisher_rao_distance")
        hits = wait_for(
            driver,
            "Array.from(document.querySelectorAll('#search-results a'))"
            ".map(a => a.getAttribute('href')).filter(h => h.includes('fisher_rao_distance'))"
            ".length",
        )
        driver.save_screenshot(str(shots / "search.png"))
        if not hits:
            failures.append("search.html?q=fisher_rao_distance: no result links there")
        else:
            print(f"ok   search for fisher_rao_distance: {hits} result links")

        gallery = sorted((root / "auto_gallery").glob("fig*.html"))
        if not gallery:
            failures.append("auto_gallery: no figure pages")
        for path in gallery:
            page = path.relative_to(root).as_posix()
            driver.get(base + page)
            wait_for(driver, "document.readyState === 'complete'")
            widths = driver.execute_script(
                "return Array.from(document.querySelectorAll('img.sphx-glr-single-img'))"
                ".map(i => i.complete ? i.naturalWidth : 0);"
            )
            if not widths or min(widths) == 0:
                failures.append(f"{page}: figure missing or not loaded ({widths})")
            failures += [f"{page}: console error: {e}" for e in console_errors(driver)]
        print(f"ok   {len(gallery)} gallery pages checked for their figure")
    finally:
        driver.quit()
        server.shutdown()
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=DOCS / "_build" / "html")
    parser.add_argument("--shots", type=Path, default=DOCS / "_build" / "screenshots")
    parser.add_argument(
        "--install",
        action="store_true",
        help="apt-get install chromium and chromium-driver where missing",
    )
    args = parser.parse_args(argv)
    try:
        import selenium  # noqa: F401
    except ImportError:
        print("skipped: selenium is not installed (it is in the docs extra)")
        return SKIPPED
    found = find_browser(args.install)
    if isinstance(found, str):
        print(f"skipped: {found}")
        return SKIPPED
    failures = check(args.html.resolve(), *found, args.shots)
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"screenshots in {args.shots}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
