//! Every container's log, followed line by line into the collector from the container's start
//! (so nothing printed before the release is lost), and which streams broke.

use std::time::Duration;

use futures::{AsyncBufRead, AsyncBufReadExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use tokio::sync::{mpsc, watch};

use super::api::call;
use crate::backend::drive::stopped;
use crate::backend::{lossy_line, BackendError, Lifecycle, Line};
use crate::placement::Plan;

/// A container's log reader: when its stream broke, the container's id and why.
pub(super) type LogReader = tokio::task::JoinHandle<Option<(String, String)>>;

/// Starts a reader of every container's log.
pub(super) async fn follow_logs(
    api: &Api<Pod>,
    plan: &Plan,
    lines: &mpsc::UnboundedSender<Line>,
) -> Result<Vec<LogReader>, BackendError> {
    let mut readers = Vec::new();
    for (pod, c) in plan.containers() {
        let lp = LogParams { container: Some(c.name.clone()), follow: true, ..LogParams::default() };
        let stream = call(&format!("logs of {}/{}", pod.name, c.name), || api.log_stream(&pod.name, &lp)).await?;
        let (tx, pod_name, container) = (lines.clone(), pod.name.clone(), c.name.clone());
        // Our nodes end their output with a stop record; a stream that ends before it, or
        // fails, broke (unless the container died, which its exit says).
        let ends_with_stop = !c.is_custom();
        readers.push(tokio::spawn(read_log(stream, tx, pod_name, container, ends_with_stop)));
    }
    Ok(readers)
}

/// Forwards one container's log to `tx` until it ends, then its end; returns why the stream
/// broke, if it did.
async fn read_log(
    mut stream: impl AsyncBufRead + Unpin,
    tx: mpsc::UnboundedSender<Line>,
    pod_name: String,
    container: String,
    ends_with_stop: bool,
) -> Option<(String, String)> {
    // Byte lines: a container's output that is not UTF-8 must not end the stream.
    let mut buf = Vec::new();
    let mut stopped = false;
    let broken = loop {
        match stream.read_until(b'\n', &mut buf).await {
            Ok(0) if ends_with_stop && !stopped => {
                break Some("its log stream ended before the node's stop record".to_owned())
            }
            Ok(0) => break None,
            // A line cut by the failure is not a record.
            Ok(_) if !buf.ends_with(b"\n") && ends_with_stop => {
                break Some("its log stream ended in the middle of a line".to_owned())
            }
            Ok(_) => {
                let text = lossy_line(&buf);
                stopped |= chatter::record::parse_line_ref(&text).is_ok_and(|r| r.kind == chatter::RecordKind::Stop);
                if tx.send(Line::text(&pod_name, &container, text)).is_err() {
                    break None;
                }
                buf.clear();
            }
            Err(e) => break Some(format!("its log stream failed: {e}")),
        }
    };
    let _ = tx.send(Line::event(&pod_name, &container, Lifecycle::Ended { t_ns: chatter::now_ns() }));
    broken.map(|why| (format!("{pod_name}.{container}"), why))
}

/// Waits for every reader to finish (at most 30 s each, its pod deleted; Ctrl-C ends the wait
/// unless the trial was `interrupted` already): the streams that broke, and why.
pub(super) async fn await_readers(
    readers: Vec<LogReader>,
    stop: &mut watch::Receiver<bool>,
    interrupted: bool,
) -> Vec<(String, String)> {
    let mut broken = Vec::new();
    for r in readers {
        tokio::select! {
            r = tokio::time::timeout(Duration::from_secs(30), r) => match r {
                Ok(Ok(Some(b))) => broken.push(b),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => broken.push(("a log reader".into(), format!("failed: {e}"))),
                Err(_) => broken.push(("a log stream".into(), "still open 30 s after its pod was deleted".into())),
            },
            _ = stopped(stop), if !interrupted => {}
        }
    }
    broken
}
