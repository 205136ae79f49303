"""Real photographs from installed packages, stored the way phones, cameras and editors store them.

The photos are not the project's: scikit-learn's china.jpg and flower.jpg and scikit-image's
astronaut, coffee and chelsea. The tests turn them into each EXIF orientation, format and
colour profile here. The ICC profiles are written from published primaries (Display P3,
Adobe RGB 1998) and, for CMYK, from a simple print model: LittleCMS reads them as it reads a
camera's or a print shop's.
"""

import io
import struct

import numpy as np
from PIL import Image

# PIL's exif_transpose undoes these; storing an upright photo with the inverse gives a tagged copy.
STORED_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


# The transposition PIL's exif_transpose applies for each orientation.
EXIF_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def photo(name="china", size=None):
    """uint8 RGB [H, W, 3] of a real photograph shipped in a package (cropped to a portrait if ``size``)."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        pixels = load_sample_image(f"{name}.jpg")
    else:
        import skimage.data

        pixels = getattr(skimage.data, name)()
    if size:
        pixels = np.asarray(Image.fromarray(pixels).resize(size[::-1], Image.Resampling.LANCZOS))
    return np.ascontiguousarray(pixels[..., :3])


def encode(image, fmt, **options):
    """Bytes of a PIL image (or uint8 array) saved as ``fmt``."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def exif_block(orientation, little=True):
    """A TIFF-structured EXIF block whose IFD0 holds one Orientation entry."""
    order = "<" if little else ">"
    return (b"II" if little else b"MM") + struct.pack(order + "HI", 42, 8) + struct.pack(
        order + "HHHIHHI", 1, 0x0112, 3, 1, orientation, 0, 0
    )


def with_orientation(pixels, orientation, fmt="JPEG", **options):
    """An upright photo stored rotated/flipped with the EXIF ``orientation`` that turns it upright again."""
    image = Image.fromarray(pixels)
    if STORED_AS[orientation] is not None:
        image = image.transpose(STORED_AS[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, fmt, exif=exif.tobytes(), **options)


def insert_app1(jpeg, payload):
    """A JPEG with an APP1 segment (payload as given, its length field from the payload) after SOI."""
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


# ---- ICC profiles ------------------------------------------------------------------------------

_D50 = np.array([0.9642, 1.0, 0.8249])
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
SRGB_TO_XYZ_D50 = np.array(
    [[0.4360747, 0.3850649, 0.1430804], [0.2225045, 0.7168786, 0.0606169], [0.0139322, 0.0971045, 0.7141733]]
)


def _xyz(x, y):
    return np.array([x / y, 1.0, (1 - x - y) / y])


def rgb_to_xyz_d50(primaries, white):
    """The D50-adapted RGB → XYZ matrix of an RGB space (Bradford), as ICC colorant tags hold it."""
    columns = np.stack([_xyz(*p) for p in primaries], axis=1)
    scale = np.linalg.solve(columns, _xyz(*white))
    matrix = columns * scale
    source, target = _BRADFORD @ _xyz(*white), _BRADFORD @ _D50
    adapt = np.linalg.inv(_BRADFORD) @ np.diag(target / source) @ _BRADFORD
    return adapt @ matrix


def _s15(values):
    return b"".join(struct.pack(">i", int(round(v * 65536))) for v in values)


def _profile(device_class, space, pcs, tags):
    """An ICC v2 profile from (signature, tag data) pairs."""
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    entries, blobs = [], b""
    for signature, data in tags:
        data += b"\x00" * (-len(data) % 4)
        entries.append(struct.pack(">4sII", signature, offset + len(blobs), len(data)))
        blobs += data
    size = offset + len(blobs)
    header = struct.pack(">I4sI4s4s4s", size, b"lcms", 0x02100000, device_class, space, pcs)
    # date, 'acsp', platform, flags, manufacturer, model, attributes, intent; the D50 illuminant; creator, id.
    header += struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"\x00" * 28 + _s15(_D50) + b"\x00" * 48
    return header + struct.pack(">I", len(tags)) + b"".join(entries) + blobs


def _description(text):
    ascii_text = text.encode("ascii") + b"\x00"
    return b"desc" + b"\x00" * 4 + struct.pack(">I", len(ascii_text)) + ascii_text + b"\x00" * 8 + b"\x00" * 70


def rgb_profile(name, primaries, white, gamma):
    """A matrix/TRC ICC profile (what phones and cameras embed) for an RGB space with a pure-gamma curve."""
    matrix = rgb_to_xyz_d50(primaries, white)
    curve = b"curv" + b"\x00" * 4 + struct.pack(">IH", 1, int(round(gamma * 256)))
    xyz = lambda v: b"XYZ " + b"\x00" * 4 + _s15(v)  # noqa: E731
    tags = [(b"desc", _description(name)), (b"wtpt", xyz(_D50)), (b"cprt", b"text" + b"\x00" * 4 + b"none\x00")]
    tags += [(sig, xyz(matrix[:, i])) for i, sig in enumerate((b"rXYZ", b"gXYZ", b"bXYZ"))]
    tags += [(sig, curve) for sig in (b"rTRC", b"gTRC", b"bTRC")]
    return _profile(b"mntr", b"RGB ", b"XYZ ", tags)


DISPLAY_P3 = dict(primaries=[(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)], white=(0.3127, 0.3290), gamma=2.2)
ADOBE_RGB = dict(primaries=[(0.640, 0.330), (0.210, 0.710), (0.150, 0.060)], white=(0.3127, 0.3290), gamma=563 / 256)


def lab(rgb):
    """CIE L*a*b* (D50) of linear-light sRGB-primaries RGB in 0..1, [..., 3]."""
    xyz = rgb @ SRGB_TO_XYZ_D50.T / _D50
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def print_model(cmyk):
    """Linear sRGB 0..1 of CMYK ink 0..1 [..., 4] on a warm paper: the colour the test's CMYK profile encodes."""
    c, m, y, k = np.moveaxis(cmyk, -1, 0)
    paper = np.array([0.97, 0.93, 0.82])
    inks = np.stack([(1 - c), (1 - m), (1 - y)], -1) * (1 - k)[..., None]
    return (inks**2.2) * paper


def cmyk_profile(name="test warm-paper CMYK", grid=9):
    """A LUT-based CMYK → Lab ICC profile (lut16 A2B0) of print_model: a print shop's kind of profile."""
    axis = np.linspace(0, 1, grid)
    cmyk = np.stack(np.meshgrid(axis, axis, axis, axis, indexing="ij"), -1).reshape(-1, 4)
    values = lab(print_model(cmyk))
    encoded = np.stack([values[:, 0] * 652.80, (values[:, 1] + 128) * 256, (values[:, 2] + 128) * 256], -1)
    clut = np.clip(np.round(encoded), 0, 65535).astype(">u2").tobytes()
    identity = _s15([1, 0, 0, 0, 1, 0, 0, 0, 1])
    ramp = np.linspace(0, 65535, 256).round().astype(">u2").tobytes()
    lut = b"mft2" + b"\x00" * 4 + struct.pack(">BBBB", 4, 3, grid, 0) + identity + struct.pack(">HH", 256, 256)
    lut += ramp * 4 + clut + ramp * 3
    xyz = b"XYZ " + b"\x00" * 4 + _s15(_D50)
    tags = [(b"desc", _description(name)), (b"wtpt", xyz), (b"cprt", b"text" + b"\x00" * 4 + b"none\x00"), (b"A2B0", lut)]
    return _profile(b"prtr", b"CMYK", b"Lab ", tags)


def srgb_encode(linear):
    """sRGB-encoded uint8 of linear-light values 0..1."""
    linear = np.clip(linear, 0, 1)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.round(encoded * 255).astype(np.uint8)
