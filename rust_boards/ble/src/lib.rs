//! The BLE boards: Ganglion native (46), Muse 2 (38) and Muse S (39), in Rust only.
//!
//! BrainFlow's roadmap moves BLE boards to Rust first because C/C++ has no good BLE
//! library; these boards have no C++ twin. This crate owns:
//! - pure decoders, packets in and samples out ([`ganglion`], [`muse`]), in exactly the
//!   rows of `board_api::descriptor` for each preset;
//! - the transport seam [`BleTransport`], implemented over btleplug
//!   ([`BtleplugTransport`], libdbus compiled from source so no system package is needed)
//!   and in memory ([`FakePeripheral`]: replay, drop, reorder, disconnect, stall);
//! - [`BleBoard`], BrainFlow's board lifecycle (`board_api::Lifecycle`) over any
//!   transport, with a ring per preset (`sample_ring::SampleRing`), markers, disconnect and stall detection, reconnection with backoff and gaps
//!   marked with [`GAP_MARKER`];
//! - simulated devices ([`simulate`]): the real protocols from a clock, selected with
//!   `other_info` `transport=simulated`, for demos and tests without hardware.
//!
//! It does not own routing, toggles, breakers or the status page: the dispatch layer reads
//! the link through a [`LinkHandle`] and paces reconnection through a [`LinkGuard`].
#![forbid(unsafe_code)]

mod board;
mod btle;
mod fake;
pub mod ganglion;
pub mod muse;
pub mod simulate;
mod transport;

pub use board::{
    muse_characteristic, runtime, BleBoard, BleSettings, LinkGuard, LinkHandle, LinkState, LinkStatus,
    ReconnectAdmission, GANGLION_NOTIFY, GANGLION_WRITE, GAP_MARKER, MUSE_ACCEL, MUSE_CONTROL, MUSE_EEG, MUSE_GYRO, MUSE_PPG,
};
pub use btle::{first_adapter, BtleplugTransport};
pub use fake::{FakePeripheral, FakeStats, FakeStep};
pub use transport::{BleError, BleResult, BleTransport, DeviceQuery, FoundDevice, LinkEvent};

use board_api::{Board, BoardId, InputParams, Result};
use std::sync::Arc;

/// The BLE boards this crate implements.
pub const BLE_BOARDS: [BoardId; 3] = [BoardId::GanglionNative, BoardId::Muse2, BoardId::MuseS];

/// A board session on the system's Bluetooth stack (btleplug), or on a simulated device
/// when `other_info` says `transport=simulated` (see [`simulate`]). Nothing is opened until
/// `prepare_session`; a board that is not a BLE board is UNSUPPORTED_BOARD_ERROR and a bad
/// `other_info` setting INVALID_ARGUMENTS_ERROR naming it.
pub fn create_board(board: BoardId, params: &InputParams) -> Result<Box<dyn Board>> {
    Ok(Box::new(create_ble_board(board, params)?))
}

/// [`create_board`] with the concrete type, for callers that read [`BleBoard::link_status`].
pub fn create_ble_board(board: BoardId, params: &InputParams) -> Result<BleBoard> {
    let transport: Arc<dyn BleTransport> = match simulate::SimSettings::from_params(params)? {
        Some(sim) => simulate::simulated_device(board, params, &sim)?,
        None => Arc::new(BtleplugTransport::new()),
    };
    BleBoard::with_transport(board, params, transport)
}

/// A board session over any transport, e.g. a [`FakePeripheral`].
pub fn board_over(board: BoardId, params: &InputParams, transport: Arc<dyn BleTransport>) -> Result<BleBoard> {
    BleBoard::with_transport(board, params, transport)
}
