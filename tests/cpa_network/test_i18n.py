"""The Russian catalogue covers every user-facing string in the code and templates."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from tests.conftest import PROJECT_ROOT

PO = PROJECT_ROOT / "cpa_network/translations/ru/LC_MESSAGES/messages.po"


def test_every_extracted_string_has_a_russian_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([str(pybabel), "extract",
                    "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
                   cwd=PROJECT_ROOT, check=True)
    with pot.open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="ru")
    translated = {m.id for m in catalog if m.id and not m.fuzzy and (
        all(m.string) if isinstance(m.string, tuple) else m.string)}
    missing = sorted(str(m) for m in wanted - translated)
    assert not missing, "untranslated (run `make messages`): " + "; ".join(missing)
    assert len(wanted) > 100


def test_placeholders_survive_translation():
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="ru")
    for message in catalog:
        if message.id and message.string:
            for placeholder in ("%(n)d", "%(name)s", "%(email)s", "%(total)d"):
                assert (placeholder in message.id) == (placeholder in message.string), message.id
