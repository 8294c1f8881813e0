//! The transport seam: what a board needs from BLE, and nothing more.
//!
//! Boards speak to a [`BleTransport`]; [`crate::BtleplugTransport`] implements it over the
//! system's Bluetooth stack and [`crate::FakePeripheral`] in memory. Methods return boxed
//! futures so the trait can be used as `Arc<dyn BleTransport>`.

use board_api::{BoardError, ExitCode};
use futures::future::BoxFuture;
use std::time::Duration;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Which device to use. BrainFlow's rule: an exact `mac_address` if one is given, else an
/// exact `serial_number` (the advertised name), else the first name with a known prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceQuery {
    pub mac_address: Option<String>,
    pub serial_number: Option<String>,
    pub name_prefixes: Vec<&'static str>,
}

impl DeviceQuery {
    pub fn new(mac_address: &str, serial_number: &str, name_prefixes: &[&'static str]) -> Self {
        let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        DeviceQuery {
            mac_address: non_empty(mac_address),
            serial_number: non_empty(serial_number),
            name_prefixes: name_prefixes.to_vec(),
        }
    }

    /// Whether an advertised device is the one asked for.
    pub fn matches(&self, address: &str, name: Option<&str>) -> bool {
        if let Some(mac) = &self.mac_address {
            return address.eq_ignore_ascii_case(mac);
        }
        if let Some(serial) = &self.serial_number {
            return name == Some(serial.as_str());
        }
        name.is_some_and(|n| self.name_prefixes.iter().any(|p| n.starts_with(p)))
    }

    /// How error messages name the device.
    pub fn describe(&self) -> String {
        if let Some(mac) = &self.mac_address {
            format!("device {mac}")
        } else if let Some(serial) = &self.serial_number {
            format!("device named {serial:?}")
        } else {
            let names: Vec<String> = self.name_prefixes.iter().map(|p| format!("{p}*")).collect();
            format!("a device named {}", names.join(" or "))
        }
    }
}

/// A device found by [`BleTransport::find`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDevice {
    pub address: String,
    pub name: Option<String>,
}

/// What arrives from a connected device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    Notification { characteristic: Uuid, value: Vec<u8> },
    /// The link dropped (the device went away, or the stack says so).
    Disconnected,
}

/// BLE failures, each with the BrainFlow code it becomes and a message saying what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BleError {
    #[error("no system D-Bus ({0}): BLE on Linux needs the system bus and bluetoothd; start them, or point DBUS_SYSTEM_BUS_ADDRESS at a bus that has org.bluez")]
    NoSystemBus(String),
    #[error("no Bluetooth daemon: org.bluez is not on the system D-Bus ({0}); start bluetoothd")]
    NoBluetoothDaemon(String),
    #[error("no Bluetooth adapter: bluetoothd reports none; plug one in or unblock it (rfkill)")]
    NoAdapter,
    #[error("{what} not found in {} s; check that it is on, in range and not connected elsewhere", .timeout.as_secs_f64())]
    NotFound { what: String, timeout: Duration },
    #[error("could not connect to {address} after {attempts} attempts: {reason}")]
    Connect { address: String, attempts: u32, reason: String },
    #[error("the device has no characteristic {0}; is it the right kind of board?")]
    NoCharacteristic(Uuid),
    #[error("writing to the device failed: {0}")]
    Write(String),
    #[error("not connected to a device; prepare the session first")]
    NotConnected,
    #[error("{what} did not finish within {} s", .timeout.as_secs_f64())]
    TimedOut { what: String, timeout: Duration },
    #[error("Bluetooth stack error: {0}")]
    Stack(String),
}

impl BleError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            BleError::NoSystemBus(_) | BleError::NoBluetoothDaemon(_) | BleError::NoAdapter => {
                ExitCode::UnableToOpenPortError
            }
            BleError::NotFound { .. }
            | BleError::Connect { .. }
            | BleError::NoCharacteristic(_)
            | BleError::NotConnected
            | BleError::TimedOut { .. } => ExitCode::BoardNotReadyError,
            BleError::Write(_) => ExitCode::BoardWriteError,
            BleError::Stack(_) => ExitCode::GeneralError,
        }
    }
}

impl From<BleError> for BoardError {
    fn from(e: BleError) -> Self {
        BoardError::new(e.exit_code(), e.to_string())
    }
}

pub type BleResult<T> = Result<T, BleError>;

/// What a board needs from BLE. One transport serves one device.
pub trait BleTransport: Send + Sync {
    /// Finds the device `query` names, scanning for at most `timeout`.
    fn find<'a>(&'a self, query: &'a DeviceQuery, timeout: Duration) -> BoxFuture<'a, BleResult<FoundDevice>>;
    /// Connects to a found device, trying up to `attempts` times.
    fn connect<'a>(&'a self, device: &'a FoundDevice, attempts: u32) -> BoxFuture<'a, BleResult<()>>;
    /// Asks for notifications of a characteristic of the connected device.
    fn subscribe(&self, characteristic: Uuid) -> BoxFuture<'_, BleResult<()>>;
    /// Writes a command to a characteristic of the connected device.
    fn write<'a>(&'a self, characteristic: Uuid, bytes: &'a [u8]) -> BoxFuture<'a, BleResult<()>>;
    /// Drops the link (no error if there is none).
    fn disconnect(&self) -> BoxFuture<'_, BleResult<()>>;
    /// Notifications and disconnect events, across reconnects. There is one receiver per
    /// transport: the first call takes it, later calls get `None`.
    fn take_events(&self) -> Option<mpsc::UnboundedReceiver<LinkEvent>>;
}
