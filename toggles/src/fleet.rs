//! `explain` for a fleet: where every device of an inventory goes under the config in
//! force and under a proposed one, and which devices would change path.
//!
//! The inventory is CSV (RFC 4180, read with the `csv` crate) whose header names identity
//! fields (`serial_number`, `mac_address`, `serial_port`, `file`, `other_info`,
//! `session_key`) and optionally `board`; each row is one device. A device none of whose
//! fields the board is sticky by has no fixed path: each of its sessions is drawn at
//! random, so it is counted as `random`, never as a path or a change.

use crate::config::{Config, Path};
use crate::decide::{BucketedBy, SessionIdentity};
use crate::units::{Percent, Timestamp};
use board_api::{BoardId, InputParams};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

/// The identity fields an inventory's header may name, besides `board`.
pub const IDENTITY_COLUMNS: [&str; 6] = ["serial_number", "mac_address", "serial_port", "file", "other_info", "session_key"];

/// One device of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The line of the CSV file it was read from (the header is line 1).
    pub line: u64,
    pub board: BoardId,
    pub params: InputParams,
    pub session_key: Option<String>,
}

impl Device {
    fn identity(&self) -> SessionIdentity<'_> {
        SessionIdentity { params: &self.params, session_key: self.session_key.as_deref(), drawn_bucket: None }
    }

    /// The device's non-empty identity fields, for reports.
    pub fn fields(&self) -> BTreeMap<&'static str, String> {
        let p = &self.params;
        let values = [&p.serial_number, &p.mac_address, &p.serial_port, &p.file, &p.other_info];
        let mut out: BTreeMap<&'static str, String> = IDENTITY_COLUMNS
            .iter()
            .zip(values)
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        if let Some(key) = self.session_key.as_ref().filter(|k| !k.is_empty()) {
            out.insert("session_key", key.clone());
        }
        out
    }
}

/// Why an inventory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{file}: cannot read it: {reason}")]
    Read { file: PathBuf, reason: String },
    #[error("{file}:{line}: {problem}")]
    At { file: PathBuf, line: u64, problem: String },
}

/// Reads an inventory. `board` is used for rows when the file has no `board` column.
pub fn read_inventory(file: &FsPath, board: Option<BoardId>) -> Result<Vec<Device>, InventoryError> {
    let at = |line: u64, problem: String| InventoryError::At { file: file.to_owned(), line, problem };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(file)
        .map_err(|e| InventoryError::Read { file: file.to_owned(), reason: csv_reason(&e) })?;
    let headers = reader.headers().map_err(|e| at(1, csv_reason(&e)))?.clone();
    let mut columns = Vec::with_capacity(headers.len());
    for name in headers.iter() {
        if name != "board" && !IDENTITY_COLUMNS.contains(&name) {
            return Err(at(
                1,
                format!("unknown column `{name}`; the header names identity fields ({}) and optionally board", IDENTITY_COLUMNS.join(", ")),
            ));
        }
        if columns.contains(&name.to_owned()) {
            return Err(at(1, format!("column `{name}` is named twice")));
        }
        columns.push(name.to_owned());
    }
    let has_board = columns.iter().any(|c| c == "board");
    if !has_board && board.is_none() {
        return Err(at(1, "no `board` column: name the board with --board, or add a `board` column".into()));
    }
    if !columns.iter().any(|c| c != "board") {
        return Err(at(1, format!("the header names no identity field; name at least one of {}", IDENTITY_COLUMNS.join(", "))));
    }
    let mut devices = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| at(e.position().map_or(0, |p| p.line()), csv_reason(&e)))?;
        let line = record.position().map_or(0, |p| p.line());
        let mut params = InputParams::default();
        let mut session_key = None;
        let mut row_board = board;
        for (name, value) in columns.iter().zip(record.iter()) {
            match name.as_str() {
                "board" => {
                    row_board = Some(
                        BoardId::from_kind(value)
                            .ok_or_else(|| at(line, format!("unknown board `{value}`; known boards: {}", BoardId::known_kinds())))?,
                    );
                }
                "serial_number" => params.serial_number = value.to_owned(),
                "mac_address" => params.mac_address = value.to_owned(),
                "serial_port" => params.serial_port = value.to_owned(),
                "file" => params.file = value.to_owned(),
                "other_info" => params.other_info = value.to_owned(),
                _ => session_key = Some(value.to_owned()).filter(|v| !v.is_empty()),
            }
        }
        let board = row_board.expect("a board column or --board, checked above");
        devices.push(Device { line, board, params, session_key });
    }
    Ok(devices)
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text; save the inventory as UTF-8".into(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len}; every row needs one value per column (empty is fine)")
        }
        _ => "not valid CSV".into(),
    }
}

/// Where a device goes under one config: a path, or a random draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    Cpp,
    Rust,
    Shadow,
    Standby,
    /// No stickiness value: each session is drawn, `percent` of them onto `mode`.
    Random,
}

impl Placement {
    pub fn as_str(self) -> &'static str {
        match self {
            Placement::Cpp => "cpp",
            Placement::Rust => "rust",
            Placement::Shadow => "shadow",
            Placement::Standby => "standby",
            Placement::Random => "random",
        }
    }
}

fn placement(config: &Config, device: &Device, now: Timestamp) -> Placement {
    let d = config.decide(device.board, &device.identity(), now, 0);
    if d.bucketed_by == Some(BucketedBy::Random) && d.percent.is_some_and(|p| p != Percent::ZERO) {
        return Placement::Random;
    }
    match d.path {
        Path::Cpp => Placement::Cpp,
        Path::Rust => Placement::Rust,
        Path::Shadow => Placement::Shadow,
        Path::Standby => Placement::Standby,
    }
}

/// Devices per placement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub cpp: usize,
    pub rust: usize,
    pub shadow: usize,
    pub standby: usize,
    /// Devices whose sessions are drawn at random (no stickiness value).
    pub random: usize,
}

impl Counts {
    fn add(&mut self, p: Placement) {
        *match p {
            Placement::Cpp => &mut self.cpp,
            Placement::Rust => &mut self.rust,
            Placement::Shadow => &mut self.shadow,
            Placement::Standby => &mut self.standby,
            Placement::Random => &mut self.random,
        } += 1;
    }
}

/// A device whose placement differs between the two configs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub line: u64,
    pub identity: BTreeMap<&'static str, String>,
    pub from: Placement,
    pub to: Placement,
}

/// One board's part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoardFleet {
    pub board: &'static str,
    pub devices: usize,
    pub now: Counts,
    /// Under the proposed config; `None` when none was given.
    pub proposed: Option<Counts>,
    pub changes: Vec<Change>,
}

/// Where every device goes now and under a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetReport {
    pub at: String,
    pub boards: Vec<BoardFleet>,
}

/// Places every device under `current` and, when given, under `proposed`.
pub fn explain_fleet(current: &Config, proposed: Option<&Config>, devices: &[Device], now: Timestamp) -> FleetReport {
    let mut boards: BTreeMap<usize, BoardFleet> = BTreeMap::new();
    for device in devices {
        let order = device.board.index();
        let entry = boards.entry(order).or_insert_with(|| BoardFleet {
            board: device.board.kind(),
            devices: 0,
            now: Counts::default(),
            proposed: proposed.map(|_| Counts::default()),
            changes: Vec::new(),
        });
        entry.devices += 1;
        let from = placement(current, device, now);
        entry.now.add(from);
        if let (Some(config), Some(counts)) = (proposed, entry.proposed.as_mut()) {
            let to = placement(config, device, now);
            counts.add(to);
            if from != to {
                entry.changes.push(Change { line: device.line, identity: device.fields(), from, to });
            }
        }
    }
    FleetReport { at: now.to_string(), boards: boards.into_values().collect() }
}

fn counts_line(c: &Counts) -> String {
    let mut parts = Vec::new();
    for (name, n) in [("cpp", c.cpp), ("rust", c.rust), ("shadow", c.shadow), ("standby", c.standby), ("random", c.random)] {
        if n > 0 {
            parts.push(format!("{name} {n}"));
        }
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// How many changed devices the text report lists before pointing at `--json`.
const TEXT_CHANGES: usize = 50;

impl std::fmt::Display for FleetReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "at: {}", self.at)?;
        for b in &self.boards {
            writeln!(f, "{}: {} devices", b.board, b.devices)?;
            writeln!(f, "  now:       {}", counts_line(&b.now))?;
            if let Some(proposed) = &b.proposed {
                writeln!(f, "  proposed:  {}", counts_line(proposed))?;
                writeln!(f, "  changes:   {} devices change path", b.changes.len())?;
                for c in b.changes.iter().take(TEXT_CHANGES) {
                    let id: Vec<String> = c.identity.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    writeln!(f, "    line {:<6} {:<40} {} -> {}", c.line, id.join(" "), c.from.as_str(), c.to.as_str())?;
                }
                if b.changes.len() > TEXT_CHANGES {
                    writeln!(f, "    ... and {} more (--json lists every one)", b.changes.len() - TEXT_CHANGES)?;
                }
            }
            if b.now.random > 0 {
                writeln!(f, "  random:    {} devices have none of the board's stickiness fields; each of their sessions is drawn at random", b.now.random)?;
            }
        }
        Ok(())
    }
}
