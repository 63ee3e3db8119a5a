"""``faxprint preview``: a real contact sheet rendered by poppler, opened and checked."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import zlib
from pathlib import Path

from pypdf import PdfWriter

from faxprint.cli import exits
from faxprint.sandbox import SandboxServer
from faxprint.sheets import sheet_pixels
from tests.conftest import REPO
from tests.support.configs import hot_folder_config
from tests.support.helpers import Watcher, drop_ticket, make_pdf, wait_for


def _preview(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faxprint", "preview", *args],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False, env=env,
    )  # fmt: skip


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """Decode a 1-bit grayscale PNG: width, height and its rows of packed bits."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", b""
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    assert (header[8], header[9]) == (1, 0), "a 1-bit grayscale PNG: a fax is black and white"
    raw, stride = zlib.decompress(idat), (width + 7) // 8
    rows: list[bytes] = []
    previous = bytes(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            left = line[x - 1] if x else 0
            up, corner = previous[x], previous[x - 1] if x else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                near = min((abs(guess - left), 0), (abs(guess - up), 1), (abs(guess - corner), 2))[
                    1
                ]
                line[x] = (line[x] + (left, up, corner)[near]) & 0xFF
        rows.append(bytes(line))
        previous = bytes(line)
    return width, height, rows


def inked(rows: list[bytes], left: int, top: int, width: int, height: int) -> int:
    """Count black pixels (0 bits) in a rectangle."""
    count = 0
    for row in rows[top : top + height]:
        for x in range(left, left + width):
            count += not (row[x // 8] >> (7 - x % 8)) & 1
    return count


def test_a_contact_sheet_shows_every_page_in_a_grid_at_the_fax_resolution(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "offer.pdf", pages=5)
    sheet = tmp_path / "sheet.png"
    shown = _preview(str(pdf), "-o", str(sheet), "--columns", "3")
    assert shown.returncode == 0, shown.stderr
    assert "5 pages at 98 dpi (low), 3 x 2" in shown.stdout
    width, height, rows = read_png(sheet)
    assert (width, height) == sheet_pixels(3, 2, "low")
    cell_w, cell_h = width // 3, height // 2
    step_x = cell_w // 4  # look at the middle half of each cell, all its height
    cells = [inked(rows, c * cell_w + step_x // 2, r * cell_h, step_x * 3, cell_h)
             for r in range(2) for c in range(3)]  # fmt: skip
    assert all(cells[:5]), cells  # five pages: frame, text and label inked
    assert cells[5] == 0  # no sixth page: the cell is blank


def test_high_resolution_doubles_the_pixels(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "a.pdf", pages=2)
    shown = _preview(str(pdf), "-o", str(tmp_path / "s.png"), "--resolution", "high")
    assert shown.returncode == 0, shown.stderr
    width, height, _ = read_png(tmp_path / "s.png")
    assert (width, height) == sheet_pixels(2, 1, "high")
    assert sheet_pixels(2, 1, "low") == (1764, 1166)  # 1296 x 856 points at 98 dpi
    assert (width, height) == (3528, 2331)  # at 196 dpi: twice, rounded up


def test_what_cannot_be_previewed_gets_one_clear_line(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    refused = _preview(str(text), "-o", str(tmp_path / "x.png"))
    assert refused.returncode == exits.EX_DATAERR and "only PDFs" in refused.stderr
    locked = tmp_path / "locked.pdf"
    writer = PdfWriter(clone_from=make_pdf(tmp_path / "plain.pdf"))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    with locked.open("wb") as stream:
        writer.write(stream)
    refused = _preview(str(locked), "-o", str(tmp_path / "x.png"))
    assert refused.returncode == exits.EX_DATAERR and "encrypted" in refused.stderr
    assert _preview("no-such-job", "--folder", str(tmp_path)).returncode == exits.EX_DATAERR
    assert not (tmp_path / "x.png").exists()


def test_a_hot_folder_job_is_previewed_from_the_documents_it_kept(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    root = tmp_path / "drop"
    config = hot_folder_config(tmp_path, sandbox.url)
    with Watcher(config, root):  # a real job: claimed, sent, filed in done/
        make_pdf(root / "inv42.pdf", pages=3)
        drop_ticket(root, "inv42", {"to": ["5556465589"]})
        wait_for(lambda: list((root / "done").glob("*/receipt.json")), 60, "the job in done/")
    [kept] = (root / "done").iterdir()
    env = {**os.environ, "FAXPRINT_CONFIG": str(config)}
    sheet = tmp_path / "job.png"
    shown = _preview(kept.name[:20], "--folder", str(root), "-o", str(sheet), env=env)
    assert shown.returncode == 0, shown.stderr
    assert "3 pages" in shown.stdout
    assert read_png(sheet)[:2] == sheet_pixels(3, 1, "low")
    assert stat.S_IMODE(sheet.stat().st_mode) == 0o600  # someone's fax: this user's alone
    (kept / "inv42.pdf").unlink()
    (kept / "inv42.pdf").symlink_to(tmp_path / "elsewhere.pdf")  # planted in the folder
    make_pdf(tmp_path / "elsewhere.pdf")
    refused = _preview(kept.name[:20], "--folder", str(root), "-o", str(sheet), env=env)
    assert refused.returncode == exits.EX_DATAERR and "not a plain file" in refused.stderr


def test_the_own_cover_is_shown_first_as_it_is_sent(tmp_path: Path) -> None:
    from tests.support.configs import faxout_account, write_config

    config = write_config(tmp_path, faxout_account("http://127.0.0.1:9/faxapi.asp"),
                          extra='[covers.faxprint]\nfrom_name = "ACME Widgets"\n')  # fmt: skip
    pdf = make_pdf(tmp_path / "offer.pdf", pages=2)
    env = {**os.environ, "FAXPRINT_CONFIG": str(config)}
    shown = _preview(str(pdf), "-o", str(tmp_path / "s.png"), "--columns", "3", "--cover",
                     "faxprint", "--to", "5556465589|Jane Doe", env=env)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "3 pages at 98 dpi (low), 3 x 1" in shown.stdout  # the cover, then the two pages
    _, _, rows = read_png(tmp_path / "s.png")
    assert inked(rows, 0, 0, len(rows[0]) * 8 // 3, len(rows)) > 0
    service = _preview(str(pdf), "-o", str(tmp_path / "t.png"), "--cover", "Urgent", "--to",
                       "5556465589", env=env)  # fmt: skip
    assert service.returncode == exits.EX_DATAERR, service.stderr
    assert "Urgent is not one of faxprint's covers" in service.stderr
    assert not (tmp_path / "t.png").exists()
