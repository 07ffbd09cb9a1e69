#pragma once
// Driving the worker's test-only hooks (worker/test_hooks.hpp) from a test:
// the payloads that trigger them, and the shared page the hooked workers
// report through. The workers must be huepool_test_hooks (hooks_bin()).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "worker/test_hooks.hpp"

namespace huepool::hooktest {

using Bytes = std::vector<std::uint8_t>;

// $HUEPOOL_TEST_HOOKS_BIN: huepool with the hooks compiled in.
std::string hooks_bin();

// `png` with a private ancillary chunk ("huEk") after IHDR carrying the marker
// for `action`: still a valid PNG both decoders read as before, so a job that
// was blocked answers normally when it runs again.
Bytes png_with_hook(const Bytes& png, std::string_view action);
// Just the marker: for hooks that never get as far as decoding.
Bytes hook_only(std::string_view action);

// A zeroed shared page in a temp file, mapped here too; while it lives, the
// environment names it (HUEPOOL_TEST_HOOK_PAGE) for the workers started meanwhile.
class HookPage {
 public:
  HookPage();
  ~HookPage();  // unmaps, unlinks, unsets the variable
  HookPage(const HookPage&) = delete;
  HookPage& operator=(const HookPage&) = delete;
  std::uint32_t attempts() const { return page_->attempts.load(); }
  int blocked_pid() const { return page_->blocked_pid.load(); }

 private:
  std::string path_;
  worker::test_hooks::TestHookPage* page_ = nullptr;
};

// Sets an environment variable for its lifetime, restoring the old value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::string old_;
  bool had_old_ = false;
};

}  // namespace huepool::hooktest
