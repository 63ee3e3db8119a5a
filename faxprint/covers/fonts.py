"""The fonts a cover page is drawn in, found on this machine.

DejaVu Sans (Debian's fonts-dejavu-core, which cups-filters already pulls in) shows Latin,
Greek, Cyrillic, Arabic and Hebrew. A character it lacks (Chinese, Japanese, Korean, ...)
is looked up in every installed font through fontconfig (``fc-list :charset=...``), so
an admin who installs a font that has it (fonts-noto-cjk, fonts-wqy-microhei) needs to
configure nothing. What no installed font has is named, never drawn wrong silently.
The fonts are embedded, as subsets, in the cover that is sent.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Where Debian puts DejaVu Sans, tried when fontconfig is not installed.
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
#: Font files fpdf2 can embed (TrueType outlines, also in collections, and OpenType).
EMBEDDABLE = (".ttf", ".ttc", ".otf")


@dataclass(frozen=True)
class Face:
    """One font: a file, and its number inside a collection (.ttc)."""

    path: Path
    number: int = 0
    regular: bool = field(default=True, compare=False)  # upright, not bold: preferred


@dataclass(frozen=True)
class Fonts:
    """The regular and bold faces, the fallbacks the text needs, and the characters
    that no installed font has."""

    regular: Face
    bold: Face
    fallbacks: tuple[Face, ...] = ()
    missing: str = ""


#: fontconfig is asked about this many characters of one text at most (each question is
#: a process): a text of many rare characters is not a way to keep the service busy.
MAX_LOOKUPS = 16
#: How long an answer about a character is kept: a font installed meanwhile is found.
KEEP_SECONDS = 300


def for_text(text: str) -> Fonts:
    """The fonts that show ``text``: DejaVu Sans, and a fallback for each character it
    lacks (a character no font has is only named in ``missing``)."""
    regular, bold = _main()
    covered = _characters(regular)
    fallbacks: list[Face] = []
    missing: list[str] = []
    asked = 0
    era = int(time.monotonic() // KEEP_SECONDS)
    for character in dict.fromkeys(text):
        code = ord(character)
        if code in covered or not character.isprintable() or character.isspace():
            continue
        if any(code in _characters(face) for face in fallbacks):
            continue
        face = _having(code, era) if asked < MAX_LOOKUPS else None
        asked += 1
        if face is None:
            missing.append(character)
        else:
            fallbacks.append(face)
    return Fonts(regular, bold, tuple(fallbacks), "".join(missing))


@functools.cache
def _main() -> tuple[Face, Face]:
    found = (_match("DejaVu Sans:style=Book"), _match("DejaVu Sans:style=Bold"))
    regular = found[0] or Face(DEJAVU / "DejaVuSans.ttf")
    bold = found[1] or Face(DEJAVU / "DejaVuSans-Bold.ttf")
    for face in (regular, bold):
        if not face.path.is_file():
            from faxprint.errors import ConfigError

            raise ConfigError(f"no font to draw cover pages with ({face.path}): "
                              "apt-get install fonts-dejavu-core")  # fmt: skip
    return regular, bold


def _match(pattern: str) -> Face | None:
    """The file fontconfig gives for ``pattern``, if it is a DejaVu face we can embed."""
    said = _fontconfig("fc-match", "--format=%{file}|%{index}", pattern)
    faces = _faces(said)
    return faces[0] if faces and "DejaVu" in faces[0].path.name else None


@functools.lru_cache(maxsize=4096)
def _having(code: int, era: int) -> Face | None:
    """An installed font that has the character ``code`` (fontconfig's list, checked
    against the font's own character map): upright regular faces first, TrueType before
    collections before OpenType. ``era``: answers are asked again in the next one."""
    said = _fontconfig("fc-list", "--format=%{file}|%{index}|%{style}\\n", f":charset={code:x}")
    faces = _faces(said)
    order = sorted(faces, key=lambda f: (not f.regular, EMBEDDABLE.index(f.path.suffix.lower()),
                                         str(f.path)))  # fmt: skip
    for face in order:
        if code in _characters(face):
            return face
    return None


def _fontconfig(*argv: str) -> str:
    if shutil.which(argv[0]) is None:
        return ""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


def _faces(said: str) -> list[Face]:
    """fontconfig's ``file|index[|style]`` lines as faces fpdf2 can embed."""
    faces = []
    for line in said.splitlines():
        file, index, style = [*line.split("|"), "", ""][:3]
        path = Path(file)
        if path.suffix.lower() in EMBEDDABLE and index.isdigit():
            regular = not style or any(word in style for word in ("Regular", "Book", "Medium"))
            faces.append(Face(path, int(index), regular))
    return faces


@functools.cache
def _characters(face: Face) -> frozenset[int]:
    """The characters a font has (its best character map); none if it cannot be read."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(face.path, fontNumber=face.number, lazy=True) as font:
            return frozenset(font.getBestCmap() or {})
    except (OSError, TTLibError, AssertionError, KeyError):
        return frozenset()
