#pragma once
// What each warning or benign error of libpng 1.6 means for a count. libpng
// turns many defects into warnings and carries on, some of them while it
// changes the pixels or the transparency it hands out (a tRNS it drops, a
// zlib checksum it cannot verify). huepool decides per message whether the
// image fails; docs/INPUTS.md has this table, with the libpng
// source of each message.
//
// Messages are as libpng formats them: "cHNK: text" for chunk messages
// (png_chunk_warning, png_chunk_benign_error), the bare text otherwise.
// Only chunks libpng reads for huepool can raise chunk-specific messages:
// IHDR, PLTE, tRNS, IDAT, IEND; every other chunk is skipped unread, and can
// only raise "cHNK: CRC error".

#include <string_view>

namespace huepool {

enum class PngMessageEffect {
  none,    // no counted pixel changes: the image succeeds, the message is a warning
  alpha,   // the alpha mask changes: fails under alpha=ignore, a warning under alpha=keep
  pixels,  // counted pixels may change: the image fails
};

PngMessageEffect classify_png_message(std::string_view message);

}  // namespace huepool
