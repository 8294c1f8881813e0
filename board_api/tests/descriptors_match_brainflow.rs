//! Every row of BrainFlow 5.23's descriptor dump (a copy kept in `tests/fixtures`) must be
//! what `board_api` reports, and nothing more.

use board_api::descriptors_json;
use serde_json::Value;

#[test]
fn descriptors_are_identical_to_brainflow() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/brainflow_descriptors.json")).unwrap();
    let ours = descriptors_json();
    let (Value::Object(theirs), Value::Object(mine)) = (&fixture, &ours) else {
        panic!("both dumps are objects keyed by board id");
    };
    for (board, presets) in theirs {
        for (preset, expected) in presets.as_object().unwrap() {
            let got = &mine
                .get(board)
                .unwrap_or_else(|| panic!("board {board} missing"))[preset];
            for (key, value) in expected.as_object().unwrap() {
                assert_eq!(&got[key], value, "board {board} preset {preset} field {key}");
            }
            assert_eq!(got, expected, "board {board} preset {preset} has extra fields");
        }
    }
    assert_eq!(theirs.len(), mine.len(), "we describe a board BrainFlow's dump lacks");
}
