#include "tests/common/test_images.hpp"

#include <png.h>
// jpeglib.h needs size_t and FILE declared before it.
#include <cstddef>
#include <cstdio>
#include <jpeglib.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <unistd.h>

#include <algorithm>
#include <unordered_map>

#include "common/analyzer.hpp"
#include "common/jpeg_decoder.hpp"
#include "common/png_decoder.hpp"

namespace huepool::test {

namespace {

extern "C" void png_encode_error(png_structp, png_const_charp message) {
  // Test helper: an encoder error is a bug in the test itself.
  std::fprintf(stderr, "test encode_png: %s\n", message);
  std::abort();
}

extern "C" void png_encode_write(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}

extern "C" void png_encode_flush(png_structp) {}

extern "C" void jpeg_encode_error(j_common_ptr cinfo) {
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  std::fprintf(stderr, "test encode_jpeg: %s\n", message);
  std::abort();
}

}  // namespace

int png_channels(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_PALETTE: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGBA: return 4;
  }
  throw std::invalid_argument("bad color type");
}

Bytes encode_png(const PngSpec& spec, const std::vector<std::uint16_t>& samples) {
  const int channels = png_channels(spec.color_type);
  const std::size_t per_row = std::size_t{spec.width} * channels;
  if (samples.size() != per_row * spec.height) throw std::invalid_argument("sample count");
  const std::size_t row_bytes = (per_row * spec.bit_depth + 7) / 8;
  std::vector<Bytes> rows(spec.height, Bytes(row_bytes, 0));
  for (std::uint32_t y = 0; y < spec.height; ++y) {
    for (std::size_t i = 0; i < per_row; ++i) {
      const std::uint16_t v = samples[y * per_row + i];
      Bytes& row = rows[y];
      if (spec.bit_depth == 16) {
        row[2 * i] = static_cast<std::uint8_t>(v >> 8);
        row[2 * i + 1] = static_cast<std::uint8_t>(v);
      } else if (spec.bit_depth == 8) {
        row[i] = static_cast<std::uint8_t>(v);
      } else {
        const std::size_t bit = i * spec.bit_depth;
        const int shift = 8 - spec.bit_depth - static_cast<int>(bit % 8);
        row[bit / 8] = static_cast<std::uint8_t>(row[bit / 8] | (v << shift));
      }
    }
  }
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, png_encode_error, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(png, &out, png_encode_write, png_encode_flush);
  png_set_IHDR(png, info, spec.width, spec.height, spec.bit_depth, spec.color_type,
               spec.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  std::vector<png_color> palette;
  for (const Rgb& c : spec.palette) palette.push_back(png_color{c.r, c.g, c.b});
  if (!palette.empty()) png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
  png_color_16 trans{};
  if (spec.trns_color) {
    const auto& t = *spec.trns_color;
    if (t.size() == 1) trans.gray = t[0];
    else if (t.size() == 3) { trans.red = t[0]; trans.green = t[1]; trans.blue = t[2]; }
  }
  if (!spec.palette_alpha.empty() || spec.trns_color) {
    Bytes alpha = spec.palette_alpha;
    png_set_tRNS(png, info, alpha.empty() ? nullptr : alpha.data(), static_cast<int>(alpha.size()),
                 spec.trns_color ? &trans : nullptr);
  }
  png_write_info(png, info);
  std::vector<png_bytep> pointers;
  for (Bytes& r : rows) pointers.push_back(r.data());
  png_write_image(png, pointers.data());
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

Bytes encode_jpeg(const JpegSpec& spec, const std::vector<std::uint8_t>& samples) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr err{};
  cinfo.err = jpeg_std_error(&err);
  err.error_exit = jpeg_encode_error;
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = spec.width;
  cinfo.image_height = spec.height;
  int components = 3;
  switch (spec.color) {
    case JpegColor::rgb: cinfo.in_color_space = JCS_RGB; components = 3; break;
    case JpegColor::gray: cinfo.in_color_space = JCS_GRAYSCALE; components = 1; break;
    case JpegColor::cmyk:
    case JpegColor::ycck: cinfo.in_color_space = JCS_CMYK; components = 4; break;
  }
  cinfo.input_components = components;
  if (samples.size() != std::size_t{spec.width} * spec.height * components)
    throw std::invalid_argument("sample count");
  jpeg_set_defaults(&cinfo);
  if (spec.color == JpegColor::ycck) jpeg_set_colorspace(&cinfo, JCS_YCCK);
  jpeg_set_quality(&cinfo, spec.quality, TRUE);
  if (!spec.subsample)
    for (int c = 0; c < cinfo.num_components; ++c)
      cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
  if (spec.progressive) jpeg_simple_progression(&cinfo);
  cinfo.restart_interval = spec.restart_interval;
  jpeg_start_compress(&cinfo, TRUE);
  const std::size_t stride = std::size_t{spec.width} * components;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(samples.data() + cinfo.next_scanline * stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  Bytes out(buffer, buffer + size);
  std::free(buffer);
  jpeg_destroy_compress(&cinfo);
  return out;
}

std::vector<std::uint8_t> noise(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> out(n);
  std::uint32_t s = seed * 2654435761u + 1;
  for (auto& b : out) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    b = static_cast<std::uint8_t>(s >> 24);
  }
  return out;
}

std::vector<std::uint8_t> photo_like_rgb(std::uint32_t width, std::uint32_t height, std::uint32_t seed) {
  std::vector<std::uint8_t> out(std::size_t{width} * height * 3);
  const auto n = noise(out.size(), seed);
  for (std::uint32_t y = 0; y < height; ++y)
    for (std::uint32_t x = 0; x < width; ++x) {
      const std::size_t i = (std::size_t{y} * width + x) * 3;
      out[i] = static_cast<std::uint8_t>((x * 255) / (width > 1 ? width - 1 : 1) + (n[i] & 3));
      out[i + 1] = static_cast<std::uint8_t>((y * 255) / (height > 1 ? height - 1 : 1));
      out[i + 2] = static_cast<std::uint8_t>(((x + y) * 4) + (n[i + 2] & 7));
    }
  return out;
}

std::vector<ColorCount> naive_most_common(const std::vector<std::uint8_t>& rgb,
                                          const std::vector<std::uint8_t>* alpha, unsigned k,
                                          std::uint64_t* counted) {
  struct Seen {
    std::uint64_t count = 0;
    std::size_t first = 0;
  };
  std::unordered_map<std::uint32_t, Seen> seen;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i * 3 < rgb.size(); ++i) {
    if (alpha && (*alpha)[i] == 0) continue;
    const std::uint32_t key = rgb[3 * i] | (rgb[3 * i + 1] << 8) | (rgb[3 * i + 2] << 16);
    auto [it, fresh] = seen.try_emplace(key, Seen{0, i});
    ++it->second.count;
    ++n;
  }
  std::vector<std::pair<std::uint32_t, Seen>> all(seen.begin(), seen.end());
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second.count != b.second.count ? a.second.count > b.second.count : a.second.first < b.second.first;
  });
  std::vector<ColorCount> out;
  for (std::size_t i = 0; i < all.size() && i < k; ++i)
    out.push_back(ColorCount{Rgb{static_cast<std::uint8_t>(all[i].first), static_cast<std::uint8_t>(all[i].first >> 8),
                                 static_cast<std::uint8_t>(all[i].first >> 16)},
                             all[i].second.count});
  if (counted) *counted = n;
  return out;
}

namespace {
class CollectingSink final : public RowSink {
 public:
  explicit CollectingSink(Decoded& out) : out_(out) {}
  void on_warning(std::string_view) noexcept override {}
  std::optional<ImageError> on_header(const ImageHeader& header) noexcept override {
    out_.width = header.width;
    out_.height = header.height;
    out_.rgb.clear();
    return std::nullopt;
  }
  void on_rows(const std::uint8_t* first, std::size_t stride, std::uint32_t count,
               PixelLayout layout) noexcept override {
    const std::size_t step = bytes_per_pixel(layout);
    for (std::uint32_t r = 0; r < count; ++r)
      for (std::uint32_t x = 0; x < out_.width; ++x)
        out_.rgb.insert(out_.rgb.end(), first + r * stride + x * step, first + r * stride + x * step + 3);
  }

 private:
  Decoded& out_;
};
}  // namespace

std::optional<Decoded> engine_decode_rgb(const Bytes& bytes, std::string* error) {
  Decoded out;
  CollectingSink sink(out);
  const auto format = sniff_format(bytes);
  std::optional<ImageError> failure;
  if (!format) failure = ImageError{ErrorCode::unsupported_format, "unknown"};
  else if (*format == ImageFormat::png) failure = PngDecoder().decode(bytes, DecodeRequest{}, sink);
  else failure = JpegDecoder().decode(bytes, DecodeRequest{}, sink);
  if (failure) {
    if (error) *error = failure->message;
    return std::nullopt;
  }
  return out;
}

std::uint32_t crc32(const std::uint8_t* data, std::size_t n) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) {
    c ^= data[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

std::size_t find_png_chunk(const Bytes& png, const char type[4]) {
  std::size_t pos = 8;
  while (pos + 12 <= png.size()) {
    const std::uint32_t length = (std::uint32_t{png[pos]} << 24) | (std::uint32_t{png[pos + 1]} << 16) |
                                 (std::uint32_t{png[pos + 2]} << 8) | png[pos + 3];
    if (std::memcmp(png.data() + pos + 4, type, 4) == 0) return pos;
    pos += 12 + std::size_t{length};
  }
  return std::string::npos;
}

void fix_png_crc(Bytes& png, std::size_t chunk) {
  const std::uint32_t length = (std::uint32_t{png[chunk]} << 24) | (std::uint32_t{png[chunk + 1]} << 16) |
                               (std::uint32_t{png[chunk + 2]} << 8) | png[chunk + 3];
  const std::uint32_t crc = crc32(png.data() + chunk + 4, 4 + std::size_t{length});
  std::uint8_t* p = png.data() + chunk + 8 + length;
  p[0] = static_cast<std::uint8_t>(crc >> 24);
  p[1] = static_cast<std::uint8_t>(crc >> 16);
  p[2] = static_cast<std::uint8_t>(crc >> 8);
  p[3] = static_cast<std::uint8_t>(crc);
}

std::optional<Bytes> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::optional<std::string> pillow_python() {
  // The Debian python3 carries python3-pil; a pyenv shim first on PATH may not.
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    const std::string command = std::string(candidate) + " -c 'import PIL' >/dev/null 2>&1";
    if (std::system(command.c_str()) == 0) return std::string(candidate);
  }
  return std::nullopt;
}

std::optional<std::vector<Bytes>> pillow_rgb(const std::string& python, const std::vector<std::string>& paths) {
  std::string command = python +
                        " -c 'import sys\nfrom PIL import Image\nfor p in sys.argv[1:]:\n"
                        "    open(p + \".rgb\", \"wb\").write(Image.open(p).convert(\"RGB\").tobytes())'";
  for (const auto& p : paths) command += " '" + p + "'";
  if (std::system(command.c_str()) != 0) return std::nullopt;
  std::vector<Bytes> out;
  for (const auto& p : paths) {
    auto bytes = read_file(p + ".rgb");
    if (!bytes) return std::nullopt;
    out.push_back(std::move(*bytes));
  }
  return out;
}

TempDir::TempDir() {
  char pattern[] = "/tmp/huepool-test-XXXXXX";
  if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::write(const std::string& name, const Bytes& bytes) const {
  const std::string path = path_ + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
  return path;
}

}  // namespace huepool::test
