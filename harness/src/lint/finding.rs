//! What a rule reports: a [`LintFinding`] with its [`Severity`], and the collector rules push
//! findings into, which drops those a `# harness-lint: allow <rule>` comment permits.

use serde::Serialize;

use super::document::SourceFile;
use super::workload::Workload;

/// How sure a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; the manifest alone cannot say whether it matters.
    Note,
    /// Fails under a condition the manifest cannot rule out (the message names it).
    Warning,
    /// Will not work as written.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One pitfall found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintFinding {
    pub file: String,
    pub line: usize,
    pub severity: Severity,
    pub rule: &'static str,
    /// `Kind/name` of the object.
    pub object: String,
    pub message: String,
    pub fix: String,
}

impl LintFinding {
    pub fn line_text(&self) -> String {
        format!(
            "{}:{}: {} [{}] {}: {} — fix: {}",
            self.file,
            self.line,
            self.severity.as_str(),
            self.rule,
            self.object,
            self.message,
            self.fix
        )
    }
}

/// Collects findings, dropping those a `# harness-lint: allow <rule>` comment on the line or
/// the line above permits.
pub(super) struct Out<'a> {
    pub(super) files: &'a [SourceFile],
    pub(super) findings: Vec<LintFinding>,
}

impl Out<'_> {
    pub(super) fn push(
        &mut self,
        w: &Workload,
        line: usize,
        severity: Severity,
        rule: &'static str,
        message: String,
        fix: &str,
    ) {
        let allowed = self.files.iter().find(|f| f.file == w.file).is_some_and(|f| {
            let lines: Vec<&str> = f.text.lines().collect();
            [line.checked_sub(2), line.checked_sub(1)].into_iter().flatten().filter_map(|i| lines.get(i)).any(|l| {
                l.split_once('#').is_some_and(|(_, c)| {
                    c.trim().strip_prefix("harness-lint: allow").is_some_and(|r| r.split([' ', ',']).any(|x| x == rule))
                })
            })
        });
        if !allowed {
            self.findings.push(LintFinding {
                file: w.file.to_owned(),
                line,
                severity,
                rule,
                object: w.label.clone(),
                message,
                fix: fix.to_owned(),
            });
        }
    }
}
