//! With no system D-Bus at all, preparing a BLE board fails at once with a message that
//! names the cause, instead of hanging or reporting a generic error.

use ble_boards::create_board;
use board_api::{BoardId, ExitCode, InputParams};

#[test]
fn no_system_bus_is_named_in_the_error() {
    let nowhere = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-bus-listens-here");
    let _ = std::fs::remove_file(&nowhere);
    // The only test in this binary: nothing else reads the variable concurrently.
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", format!("unix:path={}", nowhere.display()));
    for board in [BoardId::GanglionNative, BoardId::Muse2, BoardId::MuseS] {
        let params = InputParams { mac_address: "AA:BB:CC:DD:EE:01".into(), timeout: 2, ..InputParams::default() };
        let mut board = create_board(board, &params).unwrap();
        let e = board.prepare_session().unwrap_err();
        assert_eq!(e.code, ExitCode::UnableToOpenPortError, "{e}");
        assert!(e.message.starts_with("no system D-Bus"), "{e}");
        assert!(e.message.contains("DBUS_SYSTEM_BUS_ADDRESS"), "says how to fix it: {e}");
        assert!(!board.is_prepared());
    }
}
