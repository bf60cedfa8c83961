//! What a scenario error says: where it is ([`Location`], `file:line:col`) and what is wrong
//! ([`SpecError`]), one error or every error of a file at once.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::yaml::Pos;

/// Where in a file something is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    /// `pos` in the file at `path` (only the path when the position is unknown).
    pub fn at(path: &Path, pos: Option<Pos>) -> Location {
        Location { path: path.to_owned(), line: pos.map(|p| p.line), column: pos.map(|p| p.col) }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// A scenario that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{path}: cannot read scenario: {source}", path = path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// Not YAML, or not a scenario's shape (a wrong type, an unknown field, a value out of its
    /// range): where the parser stopped, and the field there when there is one.
    #[error("{at}: {}{message}", field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default())]
    Syntax { at: Location, field: Option<String>, message: String },
    #[error("{at}: {field}: {message}")]
    Invalid { at: Location, field: String, message: String },
    /// Every error a scenario has, in file order, one a line (two or more).
    #[error("{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many { errors: Vec<SpecError> },
}

impl SpecError {
    /// Where the (first) error is.
    pub fn location(&self) -> Option<&Location> {
        match self {
            SpecError::Read { .. } => None,
            SpecError::Syntax { at, .. } | SpecError::Invalid { at, .. } => Some(at),
            SpecError::Many { errors } => errors.first().and_then(SpecError::location),
        }
    }

    /// The offending field's path (`pods[1].containers[0].name`) of the (first) error, where
    /// known.
    pub fn field(&self) -> Option<&str> {
        match self {
            SpecError::Read { .. } => None,
            SpecError::Syntax { field, .. } => field.as_deref(),
            SpecError::Invalid { field, .. } => Some(field),
            SpecError::Many { errors } => errors.first().and_then(SpecError::field),
        }
    }

    /// Each error on its own (one, unless this is [`SpecError::Many`]).
    pub fn errors(&self) -> Vec<&SpecError> {
        match self {
            SpecError::Many { errors } => errors.iter().collect(),
            e => vec![e],
        }
    }
}
