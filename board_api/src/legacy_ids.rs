//! The BrainFlow board ids that switchyard has no implementation of, only BrainFlow's
//! library: facts of BrainFlow 5.23's `BoardIds` enum (its `brainflow` PyPI package), not
//! code. A session for one of them is served by BrainFlow's library on the C++ path.

/// One BrainFlow board without a switchyard implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyBoard {
    /// BrainFlow's numeric id.
    pub id: i32,
    /// The name operators use in the YAML config and that metrics labels carry:
    /// BrainFlow's enum name lower-cased, without the word `BOARD`.
    pub kind: &'static str,
    /// BrainFlow's own name for it (`BoardIds.BRAINBIT_BOARD` in its bindings).
    pub brainflow_name: &'static str,
}

/// Every board id BrainFlow 5.23 knows that is not one of [`crate::BoardId::ALL`], in
/// BrainFlow's order. `NO_BOARD` (-100) is not a board.
pub const LEGACY_BOARDS: [LegacyBoard; 58] = [
    LegacyBoard { id: -2, kind: "streaming", brainflow_name: "STREAMING_BOARD" },
    LegacyBoard { id: 3, kind: "galea", brainflow_name: "GALEA_BOARD" },
    LegacyBoard { id: 4, kind: "ganglion_wifi", brainflow_name: "GANGLION_WIFI_BOARD" },
    LegacyBoard { id: 5, kind: "cyton_wifi", brainflow_name: "CYTON_WIFI_BOARD" },
    LegacyBoard { id: 6, kind: "cyton_daisy_wifi", brainflow_name: "CYTON_DAISY_WIFI_BOARD" },
    LegacyBoard { id: 7, kind: "brainbit", brainflow_name: "BRAINBIT_BOARD" },
    LegacyBoard { id: 8, kind: "unicorn", brainflow_name: "UNICORN_BOARD" },
    LegacyBoard { id: 9, kind: "callibri_eeg", brainflow_name: "CALLIBRI_EEG_BOARD" },
    LegacyBoard { id: 10, kind: "callibri_emg", brainflow_name: "CALLIBRI_EMG_BOARD" },
    LegacyBoard { id: 11, kind: "callibri_ecg", brainflow_name: "CALLIBRI_ECG_BOARD" },
    LegacyBoard { id: 13, kind: "notion_1", brainflow_name: "NOTION_1_BOARD" },
    LegacyBoard { id: 14, kind: "notion_2", brainflow_name: "NOTION_2_BOARD" },
    LegacyBoard { id: 16, kind: "gforce_pro", brainflow_name: "GFORCE_PRO_BOARD" },
    LegacyBoard { id: 17, kind: "freeeeg32", brainflow_name: "FREEEEG32_BOARD" },
    LegacyBoard { id: 18, kind: "brainbit_bled", brainflow_name: "BRAINBIT_BLED_BOARD" },
    LegacyBoard { id: 19, kind: "gforce_dual", brainflow_name: "GFORCE_DUAL_BOARD" },
    LegacyBoard { id: 21, kind: "muse_s_bled", brainflow_name: "MUSE_S_BLED_BOARD" },
    LegacyBoard { id: 22, kind: "muse_2_bled", brainflow_name: "MUSE_2_BLED_BOARD" },
    LegacyBoard { id: 23, kind: "crown", brainflow_name: "CROWN_BOARD" },
    LegacyBoard { id: 24, kind: "ant_neuro_ee_410", brainflow_name: "ANT_NEURO_EE_410_BOARD" },
    LegacyBoard { id: 25, kind: "ant_neuro_ee_411", brainflow_name: "ANT_NEURO_EE_411_BOARD" },
    LegacyBoard { id: 26, kind: "ant_neuro_ee_430", brainflow_name: "ANT_NEURO_EE_430_BOARD" },
    LegacyBoard { id: 27, kind: "ant_neuro_ee_211", brainflow_name: "ANT_NEURO_EE_211_BOARD" },
    LegacyBoard { id: 28, kind: "ant_neuro_ee_212", brainflow_name: "ANT_NEURO_EE_212_BOARD" },
    LegacyBoard { id: 29, kind: "ant_neuro_ee_213", brainflow_name: "ANT_NEURO_EE_213_BOARD" },
    LegacyBoard { id: 30, kind: "ant_neuro_ee_214", brainflow_name: "ANT_NEURO_EE_214_BOARD" },
    LegacyBoard { id: 31, kind: "ant_neuro_ee_215", brainflow_name: "ANT_NEURO_EE_215_BOARD" },
    LegacyBoard { id: 32, kind: "ant_neuro_ee_221", brainflow_name: "ANT_NEURO_EE_221_BOARD" },
    LegacyBoard { id: 33, kind: "ant_neuro_ee_222", brainflow_name: "ANT_NEURO_EE_222_BOARD" },
    LegacyBoard { id: 34, kind: "ant_neuro_ee_223", brainflow_name: "ANT_NEURO_EE_223_BOARD" },
    LegacyBoard { id: 35, kind: "ant_neuro_ee_224", brainflow_name: "ANT_NEURO_EE_224_BOARD" },
    LegacyBoard { id: 36, kind: "ant_neuro_ee_225", brainflow_name: "ANT_NEURO_EE_225_BOARD" },
    LegacyBoard { id: 37, kind: "enophone", brainflow_name: "ENOPHONE_BOARD" },
    LegacyBoard { id: 40, kind: "brainalive", brainflow_name: "BRAINALIVE_BOARD" },
    LegacyBoard { id: 41, kind: "muse_2016", brainflow_name: "MUSE_2016_BOARD" },
    LegacyBoard { id: 42, kind: "muse_2016_bled", brainflow_name: "MUSE_2016_BLED_BOARD" },
    LegacyBoard { id: 44, kind: "explore_4_chan", brainflow_name: "EXPLORE_4_CHAN_BOARD" },
    LegacyBoard { id: 45, kind: "explore_8_chan", brainflow_name: "EXPLORE_8_CHAN_BOARD" },
    LegacyBoard { id: 47, kind: "emotibit", brainflow_name: "EMOTIBIT_BOARD" },
    LegacyBoard { id: 50, kind: "ntl_wifi", brainflow_name: "NTL_WIFI_BOARD" },
    LegacyBoard { id: 51, kind: "ant_neuro_ee_511", brainflow_name: "ANT_NEURO_EE_511_BOARD" },
    LegacyBoard { id: 52, kind: "freeeeg128", brainflow_name: "FREEEEG128_BOARD" },
    LegacyBoard { id: 53, kind: "aavaa_v3", brainflow_name: "AAVAA_V3_BOARD" },
    LegacyBoard { id: 54, kind: "explore_plus_8_chan", brainflow_name: "EXPLORE_PLUS_8_CHAN_BOARD" },
    LegacyBoard { id: 55, kind: "explore_plus_32_chan", brainflow_name: "EXPLORE_PLUS_32_CHAN_BOARD" },
    LegacyBoard { id: 56, kind: "pieeg", brainflow_name: "PIEEG_BOARD" },
    LegacyBoard { id: 57, kind: "neuropawn_knight", brainflow_name: "NEUROPAWN_KNIGHT_BOARD" },
    LegacyBoard { id: 58, kind: "synchroni_trio_3_channels", brainflow_name: "SYNCHRONI_TRIO_3_CHANNELS_BOARD" },
    LegacyBoard { id: 59, kind: "synchroni_octo_8_channels", brainflow_name: "SYNCHRONI_OCTO_8_CHANNELS_BOARD" },
    LegacyBoard { id: 60, kind: "ob5000_8_channels", brainflow_name: "OB5000_8_CHANNELS_BOARD" },
    LegacyBoard { id: 61, kind: "synchroni_pento_8_channels", brainflow_name: "SYNCHRONI_PENTO_8_CHANNELS_BOARD" },
    LegacyBoard { id: 62, kind: "synchroni_uno_1_channels", brainflow_name: "SYNCHRONI_UNO_1_CHANNELS_BOARD" },
    LegacyBoard { id: 63, kind: "ob3000_24_channels", brainflow_name: "OB3000_24_CHANNELS_BOARD" },
    LegacyBoard { id: 64, kind: "biolistener", brainflow_name: "BIOLISTENER_BOARD" },
    LegacyBoard { id: 65, kind: "ironbci_32", brainflow_name: "IRONBCI_32_BOARD" },
    LegacyBoard { id: 66, kind: "neuropawn_knight_imu", brainflow_name: "NEUROPAWN_KNIGHT_BOARD_IMU" },
    LegacyBoard { id: 67, kind: "muse_s_athena", brainflow_name: "MUSE_S_ATHENA_BOARD" },
    LegacyBoard { id: 68, kind: "shimmer3", brainflow_name: "SHIMMER3_BOARD" },
];
