"""The plots of ``figures.py`` as PNGs (matplotlib), for leaderboard.md and readers without JavaScript:
the same panels, colours, bands and fits as the site, one legend below, and the reason in place of an
empty plot."""
from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

from .figures import FRONT, colour

_DASH = {"solid": "-", "dot": ":", "dash": "--", "dashdot": "-."}


def _plain(text: str) -> str:
    """Names are text, not mathtext: a ``$`` in a schedule name must not start a formula."""
    return str(text).replace("$", r"\$")


def _xy(values: list) -> list[float]:
    return [math.nan if v is None else v for v in values]


def draw(board: dict[str, Any], fig: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .figures import dash

    panels = fig["panels"] or [{"title": "", "ylabel": "", "series": []}]
    cols = min(len(panels), 3)
    rows = math.ceil(len(panels) / cols)
    f, axes = plt.subplots(rows, cols, figsize=(max(4.2 * cols + 0.6, 7.5), 3.4 * rows + 1.0), squeeze=False)
    handles: dict[str, Any] = {}
    for ax, panel in zip(axes.flat, panels):
        for s in panel["series"]:
            col = FRONT if s["schedule"] is None else colour(board, s["schedule"])
            label = _plain(s.get("name") or s["schedule"])
            x, y = _xy(s["x"]), _xy(s["y"])
            if s["style"] == "line":
                (h,) = ax.plot(x, y, _DASH[dash(board, s["schedule"])], marker="o", ms=4, color=col, label=label)
                lo, hi = _xy(s["lo"]), _xy(s["hi"])
                ax.fill_between(x, lo, hi, color=col, alpha=0.15, linewidth=0)
            elif s["style"] == "points":
                h = ax.scatter(x, y, s=28, color=col, label=label, zorder=3)
            elif s["style"] == "fit":
                ax.plot(x, y, "--", color=col, linewidth=1.5)
                continue
            else:
                (h,) = ax.plot(x, y, "-", marker="o", ms=13, mfc="none", mew=1.8, color=col, label=label, zorder=2)
            handles.setdefault(label, h)
        ax.set_title(_plain(panel["title"]), fontsize=11)
        ax.set_xlabel(_plain(fig["xlabel"]), fontsize=10)
        ax.set_ylabel(_plain(panel["ylabel"]), fontsize=10)
        ax.grid(alpha=0.3)
        if fig["empty"]:
            ax.text(0.5, 0.5, "\n".join(textwrap.wrap(_plain(fig["empty"]), 40)), ha="center", va="center",
                    transform=ax.transAxes, fontsize=10, color="#555555")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    f.suptitle(_plain(fig["title"]), fontsize=13)
    bottom = 0.0
    if handles:
        f.legend(list(handles.values()), list(handles), loc="lower center", ncol=min(len(handles), 4), fontsize=10,
                 frameon=False)
        bottom = min(0.4, (0.15 + 0.25 * math.ceil(len(handles) / 4)) / f.get_figheight())  # inches -> a share
    f.tight_layout(rect=(0, bottom, 1, 1))
    f.savefig(path, dpi=100)
    plt.close(f)


def pngs(board: dict[str, Any], figs: list[dict[str, Any]], out: Path) -> None:
    for fig in figs:
        draw(board, fig, out / f"{fig['id']}.png")
