"""The figures of a run's report (:mod:`infodyn.experiments.report`): every image under
``figures/`` in the run's ``figure_order``, embedded as base64 so the report stands alone. A
file that is not the image its name says (damaged, truncated or misnamed) is left out with a
note and a warning rather than embedded broken."""

from __future__ import annotations

import base64
import html
import warnings
from pathlib import Path

FIGURE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}
#: each raster format's name, first bytes and last bytes (a truncated file has no end marker;
#: an SVG is text, checked by parsing)
_MAGIC = {
    "image/png": ("a PNG", b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"),
    "image/jpeg": ("a JPEG", b"\xff\xd8\xff", b"\xff\xd9"),
}


#: the last bytes searched for an image's end marker
_TAIL_BYTES = 4096


def run_figures(run: Path, order: list[str]) -> list[Path]:
    """The image files under ``run/figures`` (any depth, hidden ones left out): those named in
    ``order`` first, in its order, then the rest by path."""
    found = [
        p
        for p in sorted((run / "figures").rglob("*"))
        if p.is_file() and p.suffix.lower() in FIGURE_TYPES and not p.name.startswith(".")
    ]
    by_name = {p.relative_to(run / "figures").with_suffix("").as_posix(): p for p in found}
    first = [by_name.pop(name) for name in order if name in by_name]
    return first + list(by_name.values())


def figures_section(run: Path, figs: list[Path], captions: dict) -> str:
    """The report's Figures section: one ``<figure>`` a file, captioned by its name and
    ``captions[name]``; wide figures span the page."""
    parts = ["<h2 id='figures'>Figures</h2><div class='figs'>"]
    for p in figs:
        name = p.relative_to(run / "figures").with_suffix("").as_posix()
        raw = p.read_bytes()
        mime = FIGURE_TYPES[p.suffix.lower()]
        caption = captions.get(name, "")
        cap = f"<b>{html.escape(name)}</b>" + (f": {html.escape(str(caption))}" if caption else "")
        wide = " class='wide'" if _aspect(p) > 2.2 else ""
        kind = _MAGIC[mime][0] if mime in _MAGIC else "an SVG"
        if _is_image(raw, mime):
            data = base64.b64encode(raw).decode("ascii")
            shown = f"<img src='data:{mime};base64,{data}' alt='{html.escape(name, quote=True)}'>"
        else:  # embedded as it was: a broken image, and nothing said why
            said = f"{p}: not {kind} image (damaged or misnamed); the report leaves it out"
            warnings.warn(said, stacklevel=3)
            shown = f"<div class='note'>{html.escape(said)}</div>"
        figure = f"<figure id='fig-{anchor(name)}'{wide}>"
        parts.append(f"{figure}{shown}<figcaption>{cap}</figcaption></figure>")
    parts.append("</div>")
    return "".join(parts)


def anchor(text: str) -> str:
    """An HTML id made of ``text``'s letters and digits (others become ``-``)."""
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-") or "section"


def _aspect(path: Path) -> float:
    """Width / height of a PNG from its header (1.0 for other formats or a short file)."""
    if path.suffix.lower() != ".png":
        return 1.0
    with open(path, "rb") as fh:
        head = fh.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return 1.0
    w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return w / h if h else 1.0


def _is_image(raw: bytes, mime: str) -> bool:
    """Whether ``raw`` is what its name says: a PNG or JPEG with its first bytes and its end
    marker in the last :data:`_TAIL_BYTES` (a truncated PNG was embedded, and shown broken),
    or an SVG that parses as XML with an ``svg`` root in the SVG namespace (a truncated one
    was embedded whole, and shown as nothing)."""
    if mime in _MAGIC:  # the end marker near the end: cameras append bytes after a JPEG's
        return raw.startswith(_MAGIC[mime][1]) and _MAGIC[mime][2] in raw[-_TAIL_BYTES:]
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(raw)  # expat: no external entities, no entity bombs
    except ElementTree.ParseError:
        return False
    return root.tag == "{http://www.w3.org/2000/svg}svg"  # without it no browser draws it
