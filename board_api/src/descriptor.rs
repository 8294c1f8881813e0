use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use serde_json::{Map, Value};
use std::sync::OnceLock;

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

/// The descriptor of a board's preset; a preset the board does not have is
/// INVALID_ARGUMENTS_ERROR.
pub fn descriptor(board: BoardId, preset: Preset) -> Result<&'static BoardDescriptor> {
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
}
