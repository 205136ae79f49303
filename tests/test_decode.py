"""The one decode (pear_tf/data/decode.py in the graph, host_decode.py on the host), on real photographs.

Each photo comes from an installed package and is stored here the way phones, cameras and
editors store photos: every EXIF orientation, every common format, colour profiles, alpha,
16-bit samples, and hostile headers.
"""

import io
import struct

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageOps

from pear_tf.data import decode, host_decode
from tests import real_images as ri

PORTRAIT = (96, 72)  # a real photo at phone proportions, small enough for fast tests


@pytest.fixture(scope="module")
def portrait():
    return ri.photo("china", PORTRAIT)


def graph_decode(data, target_side=None, max_pixels=decode.MAX_PIXELS):
    return host_decode._graph_decoder(target_side, max_pixels)(tf.constant(data)).numpy()


def tf_raw(data):
    """TensorFlow's own decode of the stored pixels, before any orientation."""
    return tf.io.decode_image(data, channels=3, expand_animations=False).numpy()


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt,options", [("JPEG", {"quality": 95}), ("PNG", {}), ("WEBP", {"lossless": True})])
def test_every_exif_orientation_is_applied_in_the_graph_as_pil_applies_it(portrait, fmt, options, orientation):
    data = ri.with_orientation(portrait, orientation, fmt, **options)
    assert int(decode.exif_orientation(tf.constant(data))) == orientation
    # PIL's exif_transpose on TensorFlow's own pixels (JPEG decoders differ by a few levels).
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data)).convert("RGB")))
    if fmt == "JPEG":
        stored = Image.fromarray(tf_raw(data))
        expected = np.asarray(stored if orientation == 1 else stored.transpose(ri.EXIF_TRANSPOSE[orientation]))
    np.testing.assert_array_equal(graph_decode(data), expected)
    np.testing.assert_array_equal(host_decode.decode_bytes(data), expected)  # the host runs the same graph
    if fmt != "JPEG":
        np.testing.assert_array_equal(expected, portrait)  # lossless: exactly the upright photo


@pytest.mark.parametrize("fmt", ["TIFF", "HEIF", "AVIF"])
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_host_formats_are_turned_upright(portrait, fmt, orientation):
    options = {} if fmt == "TIFF" else {"quality": 95}
    data = ri.with_orientation(portrait, orientation, fmt, **options)
    assert host_decode.probe(data).host_reason == f"{fmt} is decoded on the host"
    decoded = host_decode.decode_bytes(data)
    assert decoded.shape == portrait.shape
    error = np.abs(decoded.astype(int) - portrait).mean()
    assert error < (0.01 if fmt == "TIFF" else 4.0), error
    # The control: the same stored pixels without the tag do not come out upright.
    untagged = host_decode.decode_bytes(ri.encode(Image.fromarray(portrait).transpose(ri.STORED_AS[orientation]), fmt,
                                                  **options))  # fmt: skip
    assert untagged.shape != portrait.shape or np.abs(untagged.astype(int) - portrait).mean() > 20


def _jpeg():
    return ri.encode(ri.photo("flower", (40, 56)), "JPEG", quality=90)


def _tiff_block(order, *, magic=42, ifd=8, count=1, tag=0x0112, kind=3, n=1, value=6, tail=b""):
    o = "<" if order == b"II" else ">"
    return order + struct.pack(o + "HI", magic, ifd) + struct.pack(o + "HHHIHH", count, tag, kind, n, value, 0) + tail


# Malformed or hostile EXIF blocks: each means "upright", never an error or a read past the buffer.
HOSTILE_APP1 = {
    "tiff header cut short": b"Exif\x00\x00II*\x00",
    "nothing after the Exif marker": b"Exif\x00\x00",
    "IFD0 offset past the block": b"Exif\x00\x00" + _tiff_block(b"II", ifd=0xFFFFFFF0),
    "IFD0 offset inside the header": b"Exif\x00\x00" + _tiff_block(b"II", ifd=2),
    "entry count larger than the block": b"Exif\x00\x00" + _tiff_block(b"MM", count=0xFFFF)[:-4],
    "orientation 0": b"Exif\x00\x00" + _tiff_block(b"II", value=0),
    "orientation 9": b"Exif\x00\x00" + _tiff_block(b"MM", value=9),
    "orientation 65535": b"Exif\x00\x00" + _tiff_block(b"II", value=65535),
    "orientation as ASCII": b"Exif\x00\x00" + _tiff_block(b"II", kind=2),
    "orientation with count 0": b"Exif\x00\x00" + _tiff_block(b"II", n=0),
    "unknown byte order": b"Exif\x00\x00" + b"XX" + _tiff_block(b"II")[2:],
    "wrong magic number": b"Exif\x00\x00" + _tiff_block(b"MM", magic=43),
    "IFD0's next-IFD pointer looping back to itself": b"Exif\x00\x00"
    + b"II" + struct.pack("<HI", 42, 8) + struct.pack("<HHHII", 1, 0x0100, 3, 1, 5) + struct.pack("<I", 8),
    "no Exif marker": b"Exix\x00\x00" + _tiff_block(b"II"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_APP1))
def test_a_malformed_exif_block_means_upright(name):
    jpeg = _jpeg()
    data = ri.insert_app1(jpeg, HOSTILE_APP1[name])
    assert int(decode.exif_orientation(tf.constant(data))) == 1
    np.testing.assert_array_equal(graph_decode(data), tf_raw(jpeg))
    np.testing.assert_array_equal(host_decode.decode_bytes(data), tf_raw(jpeg))


def test_hostile_segment_lengths_and_truncations_never_error_or_overread():
    jpeg = _jpeg()
    good = ri.insert_app1(jpeg, b"Exif\x00\x00" + _tiff_block(b"II"))
    assert int(decode.exif_orientation(tf.constant(good))) == 6  # the control: a valid block is read
    cases = [
        jpeg[:2] + b"\xff\xe1\xff\xff" + b"Exif\x00\x00" + _tiff_block(b"II"),  # length past the end of the file
        jpeg[:2] + b"\xff\xe1\x00\x01" + jpeg[2:],  # length below the 2 bytes of the length itself
        good[:20],  # the file cut inside the block
        jpeg[:2] + b"\xff\xe1",  # cut inside the segment header
        b"\xff\xd8\xff",
        b"",
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 0xFFFFFFF0) + b"eXIf" + _tiff_block(b"II"),  # PNG chunk too long
        b"RIFF\x00\x00\x00\x00WEBPEXIF" + struct.pack("<I", 0xFFFFFFFF) + _tiff_block(b"MM"),  # WebP chunk too long
    ]
    for data in cases:
        assert int(decode.exif_orientation(tf.constant(data))) in (1, 6), data[:16]


def test_big_endian_and_little_endian_blocks_in_png_and_webp_are_read():
    for order in (b"II", b"MM"):
        block = _tiff_block(order, value=8)
        png = ri.encode(ri.photo("coffee", (30, 40)), "PNG", exif=b"Exif\x00\x00" + block)
        webp = ri.encode(ri.photo("coffee", (30, 40)), "WEBP", lossless=True, exif=b"Exif\x00\x00" + block)
        for data in (png, webp, ri.insert_app1(_jpeg(), b"Exif\x00\x00" + block)):
            assert int(decode.exif_orientation(tf.constant(data))) == 8


@settings(max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.binary(max_size=200), order=st.sampled_from([b"II", b"MM"]))
def test_random_exif_blocks_give_an_orientation_and_never_an_error(payload, order):
    data = ri.insert_app1(_JPEG_FOR_FUZZ, b"Exif\x00\x00" + order + payload)
    orientation = int(decode.exif_orientation(tf.constant(data)))
    assert 1 <= orientation <= 8


_JPEG_FOR_FUZZ = ri.encode(np.full((8, 8, 3), 90, np.uint8), "JPEG")


@pytest.fixture(scope="module")
def flower():
    return ri.photo("flower", (60, 80))


def _formats(pixels):
    """{name: (bytes, what the decode must give, tolerance of the mean |difference|)} for one photo."""
    image = Image.fromarray(pixels)
    grey = np.asarray(image.convert("L"))
    palette = image.convert("P")
    sixteen = pixels.astype(np.uint16) * 256 + 100  # 16-bit samples whose high byte is the photo
    pages = io.BytesIO()
    image.save(pages, "TIFF", save_all=True, append_images=[Image.fromarray(255 - pixels)])
    import tifffile

    tiff16 = io.BytesIO()
    tifffile.imwrite(tiff16, sixteen, photometric="rgb")
    return {
        "jpeg": (ri.encode(image, "JPEG", quality=95), pixels, 5.0),
        "jpeg progressive": (ri.encode(image, "JPEG", quality=95, progressive=True), pixels, 5.0),
        "jpeg grey": (ri.encode(image.convert("L"), "JPEG", quality=95), np.repeat(grey[..., None], 3, -1), 2.0),
        "jpeg cmyk": (ri.encode(image.convert("CMYK"), "JPEG", quality=95), pixels, 4.0),
        "png": (ri.encode(image, "PNG"), pixels, 0),
        "png grey": (ri.encode(image.convert("L"), "PNG"), np.repeat(grey[..., None], 3, -1), 0),
        "png palette": (ri.encode(palette, "PNG"), np.asarray(palette.convert("RGB")), 0),
        "png 16-bit": (tf.io.encode_png(sixteen).numpy(), pixels, 0),
        "gif": (ri.encode(palette, "GIF"), np.asarray(palette.convert("RGB")), 0),
        "bmp": (ri.encode(image, "BMP"), pixels, 0),
        "webp lossless": (ri.encode(image, "WEBP", lossless=True), pixels, 0),
        "webp": (ri.encode(image, "WEBP", quality=95), pixels, 4.0),
        "tiff": (ri.encode(image, "TIFF"), pixels, 0),
        "tiff lzw": (ri.encode(image, "TIFF", compression="tiff_lzw"), pixels, 0),
        "tiff first page": (pages.getvalue(), pixels, 0),
        "tiff 16-bit": (tiff16.getvalue(), pixels, 0),
        "heic": (ri.encode(image, "HEIF", quality=95), pixels, 4.0),
        "avif": (ri.encode(image, "AVIF", quality=95), pixels, 4.0),
    }


FORMAT_NAMES = ["jpeg", "jpeg progressive", "jpeg grey", "jpeg cmyk", "png", "png grey", "png palette", "png 16-bit",
                "gif", "bmp", "webp lossless", "webp", "tiff", "tiff lzw", "tiff first page", "tiff 16-bit", "heic",
                "avif"]  # fmt: skip


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_every_common_format_decodes_to_the_photo(flower, name):
    data, expected, tolerance = _formats(flower)[name]
    decoded = host_decode.decode_bytes(data)
    assert decoded.dtype == np.uint8 and decoded.shape == expected.shape
    error = np.abs(decoded.astype(int) - expected.astype(int)).mean()
    assert error <= tolerance, (name, error)
    in_graph = host_decode.probe(data).host_reason is None
    assert in_graph == (name.split()[0] in ("jpeg", "png", "gif", "bmp", "webp"))
    if in_graph:  # the SavedModel's graph gives the very same pixels
        np.testing.assert_array_equal(graph_decode(data), decoded)


def test_transparency_is_composited_on_neutral_grey_in_the_graph_and_on_the_host(flower):
    alpha = np.tile(np.array([0, 64, 128, 255], np.uint8), 60 * 20).reshape(60, 80)
    rgba = np.dstack([flower, alpha])
    weight = alpha[..., None] / 255.0
    expected = np.round(flower * weight + decode.NEUTRAL_GREY * (1 - weight)).astype(np.uint8)
    for fmt in ("PNG", "WEBP", "TIFF"):
        options = {"lossless": True} if fmt == "WEBP" else {}
        decoded = host_decode.decode_bytes(ri.encode(Image.fromarray(rgba, "RGBA"), fmt, **options))
        assert np.abs(decoded.astype(int) - expected).max() <= 1, fmt
    grey_alpha = ri.encode(Image.fromarray(np.dstack([flower[..., 1], alpha]), "LA"), "PNG")
    expected_grey = np.round(flower[..., 1:2] * weight + decode.NEUTRAL_GREY * (1 - weight)).astype(np.uint8)
    np.testing.assert_array_equal(graph_decode(grey_alpha), np.repeat(expected_grey, 3, -1))


def _in_profile(pixels, profile_bytes):
    """The photo's sRGB pixels converted into another RGB space, as a phone or camera stores them."""
    profile = ImageCms.ImageCmsProfile(io.BytesIO(profile_bytes))
    return ImageCms.profileToProfile(Image.fromarray(pixels), ImageCms.createProfile("sRGB"), profile, outputMode="RGB")


@pytest.mark.parametrize("space", ["DISPLAY_P3", "ADOBE_RGB"])
@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "WEBP"])
def test_icc_profiles_are_converted_to_srgb(space, fmt):
    pixels = ri.photo("astronaut", (64, 64))
    profile = ri.rgb_profile(space.replace("_", " ").title(), **getattr(ri, space))
    stored = _in_profile(pixels, profile)
    data = ri.encode(stored, fmt, icc_profile=profile, **({"lossless": True} if fmt == "WEBP" else {}))
    assert host_decode.probe(data).host_reason is not None
    converted = np.abs(host_decode.decode_bytes(data).astype(int) - pixels).mean()
    ignored = np.abs(np.asarray(stored).astype(int) - pixels).mean()
    # Converting back lands on the sRGB photo; taking the stored values as sRGB would not.
    assert converted < 0.5 and ignored > 2, (converted, ignored)


@pytest.mark.parametrize("space", ["DISPLAY_P3", "ADOBE_RGB"])
def test_a_phone_jpeg_with_a_profile_is_the_graph_decode_converted_to_srgb(space):
    profile = ri.rgb_profile(space, **getattr(ri, space))
    data = ri.encode(_in_profile(ri.photo("astronaut", (64, 64)), profile), "JPEG", quality=95, icc_profile=profile)
    raw = Image.fromarray(tf_raw(data))  # the graph's pixels, before colour management
    expected = np.asarray(ImageCms.profileToProfile(raw, ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                                                    ImageCms.createProfile("sRGB"), outputMode="RGB"))  # fmt: skip
    decoded = host_decode.decode_bytes(data)
    assert np.abs(decoded.astype(int) - expected).max() <= 1
    assert np.abs(decoded.astype(int) - np.asarray(raw)).mean() > 2


def test_an_srgb_profile_stays_in_the_graph():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = ri.encode(ri.photo("coffee", (30, 40)), "JPEG", icc_profile=srgb)
    assert host_decode.probe(data).host_reason is None


def test_cmyk_with_a_print_profile_is_converted_through_it():
    pixels = ri.photo("coffee", (48, 64))
    cmyk = Image.fromarray(pixels).convert("CMYK")
    data = ri.encode(cmyk, "JPEG", quality=97, icc_profile=ri.cmyk_profile())
    stored = np.asarray(Image.open(io.BytesIO(data))).astype(np.float64) / 255
    expected = ri.srgb_encode(ri.print_model(stored))  # what the profile says the ink looks like
    decoded = host_decode.decode_bytes(data)
    naive = tf_raw(data)  # the graph's CMYK → RGB, blind to the paper and ink
    converted, ignored = (np.abs(x.astype(int) - expected).mean() for x in (decoded, naive))
    assert converted < 2.0 and ignored > 3 * converted, (converted, ignored)


@pytest.mark.parametrize(
    "name,header",
    [
        ("png", b"\x89PNG\r\n\x1a\n" + struct.pack(">I4sII", 13, b"IHDR", 40000, 40000) + b"\x08\x02\x00\x00\x00"),
        ("gif", b"GIF89a" + struct.pack("<HH", 60000, 60000) + b"\x00" * 8),
        ("bmp", b"BM" + b"\x00" * 12 + struct.pack("<Iii", 40, 50000, -50000) + b"\x00" * 40),
        ("webp", b"RIFF\x00\x00\x00\x00WEBPVP8X" + struct.pack("<I", 10) + b"\x00" * 4 + (59999).to_bytes(3, "little")
         + (59999).to_bytes(3, "little")),
    ],
)
def test_a_decompression_bomb_is_refused_before_decoding(name, header):
    with pytest.raises(tf.errors.InvalidArgumentError, match="too many pixels"):
        graph_decode(header)
    assert int(decode.declared_pixels(tf.constant(header))) > decode.MAX_PIXELS
    with pytest.raises(host_decode.ImageError, match="too many pixels"):
        host_decode.decode_bytes(header)


def test_a_jpeg_bomb_and_the_configurable_limit(flower):
    jpeg = ri.encode(Image.fromarray(flower), "JPEG")
    with pytest.raises(tf.errors.InvalidArgumentError, match="too many pixels"):
        graph_decode(jpeg, max_pixels=60 * 80 - 1)
    with pytest.raises(host_decode.ImageError, match="too many pixels"):
        host_decode.decode_bytes(jpeg, max_pixels=60 * 80 - 1)
    assert graph_decode(jpeg, max_pixels=60 * 80).shape == (60, 80, 3)


def test_a_missing_extra_is_named(monkeypatch):
    heic = ri.encode(ri.photo("coffee", (30, 40)), "HEIF")
    monkeypatch.setattr(host_decode, "HEIF_AVAILABLE", False)
    with pytest.raises(host_decode.ImageError, match=r"pip install 'pear_tf\[heif\]'"):
        host_decode.probe(heic)


def test_unknown_and_damaged_data_get_a_reason():
    with pytest.raises(host_decode.ImageError, match="unknown image format"):
        host_decode.decode_bytes(b"<html>not a photo</html>")
    with pytest.raises(host_decode.ImageError, match="TIFF whose header is damaged"):
        host_decode.decode_bytes(b"II*\x00\xff\xff\xff\x7f")
    heic = ri.encode(ri.photo("coffee", (30, 40)), "HEIF")
    with pytest.raises(host_decode.ImageError, match="not decodable|damaged"):
        host_decode.decode_bytes(heic[: len(heic) // 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="unknown image format"):
        graph_decode(b"<html>not a photo</html>")


def test_large_jpegs_decode_at_a_dct_scale_on_both_paths():
    pixels = np.asarray(Image.fromarray(ri.photo("chelsea")).resize((1200, 800), Image.Resampling.LANCZOS))
    data = ri.encode(pixels, "JPEG", quality=92)
    assert [int(decode.dct_ratio_index(800, 1200, side)) for side in (73, 100, 200, 400, 401)] == [3, 3, 2, 1, 0]
    graph = graph_decode(data, target_side=100)
    assert graph.shape == (100, 150, 3)  # 1/8 keeps the short side at 100 ≥ 100
    with Image.open(io.BytesIO(data)) as image:  # Pillow's draft picks the same scale
        image.draft(None, (100, 100))
        assert image.size == (150, 100)
    full = tf.image.resize(graph_decode(data).astype(np.float32), [100, 150], antialias=True).numpy()
    assert np.abs(full - graph).mean() < 2.0  # the scaled decode is the downscale, not another picture
