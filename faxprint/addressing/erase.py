"""Take glyphs out of a page's content: the codes are not on the page that is faxed.

Each erased glyph's string bytes are replaced by a ``TJ`` adjustment of exactly its
advance, so everything after it on the line stays where it was, and nothing of the page
is drawn again: the fax carries the page as it was made, less the codes' text (no white
box painted over them: the text itself is gone, for the eye and for any extractor).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pypdf import PageObject
from pypdf.generic import ArrayObject, ByteStringObject, FloatObject

from faxprint.addressing.pagetext import Glyph, PageText, raw_bytes


def erase(page: PageObject, text: PageText, glyphs: Iterable[int]) -> None:
    """Remove ``glyphs`` (indices into ``text.glyphs``) from ``page``'s content."""
    by_op: dict[tuple[int, int], list[Glyph]] = defaultdict(list)
    for index in glyphs:
        glyph = text.glyphs[index]
        by_op[(glyph.stream, glyph.op)].append(glyph)
    changed: set[int] = set()
    for (stream, op), found in by_op.items():
        content, _ = text.streams[stream]
        operands, operator = content.operations[op]
        content.operations[op] = _without(operands, operator, found)
        changed.add(stream)
    for stream in sorted(changed):
        content, owner = text.streams[stream]
        content.operations = _flatten(content.operations)
        if owner is None:
            page.replace_contents(content)
        else:
            owner.set_data(content.get_data())


_SPLIT = b"faxprint:split"  # an operation that stands for several, flattened after


def _without(operands: list[Any], operator: bytes, glyphs: list[Glyph]) -> tuple[Any, bytes]:
    """The operation, showing its strings less ``glyphs`` (as one or more operations)."""
    by_item: dict[int, list[Glyph]] = defaultdict(list)
    for glyph in glyphs:
        by_item[glyph.item].append(glyph)
    if operator == b"TJ":
        array = ArrayObject()
        for item, element in enumerate(operands[0]):
            if item in by_item:
                array.extend(_pieces(raw_bytes(element) or b"", by_item[item]))
            else:
                array.append(element)
        return [array], b"TJ"
    shown = ArrayObject(_pieces(raw_bytes(operands[-1]) or b"", by_item[len(operands) - 1]))
    if operator == b"Tj":
        return [shown], b"TJ"
    before: list[tuple[list[Any], bytes]] = []
    if operator == b'"':  # aw ac string: set the spacings, then as '
        before = [([operands[0]], b"Tw"), ([operands[1]], b"Tc")]
    return [[*before, ([], b"T*"), ([shown], b"TJ")]], _SPLIT


def _pieces(raw: bytes, glyphs: list[Glyph]) -> list[Any]:
    """``raw`` as TJ elements: the bytes kept, and for each glyph taken out a number that
    moves the pen by the glyph's advance (w0 * size + spacing, in thousandths of the
    font size, negative to the right)."""
    gone = {glyph.code.start: glyph for glyph in glyphs}
    pieces: list[Any] = []
    kept = bytearray()
    position = 0
    while position < len(raw):
        glyph = gone.get(position)
        if glyph is None:
            kept.append(raw[position])
            position += 1
            continue
        if kept:
            pieces.append(ByteStringObject(bytes(kept)))
            kept = bytearray()
        advance = glyph.code.width + (glyph.spacing * 1000 / glyph.size if glyph.size else 0.0)
        pieces.append(FloatObject(-advance))
        position += glyph.code.size
    if kept:
        pieces.append(ByteStringObject(bytes(kept)))
    return pieces


def _flatten(operations: list[tuple[Any, bytes]]) -> list[tuple[Any, bytes]]:
    flat: list[tuple[Any, bytes]] = []
    for operands, operator in operations:
        if operator == _SPLIT:
            flat.extend(operands[0])
        else:
            flat.append((operands, operator))
    return flat
