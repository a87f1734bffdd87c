"""The Russian catalogue as the browser tests use it: labels to click, and untranslated text."""

import re
from functools import cache

from babel.messages.pofile import read_po

from tests.conftest import PROJECT_ROOT

PO = PROJECT_ROOT / "cpa_network" / "translations" / "ru" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdf]|%[sd]|\{[a-z_]+\}")
MIN_WORDS = 4  # shorter English can legitimately appear (codes, brand names, "EPC")


@cache
def catalogue() -> dict[str, str]:
    """English msgid -> Russian msgstr (singular forms)."""
    with PO.open("rb") as handle:
        messages = read_po(handle, locale="ru")
    found = {}
    for message in messages:
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        msgstr = message.string[0] if isinstance(message.string, tuple) else message.string
        found[msgid] = msgstr or ""
    return found


def tr(text: str, locale: str) -> str:
    """`text` as the page shows it in `locale` (the catalogue's translation for "ru")."""
    if locale == "en":
        return text
    translated = catalogue().get(text)
    assert translated, f"no Russian for {text!r} in the catalogue"
    return translated


@cache
def english_phrases() -> tuple[str, ...]:
    """Untranslated English that would show: each msgid's literal runs of at least MIN_WORDS
    words (placeholders cut them), when the Russian differs from the English."""
    phrases = set()
    for msgid, msgstr in catalogue().items():
        if msgstr == msgid:
            continue
        for run in PLACEHOLDER.split(msgid):
            run = " ".join(run.split())
            if len(run.split()) >= MIN_WORDS:
                phrases.add(run)
    return tuple(sorted(phrases))


def untranslated_on(page) -> list[str]:
    """English catalogue phrases that appear verbatim in the page's visible text."""
    text = " ".join(page.locator("body").inner_text().split())
    return [phrase for phrase in english_phrases() if phrase in text]
