//! Compiles the legacy C++ core and the cxx bridge glue. No CMake: g++ through cxx-build.

const SOURCES: [&str; 8] = [
    "cpp/board.cc",
    "cpp/bridge.cc",
    "cpp/cyton_board.cc",
    "cpp/cyton_decoder.cc",
    "cpp/playback.cc",
    "cpp/ring_buffer.cc",
    "cpp/serial_port.cc",
    "cpp/synthetic.cc",
];

fn main() {
    cxx_build::bridge("src/bridge.rs")
        .files(SOURCES)
        .std("c++17")
        // Bit-identical arithmetic with the Rust twin: no fused multiply-add.
        .flag("-ffp-contract=off")
        .flag("-Wall")
        .flag("-Wextra")
        .flag_if_supported("-pthread")
        .compile("switchyard_legacy_core");

    println!("cargo:rerun-if-changed=src/bridge.rs");
    for entry in std::fs::read_dir("cpp").expect("core_cpp/cpp is part of the crate") {
        let path = entry.expect("readable directory entry").path();
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
