# switchyard_cargo_library(): builds a Rust library crate with cargo and exposes it as an
# imported CMake target a C or C++ target links like any other library.
#
#   switchyard_cargo_library(
#       TARGET    <cmake target name>      # e.g. switchyard::BoardController
#       PACKAGE   <cargo package>          # e.g. switchyard_capi
#       LIB_NAME  <library file stem>      # e.g. BoardController (libBoardController.a)
#       [MANIFEST_DIR <dir>]               # the workspace root; default: this source dir
#       [INCLUDE_DIRS <dir>...])           # headers consumers get with the target
#
# What it does, and why:
# - cargo builds the crate as a *static* library (`cargo rustc --crate-type staticlib`), so
#   the consumer's executable is one binary: no libBoardController.so to ship beside it.
# - The cargo profile follows CMAKE_BUILD_TYPE: Debug (and no build type) -> dev,
#   Release / RelWithDebInfo / MinSizeRel -> release.
# - `--locked`: the build uses exactly the committed Cargo.lock, as CI does.
# - CARGO_TARGET_DIR is inside the CMake build tree (<build>/cargo), so deleting the build
#   tree deletes everything, and a CMake build never touches the developer's `target/`.
# - The native libraries the static library needs (libstdc++ for the C++ core, libc's
#   pieces for std, ...) are not hard-coded: rustc reports them with
#   `--print native-static-libs` when it links the archive. The build step writes them to a
#   response file, and the imported target links with `@<that file>`, so they are always
#   the ones of the archive actually linked.
# - cargo decides what is stale itself; the custom target runs it on every build (a no-op
#   build takes well under a second).

function(switchyard_cargo_library)
    cmake_parse_arguments(ARG "" "TARGET;PACKAGE;LIB_NAME;MANIFEST_DIR" "INCLUDE_DIRS" ${ARGN})
    foreach(required TARGET PACKAGE LIB_NAME)
        if(NOT ARG_${required})
            message(FATAL_ERROR "switchyard_cargo_library: ${required} is required")
        endif()
    endforeach()
    if(NOT ARG_MANIFEST_DIR)
        set(ARG_MANIFEST_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    endif()

    find_program(SWITCHYARD_CARGO cargo HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)

    if(CMAKE_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo|MinSizeRel)$")
        set(profile release)
        set(profile_dir release)
    else()
        set(profile dev)
        set(profile_dir debug)
    endif()

    set(target_dir "${CMAKE_BINARY_DIR}/cargo")
    set(archive "${target_dir}/${profile_dir}/lib${ARG_LIB_NAME}.a")
    set(link_libs_file "${target_dir}/${profile_dir}/lib${ARG_LIB_NAME}.native-libs.rsp")
    string(MAKE_C_IDENTIFIER "${ARG_TARGET}" build_target)
    set(build_target "cargo_build_${build_target}")

    add_custom_target(${build_target}
        COMMAND "${CMAKE_COMMAND}"
            "-DCARGO=${SWITCHYARD_CARGO}"
            "-DMANIFEST_DIR=${ARG_MANIFEST_DIR}"
            "-DPACKAGE=${ARG_PACKAGE}"
            "-DPROFILE=${profile}"
            "-DTARGET_DIR=${target_dir}"
            "-DLINK_LIBS_FILE=${link_libs_file}"
            -P "${SWITCHYARD_CARGO_SCRIPT}"
        BYPRODUCTS "${archive}" "${link_libs_file}"
        WORKING_DIRECTORY "${ARG_MANIFEST_DIR}"
        USES_TERMINAL
        COMMENT "cargo: ${ARG_PACKAGE} (${profile} profile) -> lib${ARG_LIB_NAME}.a")

    add_library(${ARG_TARGET} STATIC IMPORTED GLOBAL)
    set_target_properties(${ARG_TARGET} PROPERTIES IMPORTED_LOCATION "${archive}")
    target_link_options(${ARG_TARGET} INTERFACE "@${link_libs_file}")
    if(ARG_INCLUDE_DIRS)
        target_include_directories(${ARG_TARGET} INTERFACE ${ARG_INCLUDE_DIRS})
    endif()
    add_dependencies(${ARG_TARGET} ${build_target})
endfunction()

set(SWITCHYARD_CARGO_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/SwitchyardCargoBuild.cmake")
