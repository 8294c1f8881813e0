# The build step of switchyard_cargo_library() (run with `cmake -P`): builds the static
# library and writes the native libraries rustc reports for it to LINK_LIBS_FILE.
#
# rustc prints "note: native-static-libs: ..." when it links a staticlib; when the archive
# is fresh, cargo replays the cached note, so the file is rewritten correctly either way.

execute_process(
    COMMAND "${CARGO}" rustc --locked --package "${PACKAGE}" --lib --profile "${PROFILE}"
            --crate-type staticlib --target-dir "${TARGET_DIR}"
            -- --print native-static-libs
    WORKING_DIRECTORY "${MANIFEST_DIR}"
    ERROR_VARIABLE cargo_stderr
    RESULT_VARIABLE cargo_status)
message("${cargo_stderr}")
if(NOT cargo_status EQUAL 0)
    message(FATAL_ERROR "cargo failed to build ${PACKAGE} (exit status ${cargo_status}); its output is above")
endif()

string(REGEX MATCH "native-static-libs: ([^\r\n]*)" found "${cargo_stderr}")
if(NOT found)
    message(FATAL_ERROR "rustc did not report the native libraries of ${PACKAGE}; "
        "delete ${TARGET_DIR} and build again so that the archive is linked afresh")
endif()
set(new_contents "${CMAKE_MATCH_1}\n")
if(EXISTS "${LINK_LIBS_FILE}")
    file(READ "${LINK_LIBS_FILE}" old_contents)
endif()
if(NOT new_contents STREQUAL old_contents)
    file(WRITE "${LINK_LIBS_FILE}" "${new_contents}")
endif()
