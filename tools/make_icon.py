#!/usr/bin/env python3
"""Draw ReliefDesk's application icon: resources/icons/reliefdesk.png (256 px), .svg and .ico.

    .venv/bin/python tools/make_icon.py

A rounded orange-red square (emergency), a white map pin with a blue cross (relief). Drawn with
Pillow (a matplotlib dependency, already in the venv); the SVG is the same shapes, for scalable
menus; the .ico (16–256 px) is for Windows (the exe, the installer, the .gpkg file type). All are
GPL-3.0-or-later like the rest of the project.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "icons"
SIZE = 256
RED, WHITE, BLUE = "#d9480f", "#ffffff", "#1c5d99"

SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 256 256">
  <rect x="8" y="8" width="240" height="240" rx="44" fill="{RED}"/>
  <path d="M128 224 L72 132 A64 64 0 1 1 184 132 Z" fill="{WHITE}"/>
  <rect x="116" y="62" width="24" height="80" fill="{BLUE}"/>
  <rect x="88" y="90" width="80" height="24" fill="{BLUE}"/>
</svg>
"""


def draw() -> Image.Image:
    scale = 4  # draw large, downsample: smooth edges without antialiasing support
    s = SIZE * scale
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)

    def box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [x0 * scale, y0 * scale, x1 * scale, y1 * scale]

    d.rounded_rectangle(box(8, 8, 248, 248), radius=44 * scale, fill=RED)
    d.ellipse(box(64, 38, 192, 166), fill=WHITE)  # pin head (centre 128,102, r 64)
    d.polygon([(72 * scale, 132 * scale), (184 * scale, 132 * scale), (128 * scale, 224 * scale)], fill=WHITE)
    d.rectangle(box(116, 62, 140, 142), fill=BLUE)
    d.rectangle(box(88, 90, 168, 114), fill=BLUE)
    return img.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    img = draw()
    img.save(OUT / "reliefdesk.png", optimize=True)
    img.save(OUT / "reliefdesk.ico", sizes=[(n, n) for n in (16, 24, 32, 48, 64, 128, 256)])
    (OUT / "reliefdesk.svg").write_text(SVG, encoding="utf-8")
    print(OUT / "reliefdesk.png", OUT / "reliefdesk.ico", OUT / "reliefdesk.svg")


if __name__ == "__main__":
    main()
