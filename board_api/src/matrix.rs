/// Samples in BrainFlow's layout: row-major with one row per channel of the board
/// descriptor, so `data[row * samples + i]` is channel `row` of sample `i`.
///
/// A matrix is meant to be reused across reads: [`SampleMatrix::reset`] keeps the
/// allocation, so a caller polling a board allocates once, not once per read or sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleMatrix {
    rows: usize,
    samples: usize,
    data: Vec<f64>,
}

impl SampleMatrix {
    pub fn new(rows: usize) -> Self {
        SampleMatrix { rows, samples: 0, data: Vec::new() }
    }

    pub fn with_capacity(rows: usize, samples: usize) -> Self {
        SampleMatrix { rows, samples: 0, data: Vec::with_capacity(rows * samples) }
    }

    /// A matrix from row-major data; `data.len()` must be a multiple of `rows`.
    pub fn from_row_major(rows: usize, data: Vec<f64>) -> Self {
        assert!(rows > 0 && data.len() % rows == 0, "row-major data must fill whole rows");
        SampleMatrix { rows, samples: data.len() / rows, data }
    }

    /// Resizes to `rows × samples` zeros, keeping the allocation, and returns the data for
    /// the caller to fill in row-major order.
    pub fn reset(&mut self, rows: usize, samples: usize) -> &mut [f64] {
        self.rows = rows;
        self.samples = samples;
        self.data.clear();
        self.data.resize(rows * samples, 0.0);
        &mut self.data
    }

    /// Fills the matrix from `samples` sample-major records of `rows` values each
    /// (the order decoders and ring buffers produce).
    pub fn fill_from_sample_major(&mut self, rows: usize, sample_major: &[f64]) {
        let samples = sample_major.len() / rows.max(1);
        let data = self.reset(rows, samples);
        for (i, sample) in sample_major.chunks_exact(rows).enumerate() {
            for (row, value) in sample.iter().enumerate() {
                data[row * samples + i] = *value;
            }
        }
    }

    /// Keeps the first `rows × samples` values as a `rows × samples` matrix: for writers
    /// that were given room for more samples and laid out the ones they returned
    /// row-major with that count as the stride (BrainFlow's `get_current_board_data`).
    pub fn truncate_row_major(&mut self, samples: usize) {
        let samples = samples.min(self.samples);
        self.samples = samples;
        self.data.truncate(self.rows * samples);
    }

    pub fn rows(&self) -> usize {
        self.rows
    }
    pub fn samples(&self) -> usize {
        self.samples
    }
    pub fn is_empty(&self) -> bool {
        self.samples == 0
    }
    /// Channel `row` across all samples.
    pub fn row(&self, row: usize) -> &[f64] {
        &self.data[row * self.samples..(row + 1) * self.samples]
    }
    pub fn row_mut(&mut self, row: usize) -> &mut [f64] {
        &mut self.data[row * self.samples..(row + 1) * self.samples]
    }
    pub fn get(&self, row: usize, sample: usize) -> f64 {
        self.data[row * self.samples + sample]
    }
    /// The row-major data, as BrainFlow's C API copies it out.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }
    pub fn into_vec(self) -> Vec<f64> {
        self.data
    }
    /// Appends the samples of `other` (same number of rows) after ours.
    pub fn append(&mut self, other: &SampleMatrix) {
        if other.samples == 0 {
            return;
        }
        if self.samples == 0 {
            self.rows = other.rows;
            self.data.clear();
            self.data.extend_from_slice(&other.data);
            self.samples = other.samples;
            return;
        }
        assert_eq!(self.rows, other.rows, "appending matrices of different layouts");
        let total = self.samples + other.samples;
        let mut merged = Vec::with_capacity(self.rows * total);
        for row in 0..self.rows {
            merged.extend_from_slice(self.row(row));
            merged.extend_from_slice(other.row(row));
        }
        self.data = merged;
        self.samples = total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_major_becomes_row_major() {
        let mut m = SampleMatrix::new(3);
        m.fill_from_sample_major(3, &[1.0, 2.0, 3.0, 10.0, 20.0, 30.0]);
        assert_eq!(m.samples(), 2);
        assert_eq!(m.as_slice(), &[1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);
        assert_eq!(m.row(1), &[2.0, 20.0]);
        assert_eq!(m.get(2, 1), 30.0);
    }

    #[test]
    fn reset_keeps_the_allocation() {
        let mut m = SampleMatrix::with_capacity(32, 250);
        let cap = m.data.capacity();
        m.reset(32, 250);
        m.reset(32, 10);
        assert_eq!(m.data.capacity(), cap);
        assert_eq!(m.samples(), 10);
    }

    #[test]
    fn append_keeps_rows_apart() {
        let mut a = SampleMatrix::from_row_major(2, vec![1.0, 2.0, 5.0, 6.0]);
        let b = SampleMatrix::from_row_major(2, vec![3.0, 7.0]);
        a.append(&b);
        assert_eq!(a.row(0), &[1.0, 2.0, 3.0]);
        assert_eq!(a.row(1), &[5.0, 6.0, 7.0]);
    }
}
