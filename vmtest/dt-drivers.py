#!/usr/bin/env python3
"""Which enabled nodes of a device tree no driver of a kernel package matches.

usage: dt-drivers.py DTB IMAGE MODULES_DIR ALLOW_LIST

DTB is the board's compiled device tree, IMAGE the uncompressed kernel
Image, MODULES_DIR the package's /usr/lib/modules/<release> after depmod,
ALLOW_LIST a file of "compatible  reason" lines (# comments).

A node counts when it is enabled (no status, or "okay"/"ok") and so are
all its parents. It is driven when one of its compatible strings is in a
module alias (modules.alias: of:N*T*C<compatible>...), in the modinfo of
a built-in module (modules.builtin.modinfo), or NUL-terminated in the
Image: the match tables of built-in drivers, CLK_OF_DECLARE and
IRQCHIP_DECLARE included, are there as plain strings.

Prints one line per undriven node and each allow-list entry that matched
nothing, and exits 1 when an undriven node's compatibles are not on the
allow list.
"""
import re
import struct
import sys

FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP, FDT_END = 1, 2, 3, 4, 9


def parse_dtb(blob):
    """Yield (path, {property: bytes}) for every node, parents first."""
    magic, _, off_struct, off_strings = struct.unpack_from(">IIII", blob, 0)
    if magic != 0xD00DFEED:
        sys.exit("not a flattened device tree (magic %#x)" % magic)

    def string_at(off):
        end = blob.index(b"\0", off)
        return blob[off:end].decode()

    stack, pos = [], off_struct
    while True:
        (token,) = struct.unpack_from(">I", blob, pos)
        pos += 4
        if token == FDT_BEGIN_NODE:
            end = blob.index(b"\0", pos)
            name = blob[pos:end].decode()
            pos = (end + 4) & ~3
            path = "/" if not stack else stack[-1][0].rstrip("/") + "/" + name
            stack.append((path, {}))
        elif token == FDT_PROP:
            length, nameoff = struct.unpack_from(">II", blob, pos)
            pos += 8
            stack[-1][1][string_at(off_strings + nameoff)] = blob[pos:pos + length]
            pos = (pos + length + 3) & ~3
        elif token == FDT_END_NODE:
            yield stack.pop()
        elif token == FDT_NOP:
            continue
        elif token == FDT_END:
            return
        else:
            sys.exit("bad token %d at offset %d" % (token, pos - 4))


def enabled_nodes(blob):
    """(path, [compatible...]) of the nodes that are enabled, parents too."""
    nodes = {path: props for path, props in parse_dtb(blob)}
    disabled = set()
    for path, props in nodes.items():
        status = props.get("status", b"okay").rstrip(b"\0")
        if status not in (b"okay", b"ok"):
            disabled.add(path)
    for path in sorted(nodes):
        if any(path == d or path.startswith(d.rstrip("/") + "/") for d in disabled):
            continue
        compat = nodes[path].get("compatible")
        if compat:
            yield path, [c.decode() for c in compat.rstrip(b"\0").split(b"\0")]


def driven_compatibles(image, moddir):
    """A test: is this compatible string matched by a driver of the package?"""
    aliases = set()
    pattern = re.compile(r"of:N\*T\*C(.+?)(?:C\*)?$")
    with open(moddir + "/modules.alias") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "alias":
                m = pattern.match(parts[1])
                if m:
                    aliases.add(m.group(1))
    with open(moddir + "/modules.builtin.modinfo", "rb") as f:
        for entry in f.read().split(b"\0"):
            m = pattern.match(entry.decode(errors="replace").split("alias=", 1)[-1])
            if b".alias=of:" in entry and m:
                aliases.add(m.group(1))
    with open(image, "rb") as f:
        data = f.read()
    return lambda c: c in aliases or (b"\0" + c.encode() + b"\0") in data


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.split("\n\n")[1])
    dtb, image, moddir, allow_file = sys.argv[1:]
    allow = {}
    with open(allow_file) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                compat, _, reason = line.partition(" ")
                allow[compat] = reason.strip()
    with open(dtb, "rb") as f:
        blob = f.read()
    driven = driven_compatibles(image, moddir)
    bad = 0
    used = set()
    count = 0
    for path, compats in enabled_nodes(blob):
        count += 1
        if any(driven(c) for c in compats):
            continue
        listed = [c for c in compats if c in allow]
        if listed:
            used.update(listed)
            print("allowed: %s (%s): %s" % (path, ", ".join(compats), allow[listed[0]]))
        else:
            bad = 1
            print("NO DRIVER: %s (%s)" % (path, ", ".join(compats)))
    for compat in sorted(set(allow) - used):
        print("allow list: %s matched no undriven node: remove it" % compat)
        bad = 1
    print("%d enabled nodes with a compatible checked" % count)
    return bad


if __name__ == "__main__":
    sys.exit(main())
