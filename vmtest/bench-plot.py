#!/usr/bin/env python3
# Plot fence_bench's pairs: the ratio fences on / fences off of each pair,
# or (--cpu) the CPU time fences add to a job in each pair.
#
# usage: bench-plot.py [--cpu] PAIRS.CSV OUT.SVG
#
# PAIRS.CSV is what 'fence_bench -o' writes (section,pair,first,off,on,
# ratio,us_per_job,cpu_us_off,cpu_us_on,wall_us_added). For each section
# (1ctx, 16ctx...) the SVG shows the value of every pair over the pair
# number (filled: fences off ran first, hollow: on first), the median as a
# dashed line and its distribution-free 95% interval as a shaded band (none
# below six pairs), and reference lines: 1.0 and 0.99 for the ratio, 0 for
# the CPU time. Standard library only: a plain SVG written by hand.
import csv
import math
import sys
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 900, 480
LEFT, RIGHT, TOP, BOTTOM = 70, 230, 40, 55
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def median_ci(values):
    """Median of values and its 95% interval from order statistics.

    Of n sorted values x(1)..x(n), [x(k), x(n+1-k)] with the largest k such
    that P(Binomial(n, 1/2) <= k - 1) <= 0.025; None below six values.
    """
    x = sorted(values)
    n = len(x)
    med = x[n // 2] if n % 2 else (x[n // 2 - 1] + x[n // 2]) / 2
    term = 0.5 ** n
    tail = term
    k = 0
    for i in range(n):
        if tail > 0.025:
            break
        k = i + 1
        term = term * (n - i) / (i + 1)
        tail += term
    return med, ((x[k - 1], x[n - k]) if k else None)


def nice_step(span, ticks=6):
    """A step of 1, 2 or 5 times a power of ten giving about @ticks ticks."""
    raw = span / ticks
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 5):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


# What a plot shows: the title, the y axis, the value of a CSV row, the
# reference lines (value, label, dashed) and the format of a value.
RATIO = {
    "title": "fence_bench: throughput ratio fences on / off, per pair",
    "axis": "jobs/s fences on / fences off",
    "value": lambda row: float(row["ratio"]),
    "refs": [(1.0, "1.0: no cost", False), (0.99, "0.99", True)],
    "fmt": "{:.3f}",
}
CPU = {
    "title": "fence_bench: CPU time fences add to a job, per pair",
    "axis": "CPU us per job, fences on - off",
    # -1: not measured (a kernel without CONFIG_SCHEDSTATS), no value
    "value": lambda row: (float(row["cpu_us_on"]) - float(row["cpu_us_off"])
                          if float(row.get("cpu_us_off", -1)) >= 0 else None),
    "refs": [(0.0, "0: no cost", False)],
    "fmt": "{:+.2f}",
}


def read_pairs(path, metric):
    sections = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            value = metric["value"](row)
            if value is not None:
                sections.setdefault(row["section"], []).append(
                    (int(row["pair"]), value, row["first"]))
    return sections


def plot(sections, metric):
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    stats = {name: median_ci([r for _, r, _ in rows])
             for name, rows in sections.items()}

    fmt = metric["fmt"].format
    ys = [r for rows in sections.values() for _, r, _ in rows]
    ys += [ref for ref, _, _ in metric["refs"]]
    for _, ci in stats.values():
        if ci:
            ys += list(ci)
    y_lo, y_hi = min(ys), max(ys)
    pad = (y_hi - y_lo) * 0.08 or 0.01
    y_lo, y_hi = y_lo - pad, y_hi + pad
    x_hi = max(p for rows in sections.values() for p, _, _ in rows)
    x_lo, x_hi = 0.5, x_hi + 0.5

    def px(x):
        return LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w

    def py(y):
        return TOP + (y_hi - y) / (y_hi - y_lo) * plot_h

    out = []
    add = out.append
    add('<?xml version="1.0" encoding="UTF-8"?>')
    add(f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'font-family="sans-serif" font-size="12">')
    add(f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>')
    add(f'<text x="{LEFT + plot_w / 2:.1f}" y="22" text-anchor="middle" '
        f'font-size="14">{escape(metric["title"])}</text>')

    # Grid and ticks.
    step = nice_step(y_hi - y_lo)
    for i in range(math.ceil(y_lo / step), math.floor(y_hi / step) + 1):
        y = i * step
        add(f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{LEFT + plot_w}" '
            f'y2="{py(y):.1f}" stroke="#e6e6e6"/>')
        add(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" '
            f'text-anchor="end">{fmt(y)}</text>')
    xstep = max(1, int(nice_step(x_hi - x_lo, 10)))
    for x in range(xstep, int(x_hi) + 1, xstep):
        add(f'<line x1="{px(x):.1f}" y1="{TOP + plot_h}" x2="{px(x):.1f}" '
            f'y2="{TOP + plot_h + 4}" stroke="black"/>')
        add(f'<text x="{px(x):.1f}" y="{TOP + plot_h + 17}" '
            f'text-anchor="middle">{x}</text>')

    # Bands and medians under the points.
    legend = []
    for i, (name, rows) in enumerate(sections.items()):
        colour = COLOURS[i % len(COLOURS)]
        med, ci = stats[name]
        if ci:
            add(f'<rect x="{LEFT}" y="{py(ci[1]):.1f}" width="{plot_w}" '
                f'height="{max(py(ci[0]) - py(ci[1]), 0.5):.1f}" '
                f'fill="{colour}" fill-opacity="0.15"/>')
        add(f'<line x1="{LEFT}" y1="{py(med):.1f}" x2="{LEFT + plot_w}" '
            f'y2="{py(med):.1f}" stroke="{colour}" stroke-dasharray="6 4"/>')
        interval = f"[{fmt(ci[0])}, {fmt(ci[1])}]" if ci else "[n/a]"
        legend.append((colour, f"{name}: {len(rows)} pairs",
                       f"median {fmt(med)} {interval}", ci is not None))

    # Reference lines.
    for ref, _, dashed in metric["refs"]:
        style = ('stroke="#777777" stroke-dasharray="2 3"' if dashed
                 else 'stroke="black"')
        add(f'<line x1="{LEFT}" y1="{py(ref):.1f}" x2="{LEFT + plot_w}" '
            f'y2="{py(ref):.1f}" {style}/>')

    for i, (name, rows) in enumerate(sections.items()):
        colour = COLOURS[i % len(COLOURS)]
        for pair, ratio, first in rows:
            fill = colour if first == "off" else "white"
            add(f'<circle cx="{px(pair):.1f}" cy="{py(ratio):.1f}" r="3.5" '
                f'fill="{fill}" stroke="{colour}" stroke-width="1.5"/>')

    # Frame and axis labels.
    add(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" '
        'fill="none" stroke="black"/>')
    add(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 12}" '
        'text-anchor="middle">pair</text>')
    add(f'<text x="16" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {TOP + plot_h / 2:.1f})">'
        f'{escape(metric["axis"])}</text>')

    # Legend, right of the plot.
    lx, ly = LEFT + plot_w + 15, TOP + 10
    for colour, title, detail, band in legend:
        add(f'<circle cx="{lx + 6}" cy="{ly - 4}" r="3.5" fill="{colour}" '
            f'stroke="{colour}" stroke-width="1.5"/>')
        add(f'<text x="{lx + 16}" y="{ly}">{escape(title)}</text>')
        add(f'<line x1="{lx}" y1="{ly + 12}" x2="{lx + 12}" y2="{ly + 12}" '
            f'stroke="{colour}" stroke-dasharray="6 4"/>')
        add(f'<text x="{lx + 16}" y="{ly + 16}">{escape(detail)}</text>')
        if band:
            add(f'<rect x="{lx}" y="{ly + 22}" width="12" height="9" '
                f'fill="{colour}" fill-opacity="0.15"/>')
            add(f'<text x="{lx + 16}" y="{ly + 31}">95% interval of the '
                'median</text>')
        else:
            add(f'<text x="{lx + 16}" y="{ly + 31}">no interval below 6 '
                'pairs</text>')
        ly += 52
    add(f'<circle cx="{lx + 6}" cy="{ly - 4}" r="3.5" fill="#555555" '
        'stroke="#555555" stroke-width="1.5"/>')
    add(f'<text x="{lx + 16}" y="{ly}">fences off ran first</text>')
    add(f'<circle cx="{lx + 6}" cy="{ly + 14}" r="3.5" fill="white" '
        'stroke="#555555" stroke-width="1.5"/>')
    add(f'<text x="{lx + 16}" y="{ly + 18}">fences on ran first</text>')
    ly += 32
    for _, label, dashed in metric["refs"]:
        style = ('stroke="#777777" stroke-dasharray="2 3"' if dashed
                 else 'stroke="black"')
        add(f'<line x1="{lx}" y1="{ly}" x2="{lx + 12}" y2="{ly}" {style}/>')
        add(f'<text x="{lx + 16}" y="{ly + 4}">{escape(label)}</text>')
        ly += 18
    add('</svg>')
    return "\n".join(out) + "\n"


def main():
    args = sys.argv[1:]
    metric = RATIO
    if args[:1] == ["--cpu"]:
        metric = CPU
        args = args[1:]
    if len(args) != 2:
        sys.exit("usage: bench-plot.py [--cpu] PAIRS.CSV OUT.SVG")
    sections = read_pairs(args[0], metric)
    if not sections:
        sys.exit(f"bench-plot.py: no pairs in {args[0]}")
    svg = plot(sections, metric)
    with open(args[1], "w") as f:
        f.write(svg)


if __name__ == "__main__":
    main()
