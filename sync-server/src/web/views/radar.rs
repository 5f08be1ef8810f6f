//! The radar chart of an assessment's area scores as SVG geometry: one axis per topic area,
//! rings at 25/50/75/100, the score polygon. Pure: the page (and later the PDF) draws the same
//! numbers; the text alternative lists every score.

/// Width and height of the chart's view box.
pub const SIZE: f64 = 360.0;
const CENTER: f64 = SIZE / 2.0;
const RADIUS: f64 = 130.0;
const LABEL_GAP: f64 = 16.0;

/// An axis label.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RadarLabel {
    /// Position.
    pub x: f64,
    /// Position (baseline).
    pub y: f64,
    /// `start`, `middle` or `end`.
    pub anchor: &'static str,
    /// The text (the area code).
    pub text: String,
}

/// The chart.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Radar {
    /// Ring polygons (25, 50, 75, 100) as SVG `points`.
    pub rings: Vec<String>,
    /// Axis end points.
    pub axes: Vec<(f64, f64)>,
    /// The score polygon as SVG `points` (areas without a score sit at the centre).
    pub polygon: String,
    /// Score dots of areas that have a score.
    pub dots: Vec<(f64, f64)>,
    /// Axis labels.
    pub labels: Vec<RadarLabel>,
}

fn point(i: usize, n: usize, r: f64) -> (f64, f64) {
    let angle = -std::f64::consts::FRAC_PI_2 + (i as f64) * std::f64::consts::TAU / (n as f64);
    (
        round1(CENTER + r * angle.cos()),
        round1(CENTER + r * angle.sin()),
    )
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn points(ps: impl Iterator<Item = (f64, f64)>) -> String {
    ps.map(|(x, y)| format!("{x},{y}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The chart of `areas` (code, score 0–100 or none), in catalogue order.
pub fn radar(areas: &[(String, Option<f64>)]) -> Radar {
    let n = areas.len().max(3);
    let rings = [25.0, 50.0, 75.0, 100.0]
        .iter()
        .map(|pct| points((0..n).map(|i| point(i, n, RADIUS * pct / 100.0))))
        .collect();
    let axes = (0..n).map(|i| point(i, n, RADIUS)).collect();
    let at =
        |i: usize, s: Option<f64>| point(i, n, RADIUS * s.unwrap_or(0.0).clamp(0.0, 100.0) / 100.0);
    let polygon = points(areas.iter().enumerate().map(|(i, (_, s))| at(i, *s)));
    let dots = areas
        .iter()
        .enumerate()
        .filter(|(_, (_, s))| s.is_some())
        .map(|(i, (_, s))| at(i, *s))
        .collect();
    let labels = areas
        .iter()
        .enumerate()
        .map(|(i, (code, _))| {
            let (x, y) = point(i, n, RADIUS + LABEL_GAP);
            let anchor = if (x - CENTER).abs() < 1.0 {
                "middle"
            } else if x > CENTER {
                "start"
            } else {
                "end"
            };
            RadarLabel {
                x,
                // Baseline a little below the point, so the text centres on the axis.
                y: round1(y + 5.0),
                anchor,
                text: code.clone(),
            }
        })
        .collect();
    Radar {
        rings,
        axes,
        polygon,
        dots,
        labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_sit_on_their_axes_and_labels_stay_inside_the_view_box() {
        let areas: Vec<(String, Option<f64>)> = vec![
            ("A".to_owned(), Some(100.0)),
            ("B".to_owned(), Some(50.0)),
            ("C".to_owned(), None),
            ("D".to_owned(), Some(0.0)),
        ];
        let r = radar(&areas);
        assert_eq!(r.rings.len(), 4);
        assert_eq!(r.axes.len(), 4);
        // A at 100 is the top of the outer ring; B at 50 is half way to the right.
        assert_eq!(r.axes[0], (CENTER, CENTER - RADIUS));
        let first = r.polygon.split(' ').next().unwrap();
        assert_eq!(first, format!("{},{}", CENTER, CENTER - RADIUS));
        assert_eq!(r.dots.len(), 3, "no dot for an area without a score");
        assert_eq!(r.dots[1], (CENTER + RADIUS / 2.0, CENTER));
        assert_eq!(r.labels[0].anchor, "middle");
        assert_eq!(r.labels[1].anchor, "start");
        assert_eq!(r.labels[3].anchor, "end");
        for l in &r.labels {
            assert!(l.x > 0.0 && l.x < SIZE && l.y > 0.0 && l.y < SIZE, "{l:?}");
        }
    }
}

/// The chart as the SVG both the page and the PDF show, with its title and text alternative.
#[derive(Debug, askama::Template)]
#[template(path = "radar.svg", escape = "html")]
struct RadarSvg<'a> {
    radar: &'a Radar,
    title: &'a str,
    desc: &'a str,
}

impl Radar {
    /// The chart as SVG markup titled `title`, described by `desc` (escaped).
    pub fn svg(&self, title: &str, desc: &str) -> String {
        use askama::Template as _;
        RadarSvg {
            radar: self,
            title,
            desc,
        }
        .render()
        .unwrap_or_default()
    }
}
