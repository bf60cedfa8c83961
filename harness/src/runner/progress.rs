//! The progress bar on stderr, and the log writer that keeps log lines out of it.

/// The progress bars of this process: log lines go through [`LogWriter`], which clears the
/// bars, writes the line and draws them again, so a log line never lands in the middle of a bar.
pub fn progress_bars() -> &'static indicatif::MultiProgress {
    static BARS: std::sync::OnceLock<indicatif::MultiProgress> = std::sync::OnceLock::new();
    BARS.get_or_init(indicatif::MultiProgress::new)
}

/// stderr for log lines, around the progress bars (see [`progress_bars`]); the tracing
/// subscriber writes each event with one `write_all`.
#[derive(Debug, Default)]
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        progress_bars().suspend(|| std::io::stderr().write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        progress_bars().suspend(|| std::io::stderr().write_all(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A run's bar of `trials` trials, or a hidden one without `--progress`.
pub(super) fn progress_bar(show: bool, trials: u32) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = progress_bars().add(indicatif::ProgressBar::new(u64::from(trials)));
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
