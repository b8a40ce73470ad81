"""The test's own EAN-13 encoder, checked against known barcodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pwa.barcodes import barcode_image, ean13_check_digit, ean13_modules, write_y4m


@pytest.mark.parametrize(
    ("first_twelve", "check"),
    [("978047310501", 3), ("978880466769", 8), ("400638133393", 1), ("590123412345", 7)],
)
def test_check_digits(first_twelve: str, check: int) -> None:
    assert ean13_check_digit(first_twelve) == check


def test_modules_of_a_known_barcode() -> None:
    # 5901234123457, the usual example (first digit 5: parity LGGLLG).
    modules = ean13_modules("5901234123457")

    assert len(modules) == 95
    assert modules.startswith("101" + "0001011" + "0100111")  # guard, 9 as L, 0 as G
    assert modules[45:50] == "01010"
    assert modules.endswith("1000100" + "101")  # 7 as R, end guard


def test_refuses_a_bad_check_digit() -> None:
    with pytest.raises(ValueError, match="check digit"):
        ean13_modules("9780473105010")


def test_y4m_has_a_header_and_whole_frames(tmp_path: Path) -> None:
    rows = barcode_image("9780473105013", width=640, height=480, module=4)
    path = tmp_path / "code.y4m"

    write_y4m(path, rows, frames=2)

    data = path.read_bytes()
    header, _, rest = data.partition(b"\n")
    assert header == b"YUV4MPEG2 W640 H480 F15:1 Ip A1:1 C420jpeg"
    frame_size = len(b"FRAME\n") + 640 * 480 * 3 // 2
    assert len(rest) == 2 * frame_size
    assert rest.startswith(b"FRAME\n")
