//! Numbers in the words findings use: durations (`1.80 s`, `120 ms`) and rates (`29.0 %`).

pub(super) fn ms_words(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

pub(super) fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}
