//! Any bytes as a scenario file: an error or a scenario, never a panic; an error always names
//! a line, and a field path where one is given names a place that exists.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let positions = chatter_scenario::yaml::Positions::of_text(text);
    match chatter_scenario::spec::parse(text, std::path::Path::new("fuzz.yaml")) {
        Ok(s) => assert!(chatter_scenario::spec::validate(&s).is_ok()),
        Err(e) => {
            let at = e.location().expect("a parse error has a location");
            assert!(at.line.is_some(), "no line: {e}");
            if let Some(f) = e.field() {
                let _ = positions.of(f);
            }
        }
    }
});
