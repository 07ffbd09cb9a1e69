#pragma once
// A writable shared mapping of the newest memfd with a given name in this
// process. While it exists, adding F_SEAL_WRITE to that memfd fails with
// EBUSY (the kernel refuses to seal a file that is mapped writable): the one
// way to make a payload's seal fail on demand, and the same error the kernel
// returns for a transiently pinned page (proto/image_payload.cpp seal()).
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace huepool::testing {

class WritableMemfdMapping {
 public:
  explicit WritableMemfdMapping(const std::string& memfd_name) {
    const std::string wanted = "/memfd:" + memfd_name;
    int newest = -1;
    if (DIR* d = ::opendir("/proc/self/fd")) {
      while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        const int fd = std::atoi(e->d_name);
        char target[256];
        const ssize_t n = ::readlink(("/proc/self/fd/" + std::string(e->d_name)).c_str(), target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = '\0';
        if (std::string(target).rfind(wanted, 0) == 0 && fd > newest) newest = fd;
      }
      ::closedir(d);
    }
    struct stat st {};
    if (newest < 0 || ::fstat(newest, &st) != 0 || st.st_size == 0) return;
    void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, newest, 0);
    if (p == MAP_FAILED) return;
    address_ = p;
    size_ = static_cast<std::size_t>(st.st_size);
  }
  ~WritableMemfdMapping() {
    if (address_ != nullptr) ::munmap(address_, size_);
  }
  WritableMemfdMapping(const WritableMemfdMapping&) = delete;
  WritableMemfdMapping& operator=(const WritableMemfdMapping&) = delete;
  bool mapped() const { return address_ != nullptr; }

 private:
  void* address_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace huepool::testing
