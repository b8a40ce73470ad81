"""Test helpers for the scanner journey: an EAN-13 encoder, the barcode drawn as a grey image,
and that image as a Y4M video, which Chromium plays as a fake camera
(--use-file-for-fake-video-capture). Standard library only, no external tools."""

from __future__ import annotations

from pathlib import Path

# EAN-13 digit patterns (1 = bar): the L code; R is its complement, G its reverse complement.
_L_CODES = ["0001101", "0011001", "0010011", "0111101", "0100011",
            "0110001", "0101111", "0111011", "0110111", "0001011"]  # fmt: skip
# Which of L (odd parity) or G (even parity) each of the left six digits uses, chosen by the
# first digit, which is not drawn itself.
_PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
           "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]  # fmt: skip


def ean13_check_digit(first_twelve: str) -> int:
    weights = [1, 3] * 6
    total = sum(int(digit) * weight for digit, weight in zip(first_twelve, weights, strict=True))
    return (10 - total % 10) % 10


def _r_code(digit: int) -> str:
    return "".join("1" if bit == "0" else "0" for bit in _L_CODES[digit])


def _g_code(digit: int) -> str:
    return _r_code(digit)[::-1]


def ean13_modules(code: str) -> str:
    """The 95 modules of an EAN-13 barcode, '1' for a bar and '0' for a space."""
    if len(code) != 13 or not code.isdigit():
        raise ValueError(f"an EAN-13 has 13 digits, not {code!r}")
    if ean13_check_digit(code[:12]) != int(code[12]):
        raise ValueError(f"bad check digit in {code}")
    digits = [int(char) for char in code]
    parity = _PARITY[digits[0]]
    left = "".join(
        _L_CODES[digit] if kind == "L" else _g_code(digit)
        for digit, kind in zip(digits[1:7], parity, strict=True)
    )
    right = "".join(_r_code(digit) for digit in digits[7:])
    return "101" + left + "01010" + right + "101"


def barcode_image(
    code: str, *, width: int, height: int, module: int = 4, bar_height: int | None = None
) -> list[bytearray]:
    """Grey rows (0 black, 255 white) with the barcode centred, quiet zones around it."""
    modules = ean13_modules(code)
    bar_width = len(modules) * module
    if bar_width + 20 * module > width:
        raise ValueError("the image is too narrow for the barcode and its quiet zones")
    bars_tall = bar_height or height // 2
    left = (width - bar_width) // 2
    top = (height - bars_tall) // 2
    row_with_bars = bytearray([255] * width)
    for index, bit in enumerate(modules):
        if bit == "1":
            start = left + index * module
            row_with_bars[start : start + module] = bytes(module)
    blank = bytearray([255] * width)
    return [row_with_bars if top <= y < top + bars_tall else blank for y in range(height)]


def write_y4m(path: Path, rows: list[bytearray], *, frames: int = 30, fps: int = 15) -> None:
    """A 4:2:0 Y4M video of `frames` identical grey frames."""
    height = len(rows)
    width = len(rows[0])
    if width % 2 or height % 2:
        raise ValueError("4:2:0 needs even dimensions")
    luma = b"".join(bytes(row) for row in rows)
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    frame = b"FRAME\n" + luma + chroma + chroma
    header = f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)
