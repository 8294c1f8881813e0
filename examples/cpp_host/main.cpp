// A C++ host that streams boards through switchyard's libBoardController, the same C API
// BrainFlow's bindings load. Build (see docs/c-api.md):
//   g++ -std=c++17 main.cpp -I capi/include -L <target>/debug -lBoardController
//       -Wl,-rpath,<target>/debug -o cpp_host
// Usage: cpp_host [serial_port_of_a_cyton]   (exit status 0 when every board streamed)
#include "board_controller.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

const int kSynthetic = -1;
const int kCyton = 0;

bool check(int code, const char *what) {
    if (code != 0) {
        std::fprintf(stderr, "%s failed with BrainFlow exit code %d\n", what, code);
        return false;
    }
    return true;
}

// Streams `board_id` until `wanted` samples are buffered, reads them, and releases it.
bool stream(int board_id, const std::string &params, int wanted) {
    if (!check(prepare_session(board_id, params.c_str()), "prepare_session")) return false;
    if (!check(start_stream(45000, "", board_id, params.c_str()), "start_stream")) return false;
    check(insert_marker(1.0, 0, board_id, params.c_str()), "insert_marker");
    int count = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (count < wanted && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (!check(get_board_data_count(0, &count, board_id, params.c_str()), "get_board_data_count")) return false;
    }
    int rows = 0;
    if (!check(get_num_rows(board_id, 0, &rows), "get_num_rows")) return false;
    std::vector<double> data(static_cast<size_t>(rows) * count);
    if (!check(get_board_data(count, 0, data.data(), board_id, params.c_str()), "get_board_data")) return false;
    int eeg[512];
    int eeg_len = 0;
    if (!check(get_eeg_channels(board_id, 0, eeg, &eeg_len), "get_eeg_channels")) return false;
    check(stop_stream(board_id, params.c_str()), "stop_stream");
    check(release_session(board_id, params.c_str()), "release_session");
    std::printf("board %d: %d samples of %d rows, first eeg value %.3f\n", board_id, count, rows,
                count > 0 ? data[static_cast<size_t>(eeg[0]) * count] : 0.0);
    return count >= wanted;
}

}  // namespace

int main(int argc, char **argv) {
    char version[64];
    int version_len = 0;
    if (!check(get_version_board_controller(version, &version_len, sizeof version), "get_version")) return 1;
    std::printf("libBoardController %.*s\n", version_len, version);
    bool ok = stream(kSynthetic, "{\"other_info\": \"seed=1\"}", 50);
    if (argc > 1) {
        ok = stream(kCyton, std::string("{\"serial_port\": \"") + argv[1] + "\"}", 50) && ok;
    }
    return ok ? 0 : 1;
}
