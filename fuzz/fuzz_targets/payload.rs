//! Any text as a received message: parsed without panicking; and any talker id, made safe
//! with `sanitize_id` as the talker does, round-trips through the encoding.
#![no_main]

use chatter::Payload;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: (&str, u64, u64, u16)| {
    let (text, seq, sent_ns, pad) = data;
    let _ = Payload::parse(text).seq();
    let talker = chatter::sanitize_id(text);
    if talker.is_empty() {
        return;
    }
    let encoded = chatter::payload::encode(seq, &talker, sent_ns, usize::from(pad));
    assert_eq!(Payload::parse(&encoded), Payload::Chatter { seq, talker: &talker, sent_ns }, "{encoded}");
});
