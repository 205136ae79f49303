"""The one decode, in TensorFlow ops: encoded bytes → upright RGB uint8 pixels.

The SavedModel's ``serving_default`` runs this function in its graph, so a TF Serving binary
(which never runs this project's Python) gets the same pixels as ``pear_tf.predict``, Beam,
the servers and the data readers, which run it eagerly (pear_tf/data/host_decode.py routes
to it every file TensorFlow can decode). What it does, in order:

1. the format from its magic bytes: JPEG, PNG, GIF (first frame), BMP or WebP;
2. refuses an image whose header declares more than ``max_pixels`` pixels (a decompression
   bomb) before any pixel is decoded;
3. decodes; a large JPEG at the smallest DCT scale (1/2, 1/4, 1/8) that still leaves its
   short side at least ``target_side`` (the model's resize side), as libjpeg's scaled
   IDCT does for free; grey is expanded to RGB, 16-bit PNG scaled to 8 bits (high byte),
   transparency composited on neutral grey;
4. applies the EXIF orientation (JPEG APP1, PNG eXIf, WebP EXIF): the parse reads only
   bounded slices of the bytes, follows no pointer but IFD0's, and answers "upright" for
   anything malformed or hostile: it never errors and never reads past the buffer.

Colour management (ICC profiles), CMYK with a profile, TIFF, HEIC/HEIF and AVIF are the host's
(pear_tf/data/host_decode.py); BUILD_NOTES.md says which path does what.
"""

import tensorflow as tf

# Formats this graph decodes, by PIL's names (the host decode uses the same names).
GRAPH_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP")
# Default pixel limit: a 102 MP medium-format photo passes, a header declaring 1e9 pixels does not.
MAX_PIXELS = 120_000_000
# Transparent pixels are shown on mid-grey: neither black nor white biases the score.
NEUTRAL_GREY = 128.0

_UNKNOWN, _JPEG, _PNG, _GIF, _BMP, _WEBP = range(6)
_SCAN_STEPS = 64  # JPEG segments / PNG or RIFF chunks walked looking for the EXIF block
_EXIF_BYTES = 65536  # an EXIF block is at most one JPEG segment long
_IFD_ENTRIES = 256  # IFD0 entries read at most (cameras write about 10-30)
_DCT_RATIOS = (1, 2, 4, 8)


def _i64(value):
    return tf.constant(value, tf.int64)


def _read(data, start, length):
    """int64 [length]: data[start:start + length], zeros past either end; never reads outside."""
    size = tf.cast(tf.strings.length(data), tf.int64)
    start = tf.cast(start, tf.int64)
    begin = tf.clip_by_value(start, 0, size)
    piece = tf.io.decode_raw(tf.strings.substr(data, begin, length), tf.uint8)
    piece = tf.cast(piece, tf.int64)
    piece = tf.pad(piece, [[0, length - tf.shape(piece, out_type=tf.int64)[0]]])
    return tf.where(start >= 0, piece, tf.zeros_like(piece))


def _number(window, offset, size, little):
    """Unsigned integer of ``size`` bytes at ``offset`` of an int64 byte vector (any shape of offsets)."""
    last = tf.cast(tf.shape(window)[0] - 1, tf.int64)
    index = tf.clip_by_value(offset[..., None] + tf.range(size, dtype=tf.int64), 0, last)
    values = tf.gather(window, index)
    shifts = tf.range(size, dtype=tf.int64) * 8
    shifts = tf.where(little, shifts, tf.reverse(shifts, [0]))
    return tf.reduce_sum(tf.bitwise.left_shift(values, shifts), axis=-1)


def _is(window, offset, text):
    expected = tf.constant([ord(c) for c in text], tf.int64)
    return tf.reduce_all(tf.gather(window, offset + tf.range(len(text), dtype=tf.int64)) == expected)


def image_format(data):
    """int32 code of the format named by the first bytes of ``data`` (see _JPEG ...)."""
    head = _read(data, 0, 12)
    codes = [
        (tf.reduce_all(head[:3] == [0xFF, 0xD8, 0xFF]), _JPEG),
        (_is(head, 0, "\x89PNG\r\n\x1a\n"), _PNG),
        (_is(head, 0, "GIF8"), _GIF),
        (_is(head, 0, "BM"), _BMP),
        (_is(head, 0, "RIFF") & _is(head, 8, "WEBP"), _WEBP),
    ]
    code = tf.constant(_UNKNOWN)
    for match, value in reversed(codes):
        code = tf.where(match, value, code)
    return code


def _walk(data, start, step):
    """(offset, length) of the EXIF block found by ``step`` walking segments from ``start``; (-1, 0) if none.

    ``step(data, position) → (next position or -1 to stop, block offset or -1, block length)``.
    """

    def body(i, position, found, length):
        next_position, offset, size = step(data, position)
        return i + 1, next_position, offset, size

    def more(i, position, found, length):
        return (i < _SCAN_STEPS) & (position >= 0) & (found < 0)

    initial = (tf.constant(0), _i64(start), _i64(-1), _i64(0))
    _, _, found, length = tf.while_loop(more, body, initial)
    return found, length


def _jpeg_step(data, position):
    head = _read(data, position, 10)
    marker = head[1]
    length = head[2] * 256 + head[3]
    standalone = (marker == 0x01) | ((marker >= 0xD0) & (marker <= 0xD7))
    stop = (head[0] != 0xFF) | (marker == 0xDA) | (marker == 0xD9) | (~standalone & (marker != 0xFF) & (length < 2))
    exif = (marker == 0xE1) & _is(head, 4, "Exif\x00\x00") & (length >= 8)
    advance = tf.where(marker == 0xFF, _i64(1), tf.where(standalone, _i64(2), 2 + length))
    next_position = tf.where(stop | exif, _i64(-1), position + advance)
    return next_position, tf.where(exif, position + 10, _i64(-1)), tf.where(exif, length - 8, _i64(0))


def _png_step(data, position):
    head = _read(data, position, 8)
    length = _number(head, tf.constant(0, tf.int64), 4, False)
    exif = _is(head, 4, "eXIf")
    stop = _is(head, 4, "IDAT") | _is(head, 4, "IEND") | (length > 2**31)
    next_position = tf.where(stop | exif, _i64(-1), position + 12 + length)
    return next_position, tf.where(exif, position + 8, _i64(-1)), tf.where(exif, length, _i64(0))


def _webp_step(data, position):
    head = _read(data, position, 14)
    length = _number(head, tf.constant(4, tf.int64), 4, True)
    exif = _is(head, 0, "EXIF")
    prefixed = exif & _is(head, 8, "Exif\x00\x00")  # some writers keep JPEG's APP1 prefix
    stop = _is(head, 0, "\x00\x00\x00\x00")
    next_position = tf.where(stop | exif, _i64(-1), position + 8 + length + length % 2)
    offset = tf.where(exif, position + tf.where(prefixed, _i64(14), _i64(8)), _i64(-1))
    return next_position, offset, tf.where(exif, length - tf.where(prefixed, _i64(6), _i64(0)), _i64(0))


def _tiff_orientation(data, offset, length):
    """The Orientation (0x0112) of IFD0 in the TIFF-structured block at ``offset``; 1 if absent or malformed."""
    available = tf.cast(tf.strings.length(data), tf.int64) - offset
    length = tf.clip_by_value(tf.minimum(length, available), 0, _EXIF_BYTES)
    block = tf.concat([_read(data, offset, _EXIF_BYTES), tf.zeros([8], tf.int64)], 0)
    little = _is(block, 0, "II")
    big = _is(block, 0, "MM")

    def number(at, size):
        value = _number(block, at, size, little)
        return tf.where((at >= 0) & (at + size <= length), value, _i64(-1))  # -1: outside the block

    zero = _i64(0)
    ifd = number(zero + 4, 4)
    count = number(ifd, 2)
    usable = tf.clip_by_value(tf.minimum(count, (length - ifd - 2) // 12), 0, _IFD_ENTRIES)
    entries = ifd + 2 + 12 * tf.range(_IFD_ENTRIES, dtype=tf.int64)
    tags, types, counts = number(entries, 2), number(entries + 2, 2), number(entries + 4, 4)
    values = tf.where(types == 3, number(entries + 8, 2), number(entries + 8, 4))
    match = (tf.range(_IFD_ENTRIES, dtype=tf.int64) < usable) & (tags == 0x0112) & ((types == 3) | (types == 4))
    match &= counts >= 1
    value = tf.gather(values, tf.argmax(tf.cast(match, tf.int32)))
    valid = (little | big) & (number(zero + 2, 2) == 42) & (ifd >= 8) & tf.reduce_any(match)
    valid &= (count >= 0) & (ifd + 2 + 12 * count <= length)  # every entry it declares is inside the block
    valid &= (value >= 1) & (value <= 8)
    return tf.cast(tf.where(valid, value, _i64(1)), tf.int32)


def exif_orientation(data, fmt=None):
    """int32 EXIF orientation 1..8 of encoded ``data`` (1 when there is none or it cannot be trusted)."""
    fmt = image_format(data) if fmt is None else fmt
    walks = {
        _JPEG: lambda: _walk(data, 2, _jpeg_step),
        _PNG: lambda: _walk(data, 8, _png_step),
        _WEBP: lambda: _walk(data, 12, _webp_step),
    }
    none = (_i64(-1), _i64(0))
    offset, length = tf.switch_case(
        fmt, [walks.get(code, lambda: none) for code in range(_WEBP + 1)]
    )
    return tf.cond(offset >= 0, lambda: _tiff_orientation(data, offset, length), lambda: tf.constant(1))


def apply_orientation(image, orientation):
    """``image`` [H, W, C] turned upright for an EXIF ``orientation`` (1..8), as PIL's ImageOps.exif_transpose."""
    def transposed():
        # A gather, not a Transpose: on this TF build a uint8 or int32 Transpose kernel (and Grappler
        # makes one of any cast around it) logs a oneDNN error line in every process that builds it.
        shape = tf.shape(image)
        index = tf.range(shape[1])[:, None] + tf.range(shape[0])[None, :] * shape[1]  # [W, H]: row-major source
        return tf.gather(tf.reshape(image, [-1, shape[2]]), index)

    branches = [
        lambda: image,
        lambda: image[:, ::-1],
        lambda: image[::-1, ::-1],
        lambda: image[::-1],
        transposed,
        lambda: transposed()[:, ::-1],  # 90° clockwise
        lambda: transposed()[::-1, ::-1],
        lambda: transposed()[::-1],  # 90° counter-clockwise
    ]
    return tf.switch_case(tf.clip_by_value(orientation, 1, 8) - 1, branches)


def declared_pixels(data, fmt=None):
    """int64 width×height that the header of ``data`` declares, read without decoding; -1 if unknown."""
    fmt = image_format(data) if fmt is None else fmt
    head = _read(data, 0, 32)
    le = lambda at, size: _number(head, tf.constant(at, tf.int64), size, True)  # noqa: E731
    be = lambda at, size: _number(head, tf.constant(at, tf.int64), size, False)  # noqa: E731

    def jpeg():
        shape = tf.cast(tf.image.extract_jpeg_shape(data), tf.int64)
        return shape[0] * shape[1]

    def bmp():
        core = le(14, 4) == 12  # BITMAPCOREHEADER: 16-bit sides
        height = tf.where(core, le(20, 2), le(22, 4))
        height = tf.where(~core & (height >= 2**31), 2**32 - height, height)  # top-down BMPs: negative height
        return tf.where(core, le(18, 2), le(18, 4)) * height

    def webp():
        vp8 = le(26, 2) % 16384 * (le(28, 2) % 16384)
        bits = le(21, 4)
        vp8l = (bits % 16384 + 1) * (bits // 16384 % 16384 + 1)
        vp8x = (le(24, 3) + 1) * (le(27, 3) + 1)
        return tf.where(_is(head, 12, "VP8X"), vp8x, tf.where(_is(head, 12, "VP8L"), vp8l, vp8))

    branches = {
        _JPEG: jpeg,
        _PNG: lambda: be(16, 4) * be(20, 4),
        _GIF: lambda: le(6, 2) * le(8, 2),
        _BMP: bmp,
        _WEBP: webp,
    }
    unknown = lambda: tf.constant(-1, tf.int64)  # noqa: E731
    return tf.switch_case(fmt, [branches.get(code, unknown) for code in range(_WEBP + 1)])


def to_rgb(image):
    """uint8 [H, W, 3] from [H, W, C] with C = 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA).

    Alpha is composited on NEUTRAL_GREY (rounded), so transparent areas are neither black nor white.
    """
    image = tf.convert_to_tensor(image, tf.uint8)

    def composite(colour, alpha):
        alpha = tf.cast(alpha, tf.float32) / 255.0
        mixed = tf.cast(colour, tf.float32) * alpha + NEUTRAL_GREY * (1.0 - alpha)
        return tf.cast(tf.round(mixed), tf.uint8)

    channels = tf.shape(image)[-1]
    grey = lambda x: tf.tile(x, [1, 1, 3])  # noqa: E731
    branches = [
        lambda: grey(image[..., :1]),
        lambda: grey(composite(image[..., :1], image[..., 1:2])),
        lambda: image[..., :3],
        lambda: composite(image[..., :3], image[..., 3:4]),
    ]
    if image.shape[-1] is not None:  # known when traced (e.g. the host's arrays): no branch to build
        rgb = branches[min(max(image.shape[-1], 1), 4) - 1]()
    else:
        rgb = tf.switch_case(tf.clip_by_value(channels, 1, 4) - 1, branches)
    rgb.set_shape([None, None, 3])
    return rgb


def dct_ratio_index(height, width, target_side):
    """Index into (1, 2, 4, 8) of the largest JPEG DCT scale keeping the short side ≥ target_side."""
    short = tf.minimum(height, width)
    index = tf.constant(0)
    for i, ratio in enumerate(_DCT_RATIOS[1:], start=1):
        index = tf.where(short // ratio >= target_side, i, index)
    return index


def _decode_jpeg(data, target_side):
    if not target_side:
        return tf.io.decode_jpeg(data, channels=3)
    shape = tf.image.extract_jpeg_shape(data)
    index = dct_ratio_index(shape[0], shape[1], target_side)
    return tf.switch_case(index, [lambda r=r: tf.io.decode_jpeg(data, channels=3, ratio=r) for r in _DCT_RATIOS])


def decode_image(data, target_side=None, max_pixels=MAX_PIXELS):
    """Encoded image bytes (a tf.string scalar) → upright uint8 RGB [H, W, 3].

    Args:
      data: JPEG, PNG, GIF (first frame), BMP or WebP bytes; anything else raises
        InvalidArgumentError (the host decode takes those formats).
      target_side: the side the image will be resized to (preprocessing.resize_size); a
        JPEG at least twice as large is decoded at a DCT scale instead of full size. None
        decodes full size.
      max_pixels: a header declaring more pixels raises InvalidArgumentError before decoding.
    """
    fmt = image_format(data)
    pixels = declared_pixels(data, fmt)
    known = tf.debugging.Assert(
        fmt != _UNKNOWN,
        ["unknown image format: this graph decodes JPEG, PNG, GIF, BMP and WebP; decode other formats on the host "
         "and send their pixels to the predict_pixels signature"],
    )  # fmt: skip
    small = tf.debugging.Assert(
        pixels <= max_pixels,
        ["image rejected: too many pixels declared (decompression bomb); declared", pixels, "limit", max_pixels],
    )
    with tf.control_dependencies([known, small]):
        image = tf.cond(
            tf.equal(fmt, _JPEG),
            lambda: _decode_jpeg(data, target_side),
            lambda: to_rgb(tf.io.decode_image(data, channels=0, dtype=tf.uint8, expand_animations=False)),
        )
    image = apply_orientation(image, exif_orientation(data, fmt))
    image.set_shape([None, None, 3])
    return image
