//! What every board shares: the per-preset buffers with their pending markers, so each
//! board only supplies how samples come to exist. The lifecycle rules are
//! `board_api::Lifecycle`'s.

use board_api::{BoardError, BoardId, Lifecycle, Preset, Result, SampleMatrix};
use sample_ring::SampleRing;

/// The layout of one preset as far as buffering cares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PresetLayout {
    pub preset: Preset,
    pub rows: usize,
    pub marker_row: usize,
}

impl PresetLayout {
    /// Every preset of `board`, from its descriptors.
    pub(crate) fn of_board(board: BoardId) -> Vec<PresetLayout> {
        board
            .presets()
            .iter()
            .filter_map(|p| board_api::descriptor(board, *p).ok().map(|d| (p, d)))
            .map(|(p, d)| PresetLayout { preset: *p, rows: d.num_rows, marker_row: d.marker_channel })
            .collect()
    }
}

struct PresetBuffer {
    layout: PresetLayout,
    ring: Option<SampleRing>,
    /// Markers not yet in a sample: each goes into the next sample, in order (BrainFlow
    /// queues them).
    pending_markers: std::collections::VecDeque<f64>,
}

/// Per-preset ring buffers (created by `start_stream`) and pending markers.
pub(crate) struct Buffers {
    board: BoardId,
    presets: Vec<PresetBuffer>,
    /// Drops in rings that a later `start_stream` replaced.
    dropped_before: u64,
}

impl Buffers {
    pub(crate) fn new(board: BoardId, layouts: Vec<PresetLayout>) -> Self {
        let presets = layouts.into_iter().map(|layout| PresetBuffer { layout, ring: None, pending_markers: Default::default() }).collect();
        Buffers { board, presets, dropped_before: 0 }
    }

    fn index(&self, preset: Preset) -> Result<usize> {
        self.presets.iter().position(|p| p.layout.preset == preset).ok_or_else(|| {
            BoardError::invalid_arguments(format!("board {} has no preset {preset:?}", self.board))
        })
    }

    /// Fresh rings of `buffer_size` samples per preset, as BrainFlow allocates per stream.
    pub(crate) fn start(&mut self, buffer_size: usize) {
        self.dropped_before = self.dropped();
        for p in &mut self.presets {
            p.ring = Some(SampleRing::new(p.layout.rows, buffer_size));
        }
    }

    /// Forgets everything (release).
    pub(crate) fn clear(&mut self) {
        self.dropped_before = 0;
        for p in &mut self.presets {
            p.ring = None;
            p.pending_markers.clear();
        }
    }

    /// Buffers whole samples given sample-major into the preset at `index` (its position
    /// in the layouts), writing pending markers into the first of them, one each.
    pub(crate) fn push_many(&mut self, index: usize, samples: &mut [f64]) {
        let p = &mut self.presets[index];
        let rows = p.layout.rows;
        for sample in samples.chunks_exact_mut(rows) {
            let Some(marker) = p.pending_markers.pop_front() else { break };
            sample[p.layout.marker_row] = marker;
        }
        if let Some(ring) = p.ring.as_mut() {
            ring.push_sample_major(samples);
        }
    }

    /// The ring of the preset at `i`, or BrainFlow's INVALID_ARGUMENTS_ERROR between
    /// prepare and the first `start_stream` (there is no buffer yet).
    fn ring(&self, i: usize, call: &str) -> Result<&SampleRing> {
        self.presets[i].ring.as_ref().ok_or_else(|| Lifecycle::no_buffer(call))
    }

    pub(crate) fn count(&self, preset: Preset) -> Result<usize> {
        let i = self.index(preset)?;
        Ok(self.ring(i, "get_board_data_count")?.len())
    }

    pub(crate) fn take_oldest(&mut self, max: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        let i = self.index(preset)?;
        self.presets[i].ring.as_mut().ok_or_else(|| Lifecycle::no_buffer("get_board_data"))?.take_into(max, out);
        Ok(())
    }

    pub(crate) fn copy_newest(&self, max: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        let i = self.index(preset)?;
        self.ring(i, "get_current_board_data")?.peek_latest_into(max, out);
        Ok(())
    }

    pub(crate) fn set_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        if value == 0.0 {
            return Err(BoardError::invalid_arguments("insert_marker: 0 means \"no marker\"; use a nonzero value"));
        }
        let i = self.index(preset)?;
        self.ring(i, "insert_marker")?;
        self.presets[i].pending_markers.push_back(value);
        Ok(())
    }

    /// Checks that `preset` exists without touching anything.
    pub(crate) fn check_preset(&self, preset: Preset) -> Result<()> {
        self.index(preset).map(|_| ())
    }

    /// Drops counted on the default preset's rings since prepare.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped_before + self.presets.first().and_then(|p| p.ring.as_ref()).map_or(0, SampleRing::dropped)
    }
}
