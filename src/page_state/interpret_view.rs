//! The interpret panel's view in a link: which map it shows, how many top units are in use,
//! and the corrupted prompt that was patched. It follows the intervention's payload in the
//! fragment, `#s=<payload>&map=patching&keep=14&corrupt=<percent-encoded text>&heads=1`, so links made
//! before it (payload alone) open unchanged. A part that cannot be read is left out, with a
//! message; it never costs the intervention.

use crate::interpret::report::{HeadPatchReport, PatchReport};

/// The map the panel shows beside the α heatmap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MapChoice {
    #[default]
    Patching,
    Attribution,
    AttributionPatching,
}

impl MapChoice {
    pub const ALL: [MapChoice; 3] = [MapChoice::Patching, MapChoice::Attribution, MapChoice::AttributionPatching];

    /// The name in links and in the selector's values.
    pub fn key(self) -> &'static str {
        match self {
            MapChoice::Patching => "patching",
            MapChoice::Attribution => "attribution",
            MapChoice::AttributionPatching => "atp",
        }
    }

    pub fn parse(s: &str) -> Option<MapChoice> {
        MapChoice::ALL.into_iter().find(|m| m.key() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            MapChoice::Patching => "activation patching: effect on Δ",
            MapChoice::Attribution => "attribution: ∂Δ/∂α at α = 0",
            MapChoice::AttributionPatching => "attribution patching (AtP)",
        }
    }

    /// This map's values in a patching report.
    pub fn values(self, r: &PatchReport) -> &[f32] {
        match self {
            MapChoice::Patching => &r.effects,
            MapChoice::Attribution => &r.gradient,
            MapChoice::AttributionPatching => &r.atp,
        }
    }

    /// This map's values per head.
    pub fn head_values(self, r: &HeadPatchReport) -> &[f32] {
        match self {
            MapChoice::Patching => &r.effects,
            MapChoice::Attribution => &r.gradient,
            MapChoice::AttributionPatching => &r.atp,
        }
    }
}

/// The panel's state a link carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InterpretView {
    pub map: MapChoice,
    /// Whether the units were measured (the link re-measures them on opening).
    pub interpreted: bool,
    /// The top k in use (None: all).
    pub keep: Option<usize>,
    /// The corrupted prompt patched against (None: no patching).
    pub corrupt: Option<String>,
    /// Whether patching was per head too.
    pub heads: bool,
}

/// Longest corrupted prompt a link carries (a prompt is at most 4,096 bytes anyway).
const MAX_CORRUPT_BYTES: usize = 4096;

impl InterpretView {
    /// What follows the payload in a link ("" for a panel that shows nothing).
    pub fn to_fragment_tail(&self) -> String {
        if !self.interpreted && self.corrupt.is_none() {
            return String::new();
        }
        let mut out = format!("&map={}", self.map.key());
        if self.interpreted {
            out.push_str(&format!("&keep={}", self.keep.map_or("all".into(), |k| k.to_string())));
        }
        if let Some(c) = &self.corrupt {
            out.push_str("&corrupt=");
            out.push_str(&percent_encode(c));
            if self.heads {
                out.push_str("&heads=1");
            }
        }
        out
    }
}

/// Splits a fragment ("s=…&map=…") into the intervention's part and the view. The view is None
/// when the fragment has none; Err says why a view part cannot be read.
pub fn split(fragment: &str) -> (&str, Result<Option<InterpretView>, String>) {
    let Some((payload, tail)) = fragment.split_once('&') else { return (fragment, Ok(None)) };
    (payload, parse_tail(tail).map(Some))
}

fn parse_tail(tail: &str) -> Result<InterpretView, String> {
    let mut view = InterpretView::default();
    for part in tail.split('&') {
        let (key, value) = part.split_once('=').ok_or_else(|| format!("{part:?} has no value"))?;
        match key {
            "map" => view.map = MapChoice::parse(value).ok_or_else(|| format!("there is no map {value:?}"))?,
            "keep" => {
                view.interpreted = true;
                view.keep = match value {
                    "all" => None,
                    k => Some(
                        k.parse::<usize>()
                            .ok()
                            .filter(|&k| k > 0)
                            .ok_or_else(|| format!("keep={k:?} is not a count"))?,
                    ),
                };
            }
            "corrupt" => {
                let text = percent_decode(value)?;
                if text.len() > MAX_CORRUPT_BYTES {
                    return Err(format!("the corrupted prompt is longer than {MAX_CORRUPT_BYTES} bytes"));
                }
                view.corrupt = Some(text);
            }
            "heads" => {
                view.heads = match value {
                    "1" => true,
                    "0" => false,
                    v => return Err(format!("heads={v:?} is neither 1 nor 0")),
                }
            }
            other => return Err(format!("unknown part {other:?}")),
        }
    }
    Ok(view)
}

/// Every byte but ASCII letters, digits and `-._~` as %XX.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            let b =
                hex.and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or("a broken %-escape in the corrupted prompt")?;
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the corrupted prompt is not UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_goes_through_a_link_unchanged() {
        let view = InterpretView {
            map: MapChoice::AttributionPatching,
            interpreted: true,
            keep: Some(14),
            corrupt: Some("The capital of Ünited \"France\" & co. is".into()),
            heads: false,
        };
        let fragment = format!("s=AbC-_1{}", view.to_fragment_tail());
        assert!(!fragment[2..].contains(' ') && fragment.matches('&').count() == 3, "{fragment}");
        assert_eq!(split(&fragment), ("s=AbC-_1", Ok(Some(view.clone()))));
        let per_head = InterpretView { heads: true, ..view };
        let fragment = format!("s=AbC-_1{}", per_head.to_fragment_tail());
        assert!(fragment.ends_with("&heads=1"), "{fragment}");
        assert_eq!(split(&fragment), ("s=AbC-_1", Ok(Some(per_head))));
        let all = InterpretView { interpreted: true, ..InterpretView::default() };
        let fragment = format!("s=x{}", all.to_fragment_tail());
        assert_eq!(split(&fragment).1, Ok(Some(all)));
    }

    #[test]
    fn links_without_a_view_open_as_before() {
        assert_eq!(split("s=AbC"), ("s=AbC", Ok(None)));
        assert_eq!(InterpretView::default().to_fragment_tail(), "");
    }

    #[test]
    fn a_tampered_view_is_an_error_and_leaves_the_payload() {
        for tail in ["map=heat", "keep=-3", "keep=0", "corrupt=%G1", "corrupt=%FF", "what=1", "map", "heads=yes"] {
            let fragment = format!("s=AbC&{tail}");
            let (payload, view) = split(&fragment);
            assert_eq!(payload, "s=AbC");
            assert!(view.is_err(), "{tail} was read as {view:?}");
        }
        let long = format!("s=x&corrupt={}", "a".repeat(MAX_CORRUPT_BYTES + 1));
        assert!(split(&long).1.is_err());
    }
}
