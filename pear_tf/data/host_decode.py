"""The one decode, on the host: any common image file → upright sRGB uint8 RGB pixels.

Every Python path (data readers, TFDS builders, the resized cache, predict, explain, Beam,
both servers, TFLite's host preprocessing) decodes here. A file the SavedModel's graph can
decode exactly (JPEG, PNG, GIF, BMP, WebP without a colour profile to apply) goes through
that very graph function (pear_tf/data/decode.py), run eagerly, so its pixels equal what
TF Serving computes from the same bytes. The rest is decoded with Pillow:

- TIFF (first page), HEIC/HEIF (the ``heif`` extra: pillow-heif) and AVIF (Pillow's own);
- an embedded ICC profile other than sRGB (Display P3 from phones, Adobe RGB from cameras,
  a CMYK print profile) converted to sRGB with LittleCMS (Pillow's ImageCms);
- the EXIF orientation (PIL's exif_transpose; HEIF's own rotation is applied by pillow-heif);
- 16-bit samples scaled to 8 bits (the high byte, as TensorFlow's PNG decoder does);
- transparency composited on neutral grey by the graph's own ``to_rgb``;
- a large JPEG decoded at a DCT scale (Pillow's ``draft``) by the same rule as the graph.

Every check happens before decoding: empty data, an unknown format, a format whose extra is
not installed, a header declaring more than ``max_pixels`` pixels (a decompression bomb).
Problems raise ImageError, whose message says what is wrong and what to do.
"""

import dataclasses
import functools
import io
import struct
import warnings

import numpy as np
import tensorflow as tf
from absl import logging
from PIL import Image, ImageCms, ImageOps, features

from pear_tf.data import decode
from pear_tf.errors import op_error_summary

try:  # the heif extra: HEIC/HEIF
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_AVAILABLE = True
except ImportError:
    HEIF_AVAILABLE = False

MAX_PIXELS = decode.MAX_PIXELS
# Formats decoded here with Pillow (PIL's names), besides those of decode.GRAPH_FORMATS.
HOST_FORMATS = ("TIFF", "HEIF", "AVIF")
SUPPORTED = "JPEG, PNG, GIF, BMP, WebP, TIFF, HEIC/HEIF or AVIF"
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1")
_AVIF_BRANDS = (b"avif", b"avis")


class ImageError(ValueError):
    """Encoded data that cannot be used as an image; the message names the problem.

    ``index``: which image of a batch, when the caller knows (else None).
    """

    def __init__(self, message, index=None):
        super().__init__(message)
        self.index = index


@dataclasses.dataclass(frozen=True)
class Header:
    """What the header of an encoded image says, read without decoding it.

    Attributes:
      format: PIL's name of the format (JPEG, PNG, TIFF, HEIF, ...).
      width, height: as stored (before the EXIF orientation).
      mode: PIL's mode of the stored pixels (RGB, CMYK, I;16, ...).
      icc: the embedded ICC profile to convert from, or None (none, or sRGB already).
    """

    format: str
    width: int
    height: int
    mode: str
    icc: bytes | None = None

    @property
    def host_reason(self):
        """Why the SavedModel's graph cannot decode it exactly (the host must), or None."""
        if self.format not in decode.GRAPH_FORMATS:
            return f"{self.format} is decoded on the host"
        if self.icc:
            return "its ICC colour profile is converted to sRGB on the host"
        return None


def _container_brand(data):
    """'HEIF', 'AVIF' or None from an ISO-BMFF ``ftyp`` box (readable without any plugin)."""
    if data[4:8] != b"ftyp":
        return None
    major = data[8:12]
    compatible = [data[i : i + 4] for i in range(16, min(len(data), int.from_bytes(data[:4], "big"), 256), 4)]
    if major in _AVIF_BRANDS:
        return "AVIF"
    if major in _HEIF_BRANDS or any(b in _HEIF_BRANDS for b in compatible):
        return "HEIF"
    return "AVIF" if any(b in _AVIF_BRANDS for b in compatible) else None


def _magic_format(data):
    """The format named by the first bytes, for messages about files whose header is damaged; else None."""
    magic = {b"\xff\xd8\xff": "JPEG", b"\x89PNG": "PNG", b"GIF8": "GIF", b"BM": "BMP", b"II*\x00": "TIFF",
             b"MM\x00*": "TIFF"}  # fmt: skip
    found = next((name for prefix, name in magic.items() if data.startswith(prefix)), None)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        found = "WebP"
    return found or _container_brand(data)


def _missing_plugin(data):
    """The message for a format Pillow could read with a plugin that is not installed, else None."""
    brand = _container_brand(data)
    if brand == "HEIF" and not HEIF_AVAILABLE:
        return "HEIC/HEIF images need the heif extra: pip install 'pear_tf[heif]' (pillow-heif)"
    if brand == "AVIF" and not features.check("avif"):
        return "AVIF images need a Pillow built with AVIF (Pillow 11.3 or newer: pip install -U pillow)"
    return None


@functools.lru_cache(maxsize=64)
def is_srgb(icc):
    """True when an ICC profile is (a copy of) sRGB, so converting would change nothing but rounding."""
    try:
        description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))) or ""
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return True  # an unreadable profile cannot be applied: the pixels are taken as sRGB
    return "srgb" in description.lower().replace(" ", "").replace("-", "")


def declared_size(data):
    """(width, height) that a PNG, GIF, BMP or WebP header declares, read with struct; None for others.

    Read before PIL opens the file, so a bomb whose header is all there is still gets its own message.
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:4] == b"GIF8" and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"BM" and len(data) >= 26:
        if struct.unpack("<I", data[14:18])[0] == 12:
            return struct.unpack("<HH", data[18:22])
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        if data[12:16] == b"VP8X":
            return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
        if data[12:16] == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return struct.unpack("<H", data[26:28])[0] & 0x3FFF, struct.unpack("<H", data[28:30])[0] & 0x3FFF
    return None


def _check_pixels(width, height, max_pixels):
    if width * height > max_pixels:
        raise ImageError(
            f"too many pixels: {width}x{height} declared, over the limit of {max_pixels} (a decompression bomb?)"
        )


def probe(data, max_pixels=MAX_PIXELS):
    """The Header of encoded ``data``, from its header alone; raises ImageError if it cannot be used."""
    if not data:
        raise ImageError("empty (zero bytes)")
    missing = _missing_plugin(data)
    if missing:
        raise ImageError(missing)
    _check_pixels(*(declared_size(data) or (0, 0)), max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)  # "Corrupt EXIF data": the orientation is then ignored
            with Image.open(io.BytesIO(data), formats=decode.GRAPH_FORMATS + HOST_FORMATS) as image:
                icc = image.info.get("icc_profile") or None
                header = Header(image.format, image.width, image.height, image.mode, None if is_srgb(icc or b"") else icc)
    except Image.DecompressionBombError:
        raise ImageError("too many pixels declared (decompression bomb)") from None
    except Exception:  # noqa: BLE001 - PIL raises several types for data it cannot identify
        known = _magic_format(data)
        if known:
            raise ImageError(f"not decodable: a {known} whose header is damaged or truncated") from None
        raise ImageError(f"unknown image format or unreadable header; send {SUPPORTED}") from None
    _check_pixels(header.width, header.height, max_pixels)
    return header


@functools.lru_cache(maxsize=None)
def _graph_decoder(target_side, max_pixels):
    return tf.function(
        lambda data: decode.decode_image(data, target_side, max_pixels),
        input_signature=[tf.TensorSpec([], tf.string)],
    )


def decode_bytes(data, target_side=None, max_pixels=MAX_PIXELS):
    """Encoded image bytes → upright sRGB uint8 [H, W, 3] (numpy).

    Args:
      data: the file's bytes, any format of SUPPORTED.
      target_side: the side the image will be resized to (preprocessing.resize_size), so a
        large JPEG is decoded at a DCT scale; None decodes full size.
      max_pixels: a larger declared size is refused before decoding.

    Raises:
      ImageError: the data cannot be used; the message says why.
    """
    header = probe(data, max_pixels)
    try:
        if header.format in decode.GRAPH_FORMATS and not (header.mode == "CMYK" and header.icc):
            # The graph's own decode; only the colour profile is the host's.
            pixels = _graph_decoder(target_side, max_pixels)(tf.constant(data)).numpy()
            return np.asarray(_to_srgb(Image.fromarray(pixels), header.icc)) if header.icc else pixels
        return decode.to_rgb(_pillow_decode(data, header, target_side)).numpy()
    except tf.errors.InvalidArgumentError as e:
        raise ImageError(f"not decodable: {op_error_summary(e.message)}") from None
    except Exception as e:  # noqa: BLE001 - Pillow and its plugins raise many types for damaged data
        raise ImageError(f"not decodable: {str(e).strip() or type(e).__name__}") from None


def decode_file(path, target_side=None, max_pixels=MAX_PIXELS):
    """decode_bytes of a file's contents; OSError if it cannot be read."""
    with open(path, "rb") as f:
        return decode_bytes(f.read(), target_side, max_pixels)


def _pillow_decode(data, header, target_side):
    """uint8 [H, W, C] (C = 1..4, upright, sRGB) with Pillow: formats and colours the graph cannot decode."""
    with Image.open(io.BytesIO(data)) as image:
        if target_side and image.format == "JPEG":
            image.draft(None, (target_side, target_side))  # the DCT scale rule of decode.dct_ratio_index
        image.load()
        image = _upright(image)
        return _native_array(_to_srgb(image, header.icc) if header.icc else image)


def _upright(image):
    try:
        return ImageOps.exif_transpose(image)
    except Exception as e:  # noqa: BLE001 - a malformed EXIF block means "upright", as in the graph
        logging.debug("EXIF orientation ignored: %s", e)
        return image


_SRGB = ImageCms.createProfile("sRGB")


@functools.lru_cache(maxsize=32)
def _transform(icc, mode):
    """A LittleCMS transform from an embedded profile (``mode`` pixels) to sRGB, built once per profile."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    return ImageCms.buildTransform(source, _SRGB, mode, "RGBA" if mode == "RGBA" else "RGB", ImageCms.Intent.PERCEPTUAL)


def _to_srgb(image, icc):
    """``image`` converted from its embedded profile to sRGB (as is, with a warning, if that fails)."""
    if image.mode in ("LA", "PA", "P", "RGBa", "La"):
        image = image.convert("RGBA")
    if image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        image = image.convert("RGB")
    try:
        return ImageCms.applyTransform(image, _transform(icc, image.mode))
    except (ImageCms.PyCMSError, OSError, ValueError) as e:
        logging.warning("Could not apply the image's ICC profile (%s); its pixels are taken as sRGB.", e)
        return image


def _native_array(image):
    """uint8 [H, W, C] of a PIL image: 16-bit scaled to 8, palettes expanded, alpha kept for to_rgb."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image, np.int64)
        return np.clip(values >> 8, 0, 255).astype(np.uint8)[..., None]
    if mode == "F":
        values = np.asarray(image, np.float64)
        scale = 255.0 if values.size and np.nanmax(values) <= 1.0 else 1.0
        return np.clip(np.nan_to_num(values * scale).round(), 0, 255).astype(np.uint8)[..., None]
    if mode in ("L", "LA", "RGB", "RGBA"):
        array = np.asarray(image, np.uint8)
        return array[..., None] if array.ndim == 2 else array
    if (mode == "P" and "transparency" in image.info) or mode in ("PA", "RGBa", "La"):
        return np.asarray(image.convert("RGBA"), np.uint8)
    if mode == "LAB":
        return np.asarray(ImageCms.profileToProfile(image, ImageCms.createProfile("LAB"), _SRGB, outputMode="RGB"))
    return np.asarray(image.convert("RGB"), np.uint8)  # 1, P, CMYK without a profile, YCbCr, RGBX, ...
