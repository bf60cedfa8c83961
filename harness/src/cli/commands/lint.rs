//! `harness lint`: known ROS-on-Kubernetes pitfalls in manifests.

use std::path::PathBuf;

use crate::cli::args::LintFormat;
use crate::cli::exit;
use crate::cli::outcome::{emit, Failure};

/// The YAML files under `path` (itself, if a file), sorted.
fn yaml_files(path: &std::path::Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                yaml_files(&e, out)?;
            }
        }
    } else {
        out.push(path.to_owned());
    }
    Ok(())
}

/// The files of `paths` (each a YAML file, a directory of them, or `-` for standard input) as
/// one deployment, as `harness lint` reads it.
pub(in crate::cli) fn read_sources(paths: &[PathBuf]) -> Result<Vec<crate::lint::SourceFile>, Failure> {
    use std::io::Read;
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| Failure::usage(format!("stdin: {e}")))?;
            files.push(crate::lint::SourceFile::parse("-", text).map_err(Failure::usage)?);
            continue;
        }
        let mut found = Vec::new();
        yaml_files(path, &mut found).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
        if found.is_empty() {
            return Err(Failure::usage(format!("{}: no .yaml or .yml files", path.display())));
        }
        for f in found {
            let name = f.display().to_string();
            let text = std::fs::read_to_string(&f).map_err(|e| Failure::usage(format!("{name}: {e}")))?;
            files.push(crate::lint::SourceFile::parse(&name, text).map_err(Failure::usage)?);
        }
    }
    Ok(files)
}

/// `harness lint PATH…`: the findings at `min_severity` and above, as text or JSON.
pub(in crate::cli) fn lint(
    paths: &[PathBuf],
    format: LintFormat,
    min_severity: crate::lint::Severity,
) -> Result<u8, Failure> {
    let files = read_sources(paths)?;
    let mut report = crate::lint::lint_set(&files);
    report.findings.retain(|f| f.severity >= min_severity);
    match format {
        LintFormat::Text => {
            emit(&crate::lint::text(&report.findings))?;
            let skipped: Vec<String> = report.skipped.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
            eprintln!(
                "lint: {} workloads in {} files{}",
                report.workloads,
                files.len(),
                if skipped.is_empty() {
                    String::new()
                } else {
                    format!("; not workloads, skipped: {}", skipped.join(", "))
                }
            );
        }
        LintFormat::Json => {
            emit(&(serde_json::to_string_pretty(&report.findings).map_err(Failure::backend)? + "\n"))?;
        }
    }
    let failing = report.findings.iter().any(|f| f.severity >= crate::lint::Severity::Warning);
    Ok(if failing { exit::EXPECTATIONS_FAILED } else { exit::OK })
}
