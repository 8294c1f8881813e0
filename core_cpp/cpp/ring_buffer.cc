#include "ring_buffer.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "brainflow_exception.h"

namespace switchyard {
namespace legacy {

namespace {

// The first allocation: about a second of the fastest board, so slow boards and short
// sessions never grow at all, and a growing buffer copies each sample about twice.
constexpr std::size_t FIRST_SLOTS = 256;

}  // namespace

bool RingBuffer::size_is_valid(std::size_t rows, std::size_t capacity) noexcept {
    const std::size_t max_values = static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(double);
    return capacity > 0 && rows > 0 && capacity <= max_values / rows;
}

RingBuffer::RingBuffer(std::size_t rows, std::size_t capacity) : num_rows(rows), capacity_samples(capacity) {
    if (capacity == 0) {
        throw BrainFlowException(ExitCode::INVALID_BUFFER_SIZE_ERROR, "buffer_size must be at least 1 sample");
    }
    if (!size_is_valid(rows, capacity)) {
        throw BrainFlowException(ExitCode::INVALID_BUFFER_SIZE_ERROR,
                                 "buffer_size " + std::to_string(capacity) + " is too large");
    }
}

bool RingBuffer::grow_locked() {
    // slots <= capacity, and capacity * rows values are addressable, so doubling cannot wrap.
    const std::size_t bigger = std::min(capacity_samples, std::max(FIRST_SLOTS, slots * 2));
    // realloc keeps the held samples where they are and, for large blocks, remaps pages
    // instead of copying them; on failure the old block is untouched.
    void *grown = std::realloc(storage.get(), bigger * num_rows * sizeof(double));
    if (grown == nullptr) {
        return false;
    }
    (void)storage.release();  // realloc already freed or reused it
    storage.reset(static_cast<double *>(grown));
    // Growing happens only when every slot is in use. If the samples wrap (the oldest at
    // `head`, the newest before it), the run from `head` to the old end moves to the new
    // end, so the order continues through the wrap and the free slots sit in between.
    if (head != 0) {
        const std::size_t run = slots - head;
        const std::size_t new_head = bigger - run;
        std::memmove(&storage.get()[new_head * num_rows], &storage.get()[head * num_rows],
                     run * num_rows * sizeof(double));
        head = new_head;
    }
    slots = bigger;
    return true;
}

void RingBuffer::push_locked(const double *sample) {
    std::size_t slot;
    if (size == capacity_samples) {
        slot = head;
        head = (head + 1) % slots;
        ++dropped_samples;
    } else {
        if (size == slots && !grow_locked()) {
            ++dropped_samples;  // no memory for it: lost and counted, never a crash
            return;
        }
        slot = (head + size) % slots;
        ++size;
    }
    std::memcpy(&storage.get()[slot * num_rows], sample, num_rows * sizeof(double));
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

std::size_t RingBuffer::allocated_samples() const {
    std::lock_guard<std::mutex> guard(lock);
    return slots;
}

std::size_t RingBuffer::read_row_major(bool remove, std::size_t max_samples, double *out) {
    std::lock_guard<std::mutex> guard(lock);
    const std::size_t n = std::min(max_samples, size);
    if (n == 0) {
        return 0;  // possibly nothing allocated yet
    }
    const std::size_t first = remove ? head : (head + size - n) % slots;
    // Two contiguous runs at most (before and after the wrap), so no modulo per sample.
    const std::size_t first_run = std::min(n, slots - first);
    const double *runs[2] = {&storage.get()[first * num_rows], storage.get()};
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
        head = (head + n) % slots;
        size -= n;
    }
    return n;
}

}  // namespace legacy
}  // namespace switchyard
