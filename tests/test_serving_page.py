"""The page at GET /, in a real headless browser: Debian's Chromium driven by Playwright."""

import io
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from tests.test_serving import LiveServer, _b64

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
# Where a copy of the screenshot goes for people to look at (unset: only the test's tmp folder).
SCREENSHOT_COPY = os.environ.get("PEAR_SERVING_SCREENSHOT")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A tiny PEAR served with a photo-likeness density fitted on 60 photo-like JPEGs (seeds 100–159)."""
    from tests.conftest import export_tiny_pear

    base = str(tmp_path_factory.mktemp("savedmodels") / "pear")
    export_tiny_pear(base, mc_samples=4, calibrate=_photo_likeness)
    server = LiveServer(base)
    yield server
    server.stop()


def _photo_likeness(model):
    """The uncalibrated map and std, with a density of ``model``'s statistics of 60 photo-like JPEGs."""
    import dataclasses

    import tensorflow as tf

    from pear_tf.calibration import density, record
    from pear_tf.data import decode
    from pear_tf.data.preprocessing import preprocess
    from pear_tf.model import stages

    size = model.config.image_size
    images = tf.stack([preprocess(decode.decode_image(_photo(seed)), size) for seed in range(100, 160)])
    statistics = model.score(images, with_internals=True)["stage_statistics"].numpy()
    return dataclasses.replace(
        record.unfitted(model.config.bin_values, sampled=True),
        density=density.fit_density(statistics, logged=stages.spread_mask(model.backbone)),
    )


def _photo(seed, size=160):
    """A smooth, photo-like JPEG (gradients and a disc), so the screenshot shows something."""
    y, x = np.mgrid[0:size, 0:size] / size
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(0.2, 1.0, 3)
    image = np.stack([a * x, b * y, c * (1 - x * y)], -1)
    image[(x - rng.uniform(0.3, 0.7)) ** 2 + (y - 0.5) ** 2 < 0.05] = rng.uniform(0, 1, 3)
    buffer = io.BytesIO()
    Image.fromarray((image * 255).astype(np.uint8)).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (make browser)")
def test_page_scores_chosen_photos_like_the_rest_api_and_flags_what_is_not_a_photo(live, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.not_photos import text_page

    photos = []
    for i in range(2):
        path = tmp_path / f"photo_{i}.jpg"
        path.write_bytes(_photo(i))
        photos.append(path)
    page_of_text = tmp_path / "text_page.png"
    Image.fromarray(text_page(0)).save(page_of_text)
    photos.append(page_of_text)
    _, rest = live.request("/v1/models/pear:predict", {"instances": [_b64(p.read_bytes()) for p in photos]})
    requested = []
    with sync_playwright() as playwright:
        # A fresh profile folder (Playwright passes it as --user-data-dir).
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            viewport={"width": 1100, "height": 900},
        )
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(live.url + "/")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            assert "version 1" in page.inner_text("#model-info") and "synthetic" in page.inner_text("#model-info")
            page.set_input_files("#files", [str(p) for p in photos])
            page.wait_for_function("document.querySelectorAll(\".card[data-done='1']\").length == 3", timeout=30_000)
            cards = {c.query_selector(".name").inner_text(): c for c in page.query_selector_all(".card")}
            for photo, row in zip(photos, rest["predictions"]):
                card = cards[photo.name]
                assert float(card.query_selector(".score").inner_text()) == pytest.approx(row["score"], abs=5e-4)
                # calibrated_score ± score_std, as the REST API answers (fixed sampling noise: repeatable).
                assert float(card.query_selector(".calibrated").inner_text()) == pytest.approx(
                    row["calibrated_score"], abs=5e-3
                )
                assert float(card.query_selector(".score-std").inner_text()) == pytest.approx(row["score_std"], abs=5e-3)
                assert row["score_std"] > 0
                assert len(card.query_selector_all(".attr-bar")) == 11
                assert len(card.query_selector_all(".hist-bar")) == len(row["distribution"])
                flag = card.query_selector(".flag").inner_text()
                if row["is_photo_like"]:
                    assert flag == "photo-like", (photo.name, flag)
                else:
                    assert flag.startswith(f"not photo-like (ood {row['ood_score']:.1f})"), (photo.name, flag)
            # The REST API flags the page of text and neither photo: the page showed both kinds of flag.
            assert [row["is_photo_like"] for row in rest["predictions"]] == [True, True, False]
            screenshot = tmp_path / "serving_page.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    # Offline: every request the page made went to this server.
    assert requested and all(url.startswith(live.url) or url.startswith("blob:") for url in requested), requested
    pixels = np.asarray(Image.open(screenshot).convert("RGB"), np.float32)
    assert pixels.shape[0] > 300 and pixels.std() > 20 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 500
    if SCREENSHOT_COPY:
        shutil.copy(screenshot, SCREENSHOT_COPY)


def test_page_lists_the_served_models_and_loads_nothing_from_elsewhere(live):
    status, headers, html = live.request_raw("/")
    text = html.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert 'const MODELS = ["pear"];' in text
    assert "http://" not in text and "https://" not in text and "//cdn" not in text
