//! Every committed example report (runs, and size sweeps), opened in headless Chromium as a
//! person would at 1400 px and at 420 px (a phone): no script errors, every plot present and
//! drawn, and nothing wider than the screen at 420 px except inside the tables' own scroll
//! wrappers. Screenshots land in `target/report-screenshots/` for a look.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Appended to a copy of the page: measures, and posts the verdict to the frame around it.
const CHECK: &str = r#"<script>
window.__errors = window.__errors || [];
window.addEventListener('error', e => window.__errors.push(String(e.message)));
window.addEventListener('load', () => {
  const plots = {};
  for (const svg of document.querySelectorAll('svg.plot')) {
    const b = svg.getBoundingClientRect();
    plots[svg.id] = { marks: svg.querySelectorAll('rect,path,polyline,circle,line,text').length, w: b.width, h: b.height };
  }
  const out = { errors: window.__errors, plots, tables: document.querySelectorAll('table tbody tr').length, scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth };
  parent.postMessage(JSON.stringify(out), '*');
});
</script>"#;

/// The page in a frame of exactly the width under test (a headless window has a minimum
/// width; a frame does not), writing what the page measured into the DOM for `--dump-dom`.
fn frame(width: u32) -> String {
    format!(
        r#"<!DOCTYPE html><html><body style="margin:0"><iframe src="report.html" style="width:{width}px;height:1000px;border:0"></iframe>
<script>window.addEventListener('message', e => {{ const p = document.createElement('pre'); p.id = 'chatter-check'; p.textContent = e.data; document.body.appendChild(p); }});</script>
</body></html>"#
    )
}

fn chromium(args: &[&str], url: &str) -> std::process::Output {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "Chromium missing at {CHROMIUM}: run `bash scripts/setup.sh` (scripts/test.sh does)"
    );
    let profile = tempfile::tempdir().unwrap();
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .unwrap()
}

/// The committed results directories with a report.html and `marker` beside it (`run.json`: a
/// run; `sweep.json`: a size sweep).
fn committed(marker: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(testkit::workspace_root().join("results"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|d| d.join("report.html").is_file() && d.join(marker).is_file())
        .collect();
    dirs.sort();
    dirs
}

fn examples() -> Vec<PathBuf> {
    let dirs = committed("run.json");
    assert!(dirs.len() >= 3, "three committed examples: {dirs:?}");
    dirs
}

/// Loads `page` at `width` px and returns what the check script measured.
fn measure(page: &Path, width: u32) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let html = std::fs::read_to_string(page).unwrap().replace("</body>", &format!("{CHECK}</body>"));
    std::fs::write(tmp.path().join("report.html"), html).unwrap();
    let wrapper = tmp.path().join("frame.html");
    std::fs::write(&wrapper, frame(width)).unwrap();
    let size = format!("--window-size={},1100", width + 100);
    let out = chromium(
        &[&size, "--allow-file-access-from-files", "--virtual-time-budget=3000", "--dump-dom"],
        &format!("file://{}", wrapper.display()),
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    let json =
        dom.split("<pre id=\"chatter-check\">").nth(1).and_then(|rest| rest.split("</pre>").next()).unwrap_or_else(
            || panic!("the check did not run in {}: {}", page.display(), String::from_utf8_lossy(&out.stderr)),
        );
    serde_json::from_str(&json.replace("&quot;", "\"").replace("&amp;", "&")).unwrap()
}

#[test]
fn example_reports_render_with_their_plots_at_desktop_and_phone_width() {
    let shots = testkit::workspace_root().join("target/report-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for dir in examples() {
        let page = dir.join("report.html");
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        for width in [1400, 420] {
            let m = measure(&page, width);
            assert_eq!(m["errors"], serde_json::json!([]), "{name} at {width}px: {m}");
            for id in ["plot-strip", "plot-heatmap", "plot-cdf", "plot-whiskers", "plot-discovery", "plot-timeline-0"] {
                let p = &m["plots"][id];
                assert!(p["marks"].as_u64().unwrap_or(0) > 3, "{name} at {width}px: plot {id} missing or empty: {m}");
                assert!(
                    p["w"].as_f64().unwrap_or(0.0) > 100.0 && p["h"].as_f64().unwrap_or(0.0) > 20.0,
                    "{name}: {id} not drawn: {m}"
                );
            }
            if width == 420 {
                let (sw, iw) = (m["scrollWidth"].as_f64().unwrap(), m["innerWidth"].as_f64().unwrap());
                assert!(
                    sw <= iw,
                    "{name} at 420px is {sw}px wide (viewport {iw}px): something overflows outside the scroll wrappers"
                );
            }
            let shot = shots.join(format!("{name}-{width}.png"));
            let size = format!("--window-size={width},2400");
            let shot_arg = format!("--screenshot={}", shot.display());
            chromium(&[&size, &shot_arg], &format!("file://{}", page.display()));
            assert!(shot.is_file(), "screenshot {}", shot.display());
        }
    }
}

/// The committed fix matrix's page: its table shows (one row per variant), no errors, and at
/// phone width nothing overflows outside the table's scroll wrapper.
#[test]
fn matrix_page_shows_its_table_at_desktop_and_phone_width() {
    let page = testkit::workspace_root().join("results/example-matrix/matrix.html");
    let json = std::fs::read_to_string(testkit::workspace_root().join("results/example-matrix/matrix.json")).unwrap();
    let variants = serde_json::from_str::<serde_json::Value>(&json).unwrap()["variants"].as_array().unwrap().len();
    for width in [1400, 420] {
        let m = measure(&page, width);
        assert_eq!(m["errors"], serde_json::json!([]), "matrix at {width}px: {m}");
        assert_eq!(m["tables"], variants, "one per variant ({variants}): {m}");
        if width == 420 {
            assert!(m["scrollWidth"].as_f64().unwrap() <= m["innerWidth"].as_f64().unwrap(), "overflow at 420 px: {m}");
        }
    }
}

/// Each committed size sweep's report.html: its three plots drawn (a line per relation at the
/// least), one table row per size and relation, no errors, nothing overflowing at phone width.
#[test]
fn sweep_reports_render_their_plots_and_table_at_desktop_and_phone_width() {
    let sweeps = committed("sweep.json");
    assert!(!sweeps.is_empty(), "a committed size sweep with its report.html");
    let shots = testkit::workspace_root().join("target/report-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for dir in sweeps {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let json: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
        let rows: usize = json["sizes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["outcome"]["rows"].as_array().map_or(1, |r| r.len().max(1)))
            .sum();
        let page = dir.join("report.html");
        for width in [1400, 420] {
            let m = measure(&page, width);
            assert_eq!(m["errors"], serde_json::json!([]), "{name} at {width}px: {m}");
            for id in ["plot-sweep-delivery", "plot-sweep-latency", "plot-sweep-goodput"] {
                let p = &m["plots"][id];
                // Frame, ticks and size labels alone are more than a dozen marks; a line and
                // its markers per relation come on top.
                assert!(p["marks"].as_u64().unwrap_or(0) > 20, "{name} at {width}px: plot {id} empty: {m}");
                assert!(
                    p["w"].as_f64().unwrap_or(0.0) > 100.0 && p["h"].as_f64().unwrap_or(0.0) > 100.0,
                    "{name}: {id}: {m}"
                );
            }
            assert_eq!(m["tables"].as_u64(), Some(rows as u64), "{name}: a row per size and relation: {m}");
            if width == 420 {
                assert!(
                    m["scrollWidth"].as_f64().unwrap() <= m["innerWidth"].as_f64().unwrap(),
                    "{name}: overflow: {m}"
                );
            }
            let shot = shots.join(format!("{name}-{width}.png"));
            let shot_arg = format!("--screenshot={}", shot.display());
            chromium(&[&format!("--window-size={width},2400"), &shot_arg], &format!("file://{}", page.display()));
            assert!(shot.is_file(), "screenshot {}", shot.display());
        }
    }
}
