#!/usr/bin/python3
"""Count the pixels of a PNG screenshot that have given colours.

usage: png-colors.py FILE RRGGBB...
Prints "RRGGBB N" for each colour asked for, then "total N".  Reads the
8-bit RGB and RGBA PNGs that weston-screenshooter writes, with the
standard library alone (the guest has no imaging modules).
"""
import struct
import sys
import zlib


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        sys.exit(f'{path}: not a PNG file')
    pos, idat, hdr = 8, b'', None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            hdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    width, height, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        sys.exit(f'{path}: depth {depth}, colour type {ctype}, interlace '
                 f'{interlace}: only 8-bit RGB or RGBA, not interlaced')
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xff
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xff
            elif ftype == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 0xff
            elif ftype == 4:
                line[x] = (line[x] + paeth(a, b, c)) & 0xff
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[2])
    width, height, bpp, rows = read_png(sys.argv[1])
    want = {bytes.fromhex(c): 0 for c in sys.argv[2:]}
    for line in rows:
        for x in range(0, width * bpp, bpp):
            rgb = bytes(line[x:x + 3])
            if rgb in want:
                want[rgb] += 1
    for rgb, n in want.items():
        print(rgb.hex(), n)
    print('total', width * height)


if __name__ == '__main__':
    main()
