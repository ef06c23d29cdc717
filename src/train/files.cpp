// File-system helpers (see files.h).
#include "train/files.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hearth::train {

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool same_dir(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

Status make_dirs(const std::string& path) {
  if (path.empty()) return err("an empty folder name");
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    const std::string part = path.substr(0, i);
    if (is_dir(part)) continue;
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      return err("cannot create folder ", part, ": ", std::strerror(errno));
    }
  }
  if (!is_dir(path)) return err(path, " exists and is not a folder");
  return {};
}

Status make_parent_dirs(const std::string& file) {
  const size_t slash = file.rfind('/');
  if (slash == std::string::npos || slash == 0) return {};
  return make_dirs(file.substr(0, slash));
}

namespace {
Status walk(const std::string& dir, std::vector<std::string>* out, int depth) {
  if (depth > 16) return err(dir, ": folders nested too deeply");
  DIR* d = ::opendir(dir.c_str());
  if (!d) return err("cannot read folder ", dir, ": ", std::strerror(errno));
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    const std::string path = dir + "/" + n;
    if (is_dir(path)) {
      HEARTH_CHECK(walk(path, out, depth + 1));
    } else if (file_exists(path)) {
      out->push_back(path);
    }
  }
  return {};
}
}  // namespace

Result<std::vector<std::string>> list_files(const std::string& dir) {
  std::vector<std::string> out;
  HEARTH_CHECK(walk(dir, &out, 0));
  return out;
}

Status copy_file(const std::string& from, const std::string& to) {
  FILE* in = std::fopen(from.c_str(), "rb");
  if (!in) return err("cannot read ", from, ": ", std::strerror(errno));
  FILE* out = std::fopen(to.c_str(), "wb");
  if (!out) {
    std::fclose(in);
    return err("cannot write ", to, ": ", std::strerror(errno));
  }
  char buf[1 << 16];
  size_t n;
  bool ok = true;
  while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) ok = ok && std::fwrite(buf, 1, n, out) == n;
  std::fclose(in);
  ok = std::fclose(out) == 0 && ok;
  if (!ok) return err("cannot write ", to, " (disk full?)");
  return {};
}

Status write_text_file(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return err("cannot write ", path, ": ", std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return err("cannot write ", path, " (disk full?)");
  return {};
}

}  // namespace hearth::train
