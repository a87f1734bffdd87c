"""Merge Russian translations from a Python dict into the catalogue.

    make messages                                 # extract, update ru .po, list what is missing
    python tools/i18n_fill.py translations.py     # a file defining RU = {"English": "Русский"}
    python tools/i18n_fill.py                     # only list what is untranslated
"""

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO_PATH = Path("cpa_network/translations/ru/LC_MESSAGES/messages.po")


def main(dict_file: str | None) -> int:
    translations = runpy.run_path(dict_file)["RU"] if dict_file else {}
    with PO_PATH.open("rb") as handle:
        catalog = read_po(handle, locale="ru")
    for message in catalog:
        # Plural messages are keyed by their (singular, plural) tuple, valued by all forms.
        key = tuple(message.id) if isinstance(message.id, (list, tuple)) else message.id
        if key and key in translations:
            value = translations[key]
            message.string = tuple(value) if isinstance(value, (list, tuple)) else value
            message.flags.discard("fuzzy")
    with PO_PATH.open("wb") as handle:
        write_po(handle, catalog, width=100, ignore_obsolete=True)
    missing = [m.id for m in catalog
               if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    print(f"{len(missing)} untranslated", *missing, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
