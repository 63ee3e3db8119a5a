"""What a PDF font's codes say: the character each code shows and how wide it is.

pypdf reads a font's encoding, its ``/ToUnicode`` map and its widths. One case it cannot
read is the one every plain-text job reaches the backend as: CUPS's texttopdf writes a
CID TrueType font with Identity-H encoding and no ``/ToUnicode`` map, so every extractor
returns garbage. That font is embedded whole, so each glyph id is mapped back to its
character through the font's own ``cmap`` table (with fontTools).
"""

from __future__ import annotations

import codecs
import functools
import io
import logging
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pypdf.generic import DictionaryObject, StreamObject
from pypdf.generic._font import Font  # pypdf 7 reads encodings, ToUnicode and widths

logger = logging.getLogger(__name__)

#: A font program larger than this is not read for its cmap (a plain-text job's: ~20 KB).
MAX_FONT_PROGRAM = 16 * 1024 * 1024


@dataclass(frozen=True)
class Code:
    """One code of a shown string: where it is, what it shows, how wide it is."""

    start: int  # byte offset in the string
    size: int  # bytes
    text: str  # the characters it shows ("" when the font does not say)
    width: float  # glyph width in thousandths of text space
    space: bool  # the single-byte code 32: word spacing applies to it


@dataclass
class Decoder:
    """Split a font's strings into codes and read them."""

    two_bytes: bool
    simple: dict[int, str] = field(default_factory=dict)  # code -> text (one-byte fonts)
    by_cid: dict[int, str] = field(default_factory=dict)  # code -> text (two-byte fonts)
    widths: dict[int, float] = field(default_factory=dict)
    default_width: float = 500.0

    def codes(self, raw: bytes) -> list[Code]:
        """The codes of ``raw``, a string operand shown in this font."""
        if self.two_bytes:
            cids = ((i, raw[i] << 8 | raw[i + 1]) for i in range(0, len(raw) - 1, 2))
            return [
                Code(
                    i, 2, self.by_cid.get(cid, ""), self.widths.get(cid, self.default_width), False
                )
                for i, cid in cids
            ]
        return [
            Code(i, 1, self.simple.get(b, ""), self.widths.get(b, self.default_width), b == 32)
            for i, b in enumerate(raw)
        ]


def decoder(font: DictionaryObject) -> Decoder:
    """Build the decoder of a font resource; a font that cannot be read shows nothing."""
    try:
        read = Font.from_font_resource(font)
    except Exception as exc:  # a damaged font: its text cannot carry codes we can read
        logger.debug("font %s not read: %s", font.get("/BaseFont"), exc)
        return Decoder(two_bytes=False)
    default = float(read.character_widths.get("default", 500))
    widths = {ord(k): float(v) for k, v in read.character_widths.items() if _one(k)}
    if isinstance(read.encoding, str) and read.encoding.startswith("utf-16"):
        fallback = _truetype_characters(font) if not read.character_map else {}
        by_cid = {cid: read.character_map.get(chr(cid), fallback.get(cid, "")) for cid in fallback}
        by_cid.update({ord(k): str(v) for k, v in read.character_map.items() if _one(k)})
        return Decoder(True, by_cid=by_cid, widths=widths, default_width=default)
    simple = {}
    for code in range(256):
        if chr(code) in read.character_map:
            simple[code] = str(read.character_map[chr(code)])
        elif isinstance(read.encoding, dict):
            simple[code] = read.encoding.get(code, chr(code))
        else:
            simple[code] = _one_byte(code, read.encoding)
    return Decoder(False, simple=simple, widths=widths, default_width=default)


def _one(key: object) -> bool:
    """A map's key that is one character (pypdf's maps also hold bookkeeping keys)."""
    return isinstance(key, str) and len(key) == 1


def _one_byte(code: int, encoding: str) -> str:
    try:
        return codecs.decode(bytes([code]), encoding, "replace")
    except LookupError:
        return chr(code)


#: Font programs up to this size have their characters kept for the next job: CUPS's
#: texttopdf embeds the same whole font in every text job (reading its cmap takes ms).
MAX_CACHED = 2 * 1024 * 1024


@functools.lru_cache(maxsize=4)
def _glyph_characters(data: bytes) -> Mapping[int, str]:
    return MappingProxyType(_cmap(data))


def _cmap(data: bytes) -> dict[int, str]:
    """The characters of a TrueType program's glyphs, by glyph id, through its cmap."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        tt = TTFont(io.BytesIO(data), lazy=True)
        by_glyph: dict[int, str] = {}
        for unicode, name in (tt.getBestCmap() or {}).items():
            by_glyph.setdefault(tt.getGlyphID(name), chr(unicode))
    except (TTLibError, KeyError, ValueError, AssertionError, struct.error) as exc:
        logger.debug("embedded TrueType font not read: %s", exc)
        return {}
    return by_glyph


def _truetype_characters(font: DictionaryObject) -> dict[int, str]:
    """Map the CIDs of a Type0 font with an embedded TrueType program to characters,
    through the program's own cmap (CID = glyph id unless a CIDToGIDMap stream says)."""
    try:
        fonts: Any = font["/DescendantFonts"]
        descendant: Any = fonts[0].get_object()
        program = descendant["/FontDescriptor"].get_object()["/FontFile2"].get_object()
        data = program.get_data()
    except (KeyError, IndexError, TypeError, AttributeError):
        return {}
    if len(data) > MAX_FONT_PROGRAM:
        return {}
    by_glyph = dict(_glyph_characters(data) if len(data) <= MAX_CACHED else _cmap(data))
    mapping = descendant.get("/CIDToGIDMap")
    if mapping is not None and isinstance(mapping.get_object(), StreamObject):
        table = mapping.get_object().get_data()
        gids = {cid: table[2 * cid] << 8 | table[2 * cid + 1] for cid in range(len(table) // 2)}
        return {cid: by_glyph[gid] for cid, gid in gids.items() if gid in by_glyph}
    return by_glyph
