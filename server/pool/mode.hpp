#pragma once
// Mode: which multiprocessing.Pool call a batch of images behaves like
// (DESIGN.md's table). One definition for the HTTP query (`mode=`), the CLI
// (`--mode`) and /v1/info; the Batch only needs the order results come out in.

#include <optional>
#include <string_view>

namespace huepool::pool {

enum class Mode { map, imap, imap_unordered };
// The order a Batch emits results in.
enum class Ordering { input, completion };

inline constexpr Mode kModes[] = {Mode::map, Mode::imap, Mode::imap_unordered};
inline constexpr std::string_view kModeChoices = "map, imap or imap_unordered";

std::string_view mode_name(Mode mode);
std::optional<Mode> parse_mode(std::string_view name);
// map and imap emit in input order, imap_unordered in completion order.
Ordering ordering_of(Mode mode);
// Whether results go out one by one as they are ready (NDJSON, CLI lines)
// rather than all at the end.
inline bool streams(Mode mode) { return mode != Mode::map; }

}  // namespace huepool::pool
