"""Text that can hide something: control characters and bidirectional overrides.

A control character (C0: U+0000-U+001F, DEL U+007F, C1: U+0080-U+009F) in a cell ends up in
the output CSVs and the report, where a NUL truncates, an ESC drives a terminal and a line feed
breaks a row; a bidirectional override or isolate (U+202A-U+202E, U+2066-U+2069) makes "evil"
read as "live" on a plot. Every text input is refused with them: the sheets
(:func:`sbrtmeta.data.sheets.read_table`), file names written into tables and config strings.
A tab is allowed only where a field says so.
"""

from __future__ import annotations

import re
import unicodedata

BIDI = "\u202a-\u202e\u2066-\u2069"
_HIDDEN = re.compile(f"[\\x00-\\x08\\x0a-\\x1f\\x7f-\\x9f{BIDI}]")
HIDDEN_PATTERN = f"[\\x00-\\x1f\\x7f-\\x9f{BIDI}]"  # tab included
_HIDDEN_OR_TAB = re.compile(HIDDEN_PATTERN)
# Names of the control characters (unicodedata has none for them).
_C0_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BACKSPACE", 0x09: "TAB", 0x0A: "LINE FEED", 0x0D: "CARRIAGE RETURN"}
_C0_NAMES |= {0x1B: "ESC", 0x7F: "DEL"}


def code_point(char: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``, ``U+0000 NUL``: a character named as Unicode does."""
    name = _C0_NAMES.get(ord(char)) or unicodedata.name(char, "control character")
    return f"U+{ord(char):04X} {name}"


def hidden_character(text: str, allow_tab: bool = False) -> str | None:
    """The first control character or bidirectional override of ``text`` (:func:`code_point`), or None."""
    found = (_HIDDEN if allow_tab else _HIDDEN_OR_TAB).search(text)
    return code_point(found.group()) if found else None


def hidden_reason(text: str, allow_tab: bool = False) -> str | None:
    """Why ``text`` is refused (the character it holds), or None."""
    what = hidden_character(text, allow_tab)
    if what is None:
        return None
    return f"contains {what}, a control or bidirectional character that can hide or reorder text: delete it"


def hidden_config_text(config, where: str = "") -> list[tuple[str, str]]:
    """``(key, message)`` for each config key or string value holding a control character or a
    bidirectional override (no tab either: config strings are names, paths and reasons)."""
    faults = []
    if isinstance(config, dict):
        for key, value in config.items():
            name = f"{where}.{key}" if where else str(key)
            why = hidden_reason(str(key))
            if why:
                faults.append((name, f"the key {why}"))
            faults += hidden_config_text(value, name)
    elif isinstance(config, list):
        for i, value in enumerate(config):
            faults += hidden_config_text(value, f"{where}[{i}]")
    elif isinstance(config, str):
        why = hidden_reason(config)
        if why:
            faults.append((where, f"value {config!r} {why}"))
    return faults
