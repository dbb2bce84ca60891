#!/usr/bin/env python3
"""Rejects #includes that point up or sideways in the layer order of DESIGN.md.

    app                               6  composition root
    api gateway forward               5  edges
    alarm derive ingest auth          4  services
    storage/sqlite storage/postgres storage/memory   3  backends
    storage registry standards protocol net analytics   2
    core                              1

A file in src/<folder>/ may include its own folder and lower layers only. The pure folders
(protocol, standards, analytics) may not include sockets, event loops or clocks.
Usage: check_layers.py SRC_DIR   (exit 1 and one line per violation if any)
"""
import pathlib
import re
import sys

LAYERS = {
    "app": 6,
    "api": 5, "gateway": 5, "forward": 5,
    "alarm": 4, "derive": 4, "ingest": 4, "auth": 4,
    "storage/sqlite": 3, "storage/postgres": 3, "storage/memory": 3,
    "storage": 2, "registry": 2, "standards": 2, "protocol": 2, "net": 2, "analytics": 2,
    "core": 1,
}
PURE = ("protocol", "standards", "analytics")
IMPURE_HEADERS = re.compile(r"<(boost/asio|boost/beast|sys/socket\.h|netinet/|arpa/inet\.h|thread>|mutex>)")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')


def unit_of(rel: str) -> str:
    """The layer unit of a path relative to src/: 'storage/sqlite/x.h' -> 'storage/sqlite'."""
    parts = rel.split("/")
    if parts[0] == "storage" and len(parts) > 2 and f"storage/{parts[1]}" in LAYERS:
        return f"storage/{parts[1]}"
    return parts[0]


def main() -> int:
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")
    errors = []
    for path in sorted(src.rglob("*")):
        if path.suffix not in (".h", ".cpp") or not path.is_file():
            continue
        rel = path.relative_to(src).as_posix()
        unit = unit_of(rel)
        if unit not in LAYERS:
            errors.append(f"{rel}: folder '{unit}' has no layer; add it to DESIGN/ARCHITECTURE and here")
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            kind, target = m.groups()
            if kind == "<":
                if unit.split("/")[0] in PURE and IMPURE_HEADERS.search(line):
                    errors.append(f"{rel}:{n}: pure folder '{unit}' includes {target}")
                continue
            target_unit = unit_of(target)
            if target_unit not in LAYERS or target_unit == unit:
                continue
            if LAYERS[target_unit] >= LAYERS[unit]:
                way = "up" if LAYERS[target_unit] > LAYERS[unit] else "sideways"
                errors.append(f"{rel}:{n}: includes {target} ({way}: {unit} is layer "
                              f"{LAYERS[unit]}, {target_unit} is layer {LAYERS[target_unit]})")
    for e in errors:
        print(e)
    if errors:
        print(f"check_layers: {len(errors)} violation(s)", file=sys.stderr)
        return 1
    print(f"check_layers: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
