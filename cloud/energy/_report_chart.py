"""A chart of a site's month per slot: consumption, PV, and energy shared in and out."""

import io
from collections.abc import Sequence

import matplotlib as mpl

# A server has no display: render off-screen, before pyplot is first imported.
mpl.use("Agg")
import matplotlib.pyplot as plt

from cloud.energy._co2_report import SiteSlotRecord
from cloud.energy._time import day_start


def report_chart_png(site: str, month: str, records: Sequence[SiteSlotRecord]) -> bytes:
    """PNG bytes of the per-slot chart (kWh per half hour)."""
    ordered = sorted(records, key=lambda record: record.slot_start)
    # Days since the first record's midnight (JST), counted from 1: the day of the month.
    origin = day_start(ordered[0].slot_start) if ordered else None
    starts = [
        1 + (record.slot_start - origin).total_seconds() / 86400
        for record in ordered
        if origin is not None
    ]
    figure, axes = plt.subplots(figsize=(12, 4.5), layout="constrained")
    try:
        axes.plot(starts, [r.consumption_wh / 1000 for r in ordered], label="consumption", lw=0.9)
        axes.plot(starts, [r.generation_wh / 1000 for r in ordered], label="PV", lw=0.9)
        axes.fill_between(
            starts,
            [r.shared_in_wh / 1000 for r in ordered],
            step="post",
            alpha=0.4,
            label="shared in",
        )
        axes.fill_between(
            starts,
            [-r.shared_out_wh / 1000 for r in ordered],
            step="post",
            alpha=0.4,
            label="shared out",
        )
        axes.set_xlabel("day (JST)")
        axes.axhline(0, color="black", lw=0.5)
        axes.set_title(f"{site} — {month}")
        axes.set_ylabel("kWh per 30 min")
        axes.legend(loc="upper right", ncols=4)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
    finally:
        plt.close(figure)
    return buffer.getvalue()
