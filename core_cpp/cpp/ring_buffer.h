// A thread-safe ring buffer of fixed-size samples with BrainFlow's semantics: when it is
// full, pushing drops the oldest sample and counts it.
//
// Storage grows with the samples held (doubling, up to the capacity) instead of being
// allocated at construction: BrainFlow's customary buffer sizes are large and mostly never
// filled, and allocating and zeroing them made every start_stream cost milliseconds and
// megabytes per preset. What callers see does not depend on how much is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>

namespace switchyard {
namespace legacy {

class RingBuffer {
public:
    // Throws INVALID_BUFFER_SIZE_ERROR when `capacity_samples` is 0 or could never be
    // addressed (capacity × rows × sizeof(double) beyond PTRDIFF_MAX). Allocates nothing.
    RingBuffer(std::size_t rows, std::size_t capacity_samples);

    // Whether `capacity_samples` samples of `rows` values could be addressed at all.
    static bool size_is_valid(std::size_t rows, std::size_t capacity_samples) noexcept;

    std::size_t rows() const noexcept { return num_rows; }
    std::size_t capacity() const noexcept { return capacity_samples; }

    // Appends `count` samples of `rows()` values stored one after another. A sample that
    // finds the buffer needing to grow and no memory to grow into is dropped and counted.
    void push_many(const double *samples, std::size_t count);

    std::size_t count() const;
    std::uint64_t dropped() const;
    // Samples the storage has room for now (never more than capacity()); for tests.
    std::size_t allocated_samples() const;

    // Writes up to `max_samples` samples row-major (out[row * n + i]) and returns n.
    // `out` must hold rows() * max_samples values. `remove`: the oldest n, taken out of
    // the buffer; otherwise the newest n, oldest first, left in place.
    std::size_t read_row_major(bool remove, std::size_t max_samples, double *out);

private:
    void push_locked(const double *sample);
    // Doubles the storage (at most to the capacity), keeping the order of the held
    // samples. False when memory ran out; the buffer is then unchanged.
    bool grow_locked();

    const std::size_t num_rows;
    const std::size_t capacity_samples;
    mutable std::mutex lock;
    struct FreeStorage {
        void operator()(double *values) const noexcept { std::free(values); }
    };
    std::unique_ptr<double, FreeStorage> storage;  // slots * num_rows values, sample-major
    std::size_t slots = 0;              // samples the storage holds; grows to capacity
    std::size_t head = 0;               // slot of the oldest sample
    std::size_t size = 0;
    std::uint64_t dropped_samples = 0;
};

}  // namespace legacy
}  // namespace switchyard
