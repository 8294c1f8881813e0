// The legacy core's logging and spans. Nothing in the core writes to stdout or stderr:
// every line goes through the bridge into Rust's `tracing`, with the statement's file,
// line and target (e.g. core_cpp::cyton) and its key-value fields, and lands in the
// Rust span of the session and call that entered the C++ (a thread the core owns, like
// the Cyton reader, runs in a span whose parent is the call that started it).
//
//     SY_LOG(Warn, "core_cpp::cyton", "skipped,at", "resynchronised", skipped, at);
//     SY_SPAN(reader, Info, "core_cpp::cyton", "reader", "port", port);
//
// Each statement has its own static call site, registered with Rust on first use. A
// level above the one Rust asked for costs one relaxed load and a branch; nothing is
// formatted or sent. Key names are one comma-separated literal; values are integers,
// floats, booleans or strings, in the same order.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace switchyard {
namespace legacy {
namespace log {

// tracing's order: a larger number is more verbose.
enum class Level : std::uint8_t { Error = 1, Warn = 2, Info = 3, Debug = 4, Trace = 5 };

// The most verbose level any Rust subscriber wants; 0 = off. Set by Rust.
extern std::atomic<std::uint8_t> max_level;

inline bool level_enabled(Level level) noexcept {
    return static_cast<std::uint8_t>(level) <= max_level.load(std::memory_order_relaxed);
}

struct Site {
    Level level;
    bool is_span;
    const char *target;
    const char *name;
    const char *file;
    std::uint32_t line;
    const char *keys;
    std::atomic<std::uint32_t> id{0};  // Rust's number for this call site; 0 until registered
};

// Typed values, encoded for the crossing: a tag byte, then 8 bytes (little-endian
// integers and IEEE doubles) or a 4-byte length and the bytes of a string.
class Fields {
public:
    Fields &add(bool v);
    Fields &add(int v) { return add(static_cast<long long>(v)); }
    Fields &add(long v) { return add(static_cast<long long>(v)); }
    Fields &add(long long v);
    Fields &add(unsigned v) { return add(static_cast<unsigned long long>(v)); }
    Fields &add(unsigned long v) { return add(static_cast<unsigned long long>(v)); }
    Fields &add(unsigned long long v);
    Fields &add(double v);
    Fields &add(const char *v);
    Fields &add(const std::string &v);
    const std::string &encoded() const noexcept { return bytes; }

private:
    std::string bytes;
};

// The values of one statement; out of memory leaves them incomplete rather than throwing.
template <typename... Values>
Fields fields(const Values &...values) noexcept {
    Fields f;
    try {
        (f.add(values), ...);
    } catch (...) {
    }
    return f;
}

// Sends one event. Never throws: a logging failure must not change what the board does.
void emit(Site &site, const std::string &message, const Fields &values) noexcept;

// A span entered for the life of this object, on this thread. `parent` is a handle from
// capture_current() (for a thread the core starts) or 0 for the thread's current span.
class Span {
public:
    Span(Site &site, const Fields &values, std::uint64_t parent = 0) noexcept;
    ~Span();
    Span(const Span &) = delete;
    Span &operator=(const Span &) = delete;

private:
    std::uint64_t handle = 0;
};

// A handle on the calling thread's current Rust span, for a thread about to be started
// to open its spans under; release it with release_captured once that span exists.
std::uint64_t capture_current() noexcept;
void release_captured(std::uint64_t handle) noexcept;

}  // namespace log
}  // namespace legacy
}  // namespace switchyard

#define SY_LOG(LEVEL, TARGET, KEYS, MESSAGE, ...)                                                           \
    do {                                                                                                   \
        if (::switchyard::legacy::log::level_enabled(::switchyard::legacy::log::Level::LEVEL)) {                  \
            static ::switchyard::legacy::log::Site sy_log_site{::switchyard::legacy::log::Level::LEVEL, false,     \
                                                               TARGET, "event", __FILE__, __LINE__, KEYS}; \
            try {                                                                                          \
                ::switchyard::legacy::log::emit(sy_log_site, MESSAGE,                                      \
                                                ::switchyard::legacy::log::fields(__VA_ARGS__));           \
            } catch (...) {                                                                                \
            }                                                                                              \
        }                                                                                                  \
    } while (0)

// Declares `VAR`, a span entered until the end of the enclosing scope (a no-op when the
// level is disabled).
#define SY_SPAN_UNDER(VAR, PARENT, LEVEL, TARGET, NAME, KEYS, ...)                                     \
    static ::switchyard::legacy::log::Site VAR##_site{::switchyard::legacy::log::Level::LEVEL, true, TARGET,  \
                                                      NAME, __FILE__, __LINE__, KEYS};                 \
    ::switchyard::legacy::log::Span VAR(VAR##_site,                                                    \
                                        ::switchyard::legacy::log::level_enabled(                      \
                                            ::switchyard::legacy::log::Level::LEVEL)                          \
                                            ? ::switchyard::legacy::log::fields(__VA_ARGS__)           \
                                            : ::switchyard::legacy::log::Fields{},                     \
                                        PARENT)
#define SY_SPAN(VAR, LEVEL, TARGET, NAME, KEYS, ...) SY_SPAN_UNDER(VAR, 0, LEVEL, TARGET, NAME, KEYS, __VA_ARGS__)
