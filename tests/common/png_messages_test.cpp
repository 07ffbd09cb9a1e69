// The table of libpng messages (common/png_messages.hpp, docs/INPUTS.md): one
// check per row, with the message exactly as libpng 1.6 formats it.
#include <doctest/doctest.h>

#include "common/png_messages.hpp"

using huepool::classify_png_message;
using huepool::PngMessageEffect;

TEST_CASE("libpng messages: what changes the answer fails, what does not is a warning") {
  for (const char* m : {"tRNS: invalid", "tRNS: out of place", "tRNS: duplicate", "tRNS: CRC error",
                        "tRNS: missing PLTE"})
    CHECK(classify_png_message(m) == PngMessageEffect::alpha);
  CHECK(classify_png_message("tRNS: invalid with alpha channel") == PngMessageEffect::none);

  for (const char* m : {"IDAT: Extra compressed data", "IDAT: Too much image data", "Too many IDATs found",
                        ".Too many IDATs found", "..Too many IDATs found", "PLTE: ignored in grayscale PNG",
                        "PLTE: out of place", "PLTE: invalid", "tEXt: CRC error", "zTXt: CRC error",
                        "iCCP: CRC error", "prVt: CRC error", "IEND: invalid"})
    CHECK(classify_png_message(m) == PngMessageEffect::none);

  for (const char* m : {"IDAT: incorrect data check", "IDAT: invalid distance too far back",
                        "Read palette index exceeding num_palette", "something libpng 1.7 might say", ""})
    CHECK(classify_png_message(m) == PngMessageEffect::pixels);
}
