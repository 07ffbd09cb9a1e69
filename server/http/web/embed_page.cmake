# cmake -DINPUT=index.html -DTEMPLATE=index_page.cpp.in -DOUTPUT=index_page.cpp -P embed_page.cmake
# Turns the page into a C++ byte array, at build time (no downloads, no tools
# beyond CMake itself).
file(READ "${INPUT}" hex HEX)
if(hex STREQUAL "")
  message(FATAL_ERROR "embed_page: ${INPUT} is empty")
endif()
# Two hex digits per byte -> "'\xNN'," ; 16 bytes per line keeps the file readable.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
# (CMake regexes have no {n}: spell the 16 repetitions out.)
string(REPEAT "'\\\\x[0-9a-f][0-9a-f]'," 16 line_re)
string(REGEX REPLACE "(${line_re})" "\\1\n    " bytes "${bytes}")
set(HUEPOOL_PAGE_BYTES "\n    ${bytes}\n")
configure_file("${TEMPLATE}" "${OUTPUT}" @ONLY)
