// cxx's customisation point for turning C++ exceptions into Rust `Err`s.
//
// cxx's default only catches std::exception; anything else thrown through a `noexcept`
// shim would call std::terminate and abort the process, with a person's recording in it.
// This version catches everything and prefixes the BrainFlow exit code ("7|message"),
// which the Rust side parses back into a BoardError.
#pragma once

#include <string>

#include "brainflow_exception.h"

namespace rust {
namespace behavior {

template <typename Try, typename Fail>
static void trycatch(Try &&func, Fail &&fail) noexcept {
    // Building the message can itself throw (std::bad_alloc): fall back to fixed text.
    try {
        func();
    } catch (const ::switchyard::legacy::BrainFlowException &e) {
        try {
            std::string encoded = std::to_string(static_cast<int>(e.code())) + "|" + e.what();
            fail(encoded.c_str());
        } catch (...) {
            fail(SWITCHYARD_EXIT_CODE_TEXT_GENERAL_ERROR "|out of memory while reporting a C++ error");
        }
    } catch (const std::exception &e) {
        try {
            std::string encoded = std::string(SWITCHYARD_EXIT_CODE_TEXT_GENERAL_ERROR "|unexpected C++ exception: ") + e.what();
            fail(encoded.c_str());
        } catch (...) {
            fail(SWITCHYARD_EXIT_CODE_TEXT_GENERAL_ERROR "|out of memory while reporting a C++ error");
        }
    } catch (...) {
        fail(SWITCHYARD_EXIT_CODE_TEXT_GENERAL_ERROR
             "|unexpected C++ exception of a type not derived from std::exception");
    }
}

}  // namespace behavior
}  // namespace rust
