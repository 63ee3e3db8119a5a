"""The text a PDF page shows, glyph by glyph, and where each glyph is in its content stream.

Addressing codes are read from this text and erased from the same places, so the walk keeps
for every glyph its stream (the page's own content, or a form XObject it paints: CUPS's
pdftopdf wraps every page in one), its operation, its string and its bytes, and the text
state that sets its advance (character and word spacing, font size). Text that is drawn
as paths or pictures (a scan, a phone's raster job) has no glyphs: it cannot carry codes.

Positioning operators and wide ``TJ`` gaps between glyphs count as word breaks, so words set
without space glyphs do not run together.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    ContentStream,
    DictionaryObject,
    IndirectObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from faxprint.addressing.fonts import Code, Decoder, decoder

#: Form XObjects inside form XObjects deeper than this are not read.
MAX_DEPTH = 8
#: A content stream larger than this (as stored) is not read for codes.
MAX_CONTENT = 4 * 1024 * 1024
#: A stream dictionary's direct /Length (an indirect one: the file's layout decides).
_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+\d+\s+R)")
#: A TJ adjustment moving right by more than this (thousandths of an em) is a word break.
WORD_GAP = 200.0
_NO_FONT = Decoder(two_bytes=False)


@dataclass(frozen=True)
class Glyph:
    """One shown code and where it came from."""

    stream: int  # index in PageText.streams
    op: int  # the operation's index in that stream
    item: int  # the operand (Tj, ', ") or the array element (TJ) holding the string
    code: Code
    spacing: float  # character spacing, plus word spacing for a single-byte space
    size: float  # font size

    @property
    def text(self) -> str:
        return self.code.text


@dataclass
class PageText:
    """A page's glyphs in the order shown, its word breaks, and what else it paints."""

    streams: list[tuple[ContentStream, StreamObject | None]] = field(default_factory=list)
    glyphs: list[Glyph] = field(default_factory=list)
    breaks: set[int] = field(default_factory=set)  # glyph indices a word break precedes
    images: bool = False  # an image XObject or an inline image is painted

    def text(self, start: int = 0, end: int | None = None) -> str:
        """The text of glyphs ``start`` to ``end``, a space at each word break."""
        last = len(self.glyphs) if end is None else end
        return "".join(
            (" " if i in self.breaks and i > start else "") + self.glyphs[i].text
            for i in range(start, last)
        )


@dataclass
class _State:
    font: Decoder = field(default_factory=lambda: _NO_FONT)
    size: float = 0.0
    char_spacing: float = 0.0
    word_spacing: float = 0.0


def read_page(
    page: PageObject, pdf: PdfReader | PdfWriter, fonts: dict[int, Decoder] | None = None
) -> PageText:
    """Walk a page's content and the form XObjects it paints; ``fonts`` keeps the fonts
    read for the document's other pages (a text job's font program is parsed once)."""
    found = PageText()
    stored = page.raw_get("/Contents") if "/Contents" in page else None
    # pypdf's get_contents() parses it: check its size first, from the file's layout when
    # it can be (resolving the object would read all of its bytes into memory)
    if stored is None or _stored_size(stored, pdf) > MAX_CONTENT or _too_big(stored.get_object()):
        return found
    contents = page.get_contents()
    if contents is None:
        return found
    resources = page.get("/Resources")
    walk = _Walk(found, pdf, {} if fonts is None else fonts)
    walk.stream(ContentStream(contents, pdf), None, _resources(resources), 0, set())
    return found


def _stored_size(value: Any, pdf: PdfReader | PdfWriter) -> int:
    """The bytes an indirect object takes in a read file, at most (the distance to the
    next object's offset); 0 when the file does not say (then its bytes are counted)."""
    if not isinstance(value, IndirectObject) or not isinstance(pdf, PdfReader):
        return 0
    offset = pdf.xref.get(value.generation, {}).get(value.idnum)
    if not isinstance(offset, int):
        return 0
    offsets = _offsets(pdf)
    after = bisect.bisect_right(offsets, offset)
    where = pdf.stream.tell()
    try:
        end = offsets[after] if after < len(offsets) else pdf.stream.seek(0, 2)  # the last
        room = end - offset
        if room <= MAX_CONTENT:
            return room
        # Dead bytes (an incremental update), or the xref, may follow: its own /Length says
        pdf.stream.seek(offset)
        head = pdf.stream.read(4096)
    finally:
        pdf.stream.seek(where)
    length = _LENGTH.search(head.split(b"stream", 1)[0])
    return int(length[1]) if length else room


def _offsets(pdf: PdfReader) -> list[int]:
    """Where the file's objects begin, sorted (kept with the reader: read once)."""
    known = getattr(pdf, "_faxprint_offsets", None)
    if known is None:
        known = sorted(o for table in pdf.xref.values() for o in table.values()
                       if isinstance(o, int))  # fmt: skip
        pdf._faxprint_offsets = known  # type: ignore[attr-defined]
    return known


def _too_big(contents: Any) -> bool:
    """Tell whether a content stream is too large to read for codes: a page of text is some
    kilobytes; megabytes are drawings, which carry no codes and would cost seconds."""
    streams = contents if isinstance(contents, ArrayObject) else [contents]
    # pypdf keeps a stream's bytes as read (encoded) and drops its /Length
    size = sum(len(getattr(reference.get_object(), "_data", b"")) for reference in streams)
    return size > MAX_CONTENT


def _resources(value: Any) -> DictionaryObject:
    value = value.get_object() if value is not None else None
    return value if isinstance(value, DictionaryObject) else DictionaryObject()


@dataclass
class _Walk:
    """One page's walk: what it found, the document, and the fonts read so far."""

    found: PageText
    pdf: PdfReader | PdfWriter
    decoders: dict[int, Decoder]

    def stream(
        self,
        stream: ContentStream,
        owner: StreamObject | None,
        resources: DictionaryObject,
        depth: int,
        seen: set[int],
    ) -> None:
        _walk(self, stream, owner, resources, depth, seen)


def _walk(
    walk: _Walk,
    stream: ContentStream,
    owner: StreamObject | None,
    resources: DictionaryObject,
    depth: int,
    seen: set[int],
) -> None:
    found = walk.found
    index = len(found.streams)
    found.streams.append((stream, owner))
    fonts: dict[str, Decoder] = {}
    state, saved = _State(), []
    pending_break = True
    for number, (operands, operator) in enumerate(stream.operations):
        if operator == b"q":
            saved.append(dataclasses.replace(state))
        elif operator == b"Q" and saved:
            state = saved.pop()
        elif operator in _TEXT_STATE:
            _set_state(state, operator, operands, fonts, resources, walk.decoders)
        elif operator in (b"BT", b"ET", b"Td", b"TD", b"Tm", b"T*"):
            pending_break = True
        elif operator in (b"Tj", b"TJ", b"'", b'"'):
            pending_break = _show(found, state, operator, operands, (index, number), pending_break)
        elif operator == b"INLINE IMAGE":
            found.images = True
        elif operator == b"Do" and operands:
            _paint(walk, resources, str(operands[0]), depth, seen)
            pending_break = True


_TEXT_STATE = (b"Tf", b"Tc", b"Tw")


def _set_state(
    state: _State,
    operator: bytes,
    operands: list[Any],
    fonts: dict[str, Decoder],
    resources: DictionaryObject,
    decoders: dict[int, Decoder],
) -> None:
    if operator == b"Tf" and len(operands) == 2:
        state.font = _font(fonts, resources, str(operands[0]), decoders)
        state.size = float(operands[1])
    elif operator == b"Tc" and operands:
        state.char_spacing = float(operands[0])
    elif operator == b"Tw" and operands:
        state.word_spacing = float(operands[0])


def _show(
    found: PageText,
    state: _State,
    operator: bytes,
    operands: list[Any],
    where: tuple[int, int],
    pending_break: bool,
) -> bool:
    """Record the glyphs a text-showing operation shows; return whether a word break is
    still pending."""
    if operator == b'"' and len(operands) == 3:
        state.word_spacing, state.char_spacing = float(operands[0]), float(operands[1])
    pending_break |= operator in (b"'", b'"')
    for item, raw, gap in _strings(operator, operands):
        pending_break |= gap
        for code in state.font.codes(raw):
            if pending_break:
                found.breaks.add(len(found.glyphs))
                pending_break = False
            spacing = state.char_spacing + (state.word_spacing if code.space else 0.0)
            found.glyphs.append(Glyph(where[0], where[1], item, code, spacing, state.size))
    return pending_break


def _strings(operator: bytes, operands: list[Any]) -> Iterator[tuple[int, bytes, bool]]:
    """The strings a text-showing operation shows: (operand index, bytes, break before)."""
    if operator == b"TJ":
        array = operands[0] if operands and isinstance(operands[0], ArrayObject) else []
        gap = False
        for item, element in enumerate(array):
            if isinstance(element, (int, float, NumberObject)) or _is_number(element):
                gap = gap or -float(element) > WORD_GAP
            elif (raw := raw_bytes(element)) is not None:
                yield item, raw, gap
                gap = False
        return
    item = len(operands) - 1
    if item >= 0 and (raw := raw_bytes(operands[item])) is not None:
        yield item, raw, False


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (str, bytes))


def raw_bytes(value: Any) -> bytes | None:
    """The bytes of a string operand as written in the stream."""
    if isinstance(value, TextStringObject):
        return bytes(value.get_original_bytes())
    if isinstance(value, (ByteStringObject, bytes)):
        return bytes(value)
    return None


def _font(
    fonts: dict[str, Decoder], resources: DictionaryObject, name: str, decoders: dict[int, Decoder]
) -> Decoder:
    if name not in fonts:
        table = _resources(resources.get("/Font"))
        font = table.get(name)
        font = font.get_object() if font is not None else None
        if not isinstance(font, DictionaryObject):
            fonts[name] = _NO_FONT
        else:  # the document holds the font dictionary: its identity is stable
            if id(font) not in decoders:
                decoders[id(font)] = decoder(font)
            fonts[name] = decoders[id(font)]
    return fonts[name]


def _paint(
    walk: _Walk,
    resources: DictionaryObject,
    name: str,
    depth: int,
    seen: set[int],
) -> None:
    """Follow a ``Do``: an image is noted, a form XObject is walked once."""
    table = _resources(resources.get("/XObject"))
    reference = table.get(name)
    if reference is None:
        return
    xobject = reference.get_object()
    if not isinstance(xobject, StreamObject):
        return
    kind = xobject.get("/Subtype")
    if kind == "/Image":
        walk.found.images = True
    elif (
        kind == "/Form" and depth < MAX_DEPTH and id(xobject) not in seen and not _too_big(xobject)
    ):
        seen.add(id(xobject))
        inner = _resources(xobject.get("/Resources")) or resources
        walk.stream(ContentStream(xobject, walk.pdf), xobject, inner, depth + 1, seen)
