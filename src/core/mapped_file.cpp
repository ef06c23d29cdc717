// MappedFile: mmap on POSIX hosts; a plain read where mmap is emulated (Emscripten).
#include "core/mapped_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#ifndef __EMSCRIPTEN__
#include <sys/mman.h>
#else
#include <emscripten.h>
#endif

namespace hearth {

#ifdef __EMSCRIPTEN__
// pread through the JS file system with the position as a double: the pread64 syscall of this
// Emscripten mangles offsets past 2^31.
// clang-format off
EM_JS(int, hearth_fs_pread, (int fd, void* dst, int n, double pos), {
  try {
    var stream = FS.getStream(fd);
    if (!stream) return -1;
    return FS.read(stream, HEAP8, dst, n, pos);
  } catch (e) {
    return -1;
  }
});
// clang-format on
#endif

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::string& path, bool force_ranges) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return err(path, ": cannot open (", std::strerror(errno), ")");
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return err(path, ": not a regular file");
  }
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = uint64_t(st.st_size);
  if (force_ranges) {
    f->fd_ = fd;
    return f;
  }
#ifndef __EMSCRIPTEN__
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      f->data_ = static_cast<const uint8_t*>(p);
      f->mapped_ = true;
      ::close(fd);
      return f;
    }
  }
#else
  if (f->size_ > kResidentLimit) {
    f->fd_ = fd;  // read in ranges
    return f;
  }
#endif
  f->owned_.resize(size_t(f->size_));
  size_t got = 0;
  while (got < f->size_) {
    ssize_t n = ::read(fd, f->owned_.data() + got, size_t(f->size_) - got);
    if (n <= 0) {
      ::close(fd);
      return err(path, ": read error after ", got, " of ", f->size_, " bytes");
    }
    got += size_t(n);
  }
  ::close(fd);
  f->data_ = f->owned_.data();
  return f;
}

std::shared_ptr<MappedFile> MappedFile::from_bytes(std::vector<uint8_t> bytes, std::string name) {
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->owned_ = std::move(bytes);
  f->data_ = f->owned_.data();
  f->size_ = f->owned_.size();
  f->path_ = std::move(name);
  return f;
}

Status MappedFile::read(uint64_t offset, size_t n, void* dst) const {
  if (offset > size_ || n > size_ - offset) return err(path_, ": read of ", n, " bytes at ", std::to_string(offset), " is past the end of the file");
  static_assert(sizeof(off_t) >= 8, "64-bit file offsets are needed for large checkpoints");
  if (n == 0) return {};
  if (data_) {
    std::memcpy(dst, data_ + size_t(offset), n);
    return {};
  }
  size_t got = 0;
  while (got < n) {
#ifdef __EMSCRIPTEN__
    const int chunk = int(std::min<size_t>(n - got, size_t(1) << 30));
    ssize_t r = hearth_fs_pread(fd_, static_cast<uint8_t*>(dst) + got, chunk, double(offset + got));
#else
    ssize_t r = ::pread(fd_, static_cast<uint8_t*>(dst) + got, n - got, off_t(offset + got));
#endif
    if (r <= 0) return err(path_, ": read error at byte ", std::to_string(offset + got));
    got += size_t(r);
  }
  return {};
}

MappedFile::~MappedFile() {
  if (fd_ >= 0) ::close(fd_);
#ifndef __EMSCRIPTEN__
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
#endif
}

}  // namespace hearth
