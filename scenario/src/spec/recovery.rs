//! How parsing carries on after an error, so that every error is reported at once: a parse
//! error is turned into a located [`SpecError`] with its field, the offending entry is blanked
//! out of the text, and the fields of the blanked text are named as in the original.

use std::path::Path;

use crate::yaml::{join_key, Pos, Positions};

use super::{Location, SpecError};

/// A parse error at its field; for a missing field, also the mapping that lacks it.
pub(super) fn syntax_error(e: &serde_saphyr::Error, positions: &Positions, path: &Path) -> (SpecError, Option<String>) {
    let at = |pos: Option<Pos>| Location::at(path, pos);
    let pos = e.location().map(|l| Pos {
        line: usize::try_from(l.line()).unwrap_or(usize::MAX),
        col: usize::try_from(l.column()).unwrap_or(usize::MAX),
    });
    let message = e.without_snippet().to_string();
    // The message ends with the position, which the location already says.
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    };
    let here = pos.and_then(|p| positions.field_at(p));
    // At a key (a flow mapping's first, say): the mapping is the one the key is in.
    let in_mapping = pos.and_then(|p| positions.key_at(p)).filter(|k| Some(*k) == here).map(crate::yaml::parent);
    match here.and_then(|f| missing_field(positions, in_mapping.unwrap_or(f), &message)) {
        // Reported where the mapping that lacks it is.
        Some((field, mapping)) => {
            let error = SpecError::Syntax { at: at(positions.of(&mapping)), field: Some(field), message };
            (error, Some(mapping))
        }
        None => (SpecError::Syntax { at: at(pos), field: here.map(|f| refine_field(f, &message)), message }, None),
    }
}

/// Turns the characters `from..to` into spaces (newlines stay, so every position after them
/// does too), with the comma that separated them in a flow collection.
pub(super) fn blank(text: &mut [char], from: usize, to: usize) {
    let to = to.min(text.len());
    for c in &mut text[from.min(to)..to] {
        if *c != '\n' {
            *c = ' ';
        }
    }
    let next = (to..text.len()).find(|&i| !text[i].is_whitespace());
    let prev = (0..from.min(text.len())).rev().find(|&i| !text[i].is_whitespace());
    if let Some(i) = next.filter(|&i| text[i] == ',') {
        text[i] = ' ';
    } else if let Some(i) = prev.filter(|&i| text[i] == ',') {
        text[i] = ' ';
    }
}

/// Whether `outer` holds `inner` (`pods[0]` holds `pods[0].name`; the document holds all).
pub(super) fn holds(outer: &str, inner: &str) -> bool {
    outer.is_empty() || inner.strip_prefix(outer).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// Whether `field` is, or holds, what `pattern` names (`pods[*].name`: every pod's name).
pub(super) fn matches_pattern(field: &str, pattern: &str) -> bool {
    let segments = |p: &str| p.split(['.', '[']).map(str::to_owned).collect::<Vec<_>>();
    let (f, p) = (segments(field), segments(pattern));
    f.len() <= p.len() && f.iter().zip(&p).all(|(a, b)| a == b || (b == "*]" && a.ends_with(']')))
}

/// `field` of the blanked text, named as in the original: the longest part of it that the
/// blanked text has is looked up at its position in the original.
pub(super) fn original_field(field: &str, now: &Positions, original: &Positions) -> String {
    let mut cut = field.len();
    loop {
        let prefix = &field[..cut];
        if let Some(o) = now.value_pos(prefix).and_then(|p| original.value_at(p)) {
            return format!("{o}{}", &field[cut..]);
        }
        match prefix.rfind(['.', '[']) {
            Some(i) => cut = i,
            None => return field.to_owned(),
        }
    }
}

/// For "missing field `x`" reported at `at`: the missing field's path and its mapping's.
fn missing_field(positions: &Positions, at: &str, message: &str) -> Option<(String, String)> {
    let name = message.strip_prefix("missing field `")?.split('`').next()?;
    let mapping = positions.enclosing_collection(at).to_owned();
    Some((join_key(&mapping, name), mapping))
}

/// An unknown field is reported at its mapping (or at its key): name the field itself.
fn refine_field(at: &str, message: &str) -> String {
    match message.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next()) {
        Some(name) if at != name && !at.ends_with(&format!(".{name}")) => join_key(at, name),
        _ => at.to_owned(),
    }
}
