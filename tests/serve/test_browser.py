"""The web page in a real headless Chromium: upload, progress, before/after slider, downloads, errors.

The real server (``create_app`` under uvicorn, on a free 127.0.0.1 port in a background thread) is driven
by Debian's ``chromium`` through Playwright for Python (``executable_path``; Playwright's own browser
downloads are never used; ``CUTKIT_CHROMIUM`` names another Chromium binary). ``make test`` installs both
through ``scripts/browser_deps.sh``; without them these tests skip and say why. A screenshot of the page
goes to the test's tmp dir and, when the ``CUTKIT_ARTIFACTS`` environment variable names a folder, there
too.

Alpha tolerance: the page's result must match ``POST /v1/remove`` for the same photo and options to within
one level in 255. Both go through the same server and model, so they are normally identical; one level
allows for a server that batches concurrent requests (a batched convolution may round its last bit
differently).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest
from PIL import Image

from _parity import find_shared

pytestmark = pytest.mark.xdist_group("browser")

CHROMIUM = os.environ.get("CUTKIT_CHROMIUM", "/usr/bin/chromium")
ALPHA_TOLERANCE = 1  # levels of 255, see the module docstring
TIMEOUT_MS = 60_000  # a cold model load plus two removals on a busy 2-core machine
API_KEY = "page-test-key"


def _skip(reason: str) -> NoReturn:
    print(f"browser test skipped: {reason}")
    pytest.skip(reason)


def _requirements() -> Any:
    """Playwright's sync API, or skip with the reason (Chromium or Playwright missing)."""
    if not Path(CHROMIUM).is_file():
        _skip(
            f"Chromium not found at {CHROMIUM} (make test installs Debian's chromium with "
            "scripts/browser_deps.sh)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip("Playwright for Python is not installed (pip install -e '.[browser-test]')")
    return sync_playwright


# --- the server -------------------------------------------------------------------------------------


class LiveServer:
    """uvicorn serving ``app`` on a socket bound here (so the free port cannot be taken in between)."""

    def __init__(self, *, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server did not start on {self.url}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _requirements()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


def _serve(**config: Any) -> LiveServer:
    pytest.importorskip("uvicorn", reason="the server extra is not installed")
    from cutkit.serve.app import create_app
    from cutkit.serve.config import ServeConfig

    # One inference thread: the suite runs two pytest workers on a small machine.
    return LiveServer(app=create_app(ServeConfig(threads=1, **config)))


@pytest.fixture(scope="module")
def server_url(browser: Any) -> Iterator[str]:
    with _serve(api_key=None) as live:
        yield live.url


@pytest.fixture(scope="module")
def keyed_server_url(browser: Any) -> Iterator[str]:
    with _serve(api_key=API_KEY) as live:
        yield live.url


def _open(browser: Any, url: str) -> Iterator[Any]:
    """A fresh page at ``url``; JavaScript errors on it fail the test."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
    # Every action and wait gets the generous timeout, not Playwright's 30 s: a click on a loaded 2-core
    # machine (the rest of the suite runs beside this test) can take longer to be handled.
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url + "/")
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser: Any, server_url: str) -> Iterator[Any]:
    yield from _open(browser, server_url)


@pytest.fixture
def keyed_page(browser: Any, keyed_server_url: str) -> Iterator[Any]:
    yield from _open(browser, keyed_server_url)


# --- inputs and checks ------------------------------------------------------------------------------


def _synthetic_png(w: int = 160, h: int = 120) -> bytes:
    """A gradient with a bright ellipse: a subject the bundled model finds."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.dstack([xx * 200 / w, yy * 200 / h, np.full((h, w), 70)])
    img[(xx - w / 2) ** 2 / (w / 3.5) ** 2 + (yy - h / 2) ** 2 / (h / 3) ** 2 < 1] = (230, 60, 40)
    buf = io.BytesIO()
    Image.fromarray(img.astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _photo() -> tuple[str, bytes, str]:
    """A real photo from the shared data (``data/photos/0003.jpeg``), else the synthetic one."""
    shared = find_shared()
    path = shared / "data" / "photos" / "0003.jpeg" if shared else None
    if path is not None and path.is_file():
        return path.name, path.read_bytes(), "image/jpeg"
    print("shared/data/photos/0003.jpeg not found: using a synthetic photo")
    return "photo.png", _synthetic_png(200, 150), "image/png"


def _file(name: str, data: bytes, mime: str) -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


def _reference(page: Any, url: str, photo: dict[str, Any], **fields: Any) -> Image.Image:
    """What ``POST /v1/remove`` returns for ``photo`` and ``fields``, asked directly (not by the page)."""
    multipart = {"file": photo, **fields}
    response = page.request.post(url + "/v1/remove", multipart=multipart)
    assert response.ok, f"/v1/remove answered {response.status}: {response.text()}"
    return Image.open(io.BytesIO(response.body()))


def _assert_alpha_matches(got: Image.Image, want: Image.Image, what: str) -> None:
    a = np.asarray(got.convert("RGBA"))[..., 3].astype(int)
    b = np.asarray(want.convert("RGBA"))[..., 3].astype(int)
    assert a.shape == b.shape, f"{what}: size {a.shape} != {b.shape}"
    diff = np.abs(a - b).max()
    assert diff <= ALPHA_TOLERANCE, f"{what}: alpha differs from /v1/remove by up to {diff} levels"


def _download(page: Any, locator: Any, folder: Path) -> Path:
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        locator.click()
    download = info.value
    assert download.failure() is None, download.failure()
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def _wait_finished(page: Any, count: int) -> None:
    """Wait until ``count`` items are done or failed (a hang fails here, with the items' states)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "n => document.querySelectorAll('.item[data-state=done], .item[data-state=failed]').length === n",
            arg=count,
            timeout=TIMEOUT_MS,
        )
    except PlaywrightTimeout as exc:
        states = page.locator(".item").evaluate_all("els => els.map(e => e.innerText)")
        raise AssertionError(f"items did not finish: {states}") from exc


def _save_screenshot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    artifacts = os.environ.get("CUTKIT_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        copy = Path(artifacts) / name
        shutil.copyfile(path, copy)
        print(f"screenshot: {copy}")


def _default_model(page: Any, url: str) -> str:
    listing = page.request.get(url + "/v1/models").json()
    return listing["default"]


# --- tests --------------------------------------------------------------------------------------------


def test_page_removes_and_downloads_one_and_all(page: Any, server_url: str, tmp_path: Path) -> None:
    model = _default_model(page, server_url)
    page.wait_for_function("m => document.querySelector('#model').value === m", arg=model, timeout=TIMEOUT_MS)
    name, data, mime = _photo()
    photo = _file(name, data, mime)
    page.set_input_files("#files", [photo, _file("synthetic.png", _synthetic_png(), "image/png")])
    _wait_finished(page, 2)
    assert page.locator(".item[data-state=done]").count() == 2, page.locator(
        ".item .message"
    ).all_inner_texts()

    first = page.locator(".item").nth(0)
    single = _download(page, first.locator("a.download"), tmp_path)
    stem = Path(name).stem
    assert single.name == f"{stem}.png"
    want = _reference(page, server_url, photo, format="png", model=model)
    got = Image.open(single)
    assert got.format == "PNG" and got.mode == "RGBA"
    _assert_alpha_matches(got, want, "single download")
    alpha = np.asarray(got)[..., 3]
    assert alpha.min() < 16 and alpha.max() > 240, "the cutout should have both background and subject"

    archive = _download(page, page.locator("#download-all"), tmp_path)
    with zipfile.ZipFile(archive) as zf:
        assert zf.testzip() is None  # every entry's CRC-32 checks out
        assert zf.namelist() == [f"{stem}.png", "synthetic.png"]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zf.infolist())
        entry = zf.read(f"{stem}.png")
    assert entry == single.read_bytes()
    _assert_alpha_matches(Image.open(io.BytesIO(entry)), want, "zip entry")
    _save_screenshot(page, tmp_path, "browser-page.png")


def test_slider_is_keyboard_usable(page: Any, tmp_path: Path) -> None:
    page.set_input_files("#files", [_file("synthetic.png", _synthetic_png(), "image/png")])
    _wait_finished(page, 1)
    divider = page.get_by_role("slider", name="Before/after divider for synthetic.png")
    divider.focus()
    divider.press("ArrowLeft")
    assert divider.get_attribute("aria-valuenow") == "45"
    divider.press("End")
    assert divider.get_attribute("aria-valuenow") == "100"
    # at 100 % the cutout is clipped away entirely: the original shows
    clip = page.locator(".item .after").evaluate("e => getComputedStyle(e).clipPath")
    assert "100%" in clip


BACKGROUND = _file("bg.png", _synthetic_png(90, 60), "image/png")


def _choose_color(page: Any) -> dict[str, Any]:
    page.get_by_role("radio", name="Colour").check()
    page.fill("#bg-color", "#00ff00")
    return {"bg": "#00ff00"}


def _choose_blur(page: Any) -> dict[str, Any]:
    page.get_by_role("radio", name="Blurred photo").check()
    page.fill("#blur-sigma", "4")
    return {"bg": "blur", "blur_sigma": "4"}


def _choose_image(page: Any) -> dict[str, Any]:
    page.get_by_role("radio", name="Image").check()
    page.set_input_files("#bg-file", [BACKGROUND])
    return {"bg_file": BACKGROUND}


@pytest.mark.parametrize(
    ("choose", "fmt"), [(_choose_color, "png"), (_choose_blur, "webp"), (_choose_image, "webp")]
)
def test_backgrounds_and_formats_match_the_api(
    page: Any, server_url: str, tmp_path: Path, choose: Any, fmt: str
) -> None:
    fields = choose(page)
    page.select_option("#format", fmt)
    photo = _file("synthetic.png", _synthetic_png(), "image/png")
    page.set_input_files("#files", [photo])
    _wait_finished(page, 1)
    result = _download(page, page.locator(".item a.download"), tmp_path)
    assert result.name == f"synthetic.{fmt}"
    model = _default_model(page, server_url)
    want = _reference(page, server_url, photo, format=fmt, model=model, **fields)
    got = Image.open(result)
    assert got.format == fmt.upper()
    # lossless PNG/WebP of the same composite: every channel matches, not only the alpha
    diff = np.abs(np.asarray(got.convert("RGBA"), int) - np.asarray(want.convert("RGBA"), int)).max()
    assert diff <= ALPHA_TOLERANCE, f"composite differs from /v1/remove by up to {diff} levels"
    assert np.asarray(got.convert("RGBA"))[..., 3].min() == 255, "a background leaves no transparency"


def test_failed_upload_shows_the_servers_message(page: Any, server_url: str, tmp_path: Path) -> None:
    broken = _file("broken.png", b"this is not an image", "image/png")
    page.set_input_files("#files", [broken])
    _wait_finished(page, 1)
    item = page.locator(".item")
    assert item.get_attribute("data-state") == "failed"
    answer = page.request.post(server_url + "/v1/remove", multipart={"file": broken, "format": "png"})
    error = answer.json()["error"]
    assert item.locator(".message").inner_text() == f"{error['message']} (HTTP {answer.status})"
    assert item.locator("a.download").is_hidden()
    _save_screenshot(page, tmp_path, "browser-page-error.png")


def test_busy_server_is_retried_after_retry_after(page: Any) -> None:
    seen: list[float] = []

    def first_busy(route: Any) -> None:
        seen.append(time.monotonic())
        if len(seen) == 1:
            body = '{"error": {"status": 429, "message": "queue full"}}'
            route.fulfill(
                status=429, headers={"Retry-After": "1"}, content_type="application/json", body=body
            )
        else:
            route.continue_()

    page.route("**/v1/remove", first_busy)
    page.set_input_files("#files", [_file("synthetic.png", _synthetic_png(), "image/png")])
    _wait_finished(page, 1)
    assert page.locator(".item").get_attribute("data-state") == "done"
    assert len(seen) == 2 and seen[1] - seen[0] >= 0.9, f"retried at {[t - seen[0] for t in seen]}"


def test_queue_keeps_two_requests_in_flight(page: Any) -> None:
    result = page.evaluate(
        """async () => {
            const { TaskQueue } = await import("/static/upload.js");
            const queue = new TaskQueue(2);
            let active = 0, most = 0;
            const order = [];
            const task = (i) => () => new Promise((resolve) => {
                active++; most = Math.max(most, active); order.push(i);
                setTimeout(() => { active--; resolve(i); }, 20);
            });
            const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => queue.add(task(i))));
            return { most, order, results };
        }"""
    )
    assert result == {"most": 2, "order": [0, 1, 2, 3, 4, 5], "results": [0, 1, 2, 3, 4, 5]}


def test_api_key_field_is_sent(keyed_page: Any) -> None:
    page = keyed_page
    status = page.locator("#model-status")
    page.wait_for_function("() => document.querySelector('#model-status').textContent.includes('API key')")
    page.set_input_files("#files", [_file("synthetic.png", _synthetic_png(), "image/png")])
    _wait_finished(page, 1)
    assert "HTTP 401" in page.locator(".item .message").inner_text()

    page.fill("#api-key", API_KEY)
    page.locator("#api-key").dispatch_event("change")
    page.wait_for_function("() => document.querySelector('#model').options.length > 1", timeout=TIMEOUT_MS)
    assert status.inner_text() == ""
    page.locator(".item button.again").click()
    _wait_finished(page, 1)
    assert page.locator(".item").get_attribute("data-state") == "done", page.locator(".item").inner_text()


def test_zip_writer_output_reads_back_in_python(page: Any) -> None:
    encoded = page.evaluate(
        """async () => {
            const { makeZip, crc32 } = await import("/static/zip.js");
            const text = new TextEncoder();
            const zip = makeZip([
                { name: "über.txt", data: text.encode("hello") },
                { name: "dir/empty.bin", data: new Uint8Array(0) },
                { name: "bytes.bin", data: Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255) },
            ]);
            const bytes = new Uint8Array(await zip.arrayBuffer());
            return { crc: crc32(text.encode("123456789")), bytes: Array.from(bytes), type: zip.type };
        }"""
    )
    assert encoded["crc"] == 0xCBF43926  # the CRC-32 check value
    assert encoded["type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(bytes(encoded["bytes"]))) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == ["über.txt", "dir/empty.bin", "bytes.bin"]
        assert zf.read("über.txt") == b"hello"
        assert zf.read("dir/empty.bin") == b""
        assert zf.read("bytes.bin") == bytes((i * 7) & 255 for i in range(1000))


def test_dropped_photos_are_processed_and_other_files_skipped(page: Any) -> None:
    data_transfer = page.evaluate_handle(
        """png => {
            const transfer = new DataTransfer();
            const bytes = Uint8Array.from(png);
            transfer.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
            transfer.items.add(new File(["notes"], "notes.txt", { type: "text/plain" }));
            return transfer;
        }""",
        list(_synthetic_png()),
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": data_transfer})
    _wait_finished(page, 1)
    assert page.locator(".item .name").all_inner_texts() == ["dropped.png"]
    assert page.locator(".item").get_attribute("data-state") == "done"
    assert page.locator("#form-error").inner_text() == "Skipped (not images): notes.txt"
