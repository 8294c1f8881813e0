//! The list of sessions `serve` opens, from a small YAML file next to the toggles config
//! (`config/sessions.yaml`). It is separate because the toggles file says *how* each board
//! kind is served, while this one says *which* devices this host runs.
//!
//! ```yaml
//! sessions:
//!   - board: synthetic
//!     serial_number: SYN-0001
//!     record: true
//!   - board: cyton
//!     serial_port: /dev/ttyUSB0
//!     record: true
//! ```

use board_api::{BoardId, InputParams};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionsFile {
    #[serde(default)]
    sessions: Vec<SessionEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionEntry {
    board: String,
    #[serde(default)]
    serial_number: String,
    #[serde(default)]
    serial_port: String,
    #[serde(default)]
    mac_address: String,
    #[serde(default)]
    file: String,
    #[serde(default)]
    other_info: String,
    #[serde(default)]
    timeout: i32,
    /// Whether this session's data is written to CSV in the data directory.
    #[serde(default)]
    record: bool,
}

/// One session to open.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSpec {
    pub board: BoardId,
    pub params: InputParams,
    pub record: bool,
    /// Distinguishes this session's files and log lines (serial number, port or index).
    pub label: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    #[error("cannot read the sessions file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
}

/// The sessions file that goes with a toggles config: `sessions.yaml` in the same folder.
pub fn default_sessions_file(config: &Path) -> PathBuf {
    config.parent().unwrap_or(Path::new(".")).join("sessions.yaml")
}

pub fn load(path: &Path) -> Result<Vec<SessionSpec>, SessionsError> {
    let text = std::fs::read_to_string(path).map_err(|source| SessionsError::Read { path: path.to_owned(), source })?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<Vec<SessionSpec>, SessionsError> {
    let invalid = |problem: String| SessionsError::Invalid { path: path.to_owned(), problem };
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Ok(Vec::new());
    }
    let file: SessionsFile = serde_saphyr::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let mut specs = Vec::with_capacity(file.sessions.len());
    for (i, entry) in file.sessions.into_iter().enumerate() {
        let board = BoardId::from_kind(&entry.board).ok_or_else(|| {
            invalid(format!("sessions[{i}].board: unknown board `{}`; known: {}", entry.board, BoardId::known_kinds()))
        })?;
        let label = [&entry.serial_number, &entry.serial_port, &entry.mac_address, &entry.file]
            .into_iter()
            .find(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| format!("{i}"));
        let params = InputParams {
            serial_number: entry.serial_number,
            serial_port: entry.serial_port,
            mac_address: entry.mac_address,
            file: entry.file,
            other_info: entry.other_info,
            timeout: entry.timeout,
            ..InputParams::default()
        };
        specs.push(SessionSpec { board, params, record: entry.record, label });
    }
    let mut labels = std::collections::HashSet::new();
    for s in &specs {
        if !labels.insert((s.board, s.label.clone())) {
            return Err(invalid(format!("two {} sessions have the identity `{}`; give each its own serial_number", s.board.kind(), s.label)));
        }
    }
    Ok(specs)
}

/// `count` synthetic sessions with distinct identities for fleet rehearsals, unrecorded.
pub fn fleet(count: usize) -> Vec<SessionSpec> {
    (0..count)
        .map(|i| {
            let serial = format!("FLEET-{i:05}");
            SessionSpec {
                board: BoardId::Synthetic,
                params: InputParams { serial_number: serial.clone(), ..InputParams::default() },
                record: false,
                label: serial,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_sessions_and_mistakes_are_named() {
        let specs = parse("sessions:\n  - board: synthetic\n    serial_number: A\n    record: true\n  - board: cyton\n    serial_port: /dev/ttyUSB0\n", Path::new("s.yaml")).unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].board, BoardId::Synthetic);
        assert!(specs[0].record && !specs[1].record);
        assert_eq!(specs[1].label, "/dev/ttyUSB0");

        let err = parse("sessions:\n  - board: cytn\n", Path::new("s.yaml")).unwrap_err().to_string();
        assert!(err.contains("cytn") && err.contains("cyton"), "{err}");
        let err = parse("sessions:\n  - board: synthetic\n    recrod: true\n", Path::new("s.yaml")).unwrap_err().to_string();
        assert!(err.contains("recrod"), "{err}");
        let err = parse("sessions:\n  - {board: synthetic, serial_number: A}\n  - {board: synthetic, serial_number: A}\n", Path::new("s.yaml")).unwrap_err().to_string();
        assert!(err.contains("`A`"), "{err}");
    }

    #[test]
    fn boards_only_brainflow_implements_are_named_as_in_the_config() {
        let specs = parse("sessions:\n  - board: freeeeg32\n    serial_port: /dev/ttyACM0\n", Path::new("s.yaml")).unwrap();
        assert_eq!((specs[0].board.id(), specs[0].board.kind()), (17, "freeeeg32"));
        let err = parse("sessions:\n  - board: FREEEEG32_BOARD\n", Path::new("s.yaml")).unwrap_err().to_string();
        assert!(err.contains("every other BrainFlow board by its BoardIds name in lower case"), "{err}");
    }

    #[test]
    fn fleet_identities_are_distinct() {
        let fleet = fleet(300);
        let serials: std::collections::HashSet<_> = fleet.iter().map(|s| s.params.serial_number.clone()).collect();
        assert_eq!(serials.len(), 300);
        assert!(fleet.iter().all(|s| !s.record));
    }
}
