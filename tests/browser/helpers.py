"""What the journeys share: screenshots, the accessibility check, signing up and logging in."""

import re
from pathlib import Path
from urllib.parse import urlsplit

from tests.browser.conftest import ARTIFACTS
from tests.factories import PASSWORD

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# Only these block a page; "moderate"/"minor" findings are reported in the failure text anyway.
BLOCKING = ("serious", "critical")


def shoot(page, journey: str, step: str) -> Path:
    """A screenshot of the visible window, named by journey and step."""
    folder = ARTIFACTS / journey
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{step}.png"
    page.screenshot(path=str(path))
    return path


def check_accessibility(page) -> None:
    """Run axe-core in the page; fail on serious or critical violations.

    `page.evaluate` runs through the DevTools protocol, which the page's CSP does not govern,
    so axe needs no inline script and no CSP bypass.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})")
    with (ARTIFACTS / "axe-report.txt").open("a", encoding="utf-8") as report:
        for v in result["violations"]:  # everything, blocking or not, for the record
            report.write(f"{page.url}\t{v['impact']}\t{v['id']}\t{len(v['nodes'])}\n")
        if not result["violations"]:
            report.write(f"{page.url}\tclean\n")
    blocking = [v for v in result["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"{page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
        for v in blocking)


_checked: set[str] = set()


def check_accessibility_once(page) -> None:
    """`check_accessibility` for the first page of each kind (its path with ids as N) in this
    run: the journeys pass the same pages more than once, and axe takes seconds a page."""
    kind = re.sub(r"\d+", "N", urlsplit(page.url).path)
    if kind not in _checked:
        check_accessibility(page)
        _checked.add(kind)


def visit(page, path: str, journey: str, step: str, *, axe: bool = False):
    """Open a page and screenshot it (and check its accessibility: once per page kind)."""
    page.goto(path)
    return look(page, journey, step, axe=axe)


def look(page, journey: str, step: str, *, axe: bool = False):
    page.wait_for_load_state("load")
    shoot(page, journey, step)
    if axe:
        check_accessibility_once(page)
    return page


def sign_up(page, email: str, roles: list[str], path: str = "/signup",
            display_name: str = "") -> None:
    """Fill the sign-up form; fields by name, so the same helper serves every language."""
    page.goto(path)
    form = page.locator("main form")
    form.locator("[name=email]").fill(email)
    if display_name:
        form.locator("[name=display_name]").fill(display_name)
    form.locator("[name=password]").fill(PASSWORD)
    form.locator("[name=confirm]").fill(PASSWORD)
    for role in roles:
        form.locator(f"[name=roles][value={role}]").check()
    form.locator("[type=submit]").click()
    page.wait_for_load_state("load")


def log_in(page, email: str) -> None:
    page.goto("/login")
    form = page.locator("main form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/dashboard"))


def confirm_if_asked(page) -> None:
    """Say yes on a confirmation page, when the site asks before money moves."""
    page.wait_for_load_state("load")
    yes = page.get_by_role("button", name=re.compile(r"^(Yes|Да)\b"))
    if yes.count():
        yes.first.click()
        page.wait_for_load_state("load")
