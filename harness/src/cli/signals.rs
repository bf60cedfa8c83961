//! Ctrl-C and SIGTERM during a run: the first stops it cleanly, a second exits at once.

use tokio::sync::watch;

use super::exit;

/// The signal that stopped the run: its exit code (130 SIGINT, 143 SIGTERM), 0 while none.
pub(super) static STOPPED_BY: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// The first SIGINT or SIGTERM stops the run cleanly (the trial ends as interrupted, results
/// are written, the backend removes what it made); a second one exits at once, after saying
/// what may be left and how to remove it.
pub(super) fn watch_signals(stop: watch::Sender<bool>, leftovers: String) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        let code = tokio::select! {
            _ = int.recv() => exit::INTERRUPTED,
            _ = term.recv() => exit::TERMINATED,
        };
        STOPPED_BY.store(code, std::sync::atomic::Ordering::SeqCst);
        eprintln!(
            "harness: interrupted; stopping the trial, writing results and removing what the run created (again to \
             exit at once)"
        );
        let _ = stop.send(true);
        let code = tokio::select! {
            _ = int.recv() => exit::INTERRUPTED,
            _ = term.recv() => exit::TERMINATED,
        };
        eprintln!("harness: exiting now; left behind may be {leftovers}");
        std::process::exit(i32::from(code));
    });
    Ok(())
}
