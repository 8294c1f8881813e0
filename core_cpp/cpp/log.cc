#include "log.h"

#include <cstring>

#include "core_cpp/src/bridge.rs.h"

namespace switchyard {
namespace legacy {
namespace log {

std::atomic<std::uint8_t> max_level{0};

namespace {

void put_u64(std::string &bytes, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
        bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
}

rust::Slice<const std::uint8_t> as_slice(const std::string &s) noexcept {
    return rust::Slice<const std::uint8_t>(reinterpret_cast<const std::uint8_t *>(s.data()), s.size());
}

// The site's number on the Rust side, registering it on first use.
std::uint32_t site_id(Site &site) {
    std::uint32_t id = site.id.load(std::memory_order_acquire);
    if (id != 0) {
        return id;
    }
    const std::uint32_t registered =
        register_cpp_site(static_cast<std::uint8_t>(site.level), site.is_span, rust::Str(site.target),
                          rust::Str(site.name), rust::Str(site.file), site.line, rust::Str(site.keys));
    std::uint32_t expected = 0;
    if (site.id.compare_exchange_strong(expected, registered, std::memory_order_acq_rel)) {
        return registered;
    }
    return expected;  // another thread registered it first
}

}  // namespace

Fields &Fields::add(bool v) {
    bytes.push_back('b');
    bytes.push_back(v ? 1 : 0);
    return *this;
}

Fields &Fields::add(long long v) {
    bytes.push_back('i');
    put_u64(bytes, static_cast<std::uint64_t>(v));
    return *this;
}

Fields &Fields::add(unsigned long long v) {
    bytes.push_back('u');
    put_u64(bytes, v);
    return *this;
}

Fields &Fields::add(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    bytes.push_back('f');
    put_u64(bytes, bits);
    return *this;
}

Fields &Fields::add(const char *v) { return add(std::string(v ? v : "")); }

Fields &Fields::add(const std::string &v) {
    bytes.push_back('s');
    const std::uint32_t len = static_cast<std::uint32_t>(v.size() > 0xFFFFFFFFu ? 0xFFFFFFFFu : v.size());
    for (int i = 0; i < 4; ++i) {
        bytes.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
    }
    bytes.append(v, 0, len);
    return *this;
}

void emit(Site &site, const std::string &message, const Fields &values) noexcept {
    try {
        cpp_event(site_id(site), as_slice(message), as_slice(values.encoded()));
    } catch (...) {
        // Out of memory or a bad literal: the line is lost, the board carries on.
    }
}

Span::Span(Site &site, const Fields &values, std::uint64_t parent) noexcept {
    if (!level_enabled(site.level)) {
        return;
    }
    try {
        handle = cpp_span_open(site_id(site), parent, as_slice(values.encoded()));
    } catch (...) {
        handle = 0;
    }
}

Span::~Span() {
    if (handle != 0) {
        cpp_span_close(handle);
    }
}

std::uint64_t capture_current() noexcept { return capture_current_span(); }

void release_captured(std::uint64_t handle) noexcept {
    if (handle != 0) {
        release_captured_span(handle);
    }
}

}  // namespace log
}  // namespace legacy
}  // namespace switchyard
