//! The YAML model the lint reads: documents as trees of [`Node`]s that keep the line each node
//! starts on (from the parser's own positions), the files of a set with their text, and the
//! opening of `List` documents into the objects they hold.

use granit_parser::{Event, Parser};

/// A YAML node with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Scalar(String, usize),
    Seq(Vec<Node>, usize),
    Map(Vec<(String, Node)>, usize),
    /// Aliases and anything the lint does not look into.
    Other(usize),
}

impl Node {
    pub fn line(&self) -> usize {
        match self {
            Node::Scalar(_, l) | Node::Seq(_, l) | Node::Map(_, l) | Node::Other(l) => *l,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries, _) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a path of keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, k| n.get(k))
    }

    pub fn str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Node] {
        match self {
            Node::Seq(items, _) => items,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Map(entries, _) => entries,
            _ => &[],
        }
    }
}

/// Unreadable input: not YAML.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{col}: not YAML: {message}")]
pub struct LintInputError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// Every document of `text`, as trees with line numbers.
pub fn parse_documents(file: &str, text: &str) -> Result<Vec<Node>, LintInputError> {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    // A stack of partially built collections: (sequence items | mapping entries, pending key).
    enum Open {
        Seq(Vec<Node>, usize),
        Map(Vec<(String, Node)>, Option<String>, usize),
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let push = |stack: &mut Vec<Open>, root: &mut Option<Node>, node: Node| match stack.last_mut() {
        Some(Open::Seq(items, _)) => items.push(node),
        Some(Open::Map(entries, key, _)) => match key.take() {
            Some(k) => entries.push((k, node)),
            None => *key = Some(node.str().map(str::to_owned).unwrap_or_default()),
        },
        None => *root = Some(node),
    };
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| LintInputError {
            file: file.to_owned(),
            line: e.marker().line(),
            col: e.marker().col() + 1,
            message: e.info().to_owned(),
        })?;
        let line = span.start.line();
        match event {
            Event::Scalar(value, ..) => push(&mut stack, &mut root, Node::Scalar(value.into_owned(), line)),
            Event::SequenceStart(..) => stack.push(Open::Seq(Vec::new(), line)),
            Event::MappingStart(..) => stack.push(Open::Map(Vec::new(), None, line)),
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match stack.pop() {
                    Some(Open::Seq(items, l)) => Node::Seq(items, l),
                    Some(Open::Map(entries, _, l)) => Node::Map(entries, l),
                    None => Node::Other(line),
                };
                push(&mut stack, &mut root, node);
            }
            Event::Alias(..) | Event::UnresolvedAlias(..) => push(&mut stack, &mut root, Node::Other(line)),
            Event::DocumentEnd => {
                if let Some(r) = root.take() {
                    docs.push(r);
                }
                stack.clear();
            }
            _ => {}
        }
    }
    Ok(docs)
}

/// One file of the set: its name, its text (for `# harness-lint: allow <rule>` comments) and
/// its documents.
#[derive(Debug)]
pub struct SourceFile {
    pub file: String,
    pub text: String,
    pub docs: Vec<Node>,
}

impl SourceFile {
    pub fn parse(file: &str, text: String) -> Result<Self, LintInputError> {
        let docs = parse_documents(file, &text)?;
        Ok(SourceFile { file: file.to_owned(), text, docs })
    }
}

/// The documents of a file, `List`s opened.
pub(super) fn flatten<'a>(docs: &'a [Node], out: &mut Vec<&'a Node>) {
    for d in docs {
        let kind = d.get("kind").and_then(Node::str).unwrap_or("");
        if kind.ends_with("List") && d.get("items").is_some() {
            flatten(d.get("items").map(Node::items).unwrap_or_default(), out);
        } else {
            out.push(d);
        }
    }
}

/// A scalar `true` (`hostNetwork`, `tty`, …); absent or anything else is false.
pub(super) fn is_true(n: Option<&Node>) -> bool {
    n.and_then(Node::str) == Some("true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_from_the_parser() {
        let docs =
            parse_documents("t.yaml", "a: 1\n---\nkind: Pod\nspec:\n  containers:\n    - name: x\n").expect("yaml");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].at(&["spec", "containers"]).map(Node::line), Some(6));
        assert_eq!(docs[1].get("kind").map(Node::line), Some(3));
    }

    #[test]
    fn unreadable_input_names_where() {
        let e = parse_documents("bad.yaml", "a: [1, 2\nb: c\n").expect_err("unterminated");
        assert_eq!(e.file, "bad.yaml");
        assert!(e.line >= 1, "{e}");
    }
}
