//! The `/chatter` payload: `Hello World: <seq>` as `demo_nodes_cpp` publishes it, optionally
//! followed by metadata that our talker adds and our listener parses.
//!
//! ```text
//! Hello World: 42                                     stock demo talker (anonymous)
//! Hello World: 42 #chatter id=pi-talker ns=1732...    our talker
//! Hello World: 42 #chatter id=pi-talker ns=1732... ~xxxxxxxx   padded to --payload-bytes
//! ```
//! The human-readable prefix keeps `ros2 topic echo /chatter` meaningful. Parsing never panics:
//! anything that is not one of the two forms is [`Payload::Foreign`].

use std::fmt::Write as _;

const PREFIX: &str = "Hello World: ";
const META: &str = " #chatter ";
const PAD: &str = " ~";

/// A parsed `/chatter` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload<'a> {
    /// Sent by a chatter-harness talker.
    Chatter { seq: u64, talker: &'a str, sent_ns: u64 },
    /// Stock `demo_nodes_cpp` form: a sequence number and nothing else.
    Demo { seq: u64 },
    /// Anything else on the topic.
    Foreign,
}

impl<'a> Payload<'a> {
    /// Parses a message; never fails, unknown text is [`Payload::Foreign`].
    pub fn parse(data: &'a str) -> Payload<'a> {
        parse_known(data).unwrap_or(Payload::Foreign)
    }

    /// The sequence number, when the payload has one.
    pub fn seq(&self) -> Option<u64> {
        match *self {
            Payload::Chatter { seq, .. } | Payload::Demo { seq } => Some(seq),
            Payload::Foreign => None,
        }
    }
}

fn parse_known(data: &str) -> Option<Payload<'_>> {
    let rest = data.strip_prefix(PREFIX)?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let seq = rest[..digits].parse().ok()?;
    let rest = &rest[digits..];
    if rest.is_empty() {
        return Some(Payload::Demo { seq });
    }
    let meta = rest.strip_prefix(META)?;
    // Padding is optional and may contain anything after its marker.
    let meta = match meta.find(PAD) {
        Some(at) => &meta[..at],
        None => meta,
    };
    let (mut talker, mut sent_ns) = (None, None);
    for field in meta.split(' ') {
        match field.split_once('=')? {
            ("id", v) if !v.is_empty() => talker = Some(v),
            ("ns", v) => sent_ns = Some(v.parse().ok()?),
            _ => return None,
        }
    }
    Some(Payload::Chatter { seq, talker: talker?, sent_ns: sent_ns? })
}

/// Encodes a chatter payload into `buf` (cleared first), padding it with `~x…` up to
/// `min_bytes` so large-message experiments keep the same parseable head.
///
/// `talker` must not contain spaces; [`crate::sanitize_id`] makes any id safe.
pub fn encode_into(buf: &mut String, seq: u64, talker: &str, sent_ns: u64, min_bytes: usize) {
    buf.clear();
    // Writing to a String cannot fail.
    let _ = write!(buf, "{PREFIX}{seq}{META}id={talker} ns={sent_ns}");
    if buf.len() < min_bytes {
        buf.push_str(PAD);
        let missing = min_bytes.saturating_sub(buf.len());
        buf.extend(std::iter::repeat_n('x', missing));
    }
}

/// Convenience form of [`encode_into`].
pub fn encode(seq: u64, talker: &str, sent_ns: u64, min_bytes: usize) -> String {
    let mut buf = String::with_capacity(min_bytes.max(64));
    encode_into(&mut buf, seq, talker, sent_ns, min_bytes);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn demo_payload_is_anonymous() {
        assert_eq!(Payload::parse("Hello World: 7"), Payload::Demo { seq: 7 });
    }

    #[test]
    fn chatter_payload_parses() {
        let s = encode(3, "pi-talker", 1_700_000_000_000_000_123, 0);
        assert_eq!(s, "Hello World: 3 #chatter id=pi-talker ns=1700000000000000123");
        assert_eq!(
            Payload::parse(&s),
            Payload::Chatter { seq: 3, talker: "pi-talker", sent_ns: 1_700_000_000_000_000_123 }
        );
    }

    #[test]
    fn padding_reaches_requested_size_and_still_parses() {
        let s = encode(9, "t", 5, 256);
        assert_eq!(s.len(), 256);
        assert_eq!(Payload::parse(&s), Payload::Chatter { seq: 9, talker: "t", sent_ns: 5 });
    }

    #[test]
    fn malformed_is_foreign() {
        for s in [
            "",
            "Hello World: ",
            "Hello World: x",
            "Hello World: 5 extra",
            "Hello World: 5 #chatter id=a",
            "Hello World: 5 #chatter ns=1",
            "Hello World: 5 #chatter id=a ns=zz",
            "Hello World: 5 #chatter id=a ns=1 bogus=2",
            "Hello World: 99999999999999999999999",
            "hello world: 1",
            "I heard: [Hello World: 1]",
        ] {
            assert_eq!(Payload::parse(s), Payload::Foreign, "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trip(seq in any::<u64>(), id in "[A-Za-z0-9._-]{1,40}", ns in any::<u64>(), pad in 0usize..600) {
            let s = encode(seq, &id, ns, pad);
            prop_assert!(s.len() >= pad);
            prop_assert_eq!(Payload::parse(&s), Payload::Chatter { seq, talker: &id, sent_ns: ns });
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = Payload::parse(&s);
        }

        #[test]
        fn parse_never_panics_near_valid(seq in any::<u64>(), tail in ".{0,40}") {
            let s = format!("Hello World: {seq}{tail}");
            let _ = Payload::parse(&s);
        }
    }
}
