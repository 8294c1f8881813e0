// A thread-safe ring buffer of fixed-size samples with BrainFlow's semantics: when it is
// full, pushing drops the oldest sample and counts it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace switchyard {
namespace legacy {

class RingBuffer {
public:
    RingBuffer(std::size_t rows, std::size_t capacity_samples);

    std::size_t rows() const noexcept { return num_rows; }
    std::size_t capacity() const noexcept { return capacity_samples; }

    // Appends `count` samples of `rows()` values stored one after another.
    void push_many(const double *samples, std::size_t count);

    std::size_t count() const;
    std::uint64_t dropped() const;

    // Writes up to `max_samples` samples row-major (out[row * n + i]) and returns n.
    // `out` must hold rows() * max_samples values. `remove`: the oldest n, taken out of
    // the buffer; otherwise the newest n, oldest first, left in place.
    std::size_t read_row_major(bool remove, std::size_t max_samples, double *out);

private:
    void push_locked(const double *sample);

    const std::size_t num_rows;
    const std::size_t capacity_samples;
    mutable std::mutex lock;
    std::vector<double> storage;  // capacity_samples * num_rows, sample-major
    std::size_t head = 0;         // index of the oldest sample
    std::size_t size = 0;
    std::uint64_t dropped_samples = 0;
};

}  // namespace legacy
}  // namespace switchyard
