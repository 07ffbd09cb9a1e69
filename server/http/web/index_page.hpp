#pragma once
// The web page served at GET / (server/http/web/index.html): one self-contained
// HTML document (inline CSS and JS, no external resources), embedded into the
// binary at build time. The returned view points at static storage and stays
// valid for the life of the process; safe to call from any thread.

#include <string_view>

namespace huepool::http {

// The page's bytes, UTF-8, to be served as "text/html; charset=utf-8".
std::string_view index_page();

}  // namespace huepool::http
