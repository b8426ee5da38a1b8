"""A real browser: an uploaded file's name is shown as text; its Markdown and HTML never reach the page."""

from __future__ import annotations

import io

from PIL import Image

OUTSIDE = "http://203.0.113.9"  # TEST-NET-3: never a real host
NAMES = [f"![i]({OUTSIDE}/x.png) [link]({OUTSIDE}) www.example.org.png", "<img src=x onerror=alert(1)>.png",
         ":red[red] $x^2$ **bold**.png", "=cmd|' calc'!A0\u202egnp.png"]  # fmt: skip


def png() -> bytes:
    image = Image.new("L", (140, 140), 255)
    image.paste(0, (60, 20, 80, 120))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_hostile_names_are_shown_as_text(server, page, tmp_path):
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server}/upload")
    files = [{"name": n, "mimeType": "image/png", "buffer": png()} for n in NAMES]
    page.locator("input[type='file']").first.set_input_files(files)
    page.get_by_text("4. =cmd", exact=False).first.wait_for(timeout=90_000)
    heads = [h.replace("\u2060", "") for h in page.locator("[data-testid='stMain'] h3").all_inner_texts()]
    expected = [f"{i}. {n.replace(chr(0x202E), '')}" for i, n in enumerate(NAMES, 1)]
    assert [h.strip() for h in heads[:4]] == expected
    main = page.locator("[data-testid='stMain']")
    assert main.locator(f"img[src^='{OUTSIDE}']").count() == 0 and main.locator(f"a[href^='{OUTSIDE}']").count() == 0
    assert main.locator("a[href*='example.org']").count() == 0 and main.locator("img[src='x']").count() == 0
    assert main.locator("strong", has_text="bold").count() == 0
    assert not [u for u in outside if OUTSIDE in u] and not dialogs
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(tmp_path / "hostile_names.png"), full_page=False)
    print(tmp_path / "hostile_names.png")
