//! btleplug against python-dbusmock's `bluez5` template on a private system bus:
//! discovery, device matching and every "cannot reach the device" error through the real
//! D-Bus stack. See `support/mod.rs` for the setup (which installs python-dbusmock itself).

mod support;

use ble_boards::{create_board, runtime, BleError, BleTransport, BtleplugTransport, DeviceQuery};
use board_api::{BoardId, ExitCode, InputParams};
use std::time::Duration;
use support::bus;

fn params(mac: &str, serial_number: &str, timeout: i32) -> InputParams {
    InputParams { mac_address: mac.into(), serial_number: serial_number.into(), timeout, ..InputParams::default() }
}

fn find(query: DeviceQuery) -> Result<(String, Option<String>), BleError> {
    let transport = BtleplugTransport::new();
    runtime()
        .block_on(transport.find(&query, Duration::from_secs(3)))
        .map(|d| (d.address, d.name))
}

#[test]
fn a_bus_without_bluetoothd_is_named() {
    let mut bus = bus();
    bus.stop_bluez_mock();
    let mut board = create_board(BoardId::GanglionNative, &params("", "", 2)).unwrap();
    let e = board.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::UnableToOpenPortError, "{e}");
    assert!(e.message.starts_with("no Bluetooth daemon"), "{e}");
}

#[test]
fn bluez_without_an_adapter_is_named() {
    let mut bus = bus();
    bus.restart_bluez_mock();
    let mut board = create_board(BoardId::Muse2, &params("", "", 2)).unwrap();
    let e = board.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::UnableToOpenPortError, "{e}");
    assert!(e.message.starts_with("no Bluetooth adapter"), "{e}");
}

#[test]
fn a_missing_device_is_not_found_within_the_timeout() {
    let mut bus = bus();
    bus.restart_bluez_mock();
    bus.mock("AddAdapter", &["hci0", "switchyard-test"]);
    bus.mock("AddDevice", &["hci0", "AA:BB:CC:DD:EE:01", "Ganglion-1a2b"]);
    let mut board = create_board(BoardId::GanglionNative, &params("AA:BB:CC:DD:EE:FF", "", 1)).unwrap();
    let e = board.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotReadyError, "{e}");
    assert!(e.message.starts_with("device AA:BB:CC:DD:EE:FF not found in 1 s"), "{e}");
    let adapter_scanned = bus.python(
        "import dbus\np = dbus.Interface(dbus.SystemBus().get_object('org.bluez', '/org/bluez/hci0'), 'org.freedesktop.DBus.Properties')\nprint(p.Get('org.bluez.Adapter1', 'Powered'))",
    );
    assert_eq!(adapter_scanned.trim(), "1", "the adapter is still there and powered");
}

#[test]
fn discovery_matches_by_mac_then_serial_then_name_prefix() {
    let mut bus = bus();
    bus.restart_bluez_mock();
    bus.mock("AddAdapter", &["hci0", "switchyard-test"]);
    bus.mock("AddDevice", &["hci0", "11:22:33:44:55:01", "Phone"]);
    bus.mock("AddDevice", &["hci0", "AA:BB:CC:DD:EE:01", "Ganglion-1a2b"]);
    bus.mock("AddDevice", &["hci0", "AA:BB:CC:DD:EE:02", "Muse-77AB"]);
    bus.mock("AddDevice", &["hci0", "AA:BB:CC:DD:EE:03", "MuseS-0C1D"]);

    let by_mac = DeviceQuery::new("aa:bb:cc:dd:ee:02", "", &["Ganglion"]);
    assert_eq!(find(by_mac).unwrap(), ("AA:BB:CC:DD:EE:02".into(), Some("Muse-77AB".into())));
    let by_serial = DeviceQuery::new("", "MuseS-0C1D", &["Muse"]);
    assert_eq!(find(by_serial).unwrap().0, "AA:BB:CC:DD:EE:03");
    let by_prefix = DeviceQuery::new("", "", &["Ganglion", "Simblee"]);
    assert_eq!(find(by_prefix).unwrap().0, "AA:BB:CC:DD:EE:01");
    let nothing = DeviceQuery::new("", "Ganglion-ffff", &["Ganglion"]);
    match find(nothing) {
        Err(BleError::NotFound { what, timeout }) => {
            assert_eq!(what, "device named \"Ganglion-ffff\"");
            assert_eq!(timeout, Duration::from_secs(3));
        }
        other => panic!("expected not found, got {other:?}"),
    }
}

#[test]
fn a_device_without_the_boards_characteristics_is_refused_after_connecting() {
    let mut bus = bus();
    bus.restart_bluez_mock();
    bus.mock("AddAdapter", &["hci0", "switchyard-test"]);
    bus.mock("AddDevice", &["hci0", "AA:BB:CC:DD:EE:01", "Ganglion-1a2b"]);
    // bluez5's mock devices connect but expose no GATT services. bluetoothd marks services
    // resolved after connecting; the mock needs telling.
    bus.python(
        "import dbus\nd = dbus.Interface(dbus.SystemBus().get_object('org.bluez', '/org/bluez/hci0/dev_AA_BB_CC_DD_EE_01'), 'org.freedesktop.DBus.Mock')\nd.UpdateProperties('org.bluez.Device1', {'ServicesResolved': True})",
    );
    let mut board = create_board(BoardId::GanglionNative, &params("AA:BB:CC:DD:EE:01", "", 2)).unwrap();
    let e = board.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotReadyError, "{e}");
    assert!(e.message.contains("no characteristic 2d30c082-f39f-4ce6-923f-3484ea480596"), "{e}");
    assert!(!board.is_prepared());
}
