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
        self.fill_from_sample_major_parts(rows, sample_major, &[]);
    }

    /// Fills the matrix from sample-major records given in two parts, `first` then
    /// `second` (a ring buffer's two runs either side of its wrap), without copying them
    /// into one slice first.
    ///
    /// This transpose is every read's cost, so it is written for speed: values are
    /// overwritten in place (no zeroing pass over the matrix first), and samples are
    /// taken in blocks of 8 so that each row's writes are contiguous
    /// runs while the block's source values stay in cache.
    pub fn fill_from_sample_major_parts(&mut self, rows: usize, first: &[f64], second: &[f64]) {
        let rows_nonzero = rows.max(1);
        let (first_n, second_n) = (first.len() / rows_nonzero, second.len() / rows_nonzero);
        let samples = first_n + second_n;
        self.rows = rows;
        self.samples = samples;
        // Every value below is written, so only newly grown room needs initialising.
        self.data.truncate(rows * samples);
        self.data.resize(rows * samples, 0.0);
        if rows == 0 {
            return;
        }
        transpose_into(&mut self.data, samples, rows, 0, &first[..first_n * rows]);
        transpose_into(&mut self.data, samples, rows, first_n, &second[..second_n * rows]);
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

/// Samples transposed per block by [`SampleMatrix::fill_from_sample_major_parts`]: 8
/// values of a row are one 64-byte cache line, and 8 samples of the widest board stay
/// in L1 while their rows are written.
const TRANSPOSE_BLOCK: usize = 8;

/// Writes the sample-major `src` (whole samples of `rows` values) into the row-major
/// `dest` of `samples` samples per row, starting at sample `at`.
fn transpose_into(dest: &mut [f64], samples: usize, rows: usize, at: usize, src: &[f64]) {
    const B: usize = TRANSPOSE_BLOCK;
    let mut blocks = src.chunks_exact(B * rows);
    let mut i = at;
    for block in &mut blocks {
        for row in 0..rows {
            let start = row * samples + i;
            let run: &mut [f64; B] = (&mut dest[start..start + B]).try_into().expect("a block is B values");
            for (k, value) in run.iter_mut().enumerate() {
                *value = block[k * rows + row];
            }
        }
        i += B;
    }
    let rest = blocks.remainder();
    let n = rest.len() / rows;
    for row in 0..rows {
        let start = row * samples + i;
        for (k, value) in dest[start..start + n].iter_mut().enumerate() {
            *value = rest[k * rows + row];
        }
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
    fn parts_either_side_of_a_wrap_transpose_as_one() {
        // 3 rows, 21 samples: two full blocks and a remainder, split mid-block.
        let whole: Vec<f64> = (0..63).map(f64::from).collect();
        let (mut a, mut b) = (SampleMatrix::new(3), SampleMatrix::new(3));
        a.fill_from_sample_major_parts(3, &whole[..30], &whole[30..]);
        // Stale, larger contents must not survive a smaller fill.
        b.reset(3, 40).fill(-1.0);
        b.fill_from_sample_major(3, &whole);
        assert_eq!(a, b);
        assert_eq!(a.samples(), 21);
        for i in 0..21 {
            for row in 0..3 {
                assert_eq!(a.get(row, i), (i * 3 + row) as f64, "row {row} sample {i}");
            }
        }
        a.fill_from_sample_major_parts(3, &[], &[]);
        assert!(a.is_empty() && a.as_slice().is_empty());
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
