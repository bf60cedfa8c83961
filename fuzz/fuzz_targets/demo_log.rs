//! Any bytes as a stock demo node's console line: classified, never a panic, bytes and text
//! agree for UTF-8 input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let from_bytes = chatter::demo_log::parse_bytes(data);
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(from_bytes, chatter::demo_log::parse(text));
    }
});
