//! BrainFlow's file streamer: `file://<path>:w` (truncate) or `file://<path>:a` (append),
//! one line per sample, the sample's rows separated by tabs (BrainFlow's CSV).

use board_api::{BoardError, Preset, Result, SampleMatrix};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};

pub(crate) struct Streamer {
    /// The text the caller gave, so `delete_streamer` can find it.
    pub spec: String,
    pub preset: Preset,
    out: BufWriter<File>,
}

impl Streamer {
    /// Opens the streamer that `spec` describes; any other kind than `file://` is
    /// INVALID_ARGUMENTS_ERROR.
    pub fn open(spec: &str, preset: Preset) -> Result<Streamer> {
        let Some(rest) = spec.strip_prefix("file://") else {
            return Err(BoardError::invalid_arguments(format!(
                "streamer {spec:?} is not supported: use file://<path>:w or file://<path>:a"
            )));
        };
        let (path, mode) = rest.rsplit_once(':').ok_or_else(|| {
            BoardError::invalid_arguments(format!("streamer {spec:?} has no mode: end it with :w or :a"))
        })?;
        if path.is_empty() {
            return Err(BoardError::invalid_arguments(format!("streamer {spec:?} has no file path")));
        }
        let mut options = OpenOptions::new();
        match mode {
            "w" => options.write(true).create(true).truncate(true),
            "a" => options.append(true).create(true),
            other => {
                return Err(BoardError::invalid_arguments(format!(
                    "streamer {spec:?} has mode {other:?}: use w (truncate) or a (append)"
                )))
            }
        };
        let file = options
            .open(path)
            .map_err(|e| BoardError::invalid_arguments(format!("streamer {spec:?}: cannot open {path:?}: {e}")))?;
        Ok(Streamer { spec: spec.to_owned(), preset, out: BufWriter::new(file) })
    }

    /// Appends the samples of `data` (row-major) as lines.
    pub fn write(&mut self, data: &SampleMatrix) -> Result<()> {
        let mut line = String::new();
        for sample in 0..data.samples() {
            line.clear();
            for row in 0..data.rows() {
                if row > 0 {
                    line.push('\t');
                }
                line.push_str(&data.get(row, sample).to_string());
            }
            line.push('\n');
            self.out
                .write_all(line.as_bytes())
                .map_err(|e| BoardError::general(format!("streamer {}: write failed: {e}", self.spec)))?;
        }
        self.out
            .flush()
            .map_err(|e| BoardError::general(format!("streamer {}: flush failed: {e}", self.spec)))
    }
}
