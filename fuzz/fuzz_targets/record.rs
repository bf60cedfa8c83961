//! Any line as a node's output: a record or an error, never a panic; the borrowed and the
//! owned parsers agree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &str| {
    let owned = chatter::record::parse_line(line);
    let borrowed = chatter::record::parse_line_ref(line);
    assert_eq!(owned.is_ok(), borrowed.is_ok(), "{line:?}");
    if let Ok(r) = owned {
        let again = chatter::record::parse_line(&r.to_json()).expect("a record's own JSON parses");
        assert_eq!(again.kind, r.kind);
        assert_eq!(again.t_ns, r.t_ns);
    }
});
