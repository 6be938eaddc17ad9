"""Altair charts for the dashboard: pure builders from the frames in `dashboard_app.queries`.

Spikes are red points on every time series; the current window is the shaded part.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard_app.queries import Window

SPIKE = "#d62728"
SENTIMENT_COLORS = {"negative": "#d62728", "neutral": "#9e9e9e", "positive": "#2ca02c"}
TYPE_COLORS = {"bug_report": "#d62728", "feature_request": "#1f77b4", "user_experience": "#9467bd",
               "rating": "#bdbdbd"}
SEVERITY_COLORS = {"blocker": "#7f0000", "high": "#d62728", "medium": "#ff7f0e", "low": "#9e9e9e"}


def _time_title(interval: str) -> str:
    return "hour (UTC)" if interval == "hour" else "day (UTC)"


def small_multiples(df: pd.DataFrame, window: Window | None, interval: str = "day", columns: int = 3,
                    order: list[str] | None = None, width: int = 220, title: str = "") -> alt.FacetChart:
    """One small line chart per value (label, cluster…), spikes as red points, current window shaded.
    `order` fixes the order of the panels (default: alphabetical)."""
    data = df.copy()
    shade = window is not None and window.prev_start is not None
    data["window_start"] = window.start if shade else pd.NaT
    data["window_end"] = window.end if shade else pd.NaT
    base = alt.Chart().encode(x=alt.X("bucket:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=0)))
    band = alt.Chart().transform_aggregate(  # one rectangle per panel, not one per row
        start="min(window_start)", end="max(window_end)", groupby=["value"]
    ).mark_rect(opacity=0.1, color="#1f77b4").encode(x="start:T", x2="end:T")
    line = base.mark_line(strokeWidth=1.8).encode(
        y=alt.Y("count:Q", title=None),
        tooltip=[alt.Tooltip("bucket:T", title=_time_title(interval), format="%d %b %H:%M"),
                 alt.Tooltip("value:N", title="series"), alt.Tooltip("count:Q", title="reviews")],
    )
    points = base.mark_point(filled=True, size=70, color=SPIKE, opacity=1).encode(
        y="count:Q",
        tooltip=[alt.Tooltip("bucket:T", title="spike at", format="%d %b %H:%M"), alt.Tooltip("count:Q", title="reviews")],
    ).transform_filter(alt.datum.spike)
    layers = [band, line, points] if shade else [line, points]
    facet = alt.Facet("value:N", title=None, sort=order or "ascending",
                      header=alt.Header(labelFontWeight="bold", labelFontSize=12, labelLimit=width))
    return (
        alt.layer(*layers, data=data)
        .properties(width=width, height=90)
        .facet(facet=facet, columns=columns, title=title)
        .resolve_scale(y="independent")
    )


def stacked(df: pd.DataFrame, interval: str = "day", colors: dict[str, str] | None = None,
            normalize: bool = False, title: str = "") -> alt.Chart:
    """Stacked bars over time per value (e.g. review type or sentiment); `normalize` shows shares."""
    color = alt.Color("value:N", title=None, legend=alt.Legend(orient="top"))
    if colors:
        color = alt.Color("value:N", title=None, legend=alt.Legend(orient="top"),
                          scale=alt.Scale(domain=list(colors), range=list(colors.values())))
    y = alt.Y("count:Q", stack="normalize" if normalize else "zero",
              title="share" if normalize else "count",
              axis=alt.Axis(format="%") if normalize else alt.Axis())
    unit, fmt = ("yearmonthdatehours", "%d %b %H:00") if interval == "hour" else ("yearmonthdate", "%a %d %b")
    return alt.Chart(df).mark_bar().encode(
        x=alt.X(f"{unit}(bucket):O", title=_time_title(interval), axis=alt.Axis(format=fmt, labelOverlap=True)),
        y=y, color=color,
        tooltip=[alt.Tooltip("bucket:T", format="%d %b %H:%M"), "value:N", "count:Q"],
    ).properties(height=220, title=title)


def sparkline(df: pd.DataFrame, height: int = 60) -> alt.LayerChart:
    """A tiny line of one series (`bucket, count, spike`), spikes as red points, no axes."""
    base = alt.Chart(df).encode(x=alt.X("bucket:T", axis=None))
    line = base.mark_area(line={"color": "#1f77b4"}, color="#1f77b433").encode(
        y=alt.Y("count:Q", axis=None), tooltip=[alt.Tooltip("bucket:T", format="%d %b %H:%M"), "count:Q"])
    points = base.mark_point(filled=True, size=45, color=SPIKE).encode(y="count:Q").transform_filter(alt.datum.spike)
    return alt.layer(line, points).properties(height=height)


def bars(df: pd.DataFrame, category: str, value: str = "count", title: str = "", color: str = "#1f77b4",
         colors: dict[str, str] | None = None, height: int | None = None) -> alt.Chart:
    """Horizontal bars, biggest on top, with the number at the end of each bar."""
    order = alt.EncodingSortField(field=value, order="descending")
    enc_color = alt.value(color) if not colors else alt.Color(
        f"{category}:N", legend=None, scale=alt.Scale(domain=list(colors), range=list(colors.values())))
    base = alt.Chart(df).encode(y=alt.Y(f"{category}:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
                                x=alt.X(f"{value}:Q", title=None))
    chart = alt.layer(
        base.mark_bar().encode(color=enc_color, tooltip=[f"{category}:N", f"{value}:Q"]),
        base.mark_text(align="left", dx=3).encode(text=alt.Text(f"{value}:Q", format=",")),
    )
    return chart.properties(title=title, height=height or alt.Step(22))


def throughput_chart(df: pd.DataFrame) -> alt.Chart:
    """Stored records per minute by kind (stacked area)."""
    return alt.Chart(df).mark_area(interpolate="step-after", opacity=0.8).encode(
        x=alt.X("bucket:T", title="stored at (UTC)", axis=alt.Axis(format="%H:%M")),
        y=alt.Y("per_minute:Q", title="records / minute", stack="zero"),
        color=alt.Color("kind:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=["enriched", "rejected"], range=["#1f77b4", "#ff7f0e"])),
        tooltip=[alt.Tooltip("bucket:T", format="%d %b %H:%M"), "kind:N", alt.Tooltip("per_minute:Q", format=",.0f")],
    ).properties(height=200)


def balance(df: pd.DataFrame) -> alt.Chart:
    """Gaps against wins per week: one colour per competitor, solid for gaps, dashed for wins."""
    return alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("week:T", title="week (UTC)", axis=alt.Axis(format="%d %b", labelOverlap=True)),
        y=alt.Y("count:Q", title="mentions"),
        color=alt.Color("org:N", title=None, legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("side:N", title=None, sort=["gaps", "wins"]),
        tooltip=[alt.Tooltip("week:T", format="%d %b %Y"), "org:N", "side:N", "count:Q"],
    ).properties(height=240)
