//! Part of check 5, in the browser: every picture under `book/src/img` is drawn by headless
//! Chromium at 1280 px and measured. A picture fails, naming the label, when a `<text>`
//! reaches outside the picture (it is clipped), when two `<text>` boxes overlap, or when a
//! `<line>`, `<polyline>` or `<path>` (an arrow, a lifeline) runs through a `<text>` box.
//!
//! How: each SVG's text is inlined in a small HTML page under `target/verify/pictures`, so
//! a script can ask the browser where each label and line really is (the font's real
//! widths, not a guess). The script only measures; the judging is done here, in Rust, where
//! it can be tested without a browser.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use super::Findings;

/// What the measuring script reports; all in CSS pixels of the page.
const PROBE: &str = r#"<script>(function(){function report(){
var svg=document.querySelector('svg'),v=svg.getBoundingClientRect(),out={viewport:[v.left,v.top,v.right,v.bottom],texts:[],lines:[]};
function at(e,x,y){var p=svg.createSVGPoint();p.x=x;p.y=y;p=p.matrixTransform(e.getScreenCTM());return [p.x,p.y];}
function shown(e){var cs=getComputedStyle(e);return cs.display!=='none'&&cs.visibility!=='hidden';}
svg.querySelectorAll('text').forEach(function(t){if(t.closest('defs')||!shown(t))return;var r=t.getBoundingClientRect();
out.texts.push({label:(t.textContent||'').trim().replace(/\s+/g,' '),rect:[r.left,r.top,r.right,r.bottom]});});
svg.querySelectorAll('line,polyline,path').forEach(function(e){if(e.closest('defs')||e.closest('marker')||!shown(e))return;
if(getComputedStyle(e).stroke==='none')return;var tag=e.tagName.toLowerCase(),runs=[],pts=[];
if(tag==='line'){pts=[at(e,e.x1.baseVal.value,e.y1.baseVal.value),at(e,e.x2.baseVal.value,e.y2.baseVal.value)];runs.push(pts);}
else if(tag==='polyline'){for(var i=0;i<e.points.numberOfItems;i++){var q=e.points.getItem(i);pts.push(at(e,q.x,q.y));}runs.push(pts);}
else{var L=e.getTotalLength(),n=Math.max(2,Math.ceil(L/3)),step=L/n,last=null;
for(var i=0;i<=n;i++){var q=e.getPointAtLength(L*i/n);
if(last&&Math.hypot(q.x-last.x,q.y-last.y)>2*step+1){runs.push(pts);pts=[];}pts.push(at(e,q.x,q.y));last=q;}runs.push(pts);}
runs.forEach(function(r){if(r.length>1)out.lines.push({kind:tag,points:r});});});
var pre=document.createElement('pre');pre.id='workbook-probe';pre.hidden=true;pre.textContent=JSON.stringify(out);document.body.appendChild(pre);}
window.addEventListener('load',function(){setTimeout(report,300);});})();</script>"#;

/// A box: left, top, right, bottom.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
pub struct Rect(pub f64, pub f64, pub f64, pub f64);

impl Rect {
    /// The box made smaller by `by` on every side (a box too small to shrink keeps its centre).
    pub fn shrunk(self, by: f64) -> Rect {
        let Rect(l, t, r, b) = self;
        let (cx, cy) = ((l + r) / 2.0, (t + b) / 2.0);
        Rect(
            (l + by).min(cx),
            (t + by).min(cy),
            (r - by).max(cx),
            (b - by).max(cy),
        )
    }
    /// Whether the two boxes share some area (touching edges do not count).
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.0 < o.2 && o.0 < self.2 && self.1 < o.3 && o.1 < self.3
    }
}

/// Whether the segment from `p` to `q` has a point strictly inside `r` (Liang-Barsky).
pub fn segment_crosses(p: (f64, f64), q: (f64, f64), r: &Rect) -> bool {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    for (edge_p, edge_q) in [
        (-dx, p.0 - r.0),
        (dx, r.2 - p.0),
        (-dy, p.1 - r.1),
        (dy, r.3 - p.1),
    ] {
        if edge_p == 0.0 {
            if edge_q <= 0.0 {
                return false; // parallel to this edge and outside (or on) it
            }
        } else {
            let t = edge_q / edge_p;
            if edge_p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return false;
    }
    // Some of the segment lies within the closed box; make sure a point is strictly inside.
    let tm = (t0 + t1) / 2.0;
    let (x, y) = (p.0 + tm * dx, p.1 + tm * dy);
    x > r.0 && x < r.2 && y > r.1 && y < r.3
}

#[derive(Debug, serde::Deserialize)]
pub struct Label {
    pub label: String,
    pub rect: Rect,
}

#[derive(Debug, serde::Deserialize)]
pub struct Stroke {
    pub kind: String,
    pub points: Vec<(f64, f64)>,
}

/// What the script measured in one picture.
#[derive(Debug, serde::Deserialize)]
pub struct Measured {
    pub viewport: Rect,
    pub texts: Vec<Label>,
    pub lines: Vec<Stroke>,
}

/// How far a label may reach past the picture's edge (rounding), in pixels.
const EDGE_SLACK: f64 = 0.5;
/// How much each label's box is shrunk before the overlap and crossing tests: a font's box
/// includes room above and below its letters.
const SHRINK: f64 = 2.0;

/// Turns one picture's measurements into problems (each names the picture and the label).
pub fn judge(name: &str, m: &Measured) -> Vec<String> {
    let mut problems = Vec::new();
    let v = m.viewport;
    for t in &m.texts {
        let r = t.rect;
        let past = [v.0 - r.0, r.2 - v.2, v.1 - r.1, r.3 - v.3];
        let sides = ["left", "right", "top", "bottom"];
        for (d, side) in past.iter().zip(sides) {
            if *d > EDGE_SLACK {
                problems.push(format!(
                    "{name}: the label {:?} is clipped: it reaches {d:.0} px past the picture's \
                     {side} edge",
                    t.label
                ));
            }
        }
    }
    let boxes: Vec<Rect> = m.texts.iter().map(|t| t.rect.shrunk(SHRINK)).collect();
    for i in 0..boxes.len() {
        for j in i + 1..boxes.len() {
            if boxes[i].overlaps(&boxes[j]) {
                problems.push(format!(
                    "{name}: the labels {:?} and {:?} overlap",
                    m.texts[i].label, m.texts[j].label
                ));
            }
        }
    }
    for (t, b) in m.texts.iter().zip(&boxes) {
        let crossed = m
            .lines
            .iter()
            .find(|s| s.points.windows(2).any(|w| segment_crosses(w[0], w[1], b)));
        if let Some(s) = crossed {
            problems.push(format!(
                "{name}: a <{}> runs through the label {:?}",
                s.kind, t.label
            ));
        }
    }
    problems
}

/// The page that shows one picture, inlined, at most 1280 px wide, with the probe.
fn wrapper(svg: &str) -> String {
    let svg = match svg.find("<svg") {
        Some(at) => &svg[at..],
        None => svg,
    };
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><style>body{{margin:0;width:{w}px}}\
         svg{{display:block;max-width:100%;height:auto}}</style></head><body>\n{svg}\n{PROBE}\
         </body></html>\n",
        w = super::browser::WIDTH
    )
}

/// The SVG files of a folder, sorted.
fn svgs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "svg"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    Ok(files)
}

/// Measures every picture of `img` (shown as `book/src/img/NAME`) in `browser`, writing
/// the wrapper pages under `scratch`. Prints and returns (pictures, labels) checked.
pub fn check_pictures(
    browser: &Path,
    img: &Path,
    scratch: &Path,
    f: &mut Findings,
) -> Result<(usize, usize)> {
    fs::create_dir_all(scratch)?;
    let files = svgs(img)?;
    let (mut pictures, mut labels, mut bad) = (0, 0, 0);
    for file in &files {
        let base = file.file_name().unwrap_or_default().to_string_lossy();
        let name = format!("book/src/img/{base}");
        let svg = fs::read_to_string(file).with_context(|| format!("cannot read {name}"))?;
        let page = scratch.join(format!("{base}.html"));
        fs::write(&page, wrapper(&svg))?;
        let profile = tempfile::tempdir()?;
        let output = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--virtual-time-budget=3000",
            ])
            .arg(format!("--window-size={},900", super::browser::WIDTH))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--dump-dom")
            .arg(format!("file://{}", page.display()))
            .output()
            .with_context(|| format!("cannot run {}", browser.display()))?;
        let dom = String::from_utf8_lossy(&output.stdout);
        let Some(m) = read_measured(&dom) else {
            f.fail(format!(
                "{name}: the measuring script did not report (exit {:?}; is the SVG well formed?)",
                output.status.code()
            ));
            continue;
        };
        if m.texts.is_empty() {
            f.fail(format!("{name}: no <text> labels were found to measure"));
            continue;
        }
        pictures += 1;
        labels += m.texts.len();
        let problems = judge(&name, &m);
        if problems.is_empty() {
            f.pass(1);
        } else {
            bad += 1;
        }
        for p in problems {
            f.fail(p);
        }
    }
    println!(
        "  {pictures} of {} pictures and {labels} labels checked at {} px, {bad} with a label \
         clipped, overlapping or crossed by a line (wrappers in {})",
        files.len(),
        super::browser::WIDTH,
        scratch.display()
    );
    Ok((pictures, labels))
}

/// The probe's report in a dumped DOM.
fn read_measured(dom: &str) -> Option<Measured> {
    let start = dom.find("id=\"workbook-probe\"")?;
    let body = &dom[start..];
    let body = &body[body.find('>')? + 1..];
    let body = &body[..body.find("</pre>")?];
    let json = body
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(s: &str, r: Rect) -> Label {
        Label {
            label: s.into(),
            rect: r,
        }
    }

    #[test]
    fn a_segment_through_a_box_crosses_it_and_one_beside_or_touching_does_not() {
        let r = Rect(10.0, 10.0, 20.0, 20.0);
        assert!(
            segment_crosses((0.0, 15.0), (30.0, 15.0), &r),
            "straight through"
        );
        assert!(segment_crosses((0.0, 0.0), (30.0, 30.0), &r), "diagonal");
        assert!(
            segment_crosses((15.0, 15.0), (40.0, 40.0), &r),
            "starts inside"
        );
        assert!(!segment_crosses((0.0, 25.0), (30.0, 25.0), &r), "below");
        assert!(
            !segment_crosses((0.0, 20.0), (30.0, 20.0), &r),
            "along the edge"
        );
        assert!(
            !segment_crosses((0.0, 0.0), (10.0, 10.0), &r),
            "ends at a corner"
        );
        assert!(
            !segment_crosses((0.0, 15.0), (10.0, 15.0), &r),
            "ends on the edge"
        );
        assert!(
            segment_crosses((0.0, 30.0), (30.0, 0.0), &r),
            "the other diagonal"
        );
        assert!(
            !segment_crosses((0.0, 45.0), (45.0, 0.0), &r),
            "a diagonal past a corner"
        );
        assert!(
            !segment_crosses((25.0, 0.0), (25.0, 30.0), &r),
            "vertical beside"
        );
        assert!(
            segment_crosses((15.0, 0.0), (15.0, 30.0), &r),
            "vertical through"
        );
    }

    #[test]
    fn boxes_overlap_only_when_they_share_area() {
        let a = Rect(0.0, 0.0, 10.0, 10.0);
        assert!(a.overlaps(&Rect(5.0, 5.0, 15.0, 15.0)));
        assert!(!a.overlaps(&Rect(10.0, 0.0, 20.0, 10.0)), "touching side");
        assert!(!a.overlaps(&Rect(0.0, 11.0, 10.0, 20.0)), "below");
        // Two lines of text 16 px apart whose font boxes touch by a pixel: apart once shrunk.
        let line1 = Rect(0.0, 0.0, 100.0, 17.0);
        let line2 = Rect(0.0, 16.0, 100.0, 33.0);
        assert!(line1.overlaps(&line2));
        assert!(!line1.shrunk(SHRINK).overlaps(&line2.shrunk(SHRINK)));
        assert_eq!(
            Rect(0.0, 0.0, 2.0, 2.0).shrunk(5.0),
            Rect(1.0, 1.0, 1.0, 1.0)
        );
    }

    #[test]
    fn clipped_overlapping_and_crossed_labels_are_named() {
        let m = Measured {
            viewport: Rect(0.0, 0.0, 640.0, 500.0),
            texts: vec![
                label("read timeout = WouldBlock", Rect(500.0, 70.0, 660.0, 86.0)),
                label("turn 1", Rect(10.0, 100.0, 60.0, 116.0)),
                label("turn one", Rect(40.0, 104.0, 90.0, 120.0)),
                label("ClientHello", Rect(200.0, 200.0, 300.0, 216.0)),
                label("fine", Rect(200.0, 300.0, 300.0, 316.0)),
            ],
            lines: vec![Stroke {
                kind: "line".into(),
                points: vec![(150.0, 190.0), (490.0, 230.0)],
            }],
        };
        let p = judge("book/src/img/x.svg", &m);
        assert_eq!(p.len(), 3, "{p:#?}");
        assert!(
            p[0].contains("\"read timeout = WouldBlock\" is clipped") && p[0].contains("right")
        );
        assert!(p[1].contains("\"turn 1\" and \"turn one\" overlap"));
        assert!(p[2].contains("<line> runs through the label \"ClientHello\""));
        assert!(p.iter().all(|s| s.starts_with("book/src/img/x.svg: ")));
    }

    #[test]
    fn the_wrapper_inlines_the_svg_without_its_prolog() {
        let page = wrapper("<?xml version=\"1.0\"?>\n<svg viewBox=\"0 0 1 1\"></svg>");
        assert!(page.contains("<body>\n<svg viewBox"));
        assert!(!page.contains("<?xml"));
        assert!(page.contains("workbook-probe"));
    }

    #[test]
    fn the_probe_report_is_read_from_the_dom() {
        let dom = r#"<pre id="workbook-probe" hidden="">{&quot;viewport&quot;:[0,0,10,10],&quot;texts&quot;:[{&quot;label&quot;:&quot;a &amp; b&quot;,&quot;rect&quot;:[1,1,5,5]}],&quot;lines&quot;:[]}</pre>"#;
        let m = read_measured(dom).unwrap();
        assert_eq!(m.texts[0].label, "a & b");
        assert_eq!(m.viewport, Rect(0.0, 0.0, 10.0, 10.0));
    }
}
