"""The CX report's charts: Vega-Lite specs built with Altair, rendered to SVG by vl-convert.

vl-convert renders in-process (no browser, no network), so the page embeds finished pictures and
needs neither JavaScript nor a CDN to be read.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import altair as alt
import polars as pl
import vl_convert as vlc

PHASE_COLOURS = {"purchase": "#4c78a8", "use": "#54a24b", "expand": "#f58518", "lapsed": "#9d755d"}
STATUS_COLOURS = {
    "passed": "#2e7d32",
    "failed (warn)": "#f9a825",
    "failed (error)": "#c62828",
    "not evaluated": "#9e9e9e",
}
WIDTH = 440
FONT = "Helvetica, Arial, sans-serif"


@dataclass(frozen=True)
class Chart:
    """A rendered chart: what it shows (alt text) and the SVG as a data: URI for an <img>."""

    key: str
    title: str
    alt: str
    svg: str

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


def _vl_version() -> str | None:
    """The Vega-Lite version Altair writes, if vl-convert has it (else its default)."""
    wanted = "_".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return wanted if wanted in {v.replace(".", "_") for v in vlc.get_vegalite_versions()} else None


def render(key: str, title: str, alt_text: str, chart: alt.TopLevelMixin) -> Chart:
    spec = chart.configure(font=FONT).configure_view(stroke=None).to_dict()
    return Chart(key=key, title=title, alt=alt_text, svg=vlc.vegalite_to_svg(spec, vl_version=_vl_version()))


def _phase_scale() -> alt.Scale:
    return alt.Scale(domain=list(PHASE_COLOURS), range=list(PHASE_COLOURS.values()))


def _thousands(column: str) -> pl.Expr:
    return pl.col(column).map_elements(lambda v: f"{v:,}", return_dtype=pl.String)


def _phase_legend() -> alt.Legend:
    return alt.Legend(orient="bottom", title="phase", direction="horizontal")


def _labelled_phase_bars(
    data: pl.DataFrame, category: str, value: str, value_title: str, headroom: float, label_dx: int
) -> alt.LayerChart:
    """Horizontal bars in the frame's order, coloured by `phase`, each with its `label` at its end;
    the value axis runs to `headroom` times the largest bar, leaving room on the right for labels."""
    top = data[value].max() or 1
    base = alt.Chart(data).encode(
        y=alt.Y(f"{category}:N", sort=data[category].to_list(), title=None),
        x=alt.X(f"{value}:Q", title=value_title, scale=alt.Scale(domain=[0, top * headroom])),
    )
    bars = base.mark_bar().encode(color=alt.Color("phase:N", scale=_phase_scale(), legend=_phase_legend()))
    text = base.mark_text(align="left", dx=label_dx, fontSize=11).encode(text="label:N")
    return bars + text


def funnel(frame: pl.DataFrame) -> Chart:
    data = frame.sort("step_order").with_columns(
        label=pl.format("{} ({}%)", _thousands("customers_reached"), (pl.col.conversion_from_first * 100).round(1)),
        step_label=pl.format("{}. {}", pl.col.step_order, pl.col.step.str.replace_all("_", " ")),
    )
    return render(
        "funnel",
        "Lifecycle funnel",
        "Customers who reached each lifecycle milestone, with the share of those first touched.",
        _labelled_phase_bars(data, "step_label", "customers_reached", "customers who reached the step", 1.35, 4)
        .properties(width=WIDTH - 100, height=200),
    )


def phase_distribution(frame: pl.DataFrame) -> Chart:
    data = frame.sort("phase_order", "stage_order").with_columns(
        stage=pl.format("{}: {}", pl.col.phase_label, pl.col.stage_label), label=_thousands("customers")
    )
    return render(
        "phases",
        "Where customers are now",
        "Customers by lifecycle phase and sub-stage on the as-of day.",
        _labelled_phase_bars(data, "stage", "customers", "customers now in the sub-stage", 1.15, 3)
        .properties(width=WIDTH - 160, height=260),
    )


def milestones(frame: pl.DataFrame, months: int) -> Chart:
    order = ["first touch", "purchased", "first value", "expanded", "lapsed"]
    colours = ["#4c78a8", "#54a24b", "#72b7b2", "#f58518", "#9d755d"]
    chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%Y-%m")),
            y=alt.Y("customers:Q", title="customers per month"),
            color=alt.Color("milestone:N", scale=alt.Scale(domain=order, range=colours), title="milestone"),
        )
        .properties(width=WIDTH + 80, height=220)
    )
    return render(
        "milestones",
        f"Phase transitions over time (last {months} months)",
        "Customers reaching each lifecycle milestone per month: first touch (purchase phase), purchase and "
        "first value (use phase), expansion, lapse.",
        chart,
    )


def recorded_transitions(frame: pl.DataFrame) -> Chart:
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("transitioned_on:O", title="run day (as-of)"),
            y=alt.Y("sum(customers):Q", title="customers who changed sub-stage"),
            color=alt.Color("to_phase:N", scale=_phase_scale(), title="into phase"),
            xOffset=alt.XOffset("direction:N"),
        )
        .properties(width=WIDTH, height=200)
    )
    return render(
        "transitions",
        "Sub-stage changes recorded between runs",
        "Customers whose phase or sub-stage changed between two runs, by run day and the phase entered.",
        chart,
    )


def silo_heatmap(frame: pl.DataFrame) -> Chart:
    data = frame.with_columns(percent=(pl.col.coverage_rate * 100).round(0).cast(pl.Int64).cast(pl.String) + "%")
    base = alt.Chart(data).encode(
        x=alt.X("department:N", title="department that knows the customer", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("channel:N", title="channel the customer used"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("coverage_rate:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]), title="coverage"),
        tooltip=["channel", "department", "coverage_rate"],
    )
    text = base.mark_text(fontSize=11).encode(
        text="percent:N",
        color=alt.condition("datum.coverage_rate > 0.55", alt.value("white"), alt.value("#222")),
    )
    return render(
        "silos",
        "Silos: which department knows a channel's customers",
        "Heatmap, channel by department: the share of a channel's customers each department knows. "
        "Low values are silos.",
        (cells + text).properties(width=WIDTH, height=260),
    )


def link_rates(frame: pl.DataFrame, floors: dict[str, float]) -> Chart:
    data = frame.with_columns(
        floor=pl.col.source.replace_strict(floors, default=None, return_dtype=pl.Float64),
    ).with_columns(
        verdict=pl.when(pl.col.floor.is_null() | (pl.col.link_rate >= pl.col.floor))
        .then(pl.lit("above its floor"))
        .otherwise(pl.lit("below its floor: a silo"))
    )
    base = alt.Chart(data).encode(y=alt.Y("source:N", title=None, sort="-x"))
    bars = base.mark_bar().encode(
        x=alt.X("link_rate:Q", title="share of records whose customer another department knows", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color(
            "verdict:N",
            scale=alt.Scale(domain=["above its floor", "below its floor: a silo"], range=["#4c78a8", "#c62828"]),
            title=None,
        ),
    )
    ticks = base.mark_tick(color="#222", thickness=2, size=18).encode(x="floor:Q")
    return render(
        "link_rates",
        "Link rate per source",
        "Per source, the share of its records whose customer another department also knows; the black tick is "
        "the floor the link_rate check enforces.",
        (bars + ticks).properties(width=WIDTH - 140, height=260),
    )


def match_quality(report: dict) -> Chart:
    rows = []
    scopes = {"all records": report, "identified records": report.get("identified_records") or {}}
    for scope, figures in scopes.items():
        for measure in ("precision", "recall", "f1"):
            if measure in figures:
                rows.append({"scope": scope, "measure": measure, "value": figures[measure]})
    data = pl.DataFrame(rows).with_columns(label=(pl.col.value * 100).round(1).cast(pl.String) + "%")
    base = alt.Chart(data).encode(
        x=alt.X("measure:N", title=None, axis=alt.Axis(labelAngle=0)),
        xOffset="scope:N",
        y=alt.Y("value:Q", scale=alt.Scale(domain=[0, 1]), title="against the sample's ground truth"),
    )
    bars = base.mark_bar().encode(color=alt.Color("scope:N", title=None, scale=alt.Scale(range=["#4c78a8", "#72b7b2"])))
    text = base.mark_text(dy=-6, fontSize=10).encode(text="label:N")
    return render(
        "match_quality",
        "Match quality",
        "Pairwise precision, recall and F1 of the customer links against the ground truth, over all records and "
        "over the records the data ties to a known person.",
        (bars + text).properties(width=WIDTH - 120, height=220),
    )


def links_by_rule(frame: pl.DataFrame) -> Chart:
    chart = (
        alt.Chart(frame)
        .mark_bar(color="#4c78a8")
        .encode(y=alt.Y("match_rule:N", sort="-x", title=None), x=alt.X("records:Q", title="records linked"))
        .properties(width=WIDTH - 180, height=220)
    )
    return render(
        "links_by_rule",
        "Records linked by each match rule",
        "Source records by the match rule that linked them to their customer (unmatched: a customer of one record).",
        chart,
    )


def check_status(frame: pl.DataFrame) -> Chart:
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("kind:N", title=None, sort="-x"),
            x=alt.X("count:Q", title="checks", stack="zero"),
            color=alt.Color(
                "outcome:N",
                scale=alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values())),
                title="latest evaluation",
            ),
            order=alt.Order("outcome_order:Q"),
        )
        .properties(width=WIDTH - 120, height=max(120, 18 * frame["kind"].n_unique()))
    )
    return render(
        "checks",
        "Quality checks by outcome",
        "Every quality check and dbt test by kind and the outcome of its latest evaluation.",
        chart,
    )
