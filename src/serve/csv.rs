//! Recording a session to a BrainFlow-format CSV file: one line per sample, the board's
//! rows as tab-separated columns (what BrainFlow's `DataFilter.write_file` writes and
//! `read_file` reads).
//!
//! Lines are formatted into a buffer and written only whole: every `write` hands the file
//! complete lines, so a run stopped at any moment (even killed) leaves complete lines only.

use board_api::SampleMatrix;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Pending text past which the recorder writes without waiting for the periodic flush.
const FLUSH_BYTES: usize = 64 * 1024;

pub struct CsvRecorder {
    path: PathBuf,
    file: File,
    pending: String,
    pub lines_written: u64,
}

impl CsvRecorder {
    /// Opens `path` for appending (a restart continues the same file).
    pub fn open(path: &Path) -> std::io::Result<CsvRecorder> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(CsvRecorder { path: path.to_owned(), file, pending: String::new(), lines_written: 0 })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Formats every sample of `data` as one line; writes when enough is pending.
    pub fn append(&mut self, data: &SampleMatrix) -> std::io::Result<()> {
        let rows = data.rows();
        for sample in 0..data.samples() {
            for row in 0..rows {
                if row > 0 {
                    self.pending.push('\t');
                }
                let _ = write!(self.pending, "{:.6}", data.get(row, sample));
            }
            self.pending.push('\n');
            self.lines_written += 1;
        }
        if self.pending.len() >= FLUSH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes every pending (complete) line.
    pub fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            self.file.write_all(self.pending.as_bytes())?;
            self.pending.clear();
        }
        Ok(())
    }
}

impl Drop for CsvRecorder {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::error!(file = %self.path.display(), error = %e, "could not write the last lines of a recording");
        }
    }
}

/// Fails now, naming the folder, if `dir` cannot hold recordings (not at the first write).
pub fn check_writable(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
    let probe = dir.join(".switchyard-write-check");
    std::fs::write(&probe, b"ok").map_err(|e| format!("data directory {} is not writable: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// A file name from a session label: letters, digits, `-` and `_` kept, the rest `_`.
pub fn file_stem(board: &str, label: &str) -> String {
    let clean: String = label.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    format!("{board}-{}", clean.trim_matches('_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_one_tab_separated_line_per_sample() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        let mut rec = CsvRecorder::open(&path).unwrap();
        // 2 rows x 3 samples, row-major.
        rec.append(&SampleMatrix::from_row_major(2, vec![1.0, 2.0, 3.0, 10.5, 20.25, -1.0])).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "", "nothing written before a flush");
        rec.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "1.000000\t10.500000\n2.000000\t20.250000\n3.000000\t-1.000000\n");
    }

    #[test]
    fn labels_become_safe_file_names() {
        assert_eq!(file_stem("cyton", "/dev/ttyUSB0"), "cyton-dev_ttyUSB0");
    }

    #[test]
    fn unwritable_directory_is_reported_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"").unwrap();
        let err = check_writable(&file.join("sub")).unwrap_err();
        assert!(err.contains("plain-file"), "{err}");
    }
}
