"""Build the Chinese font that PDF documents are set in (src/medvigil/core/documents/data/fonts).

The PDF engine (xhtml2pdf on reportlab) embeds TrueType fonts with glyf outlines only, while
Noto Sans SC is published with CFF (PostScript) outlines. This script takes Noto Sans SC
Regular (SIL Open Font License 1.1; e.g. ``NotoSansSC-Regular.otf`` from the notofonts/noto-cjk
release, also shipped in the ``pylopdf-fonts-zh-cn`` wheel), keeps the characters a Chinese
record can contain (every CJK ideograph of GBK, i.e. the whole CJK Unified Ideographs block
plus the GBK part of Extension A; Latin, punctuation, full-width forms, box drawing), converts
the outlines to TrueType quadratics and writes the result xz-compressed.

Usage (fonttools is in requirements/dev.txt)::

    .venv/bin/python scripts/build_cjk_font.py NotoSansSC-Regular.otf
"""

from __future__ import annotations

import io
import lzma
import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

OUT = (
    Path(__file__).resolve().parent.parent
    / "src/medvigil/core/documents/data/fonts/NotoSansSC-Regular-subset.ttf.xz"
)


def charset() -> set[int]:
    cps = set(range(0x20, 0x7F)) | set(range(0xA0, 0x180))  # ASCII, Latin-1, Latin Ext-A
    cps |= set(range(0x2000, 0x2070)) | set(range(0x2100, 0x2200))  # punctuation, letterlike
    cps |= set(range(0x2190, 0x2200)) | set(range(0x2460, 0x2474))  # arrows, ①..⑳
    cps |= set(range(0x2500, 0x2580)) | set(range(0x25A0, 0x2600))  # box drawing, shapes
    cps |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))  # CJK punct., full-width
    for b1 in range(0x81, 0xFF):  # every ideograph GBK encodes
        for b2 in range(0x40, 0xFF):
            try:
                ch = bytes([b1, b2]).decode("gbk")
            except UnicodeDecodeError:
                continue
            if 0x3400 <= ord(ch) <= 0x9FFF:
                cps.add(ord(ch))
    return cps


def to_truetype(font: TTFont) -> None:
    """CFF outlines -> glyf (quadratic curves, 1 unit tolerance at 1000 units per em)."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf
    del font["CFF "]
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in [
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
        "numGlyphs",
        "maxPoints",
        "maxContours",
        "maxCompositePoints",
        "maxCompositeContours",
        "maxComponentDepth",
    ]:
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    font["post"].formatType = 3.0  # no glyph names
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"


def main(src: str) -> None:
    font = TTFont(src)
    opts = subset.Options()
    opts.layout_features = []
    opts.hinting = False
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.drop_tables += ["DSIG", "BASE", "GPOS", "GSUB", "GDEF", "vhea", "vmtx", "VORG"]
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=charset())
    sub.subset(font)
    to_truetype(font)
    buf = io.BytesIO()
    font.save(buf)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(lzma.compress(buf.getvalue(), preset=9 | lzma.PRESET_EXTREME))
    print(f"{OUT}: {len(font.getGlyphOrder())} glyphs, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
