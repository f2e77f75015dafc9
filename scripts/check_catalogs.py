"""Fail when the message catalogs are incomplete or stale.

- every message in the code is in the catalogs (``makemessages`` adds nothing new),
- every zh_Hans message is translated and none is fuzzy,
- each compiled ``.mo`` says what its ``.po`` says.
Run from the repository root; ``make messages`` fixes the first and last.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LOCALE = Path("locale")
MAKEMESSAGES = [
    "papercrane", "makemessages", "-l", "en", "-l", "zh_Hans", "--no-obsolete",
    "--ignore", ".venv", "--ignore", "var", "--ignore", "tests", "--ignore", "bench",
    "--ignore", "src/papercrane/notes/demo",
]  # fmt: skip
ENTRY = re.compile(
    r"^((?:#.*\n)*)"
    r'msgid ((?:".*"\n)+)(?:msgid_plural ((?:".*"\n)+))?((?:msgstr.*\n(?:".*"\n)*)+)',
    re.M,
)


def _unquote(block: str) -> str:
    return "".join(
        bytes(part, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
        for part in re.findall(r'"((?:[^"\\]|\\.)*)"', block)
    )


def entries(po: Path) -> dict[str, tuple[list[str], bool]]:
    """msgid -> (msgstrs, fuzzy), without the header entry."""
    found: dict[str, tuple[list[str], bool]] = {}
    for match in ENTRY.finditer(po.read_text(encoding="utf-8") + "\n"):
        msgid = _unquote(match.group(2))
        if msgid:
            strings = [
                _unquote(s)
                for s in re.split(r"^msgstr(?:\[\d+\])? ", match.group(4), flags=re.M)[1:]
            ]
            flags = [line for line in match.group(1).splitlines() if line.startswith("#,")]
            found[msgid] = (strings, any("fuzzy" in line for line in flags))
    return found


def main() -> int:
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        backup = Path(scratch) / "locale"
        shutil.copytree(LOCALE, backup)
        try:
            subprocess.run(MAKEMESSAGES, check=True, capture_output=True)  # noqa: S603
            fresh = set(entries(LOCALE / "zh_Hans/LC_MESSAGES/django.po"))
        finally:
            shutil.rmtree(LOCALE)
            shutil.copytree(backup, LOCALE)
    catalog = entries(LOCALE / "zh_Hans/LC_MESSAGES/django.po")
    for msgid in sorted(fresh - set(catalog)):
        problems.append(f"not in the catalogs (run `make messages`): {msgid!r}")
    for msgid, (strings, fuzzy) in catalog.items():
        if fuzzy or not all(strings):
            problems.append(f"zh_Hans has no final translation for {msgid!r}")
    for language in ("en", "zh_Hans"):
        directory = LOCALE / language / "LC_MESSAGES"
        with open(directory / "django.mo", "rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        for msgid, (strings, _fuzzy) in entries(directory / "django.po").items():
            if strings[0] and compiled.gettext(msgid) != strings[0] and "\x00" not in msgid:
                problems.append(f"{language} .mo is stale (run `make messages`): {msgid!r}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
