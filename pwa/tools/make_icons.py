"""Writes the PWA's PNG icons (192, 512 and a maskable 512) with the standard library only.

The design is the one of icons/icon.svg: a library card with a barcode on the brand colour. Run
from the repository root: `python pwa/tools/make_icons.py`; the PNGs are committed, so this is
needed only when the design changes.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "icons"
BRAND = (0x0B, 0x4F, 0x6C)
WHITE = (0xFF, 0xFF, 0xFF)
# Bars of the card's barcode in the 512-unit design: (left edge, width).
BARS = [
    (136, 10),
    (156, 22),
    (188, 10),
    (206, 16),
    (232, 10),
    (252, 28),
    (290, 10),
    (308, 16),
    (334, 22),
    (366, 10),
]
SUPERSAMPLING = 3

Color = tuple[int, int, int, int]


def _inside_rounded_rect(
    x: float, y: float, left: float, top: float, right: float, bottom: float, radius: float
) -> bool:
    if not (left <= x <= right and top <= y <= bottom):
        return False
    cx = min(max(x, left + radius), right - radius)
    cy = min(max(y, top + radius), bottom - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def design(maskable: bool) -> Callable[[float, float], Color]:
    """The colour at a point of the 512x512 design."""

    def color(x: float, y: float) -> Color:
        in_background = maskable or _inside_rounded_rect(x, y, 0, 0, 512, 512, 96)
        if not in_background:
            return (0, 0, 0, 0)
        if _inside_rounded_rect(x, y, 96, 150, 416, 362, 28):
            if 186 <= y <= 326 and any(left <= x < left + width for left, width in BARS):
                return (*BRAND, 255)
            return (*WHITE, 255)
        return (*BRAND, 255)

    return color


def render(size: int, maskable: bool) -> bytes:
    """RGBA rows of the icon at `size` pixels, each pixel averaged over a few samples."""
    color = design(maskable)
    scale = 512 / size
    step = 1 / SUPERSAMPLING
    rows = bytearray()
    for py in range(size):
        rows.append(0)  # PNG filter type 0 (none) for the row
        for px in range(size):
            total = [0, 0, 0, 0]
            for sy in range(SUPERSAMPLING):
                for sx in range(SUPERSAMPLING):
                    sample = color(
                        (px + (sx + 0.5) * step) * scale, (py + (sy + 0.5) * step) * scale
                    )
                    alpha = sample[3]
                    for channel in range(3):
                        total[channel] += sample[channel] * alpha
                    total[3] += alpha
            alpha_sum = total[3]
            samples = SUPERSAMPLING * SUPERSAMPLING
            if alpha_sum == 0:
                rows.extend((0, 0, 0, 0))
            else:
                rows.extend(round(total[c] / alpha_sum) for c in range(3))
                rows.append(round(alpha_sum / samples))
    return bytes(rows)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(size: int, rgba_rows: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rgba_rows, 9))
        + _chunk(b"IEND", b"")
    )


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in (
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("maskable-512.png", 512, True),
    ):
        (ICONS / name).write_bytes(png(size, render(size, maskable)))
        print(f"wrote {ICONS / name}")


if __name__ == "__main__":
    main()
