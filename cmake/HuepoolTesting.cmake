# huepool_add_test(<name> SOURCES <files...> LIBS <targets...> [LABELS <labels...>] [TIMEOUT <s>] [TEST_HOOKS])
# One doctest executable per test file group, registered with CTest under <name>.
# The environment gives every test the paths it may need:
#   HUEPOOL_BIN         the built huepool binary (end-to-end tests, worker spawning)
#   HUEPOOL_SOURCE_DIR  the checkout (tests/data, docs)
#   HUEPOOL_CORPUS_DIR  ../shared/corpus beside the checkout (tests skip what needs it when absent)
# and, with TEST_HOOKS, HUEPOOL_TEST_HOOKS_BIN: huepool built with the worker's
# test-only fault hooks (tests/worker/CMakeLists.txt), built before the test.
find_package(doctest REQUIRED)
set(HUEPOOL_CORPUS_DIR "${PROJECT_SOURCE_DIR}/../shared/corpus" CACHE PATH "Real-image corpus with reference.json")

add_library(huepool_doctest_main STATIC ${PROJECT_SOURCE_DIR}/tests/doctest_main.cpp)
target_link_libraries(huepool_doctest_main PUBLIC doctest::doctest)

function(huepool_add_test name)
  cmake_parse_arguments(T "TEST_HOOKS" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE huepool_doctest_main huepool_warnings ${T_LIBS})
  target_compile_definitions(${name} PRIVATE DOCTEST_CONFIG_SUPER_FAST_ASSERTS)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(env "HUEPOOL_BIN=$<TARGET_FILE:huepool>;HUEPOOL_SOURCE_DIR=${PROJECT_SOURCE_DIR};HUEPOOL_CORPUS_DIR=${HUEPOOL_CORPUS_DIR}")
  if(T_TEST_HOOKS)
    list(APPEND env "HUEPOOL_TEST_HOOKS_BIN=$<TARGET_FILE:huepool_test_hooks>")
    add_dependencies(${name} huepool_test_hooks)
  endif()
  set_tests_properties(${name} PROPERTIES
    TIMEOUT ${T_TIMEOUT}
    LABELS "${T_LABELS}"
    ENVIRONMENT "${env}")
  # Tests that spawn the binary must see its latest build.
  add_dependencies(${name} huepool)
endfunction()
