//! Small SVG charts as maud markup, for reports and the web application:
//! horizontal bars, columns over years, and intervals against a reference.
//! Inline SVG with no scripts and no fonts to load, so a page that embeds
//! them stays self-contained; every chart scales with its container. Each
//! chart is one image to assistive technology, named by what it shows (its
//! figures are in the table beside it).

use maud::{Markup, html};

/// Chart geometry, in SVG user units.
const WIDTH: f64 = 760.0;
const LABEL_WIDTH: f64 = 330.0;
const ROW_HEIGHT: f64 = 22.0;

/// What a withheld count says, in both languages.
pub const WITHHELD: &str = "suppressed · 비공개";

/// One bar: a label and a count, `None` when withheld by disclosure control.
pub struct Bar {
    pub label: String,
    pub count: Option<u64>,
}

/// Horizontal bars, one per row; withheld rows drawn empty and marked.
/// `name` says what the chart shows.
pub fn bars(name: &str, rows: &[Bar]) -> Markup {
    let largest = rows
        .iter()
        .filter_map(|r| r.count)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let height = ROW_HEIGHT * rows.len() as f64 + 8.0;
    let space = WIDTH - LABEL_WIDTH - 90.0;
    let length = |count: u64| (count as f64 / largest * space).max(1.0);
    html! {
        svg viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label=(name) style="width:100%;height:auto" {
            title { (name) }
            @for (i, row) in rows.iter().enumerate() {
                @let y = i as f64 * ROW_HEIGHT + 4.0;
                text x=(LABEL_WIDTH - 8.0) y=(y + 15.0) text-anchor="end" font-size="12" { (row.label) }
                @match row.count {
                    Some(count) => {
                        rect x=(LABEL_WIDTH) y=(y + 3.0) height=(ROW_HEIGHT - 6.0)
                            width=(format!("{:.1}", length(count))) fill="#3a6ea5" {}
                        text x=(format!("{:.1}", LABEL_WIDTH + length(count) + 6.0)) y=(y + 15.0) font-size="12" { (count) }
                    }
                    None => {
                        rect x=(LABEL_WIDTH) y=(y + 3.0) height=(ROW_HEIGHT - 6.0) width="40"
                            fill="none" stroke="#999" stroke-dasharray="3 2" {}
                        text x=(LABEL_WIDTH + 46.0) y=(y + 15.0) fill="#666" font-size="12" { (WITHHELD) }
                    }
                }
            }
        }
    }
}

/// One column per year from the first to the last given, years not given
/// at zero; `None` counts are withheld.
pub fn years(name: &str, values: &[(i32, Option<u64>)]) -> Markup {
    let (Some(first), Some(last)) = (
        values.iter().map(|v| v.0).min(),
        values.iter().map(|v| v.0).max(),
    ) else {
        return html! {};
    };
    let span = (last - first + 1) as f64;
    let largest = values.iter().filter_map(|v| v.1).max().unwrap_or(1).max(1) as f64;
    let (left, bottom, top) = (40.0, 230.0, 14.0);
    let step = (WIDTH - left - 10.0) / span;
    let label_every = (span / 12.0).ceil().max(1.0) as i32;
    html! {
        svg viewBox=(format!("0 0 {WIDTH} 260")) role="img" aria-label=(name) style="width:100%;height:auto" {
            title { (name) }
            line x1=(left) y1=(bottom) x2=(WIDTH - 10.0) y2=(bottom) stroke="#999" {}
            text x=(left - 6.0) y=(top + 4.0) text-anchor="end" font-size="12" { (largest) }
            text x=(left - 6.0) y=(bottom) text-anchor="end" font-size="12" { "0" }
            @for year in first..=last {
                @let x = left + (year - first) as f64 * step;
                @match values.iter().find(|v| v.0 == year).map(|v| v.1) {
                    Some(Some(n)) => {
                        @let h = n as f64 / largest * (bottom - top);
                        rect x=(format!("{:.1}", x + step * 0.1)) y=(format!("{:.1}", bottom - h))
                            width=(format!("{:.1}", step * 0.8)) height=(format!("{h:.1}")) fill="#3a6ea5" {
                            title { (year) ": " (n) }
                        }
                    }
                    Some(None) => {
                        rect x=(format!("{:.1}", x + step * 0.1)) y=(bottom - 12.0)
                            width=(format!("{:.1}", step * 0.8)) height="12" fill="none" stroke="#999" stroke-dasharray="2 2" {
                            title { (year) ": " (WITHHELD) }
                        }
                    }
                    None => {}
                }
                @if (year - first) % label_every == 0 {
                    text x=(format!("{:.1}", x + step / 2.0)) y=(bottom + 16.0) text-anchor="middle" font-size="12" { (year) }
                }
            }
        }
    }
}

/// An estimate: a point and its interval.
pub struct Interval {
    pub label: String,
    pub low: f64,
    pub median: f64,
    pub high: f64,
}

impl Interval {
    /// Whether it is an interval at all, not a point estimate alone.
    pub fn has_interval(&self) -> bool {
        self.high - self.low >= 0.5
    }
}

/// Intervals against a reference value drawn as a dashed line (for
/// estimates: the number observed).
pub fn intervals(name: &str, reference_label: &str, reference: f64, rows: &[Interval]) -> Markup {
    let high = rows.iter().map(|r| r.high).fold(reference, f64::max) * 1.05;
    let low = rows.iter().map(|r| r.low).fold(reference, f64::min) * 0.95;
    let span = (high - low).max(1.0);
    let x = |v: f64| {
        format!(
            "{:.1}",
            LABEL_WIDTH + (v - low) / span * (WIDTH - LABEL_WIDTH - 20.0)
        )
    };
    let axis_y = 34.0 * rows.len() as f64 + 14.0;
    let height = axis_y + 50.0;
    html! {
        svg viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label=(name) style="width:100%;height:auto" {
            title { (name) }
            // The axis, with round ticks across the drawn range.
            line x1=(x(low)) y1=(axis_y) x2=(x(high)) y2=(axis_y) stroke="#888" {}
            @for tick in ticks(low, high) {
                line x1=(x(tick)) y1=(axis_y) x2=(x(tick)) y2=(axis_y + 5.0) stroke="#888" {}
                text x=(x(tick)) y=(axis_y + 18.0) text-anchor="middle" font-size="11" fill="#555" { (format!("{tick:.0}")) }
            }
            line x1=(x(reference)) y1="4" x2=(x(reference)) y2=(axis_y) stroke="#b33" stroke-dasharray="4 3" {}
            text x=(x(reference)) y=(height - 6.0) text-anchor="middle" fill="#b33" font-size="12" {
                (reference_label) " " (format!("{reference:.0}"))
            }
            @for (i, row) in rows.iter().enumerate() {
                @let y = 20.0 + i as f64 * 34.0;
                text x=(LABEL_WIDTH - 8.0) y=(y + 4.0) text-anchor="end" font-size="12" { (row.label) }
                line x1=(x(row.low)) y1=(y) x2=(x(row.high)) y2=(y) stroke="#1d1d1f" stroke-width="2" {}
                circle cx=(x(row.median)) cy=(y) r="5" fill="#3a6ea5" {}
                text x=(x(row.median)) y=(y - 9.0) text-anchor="middle" font-size="12" { (format!("{:.0}", row.median)) }
                // A point estimate (no interval) shows no range.
                @if row.has_interval() {
                    text x=(x(row.low)) y=(y + 15.0) text-anchor="start" font-size="10" fill="#555" {
                        (format!("{:.0}–{:.0}", row.low, row.high))
                    }
                }
            }
        }
    }
}

/// Round values (steps of 1, 2 or 5 times a power of ten) from `low` to
/// `high`: five to a dozen of them.
fn ticks(low: f64, high: f64) -> Vec<f64> {
    let span = high - low;
    if !span.is_finite() || span <= 0.0 {
        return Vec::new();
    }
    let rough = span / 5.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [10.0, 5.0, 2.0, 1.0]
        .into_iter()
        .map(|m| m * power)
        .find(|step| *step <= rough)
        .unwrap_or(power);
    let mut tick = (low / step).ceil() * step;
    let mut found = Vec::new();
    while tick <= high && found.len() < 12 {
        found.push(tick);
        tick += step;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_withheld_counts_marked() {
        let svg = bars(
            "Victims by act type",
            &[
                Bar {
                    label: "<script>".into(),
                    count: Some(10),
                },
                Bar {
                    label: "고문".into(),
                    count: None,
                },
            ],
        )
        .into_string();
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
        assert!(svg.contains(WITHHELD) && svg.contains("고문"));
        // One image to a screen reader, named by what it shows.
        assert!(
            svg.contains(r#"role="img" aria-label="Victims by act type""#),
            "{svg}"
        );
        assert!(svg.contains("<title>Victims by act type</title>"), "{svg}");
    }

    #[test]
    fn years_fill_the_gaps_and_intervals_place_the_reference() {
        let svg = years("Victims by year", &[(1999, Some(3)), (2003, Some(1))]).into_string();
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(">1999<") && svg.contains(">2003<"));
        assert_eq!(years("nothing", &[]).into_string(), "");
        let svg = intervals(
            "Estimates",
            "observed",
            4400.0,
            &[Interval {
                label: "LCMCR".into(),
                low: 9000.0,
                median: 10400.0,
                high: 13700.0,
            }],
        )
        .into_string();
        assert!(svg.contains("observed 4400") && svg.contains(">10400<"));
        // An axis with round ticks, and each interval's figures.
        assert!(svg.contains(">6000<") && svg.contains(">10000<"), "{svg}");
        assert!(svg.contains("9000–13700"), "{svg}");
        // A point estimate is drawn as a point, with no range written under it.
        let point = intervals(
            "Estimates",
            "observed",
            10.0,
            &[Interval {
                label: "Log-linear".into(),
                low: 15.0,
                median: 15.0,
                high: 15.0,
            }],
        )
        .into_string();
        assert!(
            point.contains(">15<") && !point.contains("15–15"),
            "{point}"
        );
        assert_eq!(
            ticks(4180.0, 14385.0),
            vec![6000.0, 8000.0, 10000.0, 12000.0, 14000.0]
        );
        assert!(ticks(5.0, 5.0).is_empty());
    }
}
