use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, LegacyBoardId, Preset};
use crate::legacy_ids::LEGACY_BOARDS;
use serde_json::{Map, Value};
use std::sync::{Mutex, OnceLock};

/// The kinds of channel list a descriptor can name (BrainFlow's `get_<kind>_channels`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    Eeg,
    Emg,
    Ecg,
    Eog,
    Ppg,
    Optical,
    Eda,
    Accel,
    Rotation,
    Analog,
    Gyro,
    Other,
    Temperature,
    Resistance,
    Magnetometer,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 15] = [
        ChannelKind::Eeg,
        ChannelKind::Emg,
        ChannelKind::Ecg,
        ChannelKind::Eog,
        ChannelKind::Ppg,
        ChannelKind::Optical,
        ChannelKind::Eda,
        ChannelKind::Accel,
        ChannelKind::Rotation,
        ChannelKind::Analog,
        ChannelKind::Gyro,
        ChannelKind::Other,
        ChannelKind::Temperature,
        ChannelKind::Resistance,
        ChannelKind::Magnetometer,
    ];

    /// The key in BrainFlow's descriptor JSON, e.g. `accel_channels`.
    pub fn json_key(self) -> &'static str {
        match self {
            ChannelKind::Eeg => "eeg_channels",
            ChannelKind::Emg => "emg_channels",
            ChannelKind::Ecg => "ecg_channels",
            ChannelKind::Eog => "eog_channels",
            ChannelKind::Ppg => "ppg_channels",
            ChannelKind::Optical => "optical_channels",
            ChannelKind::Eda => "eda_channels",
            ChannelKind::Accel => "accel_channels",
            ChannelKind::Rotation => "rotation_channels",
            ChannelKind::Analog => "analog_channels",
            ChannelKind::Gyro => "gyro_channels",
            ChannelKind::Other => "other_channels",
            ChannelKind::Temperature => "temperature_channels",
            ChannelKind::Resistance => "resistance_channels",
            ChannelKind::Magnetometer => "magnetometer_channels",
        }
    }
}

/// What BrainFlow reports about one preset of one board: which row of the sample matrix
/// holds what. Identical, field for field, to BrainFlow 5.23's descriptors.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardDescriptor {
    pub name: &'static str,
    pub num_rows: usize,
    pub sampling_rate: u32,
    pub package_num_channel: usize,
    pub timestamp_channel: usize,
    pub marker_channel: usize,
    pub battery_channel: Option<usize>,
    pub eeg_names: Option<&'static str>,
    channels: Vec<(ChannelKind, Vec<usize>)>,
}

impl BoardDescriptor {
    /// The rows of one kind; `None` when the board has none (BrainFlow then answers
    /// UNSUPPORTED_BOARD_ERROR from the getter).
    pub fn channels(&self, kind: ChannelKind) -> Option<&[usize]> {
        self.channels.iter().find(|(k, _)| *k == kind).map(|(_, v)| v.as_slice())
    }

    /// BrainFlow's exg channels: eeg, emg, ecg and eog rows together, sorted, without repeats.
    pub fn exg_channels(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = [ChannelKind::Eeg, ChannelKind::Emg, ChannelKind::Ecg, ChannelKind::Eog]
            .iter()
            .filter_map(|k| self.channels(*k))
            .flatten()
            .copied()
            .collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    }

    /// The descriptor as the JSON object BrainFlow's `get_board_descr` returns.
    pub fn to_json_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), self.name.into());
        m.insert("num_rows".into(), self.num_rows.into());
        m.insert("sampling_rate".into(), self.sampling_rate.into());
        m.insert("package_num_channel".into(), self.package_num_channel.into());
        m.insert("timestamp_channel".into(), self.timestamp_channel.into());
        m.insert("marker_channel".into(), self.marker_channel.into());
        if let Some(b) = self.battery_channel {
            m.insert("battery_channel".into(), b.into());
        }
        if let Some(n) = self.eeg_names {
            m.insert("eeg_names".into(), n.into());
        }
        for (kind, rows) in &self.channels {
            m.insert(kind.json_key().into(), rows.clone().into());
        }
        Value::Object(m)
    }

    /// Rows compared exactly in shadow mode: every row but the timestamp (each side stamps
    /// its own clock) and the marker (markers are inserted per session, not decoded).
    pub fn compared_rows(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.num_rows).filter(move |r| *r != self.timestamp_channel && *r != self.marker_channel)
    }
}

impl BoardDescriptor {
    /// A descriptor from the JSON BrainFlow's `get_board_descr` answers; `None` when it
    /// describes no rows (BrainFlow's streaming board: its rows are its master board's).
    /// A key we do not know is an error, so nothing BrainFlow says is dropped unseen.
    ///
    /// The names are leaked: descriptors live for the process, and legacy ones are read
    /// once per process ([`install_legacy_facts`]).
    pub fn from_brainflow_json(json: &str) -> Result<Option<BoardDescriptor>> {
        let bad = |why: String| BoardError::general(format!("BrainFlow's board descriptor {json}: {why}"));
        let value: Value = serde_json::from_str(json).map_err(|e| bad(format!("not JSON: {e}")))?;
        let Value::Object(map) = value else { return Err(bad("not a JSON object".into())) };
        if !map.contains_key("num_rows") {
            return Ok(None);
        }
        let index = |key: &str| -> Result<Option<usize>> {
            match map.get(key) {
                None => Ok(None),
                Some(v) => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| bad(format!("{key} is not a row number"))),
            }
        };
        let required = |key: &str| index(key)?.ok_or_else(|| bad(format!("{key} is missing")));
        let text = |key: &str| -> Result<Option<&'static str>> {
            match map.get(key) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(Box::leak(s.clone().into_boxed_str()))),
                Some(_) => Err(bad(format!("{key} is not a string"))),
            }
        };
        let mut channels = Vec::new();
        for kind in ChannelKind::ALL {
            if let Some(v) = map.get(kind.json_key()) {
                let rows = v
                    .as_array()
                    .and_then(|a| a.iter().map(|r| r.as_u64().map(|n| n as usize)).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| bad(format!("{} is not a list of rows", kind.json_key())))?;
                channels.push((kind, rows));
            }
        }
        const SCALARS: [&str; 8] =
            ["name", "num_rows", "sampling_rate", "package_num_channel", "timestamp_channel", "marker_channel", "battery_channel", "eeg_names"];
        if let Some(unknown) = map.keys().find(|k| !SCALARS.contains(&k.as_str()) && !ChannelKind::ALL.iter().any(|c| c.json_key() == k.as_str())) {
            return Err(bad(format!("unknown key {unknown}")));
        }
        Ok(Some(BoardDescriptor {
            name: text("name")?.ok_or_else(|| bad("name is missing".into()))?,
            num_rows: required("num_rows")?,
            sampling_rate: u32::try_from(required("sampling_rate")?).map_err(|_| bad("sampling_rate is too large".into()))?,
            package_num_channel: index("package_num_channel")?.unwrap_or(0),
            timestamp_channel: required("timestamp_channel")?,
            marker_channel: required("marker_channel")?,
            battery_channel: index("battery_channel")?,
            eeg_names: text("eeg_names")?,
            channels,
        }))
    }
}

/// What BrainFlow's library answered for one preset of a legacy board.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyPresetFacts {
    pub preset: Preset,
    /// `get_board_descr`'s answer, as BrainFlow wrote it.
    pub json: String,
    /// The same as rows; `None` when BrainFlow describes none (the streaming board).
    pub descriptor: Option<BoardDescriptor>,
}

/// What BrainFlow's library answered for one legacy board: its presets (lowest first) and
/// each preset's descriptor.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LegacyFacts {
    pub presets: Vec<Preset>,
    pub per_preset: Vec<LegacyPresetFacts>,
}

impl LegacyFacts {
    pub fn preset(&self, preset: Preset) -> Option<&LegacyPresetFacts> {
        self.per_preset.iter().find(|p| p.preset == preset)
    }
}

/// The legacy boards' facts, indexed by [`LegacyBoardId::index`]; set once per process.
static LEGACY_FACTS: OnceLock<Vec<LegacyFacts>> = OnceLock::new();

/// Installs the legacy boards' descriptors, read from BrainFlow's library by `read` (one
/// [`LegacyFacts`] per entry of [`LEGACY_BOARDS`], in order). Only the first install reads:
/// every library we accept is a tested BrainFlow release, whose descriptors are facts of
/// that release.
pub fn install_legacy_facts(read: impl FnOnce() -> Result<Vec<LegacyFacts>>) -> Result<()> {
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|p| p.into_inner());
    if LEGACY_FACTS.get().is_some() {
        return Ok(());
    }
    let facts = read()?;
    if facts.len() != LEGACY_BOARDS.len() {
        return Err(BoardError::general(format!(
            "{} legacy boards described, {} expected",
            facts.len(),
            LEGACY_BOARDS.len()
        )));
    }
    let _ = LEGACY_FACTS.set(facts);
    Ok(())
}

/// A legacy board's facts; `None` until BrainFlow's library has been loaded.
pub fn legacy_facts(board: LegacyBoardId) -> Option<&'static LegacyFacts> {
    LEGACY_FACTS.get().map(|all| &all[board.index()])
}

pub(crate) fn legacy_presets(board: LegacyBoardId) -> &'static [Preset] {
    legacy_facts(board).map(|f| f.presets.as_slice()).unwrap_or(&[])
}

fn legacy_descriptor(board: LegacyBoardId, preset: Preset) -> Result<&'static BoardDescriptor> {
    let id = BoardId::Legacy(board);
    let facts = legacy_facts(board).ok_or_else(|| {
        BoardError::new(
            ExitCode::UnsupportedBoardError,
            format!("board {id} is known only to BrainFlow's library, which is not loaded: set brainflow.library in the config (or SWITCHYARD_BRAINFLOW_LIBRARY)"),
        )
    })?;
    let preset_facts = facts
        .preset(preset)
        .ok_or_else(|| BoardError::new(ExitCode::UnsupportedBoardError, format!("board {id} has no preset {preset:?}")))?;
    preset_facts.descriptor.as_ref().ok_or_else(|| {
        BoardError::new(
            ExitCode::UnsupportedBoardError,
            format!("board {id} has no rows of its own: its rows are its master_board's"),
        )
    })
}

/// The descriptor of a board's preset; a preset the board does not have is
/// INVALID_ARGUMENTS_ERROR. A legacy board's is BrainFlow's library's answer
/// (UNSUPPORTED_BOARD_ERROR before that library is loaded).
pub fn descriptor(board: BoardId, preset: Preset) -> Result<&'static BoardDescriptor> {
    if let BoardId::Legacy(legacy) = board {
        return legacy_descriptor(legacy, preset);
    }
    all()
        .iter()
        .find(|(b, p, _)| *b == board && *p == preset)
        .map(|(_, _, d)| d)
        .ok_or_else(|| {
            BoardError::new(
                ExitCode::InvalidArgumentsError,
                format!("board {board} has no preset {preset:?}"),
            )
        })
}

/// Every descriptor as one JSON object keyed by board id then preset, the layout of
/// BrainFlow's own descriptor dump.
pub fn descriptors_json() -> Value {
    let mut top = Map::new();
    for (board, preset, d) in all() {
        let entry = top
            .entry(board.id().to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(presets) = entry {
            presets.insert(preset.index().to_string(), d.to_json_value());
        }
    }
    Value::Object(top)
}

fn r(range: std::ops::RangeInclusive<usize>) -> Vec<usize> {
    range.collect()
}

struct Builder(BoardDescriptor);

impl Builder {
    fn new(name: &'static str, num_rows: usize, sampling_rate: u32, timestamp: usize, marker: usize) -> Self {
        Builder(BoardDescriptor {
            name,
            num_rows,
            sampling_rate,
            package_num_channel: 0,
            timestamp_channel: timestamp,
            marker_channel: marker,
            battery_channel: None,
            eeg_names: None,
            channels: Vec::new(),
        })
    }
    fn ch(mut self, kind: ChannelKind, rows: Vec<usize>) -> Self {
        self.0.channels.push((kind, rows));
        self
    }
    /// Boards whose electrodes BrainFlow lists as eeg, emg, ecg and eog at once.
    fn exg(self, rows: Vec<usize>) -> Self {
        self.ch(ChannelKind::Eeg, rows.clone())
            .ch(ChannelKind::Emg, rows.clone())
            .ch(ChannelKind::Ecg, rows.clone())
            .ch(ChannelKind::Eog, rows)
    }
    fn battery(mut self, row: usize) -> Self {
        self.0.battery_channel = Some(row);
        self
    }
    fn names(mut self, names: &'static str) -> Self {
        self.0.eeg_names = Some(names);
        self
    }
}

fn all() -> &'static [(BoardId, Preset, BoardDescriptor)] {
    static ALL: OnceLock<Vec<(BoardId, Preset, BoardDescriptor)>> = OnceLock::new();
    ALL.get_or_init(build_all)
}

fn build_all() -> Vec<(BoardId, Preset, BoardDescriptor)> {
    use ChannelKind::*;
    let mut v = Vec::new();
    v.push((
        BoardId::Synthetic,
        Preset::Default,
        Builder::new("Synthetic", 32, 250, 30, 31)
            .exg(r(1..=16))
            .ch(Accel, r(17..=19))
            .ch(Gyro, r(20..=22))
            .ch(Eda, vec![23])
            .ch(Ppg, vec![24, 25])
            .ch(Temperature, vec![26])
            .ch(Resistance, vec![27, 28])
            .battery(29)
            .names("Fz,C3,Cz,C4,Pz,PO7,Oz,PO8,F5,F7,F3,F1,F2,F4,F6,F8")
            .0,
    ));
    v.push((
        BoardId::Synthetic,
        Preset::Auxiliary,
        Builder::new("SyntheticAux", 20, 250, 18, 19)
            .battery(1)
            .ch(Accel, r(2..=4))
            .ch(Gyro, r(5..=7))
            .ch(Eda, vec![8])
            .ch(Ppg, vec![9, 10])
            .ch(Temperature, vec![11])
            .ch(Resistance, vec![12, 13])
            .ch(Other, r(14..=17))
            .0,
    ));
    v.push((
        BoardId::Cyton,
        Preset::Default,
        Builder::new("Cyton", 24, 250, 22, 23)
            .exg(r(1..=8))
            .ch(Accel, r(9..=11))
            .ch(Other, r(12..=18))
            .ch(Analog, r(19..=21))
            .names("Fp1,Fp2,C3,C4,P7,P8,O1,O2")
            .0,
    ));
    let ganglion = |name| {
        Builder::new(name, 15, 200, 13, 14)
            .exg(r(1..=4))
            .ch(Accel, r(5..=7))
            .ch(Resistance, r(8..=12))
            .0
    };
    v.push((BoardId::Ganglion, Preset::Default, ganglion("Ganglion")));
    v.push((BoardId::GanglionNative, Preset::Default, ganglion("Ganglion")));
    v.push((
        BoardId::CytonDaisy,
        Preset::Default,
        Builder::new("CytonDaisy", 32, 125, 30, 31)
            .exg(r(1..=16))
            .ch(Accel, r(17..=19))
            .ch(Other, r(20..=26))
            .ch(Analog, r(27..=29))
            .names("Fp1,Fp2,C3,C4,P7,P8,O1,O2,F7,F8,F3,F4,T7,T8,P3,P4")
            .0,
    ));
    for (board, prefix) in [(BoardId::Muse2, "Muse2"), (BoardId::MuseS, "MuseS")] {
        let name = |suffix: &str| -> &'static str {
            Box::leak(format!("{prefix}{suffix}").into_boxed_str())
        };
        v.push((
            board,
            Preset::Default,
            Builder::new(name(""), 8, 256, 6, 7)
                .ch(Eeg, r(1..=4))
                .ch(Other, vec![5])
                .names("TP9,AF7,AF8,TP10")
                .0,
        ));
        v.push((
            board,
            Preset::Auxiliary,
            Builder::new(name("Aux"), 9, 52, 7, 8).ch(Accel, r(1..=3)).ch(Gyro, r(4..=6)).0,
        ));
        v.push((
            board,
            Preset::Ancillary,
            Builder::new(name("Anc"), 6, 64, 4, 5).ch(Optical, r(1..=3)).ch(Ppg, r(1..=3)).0,
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_board_and_preset_has_a_descriptor() {
        for board in BoardId::ALL {
            if board == BoardId::PlaybackFile {
                continue; // playback takes its master board's layout
            }
            for preset in board.presets() {
                let d = descriptor(board, *preset).unwrap();
                assert!(d.timestamp_channel < d.num_rows && d.marker_channel < d.num_rows);
            }
        }
        assert!(descriptor(BoardId::Cyton, Preset::Auxiliary).is_err());
    }

    #[test]
    fn exg_is_the_union_of_electrode_rows() {
        let d = descriptor(BoardId::Cyton, Preset::Default).unwrap();
        assert_eq!(d.exg_channels(), r(1..=8));
        let muse = descriptor(BoardId::Muse2, Preset::Default).unwrap();
        assert_eq!(muse.exg_channels(), r(1..=4));
        assert_eq!(d.compared_rows().count(), 22);
    }

    #[test]
    fn brainflow_json_reads_into_the_same_descriptor() {
        let cyton = descriptor(BoardId::Cyton, Preset::Default).unwrap();
        let json = cyton.to_json_value().to_string();
        let read = BoardDescriptor::from_brainflow_json(&json).unwrap().unwrap();
        assert_eq!(read.to_json_value(), cyton.to_json_value());
        assert_eq!(read.channels(ChannelKind::Analog), cyton.channels(ChannelKind::Analog));
        assert_eq!(BoardDescriptor::from_brainflow_json(r#"{"name": "Streaming"}"#).unwrap(), None);
        let unknown = BoardDescriptor::from_brainflow_json(r#"{"name": "X", "num_rows": 3, "sampling_rate": 1, "timestamp_channel": 1, "marker_channel": 2, "wow_channels": [0]}"#);
        assert!(unknown.unwrap_err().message.contains("unknown key wow_channels"));
    }
}
