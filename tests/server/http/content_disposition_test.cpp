// parse_content_disposition: file and field names decoded the way real clients
// encode them (content_disposition.hpp). The cases are generated: every
// special character at the start, middle and end of a name, in each encoding
// a client uses, in both parameter orders.
#include <doctest/doctest.h>

#include <cctype>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "server/http/content_disposition.hpp"

using huepool::http::decode_ext_value;
using huepool::http::decode_form_escapes;
using huepool::http::parse_content_disposition;

namespace {

// The characters that ever needed care, one UTF-8 string each.
const std::vector<std::string> kSpecials = {
    "\"", "\r", "\n", "\\", "%", ";", "'", "=", " ", "\t",
    "\xC3\xBC",          // ü
    "\xE2\x82\xAC",      // €
    "\xF0\x9F\x8E\xA8",  // 🎨, four bytes
    "%22", "%0D", "%0A", "%41", "\\\"", "\"\"",
};

// `s` placed at the start, in the middle and at the end of a file name.
std::vector<std::string> placed(const std::string& s) {
  return {s + "ab.png", "a" + s + "b.png", "ab.png" + s};
}

// The WHATWG HTML standard's multipart/form-data encoding, as browsers and
// curl since 7.81 write a name.
std::string whatwg_encode(const std::string& name) {
  std::string out;
  for (const char c : name) {
    if (c == '"') out += "%22";
    else if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else out += c;
  }
  return out;
}

// RFC 9110 quoted-pairs, as curl before 7.81 and Go's mime/multipart write it.
std::string quoted_pair_encode(const std::string& name) {
  std::string out;
  for (const char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// RFC 8187 value-chars: every byte outside attr-char %-encoded (upper-case hex).
std::string pct_encode(const std::string& bytes) {
  static const std::string attr = "!#$&+-.^_`|~";
  std::string out;
  for (const char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    if (std::isalnum(b) || attr.find(ch) != std::string::npos) {
      out += ch;
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", b);
      out += hex;
    }
  }
  return out;
}

std::string latin1(const std::string& utf8) {  // only for code points below U+0100
  std::string out;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    if (b < 0x80) {
      out += utf8[i];
    } else {
      REQUIRE((b == 0xC2 || b == 0xC3));
      out += static_cast<char>(((b & 0x03) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3F));
    }
  }
  return out;
}

std::optional<std::string> filename_of(const std::string& header) {
  return parse_content_disposition(header).filename;
}

}  // namespace

TEST_CASE("content disposition: exactly %22, %0D and %0A are undone") {
  CHECK(decode_form_escapes("say %22hi%22.png") == "say \"hi\".png");
  CHECK(decode_form_escapes("%0D%0A") == "\r\n");
  CHECK(decode_form_escapes("%41%20%25%2F%5C.png") == "%41%20%25%2F%5C.png");
  CHECK(decode_form_escapes("%0d%0a") == "%0d%0a");  // the standard writes upper-case hex
  CHECK(decode_form_escapes("%%22") == "%\"");
  CHECK(decode_form_escapes("%2522") == "%2522");
  CHECK(decode_form_escapes("100%") == "100%");
  CHECK(decode_form_escapes("%2") == "%2");
  CHECK(decode_form_escapes("a\\b") == "a\\b");
  CHECK(decode_form_escapes("") == "");
}

TEST_CASE("content disposition: every special character, every place, as browsers and curl send it") {
  for (const auto& special : kSpecials)
    for (const auto& name : placed(special)) {
      const std::string enc = whatwg_encode(name);
      // What decoding gives back: the name, except that literal %22/%0D/%0A
      // in a name are indistinguishable from the escapes (whatwg/html#7575).
      const std::string want = decode_form_escapes(name);
      for (const std::string& header :
           {"form-data; name=\"image\"; filename=\"" + enc + "\"",
            "form-data; filename=\"" + enc + "\"; name=\"image\"",
            "form-data; filename=\"" + enc + "\" ; name=\"image\"",
            "form-data;name=\"image\";filename=\"" + enc + "\""}) {
        INFO("header: " << header);
        const auto d = parse_content_disposition(header);
        CHECK(d.type == "form-data");
        CHECK(d.name == "image");
        REQUIRE(d.filename);
        CHECK(*d.filename == want);
      }
      // Field names are encoded the same way.
      const auto d = parse_content_disposition("form-data; name=\"" + enc + "\"");
      CHECK(d.name == want);
      CHECK(!d.filename);
    }
}

TEST_CASE("content disposition: a backslash is literal, wherever it is") {
  CHECK(filename_of("form-data; name=\"image\"; filename=\"a\\b.png\"") == "a\\b.png");
  CHECK(filename_of("form-data; name=\"image\"; filename=\"C:\\dir\\x.png\"") == "C:\\dir\\x.png");
  CHECK(filename_of("form-data; name=\"image\"; filename=\"\\\\server\\x.png\"") == "\\\\server\\x.png");
  // Ending in a backslash: the quote after it still closes the value.
  CHECK(filename_of("form-data; filename=\"dir\\\"; name=\"image\"") == "dir\\");
  CHECK(filename_of("form-data; filename=\"dir\\\"") == "dir\\");
  CHECK(filename_of("form-data; filename=\"\\\"") == "\\");
}

TEST_CASE("content disposition: legacy quoted-pair senders still get their quotes") {
  // curl before 7.81, Go's mime/multipart and older Firefox write \" for a
  // quote, so the first '"' follows a backslash and is followed by more name.
  for (const auto& special : {std::string("\""), std::string("\"\""), std::string("\\\"")})
    for (const auto& name : placed(special))
      for (const std::string& header :
           {"form-data; name=\"image\"; filename=\"" + quoted_pair_encode(name) + "\"",
            "form-data; filename=\"" + quoted_pair_encode(name) + "\"; name=\"image\""}) {
        INFO("header: " << header);
        CHECK(filename_of(header) == name);
      }
  CHECK(filename_of("form-data; name=\"f\"; filename=\"say \\\"hi\\\".png\"") == "say \"hi\".png");
  CHECK(filename_of("form-data; filename=\"say \\\"hi\\\".png\"; name=\"f\"") == "say \"hi\".png");
  CHECK(filename_of("form-data; filename=\"a\\\\\\\"b.png\"") == "a\\\"b.png");
  // Without a quote in the name they cannot be told apart from a WHATWG
  // sender, so their doubled backslash stays doubled; and a '"' followed by
  // ';' ends the value (`a";b.png` sent as `a\";b.png`).
  CHECK(filename_of("form-data; filename=\"a\\\\b.png\"") == "a\\\\b.png");
  CHECK(filename_of("form-data; filename=\"a\\\";b.png\"") == "a\\");
  // Junk after a quote that no backslash precedes: the value still ends there.
  CHECK(filename_of("form-data; filename=\"a\"b.png\"; name=\"x\"") == "a");
  CHECK(parse_content_disposition("form-data; filename=\"a\"b.png\"; name=\"x\"").name == "x");
}

TEST_CASE("content disposition: filename* (RFC 8187) in UTF-8, any case, with or without a language") {
  const std::vector<std::string> names = {
      "\xE2\x82\xAC rates.png", "na\xC3\xAFve.png", "say \"hi\".png", "a\\b.png", "100%.png", "it's.png",
      "a;b=c.png", "cr\rlf\n.png", "\xF0\x9F\x8E\xA8.png", "%22.png", "plain.png", ""};
  for (const auto& name : names)
    for (const std::string charset : {"UTF-8", "utf-8", "Utf-8"})
      for (const std::string language : {"", "en", "de-CH"}) {
        const std::string ext = "filename*=" + charset + "'" + language + "'" + pct_encode(name);
        for (const std::string& header :
             {"form-data; name=\"image\"; " + ext,
              "form-data; name=\"image\"; filename=\"fallback.png\"; " + ext,
              "form-data; name=\"image\"; " + ext + "; filename=\"fallback.png\"",
              "form-data; " + ext + "; name=\"image\"; filename=\"fallback.png\"",
              "form-data; name=\"image\"; FILENAME*=" + ext.substr(10) + "; FileName=\"fallback.png\""}) {
          INFO("header: " << header);
          const auto d = parse_content_disposition(header);
          CHECK(d.name == "image");
          CHECK(d.filename == name);
        }
      }
  CHECK(filename_of("form-data; name=\"image\"; filename*=UTF-8''%E2%82%AC%20rates.png") == "\xE2\x82\xAC rates.png");
  CHECK(filename_of("form-data; filename*=utf-8''%e2%82%ac%20rates.png") == "\xE2\x82\xAC rates.png");
}

TEST_CASE("content disposition: filename* in ISO-8859-1 becomes UTF-8") {
  const std::vector<std::string> names = {"\xC2\xA3 rates.png", "caf\xC3\xA9.png", "\xC3\x9F\xC3\xBF\xC2\xA0.png",
                                          "\xC2\x80.png", "ascii.png"};
  for (const auto& name : names)
    for (const std::string charset : {"ISO-8859-1", "iso-8859-1", "Iso-8859-1"})
      for (const std::string language : {"", "en", "fr"})
        for (const bool plain_first : {true, false}) {
          const std::string ext = "filename*=" + charset + "'" + language + "'" + pct_encode(latin1(name));
          const std::string header = plain_first ? "form-data; name=\"i\"; filename=\"x.png\"; " + ext
                                                 : "form-data; name=\"i\"; " + ext + "; filename=\"x.png\"";
          INFO("header: " << header);
          CHECK(filename_of(header) == name);
        }
  CHECK(filename_of("form-data; name=\"image\"; filename*=iso-8859-1''%A3%20rates.png") == "\xC2\xA3 rates.png");
}

TEST_CASE("content disposition: a filename* that cannot be decoded gives way to filename, else stays as sent") {
  const std::vector<std::string> bad = {
      "UTF-8''%E2%82",          // truncated UTF-8
      "UTF-8''%FF.png",         // not UTF-8
      "UTF-8''%C0%AF.png",      // overlong
      "UTF-8''%ED%A0%80.png",   // a surrogate
      "UTF-8''%F4%90%80%80",    // above U+10FFFF
      "UTF-8''%G1.png",         // not hex
      "UTF-8''%4",              // cut short
      "UTF-8''abc%",            // cut short
      "koi8-r''%F0.png",        // a charset we do not convert
      "''a.png",                // no charset
      "UTF-8'a.png",            // one quote
      "a.png",                  // no quotes at all
  };
  for (const auto& ext : bad) {
    INFO("filename*=" << ext);
    CHECK(!decode_ext_value(ext));
    CHECK(filename_of("form-data; name=\"f\"; filename=\"plain.png\"; filename*=" + ext) == "plain.png");
    CHECK(filename_of("form-data; name=\"f\"; filename*=" + ext + "; filename=\"plain.png\"") == "plain.png");
    CHECK(filename_of("form-data; name=\"f\"; filename*=" + ext) == ext);
  }
  CHECK(decode_ext_value("UTF-8''%F0%9F%8E%A8") == "\xF0\x9F\x8E\xA8");
  CHECK(decode_ext_value("UTF-8''") == "");
  // Lenient: characters outside attr-char are taken as they are.
  CHECK(decode_ext_value("UTF-8''it's a.png") == "it's a.png");
}

TEST_CASE("content disposition: tokens, spacing, case, repeats, and broken headers") {
  CHECK(filename_of("form-data; name=image; filename=a.png") == "a.png");
  CHECK(filename_of("form-data; filename=a%22b.png") == "a\"b.png");
  CHECK(filename_of("form-data; filename = \"a.png\" ; name = x") == "a.png");
  CHECK(parse_content_disposition("form-data; filename = \"a.png\" ; name = x").name == "x");
  CHECK(parse_content_disposition("Form-Data; NAME=\"f\"").type == "form-data");
  CHECK(parse_content_disposition("Form-Data; NAME=\"f\"").name == "f");
  CHECK(filename_of("form-data; FileName=\"A.PNG\"") == "A.PNG");
  CHECK(filename_of("form-data; filename=\"first.png\"; filename=\"second.png\"") == "first.png");
  CHECK(filename_of("form-data; filename*=UTF-8''one; filename*=UTF-8''two") == "one");
  CHECK(filename_of("form-data; name=\"f\"; filename=\"\"") == "");
  CHECK(!filename_of("form-data; name=\"f\""));
  CHECK(!filename_of("form-data"));
  CHECK(!filename_of(""));
  CHECK(filename_of("form-data; broken; filename=\"a.png\"") == "a.png");
  CHECK(filename_of("form-data; filename=\"unterminated.png") == "unterminated.png");
  CHECK(filename_of("form-data; filename=\"unterminated; name=x") == "unterminated; name=x");
  CHECK(filename_of("form-data; filename=") == "");
  CHECK(filename_of("form-data; filename=\"bad\xFF\xFEutf8.png\"") == "bad\xFF\xFEutf8.png");  // passed on as bytes
  CHECK(filename_of("form-data; filename=\"a.png\"; x=\"\\\"; y") == "a.png");
}
