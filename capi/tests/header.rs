//! The committed C header is what cbindgen generates from the current sources.

use std::path::Path;

#[test]
fn committed_header_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("capi/cbindgen.toml parses");
    let generated = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut text = Vec::new();
    generated.write(&mut text);
    let text = String::from_utf8(text).unwrap();
    let committed_path = crate_dir.join("include/board_controller.h");
    if std::env::var_os("UPDATE_HEADER").is_some() {
        std::fs::write(&committed_path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == text,
        "capi/include/board_controller.h is out of date: run `UPDATE_HEADER=1 cargo test -p switchyard_capi --test header` and commit it"
    );
}
