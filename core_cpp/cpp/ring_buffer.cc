#include "ring_buffer.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "brainflow_exception.h"

namespace switchyard {
namespace legacy {

RingBuffer::RingBuffer(std::size_t rows, std::size_t capacity)
    : num_rows(rows), capacity_samples(capacity) {
    if (capacity == 0) {
        throw BrainFlowException(ExitCode::INVALID_BUFFER_SIZE_ERROR,
                                 "buffer_size must be at least 1 sample");
    }
    if (rows == 0 || capacity > (SIZE_MAX / sizeof(double)) / rows) {
        throw BrainFlowException(ExitCode::INVALID_BUFFER_SIZE_ERROR,
                                 "buffer_size " + std::to_string(capacity) + " is too large");
    }
    try {
        storage.assign(rows * capacity, 0.0);
    } catch (const std::bad_alloc &) {
        throw BrainFlowException(ExitCode::INVALID_BUFFER_SIZE_ERROR,
                                 "buffer_size " + std::to_string(capacity) + " needs more memory than there is");
    }
}

void RingBuffer::push_locked(const double *sample) {
    std::size_t slot;
    if (size == capacity_samples) {
        slot = head;
        head = (head + 1) % capacity_samples;
        ++dropped_samples;
    } else {
        slot = (head + size) % capacity_samples;
        ++size;
    }
    double *dst = &storage[slot * num_rows];
    std::memcpy(dst, sample, num_rows * sizeof(double));
}

void RingBuffer::push_many(const double *samples, std::size_t count) {
    std::lock_guard<std::mutex> guard(lock);
    for (std::size_t i = 0; i < count; ++i) {
        push_locked(samples + i * num_rows);
    }
}

std::size_t RingBuffer::count() const {
    std::lock_guard<std::mutex> guard(lock);
    return size;
}

std::uint64_t RingBuffer::dropped() const {
    std::lock_guard<std::mutex> guard(lock);
    return dropped_samples;
}

std::size_t RingBuffer::read_row_major(bool remove, std::size_t max_samples, double *out) {
    std::lock_guard<std::mutex> guard(lock);
    const std::size_t n = std::min(max_samples, size);
    const std::size_t first = remove ? head : (head + size - n) % capacity_samples;
    // Two contiguous runs at most (before and after the wrap), so no modulo per sample.
    const std::size_t first_run = std::min(n, capacity_samples - first);
    const double *runs[2] = {&storage[first * num_rows], storage.data()};
    const std::size_t run_lengths[2] = {first_run, n - first_run};
    std::size_t i = 0;
    for (int run = 0; run < 2; ++run) {
        const double *src = runs[run];
        for (std::size_t k = 0; k < run_lengths[run]; ++k, ++i, src += num_rows) {
            for (std::size_t row = 0; row < num_rows; ++row) {
                out[row * n + i] = src[row];
            }
        }
    }
    if (remove) {
        head = (head + n) % capacity_samples;
        size -= n;
    }
    return n;
}

}  // namespace legacy
}  // namespace switchyard
