//! Validates a config file and prints what each board will do: `cargo run --example check -- FILE`.
fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "config/switchyard.yaml".into());
    let now = toggles::Timestamp::from_system_time(std::time::SystemTime::now());
    match toggles::check_file(std::path::Path::new(&path), now) {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}
