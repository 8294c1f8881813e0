// Debug builds check the bridge's invariants on every crossing (core_cpp/src/checks.rs
// says which); build.rs defines SWITCHYARD_BRIDGE_CHECKS for them. A broken invariant
// throws an error whose message starts "bridge invariant broken:", which the Rust side
// turns into a panic. Release builds compile the checks away.
#pragma once

#include <string>

#include "brainflow_exception.h"

#ifdef SWITCHYARD_BRIDGE_CHECKS
#define SY_BRIDGE_CHECK(COND, WHAT)                                                                     \
    do {                                                                                                \
        if (!(COND)) {                                                                                  \
            throw ::switchyard::legacy::BrainFlowException(::switchyard::legacy::ExitCode::GENERAL_ERROR, \
                                                           std::string("bridge invariant broken: ") + (WHAT)); \
        }                                                                                               \
    } while (0)
#else
#define SY_BRIDGE_CHECK(COND, WHAT) \
    do {                            \
    } while (0)
#endif
