//! A small SVG line chart: axes with ticks and labels, one polyline per series, and a hover
//! title on every point with its value.

use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: &'static str,
    pub color: &'static str,
    pub points: Vec<(f32, f32)>,
}

const W: f32 = 420.0;
const H: f32 = 200.0;
const L: f32 = 48.0; // left margin (y tick labels)
const B: f32 = 30.0; // bottom margin (x tick labels)
const T: f32 = 10.0;
const R: f32 = 10.0;

fn bounds(series: &[Series]) -> (f32, f32, f32, f32) {
    let pts = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for &(x, y) in pts.filter(|(x, y)| x.is_finite() && y.is_finite()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return (0.0, 1.0, 0.0, 1.0);
    }
    if (x1 - x0).abs() < 1e-9 {
        x1 = x0 + 1.0;
    }
    if (y1 - y0).abs() < 1e-9 {
        y0 -= 0.5;
        y1 += 0.5;
    }
    (x0, x1, y0, y1)
}

fn fmt(v: f32) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[component]
pub fn LineChart(
    id: &'static str,
    title: &'static str,
    x_label: &'static str,
    y_label: &'static str,
    #[prop(into)] series: Signal<Vec<Series>>,
) -> impl IntoView {
    let body = move || {
        let series = series.get();
        let (x0, x1, y0, y1) = bounds(&series);
        let sx = move |x: f32| L + (x - x0) / (x1 - x0) * (W - L - R);
        let sy = move |y: f32| H - B - (y - y0) / (y1 - y0) * (H - B - T);
        let ticks = (0..=4).map(|i| i as f32 / 4.0).collect::<Vec<_>>();
        let y_ticks = ticks
            .iter()
            .map(|t| {
                let v = y0 + t * (y1 - y0);
                view! {
                    <line x1=L x2=W - R y1=sy(v) y2=sy(v) class="grid" />
                    <text x=L - 4.0 y=sy(v) + 3.0 text-anchor="end" class="tick">{fmt(v)}</text>
                }
            })
            .collect_view();
        let x_ticks = ticks
            .iter()
            .map(|t| {
                let v = x0 + t * (x1 - x0);
                view! { <text x=sx(v) y=H - B + 14.0 text-anchor="middle" class="tick">{fmt(v)}</text> }
            })
            .collect_view();
        let zero = (y0 < 0.0 && y1 > 0.0).then(|| view! { <line x1=L x2=W - R y1=sy(0.0) y2=sy(0.0) class="zero" /> });
        let lines = series
            .iter()
            .map(|s| {
                let path: Vec<String> = s.points.iter().map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y))).collect();
                let dots = s
                    .points
                    .iter()
                    .map(|&(x, y)| {
                        view! {
                            <circle class="point" cx=sx(x) cy=sy(y) r="2.5" fill=s.color>
                                <title>{format!("{} — {x_label} {}: {:.4}", s.name, fmt(x), y)}</title>
                            </circle>
                        }
                    })
                    .collect_view();
                view! { <polyline points=path.join(" ") fill="none" stroke=s.color stroke-width="1.5" />{dots} }
            })
            .collect_view();
        // A series without a name (a band's second edge) has no legend entry.
        let legend = series
            .iter()
            .filter(|s| !s.name.is_empty())
            .enumerate()
            .map(|(i, s)| {
                view! {
                    <g transform=format!("translate({}, {})", L + 8.0 + 100.0 * i as f32, T + 4.0)>
                        <rect width="10" height="3" y="-3" fill=s.color />
                        <text x="14" class="legend">{s.name}</text>
                    </g>
                }
            })
            .collect_view();
        view! {
            {y_ticks}{x_ticks}{zero}
            <line x1=L x2=L y1=T y2=H - B class="axis" />
            <line x1=L x2=W - R y1=H - B y2=H - B class="axis" />
            <text x=(L + W - R) / 2.0 y=H - 2.0 text-anchor="middle" class="label">{x_label}</text>
            <text x="10" y=(T + H - B) / 2.0 text-anchor="middle" class="label"
                  transform=format!("rotate(-90 10 {})", (T + H - B) / 2.0)>{y_label}</text>
            {lines}{legend}
        }
    };
    view! {
        <figure class="chart" id=id>
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=title>{body}</svg>
        </figure>
    }
}
