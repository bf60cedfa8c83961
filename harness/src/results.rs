//! The run directory: `results/<run-id>/` with `run.json` (what was run: scenario, plan, trial
//! timings), `records.csv` (every record, appended and flushed as it arrives, so a crash loses
//! nothing already collected) and the derived reports (replaced atomically after every trial).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chatter::{Record, RecordRow};
use serde::{Deserialize, Serialize};

use crate::analysis::TrialMeta;
use crate::placement::Plan;
use crate::spec::Scenario;

/// Version of `run.json`.
pub const RUN_SCHEMA: u32 = 1;

/// What was run; enough to re-analyse `records.csv` later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub schema: u32,
    pub run_id: String,
    pub backend: String,
    /// The backend's caveats, repeated in every report.
    #[serde(default)]
    pub notes: Vec<String>,
    pub scenario: Scenario,
    pub plan: Plan,
    pub trials: Vec<TrialMeta>,
    /// Trial → pod → node it ran on, where that differs by trial: with `trials.reschedule`, or
    /// when the cluster's scheduler placed the pods (kube without `--pin`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub placements: BTreeMap<u32, BTreeMap<String, String>>,
    /// Trial → containers that ended badly (kube: OOMKilled, exit codes, wrong architecture).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub container_exits: BTreeMap<u32, Vec<crate::backend::ContainerExit>>,
    /// Trial → the DDS participant each process was, from the ports it bound (netns, local).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub participants: BTreeMap<u32, Vec<crate::backend::Participant>>,
    /// Each node's DDS traffic per trial, where the backend counts it (netns).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub traffic: BTreeMap<u32, Vec<crate::backend::NodeTraffic>>,
    /// Each network namespace's kernel counters per trial, where the backend reads them (netns).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kernel: BTreeMap<u32, Vec<crate::backend::KernelCounters>>,
    /// Trial → why its records are incomplete (kube: a log stream broke); such a trial is
    /// marked interrupted and counts nowhere.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub incomplete: BTreeMap<u32, Vec<String>>,
    /// Why the run stopped before `trials.max` (`until: confident`), or that it reached it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Every node stamped records with one clock (absent in older runs: known from the backend).
    #[serde(default)]
    pub shared_clock: Option<bool>,
    /// The doctor's probes before the run (`harness run --preflight`), also in `doctor.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor: Option<crate::doctor::DoctorReport>,
    /// How many trials ran at once, each in a simulated cluster of its own (`--parallel`).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub parallel: u32,
    /// Windows open as soon as every pair has matched both ways, else when the warm-up runs
    /// out (the backend signals the talkers; see `TrialMeta::opened_ns`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub early_windows: bool,
    /// Every pair's window opened at once, at the trial's start barrier: the warm-up after the
    /// last node's start (or earlier, [`RunMeta::early_windows`]); absent in older runs, whose
    /// windows opened per pair.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub start_barrier: bool,
    /// The real ROS 2 (PyPI wheels) that ran the stock nodes on this machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ros: Option<crate::ros::RosVersions>,
}

fn one() -> u32 {
    1
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_one(n: &u32) -> bool {
    *n == 1
}

impl RunMeta {
    /// Whether the nodes shared one clock.
    pub fn shared_clock(&self) -> bool {
        self.shared_clock.unwrap_or(self.backend != "kube")
    }

    /// What the rules must know about the scenario and the backend.
    pub fn setting(&self) -> crate::diagnosis::Setting {
        let mut setting = crate::diagnosis::Setting::new(
            &self.scenario,
            &self.plan,
            &self.backend,
            self.ros.as_ref().map(|r| r.fastdds.as_str()),
        );
        setting.doctor.clone_from(&self.doctor);
        setting
    }

    /// How the analysis reads time.
    pub fn analysis_settings(&self) -> crate::analysis::trial::AnalysisSettings {
        crate::analysis::trial::AnalysisSettings {
            warmup_ns: self.plan.timing.warmup_ns(),
            shared_clock: self.shared_clock(),
        }
    }

    /// The doctor's clock offsets, where the nodes do not share one clock and the preflight
    /// measured them.
    pub fn clock_correction(&self) -> Option<crate::analysis::ClockCorrection> {
        if self.shared_clock() {
            return None;
        }
        self.doctor.as_ref().and_then(crate::analysis::ClockCorrection::from_doctor)
    }

    /// The roster of one trial: where its pods actually ran.
    pub fn roster_of(&self, trial: u32) -> crate::analysis::Roster {
        let base = crate::analysis::Roster::from_plan(&self.plan);
        match self.placements.get(&trial) {
            Some(p) => base.with_nodes(p),
            None => base,
        }
    }
}

/// Results-directory failures.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("{path}: {source}", path = path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: {source}", path = path.display())]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}: {source}", path = path.display())]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("{path}: run.json schema {found} is not supported (this build reads {RUN_SCHEMA})", path = path.display())]
    Schema { path: PathBuf, found: u32 },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ResultsError + '_ {
    move |source| ResultsError::Io { path: path.to_owned(), source }
}

/// A run id: UTC timestamp and scenario name, e.g. `20261123T104500Z-seed`.
pub fn run_id(scenario: &str, now_ns: u64) -> String {
    let secs = i64::try_from(now_ns / 1_000_000_000).unwrap_or(i64::MAX);
    let stamp = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::MAX);
    format!("{}-{}", stamp.strftime("%Y%m%dT%H%M%SZ"), chatter::sanitize_id(scenario))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then rename.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), ResultsError> {
    let tmp = path.with_extension(format!("{}.tmp", path.extension().and_then(|e| e.to_str()).unwrap_or("")));
    let result = (|| {
        let mut f = io::BufWriter::new(File::create(&tmp)?);
        write(&mut f)?;
        f.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_err(path))
}

/// An open run directory.
#[derive(Debug)]
pub struct RunDir {
    pub path: PathBuf,
    records: csv::Writer<File>,
    /// `logs/<id>.log` of containers whose console is read as it is (the stock demo nodes).
    logs: std::collections::HashMap<String, io::BufWriter<File>>,
}

impl RunDir {
    /// Creates `root/<run_id>/` and its `records.csv`.
    pub fn create(root: &Path, run_id: &str) -> Result<RunDir, ResultsError> {
        let path = root.join(run_id);
        fs::create_dir_all(&path).map_err(io_err(&path))?;
        let csv_path = path.join("records.csv");
        let file = OpenOptions::new().create_new(true).write(true).open(&csv_path).map_err(io_err(&csv_path))?;
        // The new directory and file survive a crash: their parents' entries are on disk too.
        for dir in [root, path.as_path()] {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))?;
        }
        Ok(RunDir { path, records: csv::Writer::from_writer(file), logs: Default::default() })
    }

    pub fn append(&mut self, trial: u32, pod: &str, container: &str, record: &Record) -> Result<(), ResultsError> {
        let path = self.path.join("records.csv");
        self.records
            .serialize(RecordRow::new(Some(trial), Some(pod), Some(container), record))
            .map_err(|source| ResultsError::Csv { path, source })
    }

    /// Keeps one console line of container `id` (`logs/<id>.log`, each line prefixed with its
    /// trial), so lines that were not understood are never lost.
    pub fn append_log(&mut self, trial: u32, id: &str, text: &str) -> Result<(), ResultsError> {
        let path = self.path.join("logs").join(format!("{}.log", chatter::sanitize_id(id)));
        if !self.logs.contains_key(id) {
            fs::create_dir_all(self.path.join("logs")).map_err(io_err(&path))?;
            let file = OpenOptions::new().create(true).append(true).open(&path).map_err(io_err(&path))?;
            self.logs.insert(id.to_owned(), io::BufWriter::new(file));
        }
        if let Some(w) = self.logs.get_mut(id) {
            writeln!(w, "trial {trial}: {text}").map_err(io_err(&path))?;
        }
        Ok(())
    }

    /// Makes everything appended so far durable on disk (written and fsynced): called after
    /// every trial, so a crash loses at most the trial in progress.
    pub fn flush(&mut self) -> Result<(), ResultsError> {
        let path = self.path.join("records.csv");
        for w in self.logs.values_mut() {
            w.flush().and_then(|()| w.get_ref().sync_data()).map_err(io_err(&path))?;
        }
        self.records.flush().map_err(io_err(&path))?;
        self.records.get_ref().sync_data().map_err(io_err(&path))
    }

    pub fn write_meta(&self, meta: &RunMeta) -> Result<(), ResultsError> {
        let path = self.path.join("run.json");
        write_atomic(&path, |w| {
            serde_json::to_writer_pretty(&mut *w, meta).map_err(io::Error::from)?;
            w.write_all(b"\n")
        })
    }
}

/// Reads `run.json` of a run directory.
pub fn read_meta(dir: &Path) -> Result<RunMeta, ResultsError> {
    let path = dir.join("run.json");
    let text = fs::read_to_string(&path).map_err(io_err(&path))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| ResultsError::Json { path: path.clone(), source })?;
    let found = value.get("schema").and_then(serde_json::Value::as_u64).unwrap_or(0);
    if found != u64::from(RUN_SCHEMA) {
        return Err(ResultsError::Schema { path, found: u32::try_from(found).unwrap_or(u32::MAX) });
    }
    serde_json::from_value(value).map_err(|source| ResultsError::Json { path, source })
}

/// Streams the rows of a `records.csv`.
pub fn read_records(dir: &Path) -> Result<impl Iterator<Item = Result<RecordRow, ResultsError>>, ResultsError> {
    let path = dir.join("records.csv");
    let file = File::open(&path).map_err(io_err(&path))?;
    // A run killed mid-write leaves a last line without its newline: read up to the last
    // complete one (see [`truncated_tail`]).
    let complete = complete_len(&file).map_err(io_err(&path))?;
    let reader = csv::Reader::from_reader(io::Read::take(file, complete));
    Ok(reader
        .into_deserialize::<RecordRow>()
        .map(move |r| r.map_err(|source| ResultsError::Csv { path: path.clone(), source })))
}

/// The length of `file` up to and including its last newline.
fn complete_len(file: &File) -> io::Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    let len = f.metadata()?.len();
    let mut end = len;
    let mut buf = [0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = usize::try_from(end - start).unwrap_or(buf.len());
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|b| *b == b'\n') {
            f.seek(SeekFrom::Start(0))?;
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    f.seek(SeekFrom::Start(0))?;
    Ok(0)
}

/// Whether `records.csv` ends in a partial line (the run was killed while writing it); that
/// line is not read.
pub fn truncated_tail(dir: &Path) -> Result<bool, ResultsError> {
    let path = dir.join("records.csv");
    let file = File::open(&path).map_err(io_err(&path))?;
    let len = file.metadata().map_err(io_err(&path))?.len();
    Ok(complete_len(&file).map_err(io_err(&path))? < len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run killed mid-line: the records before it are read, the partial line is not, and
    /// that is said.
    #[test]
    fn a_truncated_last_line_is_left_out_and_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut run = RunDir::create(dir.path(), "r").expect("create");
        for seq in 1..=3 {
            run.append(1, "p", "t", &Record::sent(seq, "p.t", seq)).expect("append");
        }
        run.flush().expect("flush");
        let path = run.path.join("records.csv");
        let whole = fs::read_to_string(&path).expect("read");
        assert!(!truncated_tail(&run.path).expect("tail"));
        assert_eq!(read_records(&run.path).expect("open").count(), 3);
        // Cut the last line in half.
        let cut = whole.len() - whole.lines().last().expect("a line").len() / 2 - 1;
        fs::write(&path, &whole[..cut]).expect("write");
        assert!(truncated_tail(&run.path).expect("tail"));
        let rows: Vec<RecordRow> =
            read_records(&run.path).expect("open").map(|r| r.expect("complete rows parse")).collect();
        assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [Some(1), Some(2)]);
    }

    #[test]
    fn run_id_is_utc_and_sortable() {
        // 2026-11-23T10:45:07Z
        assert_eq!(run_id("seed repro", 1_795_430_707_000_000_000), "20261123T104507Z-seed_repro");
        assert_eq!(run_id("x", 0), "19700101T000000Z-x");
    }

    #[test]
    fn atomic_write_leaves_no_temp_and_keeps_old_on_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.json");
        write_atomic(&path, |w| w.write_all(b"one")).expect("write");
        let err = write_atomic(&path, |_| Err(io::Error::other("boom")));
        assert!(err.is_err());
        assert_eq!(fs::read_to_string(&path).expect("read"), "one");
        assert_eq!(fs::read_dir(dir.path()).expect("ls").count(), 1);
    }
}
