"""Test images, written by hand: the template's test environment has no Pillow."""

import struct
import zlib


def png_bytes(width=640, height=480, rgb=(0, 128, 128), corrupt_pixels=False):
    """A PNG image of one colour.

    With corrupt_pixels, its chunks are well-formed but its pixel data is not:
    the upload form's check (which does not decode pixels) accepts it, the worker fails.
    """

    def chunk(kind, data):
        checksum = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + checksum

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    if corrupt_pixels:
        pixels = b"not deflate data"
    else:
        pixels = zlib.compress(b"".join(b"\x00" + bytes(rgb) * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
