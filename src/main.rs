//! The `switchyard` command line.
fn main() -> anyhow::Result<()> {
    Ok(())
}
