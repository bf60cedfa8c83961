//! What a backend sends the collector: every line a container printed, and the moments its
//! process started and its output ended (see [`Lifecycle`]).

/// One line a container printed, with where it came from; or (with `event`) the moment its
/// process started or its output ended, which containers that print no records of their own
/// (the stock demo nodes) need for their start and stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub pod: String,
    pub container: String,
    pub text: String,
    pub event: Option<Lifecycle>,
}

/// A container's process started, or its output ended (it exited or was stopped); or the
/// cluster placed a pod (`container` empty) on `node` — before any of its records, so the
/// analysis reads them with the node they really came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    Started { t_ns: u64 },
    Ended { t_ns: u64 },
    Placed { node: String },
}

impl Line {
    pub fn text(pod: &str, container: &str, text: String) -> Line {
        Line { pod: pod.to_owned(), container: container.to_owned(), text, event: None }
    }

    pub fn event(pod: &str, container: &str, event: Lifecycle) -> Line {
        Line { pod: pod.to_owned(), container: container.to_owned(), text: String::new(), event: Some(event) }
    }
}

/// A line of output as text: bytes that are not UTF-8 are replaced, never fatal, and the line
/// ending is dropped.
pub fn lossy_line(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}
