#include "common/png_messages.hpp"

namespace huepool {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

PngMessageEffect classify_png_message(std::string_view m) {
  // tRNS is the only ancillary chunk huepool uses. libpng drops it, with a
  // benign error, when it is too long for the palette, empty, before PLTE,
  // after IDAT, duplicated or has a bad CRC; readers then disagree (Pillow
  // applies it, browsers built on libpng show the image opaque), so under
  // alpha=ignore there is no right answer to give.
  if (m == "tRNS: invalid with alpha channel") return PngMessageEffect::none;  // the image's own alpha is used
  if (starts_with(m, "tRNS: ")) return PngMessageEffect::alpha;

  // The zlib stream: after the last row libpng reads on to its end. Extra
  // bytes or chunks after the rows change nothing; a zlib error there (a bad
  // Adler-32, an invalid code) means the compressed data is damaged.
  if (m == "IDAT: Extra compressed data" || m == "IDAT: Too much image data") return PngMessageEffect::none;
  if (ends_with(m, "Too many IDATs found")) return PngMessageEffect::none;  // also ".", ".." variants
  if (starts_with(m, "IDAT: ")) return PngMessageEffect::pixels;

  // PLTE defects are benign only in images that do not use the palette
  // (gray, truecolor: a suggested palette); in a palette image they are errors.
  if (starts_with(m, "PLTE: ")) return PngMessageEffect::none;
  // An ancillary chunk other than tRNS is skipped unread; its CRC changes nothing.
  if (ends_with(m, ": CRC error")) return PngMessageEffect::none;
  if (m == "IEND: invalid") return PngMessageEffect::none;  // IEND with data

  // libpng's own palette check (huepool's fails first, naming the index), and
  // anything not listed here: fail rather than guess.
  return PngMessageEffect::pixels;
}

}  // namespace huepool
