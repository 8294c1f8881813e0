use crate::error::{BoardError, Result};
use std::fmt;

/// The boards switchyard knows, with BrainFlow's numeric ids.
///
/// `Ganglion` (1, through the BLED112 dongle) is known for its descriptor only: the C API
/// must answer descriptor queries for it, but no implementation is provided.
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
}

impl BoardId {
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
        }
    }

    /// The board for a BrainFlow id; an id we do not implement is UNSUPPORTED_BOARD_ERROR.
    pub fn from_id(id: i32) -> Result<BoardId> {
        BoardId::ALL.iter().copied().find(|b| b.id() == id).ok_or_else(|| {
            BoardError::new(
                crate::ExitCode::UnsupportedBoardError,
                format!("board id {id} is not supported (supported: -3, -1, 0, 1, 2, 38, 39, 46)"),
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
        }
    }

    /// The board for a config name (see [`BoardId::kind`]).
    pub fn from_kind(kind: &str) -> Option<BoardId> {
        BoardId::ALL.iter().copied().find(|b| b.kind() == kind)
    }

    /// The presets this board has, in BrainFlow's order.
    pub fn presets(self) -> &'static [Preset] {
        match self {
            BoardId::Synthetic => &[Preset::Default, Preset::Auxiliary],
            BoardId::Muse2 | BoardId::MuseS => &[Preset::Default, Preset::Auxiliary, Preset::Ancillary],
            _ => &[Preset::Default],
        }
    }

    /// Whether a legacy C++ implementation of this board exists. BLE boards are Rust-only:
    /// C/C++ has no BLE library worth keeping.
    pub fn has_cpp_implementation(self) -> bool {
        matches!(
            self,
            BoardId::Synthetic | BoardId::PlaybackFile | BoardId::Cyton | BoardId::CytonDaisy
        )
    }
}

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
        let err = BoardId::from_id(7).unwrap_err();
        assert_eq!(err.code, crate::ExitCode::UnsupportedBoardError);
        assert!(err.message.contains("board id 7"));
    }
}
