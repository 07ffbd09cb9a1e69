#include "server/pool/mode.hpp"

namespace huepool::pool {

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::map: return "map";
    case Mode::imap: return "imap";
    case Mode::imap_unordered: return "imap_unordered";
  }
  return "map";
}

std::optional<Mode> parse_mode(std::string_view name) {
  for (const Mode m : kModes)
    if (mode_name(m) == name) return m;
  return std::nullopt;
}

Ordering ordering_of(Mode mode) { return mode == Mode::imap_unordered ? Ordering::completion : Ordering::input; }

}  // namespace huepool::pool
