"""Screenshot a report.html in headless Chromium (the demo report's visual check).

    python docs/report_screenshot.py runs/demo/report.html docs/demo_report.png [--height 2400]

Needs a Chromium binary (``apt-get install -y chromium``). The page is rendered at 1280 px
width; the PNG is the top ``--height`` pixels. ``--crop Y0:Y1`` additionally saves that band of
a full-page render (e.g. the figures) next to the output as ``NAME_band.png``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no Chromium found: apt-get install -y chromium")


def screenshot(report: Path, out: Path, width: int = 1280, height: int = 2400) -> Path:
    """Render ``report`` headless and write a ``width`` x ``height`` PNG to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            find_chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={out.resolve()}",
            report.resolve().as_uri(),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    if not out.exists() or out.stat().st_size == 0:
        sys.exit(f"Chromium wrote no screenshot for {report}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--height", type=int, default=2400)
    ap.add_argument("--crop", default=None, help="Y0:Y1 band of a full render to save too")
    args = ap.parse_args()
    screenshot(args.report, args.out, height=args.height)
    print(f"screenshot: {args.out}")
    if args.crop:
        from PIL import Image

        y0, y1 = (int(v) for v in args.crop.split(":"))
        full = args.out.with_name(args.out.stem + "_full.png")
        screenshot(args.report, full, height=y1)
        band = args.out.with_name(args.out.stem + "_band.png")
        with Image.open(full) as im:
            im.crop((0, y0, im.width, y1)).save(band, optimize=True)
        full.unlink()
        print(f"band: {band}")


if __name__ == "__main__":
    main()
