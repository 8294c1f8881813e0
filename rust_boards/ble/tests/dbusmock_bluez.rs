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

/// Gives the mock Ganglion at `dev` the Ganglion's GATT service: the notify and write
/// characteristics, as bluetoothd would publish them after service discovery.
fn publish_ganglion_gatt(bus: &support::PrivateBus, dev: &str) {
    bus.python(&format!(
        r#"import dbus
bus = dbus.SystemBus()
root = dbus.Interface(bus.get_object('org.bluez', '/'), 'org.freedesktop.DBus.Mock')
dev = '{dev}'
svc = dev + '/service000c'
# dbusmock introspects an interface that has no methods after the child nodes, which
# bluez-async's introspection parser rejects: an unused method keeps it in its place.
root.AddObject(svc, 'org.bluez.GattService1', {{'UUID': '0000fe84-0000-1000-8000-00805f9b34fb', 'Primary': True, 'Device': dbus.ObjectPath(dev), 'Includes': dbus.Array([], signature='o')}}, [('Unused', '', '', '')])
methods = [('StartNotify', '', '', ''), ('StopNotify', '', '', ''), ('ReadValue', 'a{{sv}}', 'ay', 'ret = dbus.Array([], signature="y")'), ('WriteValue', 'aya{{sv}}', '', '')]
for path, uuid, flags in [(svc + '/char000d', '2d30c082-f39f-4ce6-923f-3484ea480596', ['notify']), (svc + '/char000f', '2d30c083-f39f-4ce6-923f-3484ea480596', ['write-without-response', 'write'])]:
    root.AddObject(path, 'org.bluez.GattCharacteristic1', {{'UUID': uuid, 'Service': dbus.ObjectPath(svc), 'Flags': dbus.Array(flags, signature='s'), 'Notifying': False, 'Value': dbus.Array([], signature='y')}}, methods)
d = dbus.Interface(bus.get_object('org.bluez', dev), 'org.freedesktop.DBus.Mock')
d.UpdateProperties('org.bluez.Device1', {{'ServicesResolved': True}})
"#
    ));
}

/// Sends notifications from the mock Ganglion's notify characteristic, in order.
fn notify(bus: &support::PrivateBus, dev: &str, packets: &[Vec<u8>]) {
    let packets: Vec<String> = packets.iter().map(|p| format!("{p:?}")).collect();
    bus.python(&format!(
        r#"import dbus
c = dbus.Interface(dbus.SystemBus().get_object('org.bluez', '{dev}/service000c/char000d'), 'org.freedesktop.DBus.Mock')
for p in [{}]:
    c.UpdateProperties('org.bluez.GattCharacteristic1', {{'Value': dbus.Array(p, signature='y')}})
"#,
        packets.join(", ")
    ));
}

/// Firmware 3 packets with ids `ids`, every value 1 (so every EEG value is `1 << 6` or `1 << 5`).
fn ganglion_packets(ids: std::ops::Range<u8>) -> Vec<Vec<u8>> {
    ids.map(|id| {
        let width = if id < 100 { 18 } else { 19 };
        let mut p = vec![0u8; 20];
        p[0] = id;
        for k in 0..8 {
            let bit = k * width + width - 1;
            p[1 + bit / 8] |= 1 << (7 - bit % 8);
        }
        p
    })
    .collect()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn ganglion_streams_over_bluez_and_reconnects_after_the_device_drops() {
    use ble_boards::{create_ble_board, LinkState, GAP_MARKER};
    use board_api::{Board, Preset, SampleMatrix};
    let mut bus = bus();
    bus.restart_bluez_mock();
    bus.mock("AddAdapter", &["hci0", "switchyard-test"]);
    bus.mock("AddDevice", &["hci0", "AA:BB:CC:DD:EE:01", "Ganglion-1a2b"]);
    let dev = "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_01";
    publish_ganglion_gatt(&bus, dev);

    let params = InputParams {
        other_info: "firmware=3;reconnect_backoff_ms=20;gap_timeout_ms=600000".into(),
        timeout: 3,
        ..InputParams::default()
    };
    let mut board = create_ble_board(BoardId::GanglionNative, &params).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(1000).unwrap();
    let written = bus.python(&format!(
        "import dbus\nc = dbus.Interface(dbus.SystemBus().get_object('org.bluez', '{dev}/service000c/char000f'), 'org.freedesktop.DBus.Mock')\nprint([bytes(call[2][0]).decode() for call in c.GetCalls() if call[1] == 'WriteValue'])"
    ));
    assert_eq!(written.trim(), "['b']", "the start command went over D-Bus");

    notify(&bus, dev, &ganglion_packets(0..3));
    wait_for("6 samples", || board.board_data_count(Preset::Default).unwrap() == 6);

    // The device drops the link, as bluetoothd reports it: Connected becomes false.
    bus.python(&format!(
        "import dbus\ndbus.Interface(dbus.SystemBus().get_object('org.bluez', '{dev}'), 'org.bluez.Device1').Disconnect()"
    ));
    wait_for("the reconnect", || board.link_status().reconnects == 1);
    notify(&bus, dev, &ganglion_packets(150..152));
    wait_for("10 samples", || board.board_data_count(Preset::Default).unwrap() == 10);

    let status = board.link_status();
    assert_eq!((status.state, status.disconnects, status.failures), (LinkState::Connected, 1, 1));
    let mut data = SampleMatrix::default();
    board.get_board_data(100, Preset::Default, &mut data).unwrap();
    let scale = 1.2e6 / (8388607.0 * 1.5 * 51.0);
    assert_eq!(data.row(0), &[0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 150.0, 150.0, 151.0, 151.0]);
    assert_eq!(data.row(1)[0], 64.0 * scale);
    assert_eq!(data.row(1)[6], 32.0 * scale);
    let markers = data.row(14);
    assert_eq!(markers[6], GAP_MARKER);
    assert_eq!(markers.iter().filter(|m| **m != 0.0).count(), 1);
    board.stop_stream().unwrap();
    board.release_session().unwrap();
}
