// Small file-system helpers for the training front ends: folders to write into, the text files of
// a folder, copying tokenizer files through. POSIX calls (they work natively and under
// Emscripten's NODERAWFS).
#pragma once
#include <string>
#include <vector>

#include "core/error.h"

namespace hearth::train {

bool is_dir(const std::string& path);
bool file_exists(const std::string& path);
// Whether two paths name the same existing folder.
bool same_dir(const std::string& a, const std::string& b);
// mkdir -p
Status make_dirs(const std::string& path);
// mkdir -p of the folder a file is to be written in.
Status make_parent_dirs(const std::string& file);
// The regular, non-hidden files of a folder and its subfolders, sorted by path.
Result<std::vector<std::string>> list_files(const std::string& dir);
Status copy_file(const std::string& from, const std::string& to);
Status write_text_file(const std::string& path, const std::string& text);

}  // namespace hearth::train
