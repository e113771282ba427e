"""Screenshot pages of the built documentation site in headless Chromium (its visual check).

    make docs && python docs/site_screenshot.py [--site site] [--out docs/screenshots]

Renders the getting-started page and one executed tutorial at 1280 px width and writes
``docs/screenshots/getting_started.png`` and ``docs/screenshots/tutorial_energy.png`` (the top
``--height`` pixels of each page). Needs a Chromium binary (``apt-get install -y chromium``);
uses the same renderer as ``docs/report_screenshot.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_screenshot import screenshot  # noqa: E402

PAGES = {
    "getting_started": "getting-started/index.html",
    "tutorial_energy": "tutorials/04_energy_image_patches/index.html",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, default=Path("site"))
    ap.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    ap.add_argument("--height", type=int, default=3200)
    args = ap.parse_args()
    for name, page in PAGES.items():
        path = args.site / page
        if not path.is_file():
            sys.exit(f"{path}: not built; run `make docs` first")
        png = screenshot(path, args.out / f"{name}.png", height=args.height)
        print(f"screenshot: {png}")


if __name__ == "__main__":
    main()
