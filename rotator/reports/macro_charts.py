"""Charts of the macro panel (matplotlib, as rotator.reports.charts): bond stress with the
rules' levels, net liquidity with its parts, Treasury buybacks."""

from __future__ import annotations

from rotator.reports.charts import (
    ACCENT,
    MUTED,
    TARGET,
    WARN,
    Chart,
    _dates,
    _encode,
    _figure,
    _format_dates,
    _thousands,
)
from rotator.reports.macro import MacroPanel

LEVEL_STYLES = ("--", ":", "-.")


def stress_chart(panel: MacroPanel) -> Chart:
    """MOVE (or its proxy) per day with the levels the bond_volatility rules test."""
    fig, ax = _figure()
    days, values = _dates(panel.stress.points)
    ax.plot(days, values, color=ACCENT, linewidth=1.3, label=panel.stress_label)
    for i, (name, level) in enumerate(dict.fromkeys(panel.stress_levels)):
        style = LEVEL_STYLES[i % len(LEVEL_STYLES)]
        ax.axhline(level, color=WARN, linestyle=style, linewidth=1.1, label=f"{name} {level:g}")
    if days:
        _format_dates(fig, ax)
        ax.legend(frameon=False, loc="upper left", fontsize=7)
    return Chart(
        "bond_stress", f"Bond-market stress: {panel.stress_label}", len(days), _encode(fig)
    )


def liquidity_chart(panel: MacroPanel) -> Chart:
    """Net liquidity and its three parts, billions of USD."""
    fig, ax = _figure()
    days, values = _dates(panel.net_liquidity.points)
    ax.plot(days, values, color=ACCENT, linewidth=1.8, label="net liquidity")
    for series, colour in zip(panel.parts, (MUTED, TARGET, WARN), strict=True):
        if series.points:
            d, v = _dates(series.points)
            ax.plot(d, v, color=colour, linewidth=1.0, label=series.name)
    ax.yaxis.set_major_formatter(_thousands())
    if days:
        _format_dates(fig, ax)
        ax.legend(frameon=False, loc="upper left", fontsize=7)
    return Chart(
        "net_liquidity", "Net liquidity and its parts (billions USD)", len(days), _encode(fig)
    )


def buybacks_chart(panel: MacroPanel) -> Chart:
    """Par accepted per buyback operation day, billions of USD."""
    fig, ax = _figure()
    days, values = _dates(panel.buybacks.points)
    ax.bar(days, values, color=ACCENT, width=2.0)
    ax.set_ylabel("billions USD accepted")
    if days:
        _format_dates(fig, ax)
    return Chart("buybacks", "Treasury buybacks (par accepted)", len(days), _encode(fig))


def macro_charts(panel: MacroPanel | None) -> dict[str, Chart]:
    """The panel's charts by key; a chart only when its series has points."""
    if panel is None:
        return {}
    charts = {}
    if panel.stress.points:
        charts["bond_stress"] = stress_chart(panel)
    if panel.net_liquidity.points:
        charts["net_liquidity"] = liquidity_chart(panel)
    if panel.buybacks.points:
        charts["buybacks"] = buybacks_chart(panel)
    return charts
