use crate::error::{BoardError, Result};
use crate::legacy_ids::{LegacyBoard, LEGACY_BOARDS};
use std::fmt;

/// The boards switchyard knows, with BrainFlow's numeric ids.
///
/// `Ganglion` (1, through the BLED112 dongle) has a descriptor of ours but no
/// implementation: like the legacy boards, only BrainFlow's library serves it.
///
/// [`BoardId::Legacy`] is every other board BrainFlow 5.23 knows: switchyard has no
/// implementation of it, so only BrainFlow's own library serves it (on the C++ path), and
/// its descriptors are what that library answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BoardId {
    PlaybackFile,
    Synthetic,
    Cyton,
    Ganglion,
    CytonDaisy,
    Muse2,
    MuseS,
    GanglionNative,
    Legacy(LegacyBoardId),
}

/// A BrainFlow board switchyard has no implementation of: an index into
/// [`LEGACY_BOARDS`], so a [`BoardId`] stays one small `Copy` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegacyBoardId(u8);

impl LegacyBoardId {
    /// Every legacy board, in BrainFlow's order.
    pub fn all() -> impl Iterator<Item = LegacyBoardId> {
        (0..LEGACY_BOARDS.len()).map(|i| LegacyBoardId(i as u8))
    }

    /// The facts of this board: id and names.
    pub fn board(self) -> &'static LegacyBoard {
        &LEGACY_BOARDS[self.0 as usize]
    }

    /// Its position in [`LEGACY_BOARDS`].
    pub fn index(self) -> usize {
        self.0 as usize
    }

    fn find(pick: impl Fn(&LegacyBoard) -> bool) -> Option<LegacyBoardId> {
        LEGACY_BOARDS.iter().position(pick).map(|i| LegacyBoardId(i as u8))
    }
}

const fn every() -> [BoardId; BoardId::ALL.len() + LEGACY_BOARDS.len()] {
    let mut out = [BoardId::Synthetic; BoardId::ALL.len() + LEGACY_BOARDS.len()];
    let mut i = 0;
    while i < BoardId::ALL.len() {
        out[i] = BoardId::ALL[i];
        i += 1;
    }
    let mut j = 0;
    while j < LEGACY_BOARDS.len() {
        out[BoardId::ALL.len() + j] = BoardId::Legacy(LegacyBoardId(j as u8));
        j += 1;
    }
    out
}

impl BoardId {
    /// The boards switchyard implements (or, for `Ganglion`, describes) itself.
    pub const ALL: [BoardId; 8] = [
        BoardId::PlaybackFile,
        BoardId::Synthetic,
        BoardId::Cyton,
        BoardId::Ganglion,
        BoardId::CytonDaisy,
        BoardId::Muse2,
        BoardId::MuseS,
        BoardId::GanglionNative,
    ];

    /// Every board id BrainFlow 5.23 knows: [`BoardId::ALL`], then the legacy boards.
    pub const EVERY: [BoardId; BoardId::ALL.len() + LEGACY_BOARDS.len()] = every();

    /// Where this board is in [`BoardId::EVERY`], for tables indexed by board.
    pub fn index(self) -> usize {
        match self {
            BoardId::PlaybackFile => 0,
            BoardId::Synthetic => 1,
            BoardId::Cyton => 2,
            BoardId::Ganglion => 3,
            BoardId::CytonDaisy => 4,
            BoardId::Muse2 => 5,
            BoardId::MuseS => 6,
            BoardId::GanglionNative => 7,
            BoardId::Legacy(legacy) => BoardId::ALL.len() + legacy.index(),
        }
    }

    /// BrainFlow's numeric id.
    pub fn id(self) -> i32 {
        match self {
            BoardId::PlaybackFile => -3,
            BoardId::Synthetic => -1,
            BoardId::Cyton => 0,
            BoardId::Ganglion => 1,
            BoardId::CytonDaisy => 2,
            BoardId::Muse2 => 38,
            BoardId::MuseS => 39,
            BoardId::GanglionNative => 46,
            BoardId::Legacy(legacy) => legacy.board().id,
        }
    }

    /// The board for a BrainFlow id; an id BrainFlow 5.23 does not know is
    /// UNSUPPORTED_BOARD_ERROR.
    pub fn from_id(id: i32) -> Result<BoardId> {
        if let Some(board) = BoardId::ALL.iter().copied().find(|b| b.id() == id) {
            return Ok(board);
        }
        LegacyBoardId::find(|b| b.id == id).map(BoardId::Legacy).ok_or_else(|| {
            BoardError::new(
                crate::ExitCode::UnsupportedBoardError,
                format!("board id {id} is not a BrainFlow 5.23 board id"),
            )
        })
    }

    /// The name operators use for this board kind in the YAML config and in metrics labels.
    pub fn kind(self) -> &'static str {
        match self {
            BoardId::PlaybackFile => "playback",
            BoardId::Synthetic => "synthetic",
            BoardId::Cyton => "cyton",
            BoardId::Ganglion => "ganglion",
            BoardId::CytonDaisy => "cyton_daisy",
            BoardId::Muse2 => "muse_2",
            BoardId::MuseS => "muse_s",
            BoardId::GanglionNative => "ganglion_native",
            BoardId::Legacy(legacy) => legacy.board().kind,
        }
    }

    /// The board for a config name (see [`BoardId::kind`]).
    pub fn from_kind(kind: &str) -> Option<BoardId> {
        if let Some(board) = BoardId::ALL.iter().copied().find(|b| b.kind() == kind) {
            return Some(board);
        }
        LegacyBoardId::find(|b| b.kind == kind).map(BoardId::Legacy)
    }

    /// The presets this board has, in BrainFlow's order. A legacy board's are what
    /// BrainFlow's library listed when it was loaded (none before).
    pub fn presets(self) -> &'static [Preset] {
        match self {
            BoardId::Synthetic => &[Preset::Default, Preset::Auxiliary],
            BoardId::Muse2 | BoardId::MuseS => &[Preset::Default, Preset::Auxiliary, Preset::Ancillary],
            BoardId::Legacy(legacy) => crate::descriptor::legacy_presets(legacy),
            _ => &[Preset::Default],
        }
    }

    /// Whether a C++ implementation of this board exists: switchyard's C++ core has the
    /// synthetic, playback, Cyton and Daisy boards; the Ganglion on its dongle and the
    /// legacy boards have BrainFlow's library (and nothing else). switchyard's BLE boards
    /// are Rust-only: C/C++ has no BLE library worth keeping.
    pub fn has_cpp_implementation(self) -> bool {
        matches!(
            self,
            BoardId::Synthetic
                | BoardId::PlaybackFile
                | BoardId::Cyton
                | BoardId::CytonDaisy
                | BoardId::Ganglion
                | BoardId::Legacy(_)
        )
    }

    /// Whether switchyard's own C++ core (`core_cpp`) has this board: the synthetic,
    /// playback, Cyton and Daisy boards.
    pub fn in_core_cpp(self) -> bool {
        self.has_cpp_implementation() && !self.is_legacy_only()
    }

    /// Whether only BrainFlow's library can serve this board: it has no Rust twin and no
    /// board in switchyard's C++ core, so its only mode is `cpp` with `legacy: brainflow`.
    pub fn is_legacy_only(self) -> bool {
        matches!(self, BoardId::Ganglion | BoardId::Legacy(_))
    }

    /// Whether a session's rows are another board's, named by the params' `master_board`:
    /// a playback file's, and BrainFlow's streaming board's.
    pub fn takes_master_layout(self) -> bool {
        self == BoardId::PlaybackFile || self.id() == STREAMING_BOARD_ID
    }

    /// Every config name, for messages about a name that is none: switchyard's boards by
    /// name, BrainFlow's others by their rule.
    pub fn known_kinds() -> String {
        let ours: Vec<&str> = BoardId::ALL.iter().map(|b| b.kind()).collect();
        format!(
            "{}, and every other BrainFlow board by its BoardIds name in lower case without `_board` (brainbit, unicorn, galea, ...: see docs/config.md)",
            ours.join(", ")
        )
    }

    /// The boards that have a Rust twin, by config name (for messages that must say which
    /// boards `rust`, `shadow` and `standby` are for).
    pub fn twinned_kinds() -> String {
        BoardId::ALL
            .iter()
            .filter(|b| !b.is_legacy_only())
            .map(|b| b.kind())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// BrainFlow's `STREAMING_BOARD`: it reads another session's multicast stream, so its rows
/// are its master board's, as a playback file's are.
const STREAMING_BOARD_ID: i32 = -2;

impl fmt::Display for BoardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.kind(), self.id())
    }
}

/// BrainFlow's presets: one board can stream several independent sample tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Preset {
    Default = 0,
    Auxiliary = 1,
    Ancillary = 2,
}

impl Preset {
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn from_index(index: i32) -> Result<Preset> {
        match index {
            0 => Ok(Preset::Default),
            1 => Ok(Preset::Auxiliary),
            2 => Ok(Preset::Ancillary),
            other => Err(BoardError::invalid_arguments(format!(
                "preset {other} does not exist (0 default, 1 auxiliary, 2 ancillary)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_kinds_round_trip() {
        for b in BoardId::ALL {
            assert_eq!(BoardId::from_id(b.id()).unwrap(), b);
            assert_eq!(BoardId::from_kind(b.kind()), Some(b));
        }
        let err = BoardId::from_id(12).unwrap_err();
        assert_eq!(err.code, crate::ExitCode::UnsupportedBoardError);
        assert!(err.message.contains("board id 12"));
    }

    #[test]
    fn every_brainflow_board_id_is_a_board_with_a_config_name() {
        assert_eq!(BoardId::EVERY.len(), 66);
        for (i, b) in BoardId::EVERY.iter().enumerate() {
            assert_eq!(b.index(), i);
            assert_eq!(BoardId::from_id(b.id()).unwrap(), *b);
            assert_eq!(BoardId::from_kind(b.kind()), Some(*b), "{b}");
        }
        let brainbit = BoardId::from_id(7).unwrap();
        assert_eq!(brainbit.kind(), "brainbit");
        assert!(brainbit.is_legacy_only() && brainbit.has_cpp_implementation());
        assert_eq!(BoardId::from_kind("unicorn").map(BoardId::id), Some(8));
        assert_eq!(BoardId::from_kind("neuropawn_knight_imu").map(BoardId::id), Some(66));
        assert!(BoardId::from_id(-2).unwrap().takes_master_layout());
        assert!(!BoardId::Cyton.is_legacy_only() && BoardId::Cyton.in_core_cpp());
        assert!(!brainbit.in_core_cpp() && !BoardId::Ganglion.in_core_cpp() && !BoardId::Muse2.in_core_cpp());
        assert!(BoardId::Ganglion.is_legacy_only(), "the dongle's Ganglion has no implementation of ours");
        assert!(BoardId::from_id(-100).is_err(), "NO_BOARD is not a board");
    }
}
