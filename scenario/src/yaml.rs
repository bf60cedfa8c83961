//! Where every field of a YAML document is, by field path (`pods[1].containers[0].name`), from
//! the YAML parser's own positions (granit-parser, the parser under serde-saphyr) — never from
//! searching the text. A scenario error names `file:line:col` and the field through this: a
//! validation failure knows its field and looks the position up; a parse failure knows its
//! position and looks the field up.

use granit_parser::{Event, Parser};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// The fields of the first document, in document order: where each value and each key starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Positions {
    values: Vec<(String, Pos)>,
    keys: Vec<(String, Pos)>,
    /// Fields whose value is a mapping or a sequence.
    collections: Vec<String>,
    /// What each field's text covers, in characters from the start: from its key (a mapping
    /// entry), its `-` (a block sequence item) or its value, to the end of its value.
    spans: Vec<(String, usize, usize)>,
}

enum Frame {
    Map { path: String, key: Option<(String, usize)>, span: usize },
    Seq { path: String, next: usize, span: usize },
}

impl Positions {
    /// The positions of `text`'s first document, as far as it parses (a syntax error ends the
    /// walk; what came before it is kept).
    pub fn of_text(text: &str) -> Positions {
        let mut out = Positions::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut parser = Parser::new_from_str(text);
        let chars: Vec<char> = text.chars().collect();
        // End of the last scalar or flow bracket: where a block collection ends.
        let mut last_end = 0;
        while let Some(Ok((event, span))) = parser.next_event() {
            let pos = Pos { line: span.start.line(), col: span.start.col() + 1 };
            let (start, end) = (span.start.index(), span.end.index());
            let node = match event {
                Event::Scalar(value, ..) => {
                    last_end = end;
                    // A scalar where a mapping expects a key is the key.
                    if let Some(Frame::Map { path, key: key @ None, .. }) = stack.last_mut() {
                        let k = join_key(path, &value);
                        out.keys.push((k, pos));
                        *key = Some((value.into_owned(), start));
                        continue;
                    }
                    None
                }
                Event::SequenceStart(..) => Some(false),
                Event::MappingStart(..) => Some(true),
                Event::Alias(..) | Event::UnresolvedAlias(..) => {
                    last_end = end;
                    None
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    if matches!(chars.get(start), Some(']' | '}')) {
                        last_end = end;
                    }
                    if let Some(Frame::Map { span, .. } | Frame::Seq { span, .. }) = stack.pop() {
                        out.spans[span].2 = last_end;
                    }
                    continue;
                }
                Event::DocumentEnd => break,
                _ => continue,
            };
            // A value: its path from where it sits, and where its text starts.
            let (path, from) = match stack.last_mut() {
                Some(Frame::Map { path, key, .. }) => {
                    let (k, at) = key.take().unwrap_or_default();
                    (join_key(path, &k), at)
                }
                Some(Frame::Seq { path, next, .. }) => {
                    *next += 1;
                    // A block item starts at its `-`.
                    let mut at = start;
                    while at > 0 && chars[at - 1].is_whitespace() {
                        at -= 1;
                    }
                    let at = if at > 0 && chars[at - 1] == '-' { at - 1 } else { start };
                    (format!("{path}[{}]", *next - 1), at)
                }
                None => (String::new(), start),
            };
            out.values.push((path.clone(), pos));
            out.spans.push((path.clone(), from, if node.is_some() { start } else { end }));
            let span = out.spans.len() - 1;
            if node.is_some() {
                out.collections.push(path.clone());
            }
            match node {
                Some(true) => stack.push(Frame::Map { path, key: None, span }),
                Some(false) => stack.push(Frame::Seq { path, next: 0, span }),
                None => {}
            }
        }
        out
    }

    /// The characters `field` covers (see [`Positions::spans`]), the first time it appears.
    pub fn span(&self, field: &str) -> Option<(usize, usize)> {
        self.spans.iter().find(|(k, ..)| k == field).map(|(_, a, b)| (*a, *b))
    }

    /// Where `field`'s own value starts, if the document has it.
    pub fn value_pos(&self, field: &str) -> Option<Pos> {
        self.values.iter().find(|(k, _)| k == field).map(|(_, p)| *p)
    }

    /// The field whose key starts exactly at `pos`.
    pub fn key_at(&self, pos: Pos) -> Option<&str> {
        self.keys.iter().find(|(_, p)| *p == pos).map(|(k, _)| k.as_str())
    }

    /// The field whose value starts exactly at `pos`.
    pub fn value_at(&self, pos: Pos) -> Option<&str> {
        self.values.iter().find(|(_, p)| *p == pos).map(|(k, _)| k.as_str())
    }

    /// Where `field`'s value starts (for a mapping or sequence under a key: where its key
    /// does, the line a reader looks for); for a field the document does not have (a missing
    /// key), where its nearest present ancestor is.
    pub fn of(&self, field: &str) -> Option<Pos> {
        let mut f = field;
        loop {
            if let Some((_, p)) = self.values.iter().find(|(k, _)| k == f) {
                let key = self.keys.iter().find(|(k, _)| k == f).filter(|_| self.is_collection(f));
                return Some(key.map_or(*p, |(_, k)| *k));
            }
            if f.is_empty() {
                return None;
            }
            f = parent(f);
        }
    }

    pub fn is_collection(&self, field: &str) -> bool {
        self.collections.iter().any(|c| c == field)
    }

    /// The nearest mapping or sequence that holds `field` (itself, if it is one).
    pub fn enclosing_collection<'a>(&self, field: &'a str) -> &'a str {
        let mut f = field;
        while !f.is_empty() && !self.is_collection(f) {
            f = parent(f);
        }
        f
    }

    /// The field at `pos`: the one whose value starts there (a mapping before its own first
    /// key), or whose key does, else the last one that starts before it.
    pub fn field_at(&self, pos: Pos) -> Option<&str> {
        let exact = self.values.iter().chain(&self.keys).find(|(_, p)| *p == pos);
        exact
            .or_else(|| self.values.iter().filter(|(k, p)| *p <= pos && !k.is_empty()).max_by_key(|(_, p)| *p))
            .map(|(k, _)| k.as_str())
    }
}

/// The field that holds `field` (`pods[0]` for `pods[0].name`, `pods` for `pods[0]`; the
/// document, `""`, for a top-level field).
pub fn parent(field: &str) -> &str {
    field.rfind(['.', '[']).map_or("", |i| &field[..i])
}

/// The path of `key` in the mapping at `parent` (the document itself when `parent` is empty).
pub fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
name: t
pods:
  - name: a
    containers:
      - {name: x, role: talker}
      - name: y
        role: listener
faults: [{kind: kill, pod: a, container: z, atS: 1}]
";

    #[test]
    fn every_field_has_its_position() {
        let p = Positions::of_text(TEXT);
        assert_eq!(p.of("name"), Some(Pos { line: 1, col: 7 }));
        assert_eq!(p.of("pods[0].name"), Some(Pos { line: 3, col: 11 }));
        assert_eq!(p.of("pods[0].containers[0].role"), Some(Pos { line: 5, col: 25 }));
        assert_eq!(p.of("pods[0].containers[1].name"), Some(Pos { line: 6, col: 15 }));
        assert_eq!(p.of("faults[0].container"), Some(Pos { line: 8, col: 42 }));
        // Missing: its nearest ancestor.
        assert_eq!(p.of("pods[0].containers[1].rateHz"), Some(Pos { line: 6, col: 9 }));
        assert_eq!(p.of("pods[3].name"), p.of("pods"));
        // A block collection under a key: the key's line.
        assert_eq!(p.of("pods"), Some(Pos { line: 2, col: 1 }));
        assert_eq!(p.enclosing_collection("pods[0].containers[1].name"), "pods[0].containers[1]");
        assert_eq!(p.enclosing_collection("pods[0]"), "pods[0]");
    }

    #[test]
    fn positions_name_their_field() {
        let p = Positions::of_text(TEXT);
        assert_eq!(p.field_at(Pos { line: 6, col: 9 }), Some("pods[0].containers[1]"));
        assert_eq!(p.field_at(Pos { line: 7, col: 9 }), Some("pods[0].containers[1].role"), "a key");
        assert_eq!(p.field_at(Pos { line: 8, col: 53 }), Some("faults[0].atS"));
    }

    #[test]
    fn a_syntax_error_keeps_what_came_before() {
        let p = Positions::of_text("name: t\npods:\n\t- name: a\n");
        assert_eq!(p.of("name"), Some(Pos { line: 1, col: 7 }));
    }
}
