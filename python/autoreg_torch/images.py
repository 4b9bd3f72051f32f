"""Images for a comparison: a NumPy .npy array or a folder of PNG files read in the order
Autoreg's PNG data sets use (names sorted; class subfolders sorted, then their files)."""
import os
import struct
import zlib

import numpy as np


def read_png(path):
    """An 8-bit grey, grey+alpha-free, RGB or palette PNG (not interlaced) as uint8 [H, W, C]."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file")
    pos, idat, palette, header = 8, [], None, None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path}: no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 3: 1}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"{path}: only 8-bit grey, RGB or palette PNGs without interlacing are read "
                         f"(bit depth {depth}, colour type {colour}, interlace {interlace})")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, row = line[0], np.frombuffer(line[1:], dtype=np.uint8).astype(np.int64)
        cur = np.zeros(stride, dtype=np.int64)
        for x in range(stride):
            a = cur[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if kind == 0:
                p = 0
            elif kind == 1:
                p = a
            elif kind == 2:
                p = b
            elif kind == 3:
                p = (a + b) // 2
            elif kind == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            else:
                raise ValueError(f"{path}: unknown PNG filter {kind} in row {y}")
            cur[x] = (row[x] + p) & 0xFF
        out[y] = cur
        prev = cur
    image = out.reshape(height, width, channels)
    if colour == 3:
        image = palette[image[:, :, 0]]
    return image


def png_files(folder):
    """The PNG files of a split folder, in Autoreg's order."""
    names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
    subfolders = [n for n in names if os.path.isdir(os.path.join(folder, n))]
    if subfolders:
        return [os.path.join(folder, s, f) for s in subfolders
                for f in sorted(n for n in os.listdir(os.path.join(folder, s)) if not n.startswith("."))
                if f.lower().endswith(".png")]
    return [os.path.join(folder, n) for n in names if n.lower().endswith(".png")]


def load_images(path):
    """uint8 or integer array [N, H, W, C] from a .npy file ([N, H, W] or [N, H, W, C]) or a PNG folder."""
    if os.path.isdir(path):
        files = png_files(path)
        if not files:
            raise ValueError(f"{path}: no PNG files")
        images = np.stack([read_png(f) for f in files])
    else:
        images = np.load(path)
        if images.ndim == 3:
            images = images[..., None]
        if images.ndim != 4:
            raise ValueError(f"{path}: expected an array [N, H, W] or [N, H, W, C], got shape {images.shape}")
    return images
