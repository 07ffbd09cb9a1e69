// metadata_bench (issue 11, kind 3): what a metadata bomb costs. A 4x4 PNG
// (#336699) carrying N zTXt or iTXt chunks that each inflate to 7.5 MB of text
// (1000 of them: a 7 MB upload), and a JPEG carrying N 64 KB COM segments,
// analyzed by huepool's Analyzer, alternating with the reference: libpng with
// its default chunk handling (what huepool did before: every zTXt inflated).
// Prints the median thread CPU time of each and their ratio.
//
//   build/bench/metadata_bench [--runs N] [--chunks 10,100,1000] [--reference-max N]
//
// The reference is skipped above --reference-max chunks (default 100): at 1000
// it takes about 40 s a run.
#include <png.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "common/analyzer.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;

void put_be32(Bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

void put_chunk(Bytes& out, const char* type, const Bytes& data) {
  put_be32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put_be32(out, static_cast<std::uint32_t>(crc32(0, out.data() + start, static_cast<uInt>(out.size() - start))));
}

Bytes deflate(const Bytes& in) {
  uLongf size = compressBound(static_cast<uLong>(in.size()));
  Bytes out(size);
  compress2(out.data(), &size, in.data(), static_cast<uLong>(in.size()), 9);
  out.resize(size);
  return out;
}

Bytes text_bomb(const char* type, int chunks) {
  static const Bytes inflates = deflate(Bytes(7'500'000, 'A'));
  // keyword "Comment", NUL, then iTXt: compressed, deflate, no language, no
  // translated keyword; zTXt: deflate.
  const std::string head = std::strcmp(type, "iTXt") == 0 ? std::string("Comment\0\1\0\0\0", 12)
                                                          : std::string("Comment\0\0", 9);
  Bytes payload(head.begin(), head.end());
  payload.resize(head.size() + inflates.size());
  std::memcpy(payload.data() + head.size(), inflates.data(), inflates.size());

  Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  Bytes ihdr;
  put_be32(ihdr, 4);
  put_be32(ihdr, 4);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});
  put_chunk(png, "IHDR", ihdr);
  for (int i = 0; i < chunks; ++i) put_chunk(png, type, payload);
  Bytes rows;
  for (int y = 0; y < 4; ++y) {
    rows.push_back(0);
    for (int x = 0; x < 4; ++x) rows.insert(rows.end(), {0x33, 0x66, 0x99});
  }
  put_chunk(png, "IDAT", deflate(rows));
  put_chunk(png, "IEND", {});
  return png;
}

struct Reader {
  const Bytes* bytes;
  std::size_t pos;
};

extern "C" void read_fn(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<Reader*>(png_get_io_ptr(png));
  if (n > r->bytes->size() - r->pos) png_error(png, "truncated");
  std::memcpy(out, r->bytes->data() + r->pos, n);
  r->pos += n;
}

// libpng's defaults, as huepool used them before issue 11: text chunks are
// read and inflated (up to the chunk malloc limit it set, 8 MiB).
bool reference_decode(const Bytes& bytes) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  Reader reader{&bytes, 0};
  bool ok = false;
  if (setjmp(png_jmpbuf(png)) == 0) {
    png_set_read_fn(png, &reader, read_fn);
    png_set_chunk_malloc_max(png, 8u << 20);
    png_read_info(png, info);
    std::vector<png_byte> row(png_get_rowbytes(png, info));
    for (png_uint_32 y = 0; y < png_get_image_height(png, info); ++y) png_read_row(png, row.data(), nullptr);
    ok = true;
  }
  png_destroy_read_struct(&png, &info, nullptr);
  return ok;
}

Bytes com_bomb(const Bytes& jpeg, int segments) {
  Bytes out(jpeg.begin(), jpeg.begin() + 2);
  for (int i = 0; i < segments; ++i) {
    out.insert(out.end(), {0xFF, 0xFE, 0xFF, 0xFF});  // COM, length 65535
    out.insert(out.end(), 65533, 'x');
  }
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace huepool;
  int runs = 5, reference_max = 100;
  std::vector<int> counts = {10, 100, 1000};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--runs") runs = std::stoi(argv[i + 1]);
    else if (arg == "--reference-max") reference_max = std::stoi(argv[i + 1]);
    else if (arg == "--chunks") {
      counts.clear();
      for (std::string s = argv[i + 1]; !s.empty();) {
        const auto comma = s.find(',');
        counts.push_back(std::stoi(s.substr(0, comma)));
        s = comma == std::string::npos ? "" : s.substr(comma + 1);
      }
    }
  }
  Analyzer analyzer;
  const Bytes plain = text_bomb("zTXt", 0);
  (void)analyzer.analyze(plain, {});  // the counter table faulted in: warm, as in a worker
  std::printf("%-6s %6s %10s %12s %14s %8s\n", "chunk", "count", "file MB", "huepool ms", "reference ms", "ratio");
  for (const char* type : {"zTXt", "iTXt"}) {
    for (const int n : counts) {
      const Bytes bomb = text_bomb(type, n);
      std::vector<double> ours, ref;
      const bool with_reference = n <= reference_max;
      for (int r = 0; r < runs; ++r) {
        double t = bench::cpu_now();
        const auto outcome = analyzer.analyze(bomb, {});
        ours.push_back(bench::cpu_now() - t);
        if (!std::holds_alternative<ImageAnalysis>(outcome)) {
          std::fprintf(stderr, "metadata_bench: %s x%d failed: %s\n", type, n, std::get<ImageError>(outcome).message.c_str());
          return 1;
        }
        if (with_reference) {
          t = bench::cpu_now();
          if (!reference_decode(bomb)) std::fprintf(stderr, "metadata_bench: reference failed on %s x%d\n", type, n);
          ref.push_back(bench::cpu_now() - t);
        }
      }
      const double o = bench::median(ours) * 1e3;
      if (with_reference) {
        const double f = bench::median(ref) * 1e3;
        std::printf("%-6s %6d %10.2f %12.2f %14.1f %7.0fx\n", type, n, bomb.size() / 1e6, o, f, f / o);
      } else {
        std::printf("%-6s %6d %10.2f %12.2f %14s %8s\n", type, n, bomb.size() / 1e6, o, "-", "-");
      }
    }
  }
  // A JPEG with 100 COM segments of 64 KB (6.5 MB): skipped by length.
  Bytes jpeg;
  {
    const std::string corpus = std::string(HUEPOOL_BENCH_DEFAULT_CORPUS) + "/seed12";
    for (const auto& img : bench::load_corpus(corpus))
      if (img.format == ImageFormat::jpeg && (jpeg.empty() || img.bytes.size() < jpeg.size())) jpeg = img.bytes;
  }
  if (!jpeg.empty()) {
    const Bytes bomb = com_bomb(jpeg, 100);
    std::vector<double> plain_t, bomb_t;
    for (int r = 0; r < runs; ++r) {
      double t = bench::cpu_now();
      (void)analyzer.analyze(jpeg, {});
      plain_t.push_back(bench::cpu_now() - t);
      t = bench::cpu_now();
      (void)analyzer.analyze(bomb, {});
      bomb_t.push_back(bench::cpu_now() - t);
    }
    std::printf("JPEG, smallest seed12 file (%.1f KB): %.2f ms plain, %.2f ms with 100 COM segments of 64 KB (%.1f MB)\n",
                jpeg.size() / 1e3, bench::median(plain_t) * 1e3, bench::median(bomb_t) * 1e3, bomb.size() / 1e6);
  }
  return 0;
}
