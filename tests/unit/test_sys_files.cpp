#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>

#include "support/sys_test_dir.hpp"
#include "sys/files.hpp"

using namespace tokenctl;
using tokenctl::test::get_file;
using tokenctl::test::mode_of;
using tokenctl::test::put_file;
using tokenctl::test::TestDir;
using tokenctl::test::UmaskScope;

namespace {

const std::string k_marker = "SECRETMARKER7f3a";

// Return the message of the Error that `f` throws (failing the test if none).
template <class F>
std::string error_of(F&& f, ErrorKind kind = ErrorKind::failure) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == kind);
    CHECK(std::string(e.what()).find(k_marker) == std::string::npos);
    return e.what();
  }
  FAIL("no error");
  return {};
}

} // namespace

TEST_SUITE_BEGIN("sys.files");

TEST_CASE("parent_dir returns the folder part") {
  CHECK(sys::parent_dir("a/b/c.json") == "a/b");
  CHECK(sys::parent_dir("/a/b") == "/a");
  CHECK(sys::parent_dir("/a") == "/");
  CHECK(sys::parent_dir("/") == "/");
  CHECK(sys::parent_dir("c.json") == ".");
  CHECK(sys::parent_dir("a//b") == "a");
  CHECK(sys::parent_dir("a/b/") == "a");
  CHECK(sys::parent_dir("//a") == "/");
}

TEST_CASE("read_file reads, reports a missing file as nullopt and refuses big files") {
  TestDir dir;
  CHECK_FALSE(sys::read_file(dir / "none", 100, ErrorKind::config).has_value());
  put_file(dir / "f", "hello\n", 0644);
  CHECK(sys::read_file(dir / "f", 100, ErrorKind::config) == "hello\n");
  CHECK(sys::read_file(dir / "f", 6, ErrorKind::config) == "hello\n");
  CHECK(error_of([&] { (void)sys::read_file(dir / "f", 5, ErrorKind::config); }, ErrorKind::config) ==
        dir / "f is too large (more than 5 bytes)");
  CHECK(error_of([&] { (void)sys::read_file(dir.path(), 5, ErrorKind::config); }, ErrorKind::config) ==
        "cannot read " + dir.path() + ": it is a folder");
  ::symlink("f", (dir / "link").c_str());
  CHECK(sys::read_file(dir / "link", 100, ErrorKind::failure) == "hello\n");
  put_file(dir / "plain", "x");
  CHECK(error_of([&] { (void)sys::read_file(dir / "plain/x", 5, ErrorKind::config); }, ErrorKind::config) ==
        "cannot read " + dir / "plain/x: Not a directory");
}

TEST_CASE("read_private_file reads a 0600 file of ours") {
  TestDir dir;
  CHECK_FALSE(sys::read_private_file(dir / "none", 100).has_value());
  CHECK_FALSE(sys::read_private_file(dir / "no/such/folder", 100).has_value());
  put_file(dir / "f", k_marker, 0600);
  CHECK(sys::read_private_file(dir / "f", 100) == k_marker);
  put_file(dir / "g", k_marker, 0400);
  CHECK(sys::read_private_file(dir / "g", 100) == k_marker);
  CHECK(error_of([&] { (void)sys::read_private_file(dir / "f", 15); }) == dir / "f is too large (more than 15 bytes)");
  CHECK(sys::read_private_file_head(dir / "f", 6) == "SECRET");
  put_file(dir / "empty", "", 0600);
  CHECK(sys::read_private_file(dir / "empty", 0) == "");
}

TEST_CASE("read_private_file_bytes reads small files and files of megabytes (mapped buffers) whole, or cut") {
  TestDir dir;
  CHECK_FALSE(sys::read_private_file_bytes(dir / "none", 100).has_value());
  put_file(dir / "empty", "", 0600);
  CHECK(sys::read_private_file_bytes(dir / "empty", 100)->view().empty());
  put_file(dir / "f", k_marker, 0600);
  CHECK(sys::read_private_file_bytes(dir / "f", 100)->view() == k_marker);
  CHECK(sys::read_private_file_bytes(dir / "f", 6)->view() == "SECRET");
  // Over a megabyte the buffer is mapped on a huge-page boundary; every byte must still be there,
  // also after a move, and a cut stays a cut.
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 23);
  put_file(dir / "big", big, 0600);
  auto bytes = sys::read_private_file_bytes(dir / "big", big.size() + 1);
  REQUIRE(bytes);
  const sys::FileBytes moved = std::move(*bytes);
  CHECK(moved.view() == big);
  CHECK(sys::read_private_file_bytes(dir / "big", 2 * 1024 * 1024)->view() == big.substr(0, 2 * 1024 * 1024));
  put_file(dir / "open", big, 0640);
  CHECK_THROWS_AS((void)sys::read_private_file_bytes(dir / "open", big.size() + 1), Error);
}

TEST_CASE("read_private_file refuses group or other permission bits, naming the fix") {
  TestDir dir;
  const std::string f = dir / "f";
  put_file(f, k_marker, 0644);
  CHECK(error_of([&] { (void)sys::read_private_file(f, 100); }) ==
        f + " is readable by group or others (mode 0644); run: chmod 600 " + f);
  ::chmod(f.c_str(), 0604);
  CHECK(error_of([&] { (void)sys::read_private_file(f, 100); }) ==
        f + " is readable by group or others (mode 0604); run: chmod 600 " + f);
  ::chmod(f.c_str(), 0620);
  CHECK(error_of([&] { (void)sys::read_private_file(f, 100); }) ==
        f + " is writable by group or others (mode 0620); run: chmod 600 " + f);
  ::chmod(f.c_str(), 0601);
  CHECK(error_of([&] { (void)sys::read_private_file_head(f, 100); }) ==
        f + " is accessible by group or others (mode 0601); run: chmod 600 " + f);
}

TEST_CASE("read_private_file refuses symbolic links and files that are not regular") {
  TestDir dir;
  put_file(dir / "target", k_marker, 0600);
  REQUIRE(::symlink((dir / "target").c_str(), (dir / "link").c_str()) == 0);
  CHECK(error_of([&] { (void)sys::read_private_file(dir / "link", 100); }) ==
        dir / "link is a symbolic link; refusing to read tokens through it");
  REQUIRE(::symlink((dir / "missing").c_str(), (dir / "dangling").c_str()) == 0);
  CHECK(error_of([&] { (void)sys::read_private_file(dir / "dangling", 100); }) ==
        dir / "dangling is a symbolic link; refusing to read tokens through it");
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0); // must not block waiting for a writer
  CHECK(error_of([&] { (void)sys::read_private_file(dir / "fifo", 100); }) ==
        dir / "fifo is not a regular file; refusing to read tokens from it");
  REQUIRE(::mkdir((dir / "sub").c_str(), 0700) == 0);
  CHECK(error_of([&] { (void)sys::read_private_file(dir / "sub", 100); }) ==
        dir / "sub is not a regular file; refusing to read tokens from it");
}

TEST_CASE("read_private_file refuses a file owned by someone else") {
  TestDir dir;
  const std::string f = dir / "f";
  put_file(f, k_marker, 0600);
  // Only root can give a file away; as another user this case cannot be set up.
  if (::geteuid() != 0 || ::chown(f.c_str(), 1001, 1001) != 0) {
    MESSAGE("skipped: giving a file to another uid needs root");
    return;
  }
  CHECK(error_of([&] { (void)sys::read_private_file(f, 100); }) == f + " is owned by uid 1001, not by you");
}

TEST_CASE("make_private_dirs creates missing folders 0700 whatever the umask, and keeps existing ones") {
  TestDir dir;
  UmaskScope mask(0);
  REQUIRE(::mkdir((dir / "kept").c_str(), 0755) == 0);
  sys::make_private_dirs(dir / "kept/a/b/c");
  CHECK(mode_of(dir / "kept") == 0755);
  CHECK(mode_of(dir / "kept/a") == 0700);
  CHECK(mode_of(dir / "kept/a/b") == 0700);
  CHECK(mode_of(dir / "kept/a/b/c") == 0700);
  CHECK_NOTHROW(sys::make_private_dirs(dir / "kept/a/b/c"));
  CHECK_NOTHROW(sys::make_private_dirs(dir / "kept//a/b/c/"));
  {
    UmaskScope strict(0277); // even a umask that removes the owner's bits
    sys::make_private_dirs(dir / "strict");
    CHECK(mode_of(dir / "strict") == 0700);
  }
  put_file(dir / "file", "x");
  CHECK(error_of([&] { sys::make_private_dirs(dir / "file/sub"); }) ==
        "cannot create folder " + dir / "file: a file of that name exists");
}

TEST_CASE("write_file_atomic creates the file with the mode asked, whatever the umask") {
  TestDir dir;
  UmaskScope mask(0);
  sys::write_file_atomic(dir / "cache.json", k_marker);
  CHECK(get_file(dir / "cache.json") == k_marker);
  CHECK(mode_of(dir / "cache.json") == 0600);
  sys::write_file_atomic(dir / "public", "p", 0644);
  CHECK(mode_of(dir / "public") == 0644);
  {
    UmaskScope strict(0777);
    sys::write_file_atomic(dir / "strict", "s");
    CHECK(mode_of(dir / "strict") == 0600);
  }
  CHECK(dir.names() == std::set<std::string>{"cache.json", "public", "strict"}); // no temporary left
}

TEST_CASE("write_file_atomic replaces the content and the mode of an existing file") {
  TestDir dir;
  const std::string f = dir / "cache.json";
  put_file(f, std::string(10000, 'o'), 0644);
  struct stat before {};
  REQUIRE(::stat(f.c_str(), &before) == 0);
  sys::write_file_atomic(f, "new");
  CHECK(get_file(f) == "new");
  CHECK(mode_of(f) == 0600);
  struct stat after {};
  REQUIRE(::stat(f.c_str(), &after) == 0);
  CHECK(after.st_ino != before.st_ino); // a new file renamed over, not rewritten in place
  sys::write_file_atomic(f, "");
  CHECK(get_file(f).empty());
  const std::string big(3u * 1024u * 1024u + 7u, 'b');
  sys::write_file_atomic(f, big);
  CHECK(get_file(f) == big);
  CHECK(dir.names() == std::set<std::string>{"cache.json"});
}

TEST_CASE("write_file_atomic takes a file name of the longest length") {
  TestDir dir;
  const std::string name(255, 'n');
  sys::write_file_atomic(dir / name, "long");
  CHECK(get_file(dir / name) == "long");
  CHECK(dir.names() == std::set<std::string>{name});
}

TEST_CASE("write_file_atomic in the current folder") {
  TestDir dir;
  char old[4096];
  REQUIRE(::getcwd(old, sizeof old) != nullptr);
  REQUIRE(::chdir(dir.path().c_str()) == 0);
  CHECK_NOTHROW(sys::write_file_atomic("here.json", "h"));
  REQUIRE(::chdir(old) == 0);
  CHECK(get_file(dir / "here.json") == "h");
}

TEST_CASE("write_file_atomic refuses to replace a symbolic link and leaves its target alone") {
  TestDir dir;
  put_file(dir / "target", "old", 0600);
  REQUIRE(::symlink("target", (dir / "link").c_str()) == 0);
  try {
    sys::write_file_atomic(dir / "link", k_marker);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == dir / "link is a symbolic link; refusing to replace it");
    CHECK(e.hint() == "remove the link, or give the path of the file it points to");
  }
  CHECK(get_file(dir / "target") == "old");
  struct stat st {};
  REQUIRE(::lstat((dir / "link").c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(dir.names() == std::set<std::string>{"link", "target"});
}

TEST_CASE("write_file_atomic reports a missing folder or a folder in the way") {
  TestDir dir;
  CHECK(error_of([&] { sys::write_file_atomic(dir / "none/f", "x"); }) ==
        "cannot write " + dir / "none/f: No such file or directory");
  REQUIRE(::mkdir((dir / "sub").c_str(), 0700) == 0);
  CHECK(error_of([&] { sys::write_file_atomic(dir / "sub", "x"); }) ==
        "cannot replace " + dir / "sub: not a regular file");
  CHECK(error_of([&] { sys::write_file_atomic(dir / "sub/", "x"); }) ==
        "cannot write " + dir / "sub/: not a file name");
  CHECK(dir.names("sub").empty());
}

TEST_CASE("write_file_atomic removes its temporary file when the rename fails") {
  TestDir dir;
  REQUIRE(::mkdir((dir / "target").c_str(), 0700) == 0);
  REQUIRE(::mkdir((dir / "target/full").c_str(), 0700) == 0);
  // Renaming a file over a non-empty folder fails after the temporary file has been written.
  // The lstat check sees a folder first, so swap it in from the hook instead.
  put_file(dir / "f", "old");
  static std::string s_dir;
  s_dir = dir.path();
  sys::detail::g_before_rename = [](const std::string&) {
    ::rename((s_dir + "/f").c_str(), (s_dir + "/f.saved").c_str());
    ::rename((s_dir + "/target").c_str(), (s_dir + "/f").c_str());
  };
  const std::string message = error_of([&] { sys::write_file_atomic(dir / "f", k_marker); });
  sys::detail::g_before_rename = nullptr;
  CHECK(message == "cannot write " + dir / "f: Is a directory");
  CHECK(dir.names() == std::set<std::string>{"f", "f.saved"});
}

TEST_CASE("a writer killed before the rename leaves the old file whole") {
  TestDir dir;
  const std::string f = dir / "cache.json";
  put_file(f, "old content", 0600);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    sys::detail::g_before_rename = [](const std::string&) { ::_exit(42); };
    try {
      sys::write_file_atomic(f, "new content that never lands");
    } catch (...) {}
    ::_exit(1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 42); // it died in the hook, after writing, before the rename
  CHECK(get_file(f) == "old content");
  // The crash left its temporary file behind, complete and private; the next write succeeds.
  const auto names = dir.names();
  REQUIRE(names.size() == 2);
  const std::string temp = *names.begin();
  CHECK(temp.rfind(".cache.json.tmp-", 0) == 0);
  CHECK(get_file(dir / temp) == "new content that never lands");
  CHECK(mode_of(dir / temp) == 0600);
  sys::write_file_atomic(f, "newer");
  CHECK(get_file(f) == "newer");
  // Under the writers' lock, the next writer removes what the killed one left.
  sys::remove_stale_temporaries(f);
  CHECK(dir.names() == std::set<std::string>{"cache.json"});
}

TEST_CASE("remove_stale_temporaries removes only the temporaries of that file") {
  TestDir dir;
  const std::string f = dir / "cache.json";
  for (const char* name : {"cache.json", ".cache.json.tmp-1-2-3", ".cache.json.tmp-", "cache.json.lock",
                           ".cache.jsonx.tmp-1", ".other.tmp-1", "cache.json.tmp-1"})
    put_file(dir / name, "x");
  sys::remove_stale_temporaries(f);
  CHECK(dir.names() == std::set<std::string>{"cache.json", "cache.json.lock", ".cache.jsonx.tmp-1", ".other.tmp-1",
                                             "cache.json.tmp-1"});
  sys::remove_stale_temporaries(dir / "missing-folder/x.json"); // nothing to do, no error
}

TEST_SUITE_END();
