//! Inputs kept from fuzzing (and hand-made hard cases) in `fuzz/regressions/scenario/`: each
//! one parses to a scenario or to an error that names its line, without panicking or
//! exhausting the stack.

#[test]
fn kept_inputs_give_an_error_with_a_line() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/scenario");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions/scenario") {
        let path = entry.expect("entry").path();
        seen += 1;
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        match chatter_scenario::spec::parse(&text, &path) {
            Ok(s) => assert!(chatter_scenario::spec::validate(&s).is_ok()),
            Err(e) => assert!(e.location().and_then(|l| l.line).is_some(), "{}: no line in `{e}`", path.display()),
        }
    }
    assert!(seen >= 4, "the kept inputs are missing from {}", dir.display());
}
