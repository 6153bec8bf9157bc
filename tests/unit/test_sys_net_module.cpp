// The loader of the network module: the built tokenctl-net.so (TOKENCTL_TEST_MODULE) through
// dlopen, SHA-256 known answers through it, and the failure message when it cannot be found.
#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>
#include <string>

#include "net/http_client.hpp"
#include "support/scripted_server.hpp"
#include "sys/net_module.hpp"
#include "tokenctl/error.hpp"

using namespace tokenctl;

namespace {

const tokenctl_net_module& built_module() { return sys::load_net_module({TOKENCTL_TEST_MODULE}); }

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string load_error(const std::vector<std::string>& candidates) {
  try {
    sys::load_net_module(candidates);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failure);
    return e.what();
  }
  FAIL("the module loaded");
  return "";
}

} // namespace

TEST_SUITE_BEGIN("sys.net_module");

TEST_CASE("the built module loads and has this program's interface version") {
  const tokenctl_net_module& module = built_module();
  CHECK(module.abi_version == TOKENCTL_NET_ABI_VERSION);
  CHECK((module.http_perform != nullptr && module.random_bytes != nullptr && module.sha256 != nullptr));
  CHECK(&built_module() == &module); // loading again gives the same module
}

TEST_CASE("SHA-256 known answers through the module (FIPS 180-2 appendix B)") {
  sys::ModuleHasher hasher(&built_module);
  CHECK(hex(hasher.sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(hasher.sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(hasher.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(hex(hasher.sha256(std::string(1000000, 'a'))) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("random bytes through the module: the size asked for - different each time") {
  sys::ModuleRandom random(&built_module);
  std::string a = random.bytes(32), b = random.bytes(32);
  CHECK(a.size() == 32);
  CHECK(b.size() == 32);
  CHECK(a != b);
  CHECK(random.bytes(0).empty());
}

TEST_CASE("an HTTP exchange through the loaded module - as the program makes it") {
  test::ScriptedServer server;
  server.reply(200, {{"X-From", "scripted"}}, "hello through dlopen");
  net::ModuleHttpClient client({}, &built_module);
  HttpRequest request;
  request.url = server.url("/probe");
  HttpResponse response = client.send(request);
  CHECK(response.status == 200);
  CHECK(response.header("X-From") == "scripted");
  CHECK(response.body == "hello through dlopen");
}

TEST_CASE("candidates: beside the executable - then the installed library folder") {
  CHECK(sys::net_module_candidates("/usr/bin/tokenctl", "../lib/tokenctl", "/usr/lib/tokenctl") ==
        std::vector<std::string>{"/usr/bin/tokenctl-net.so", "/usr/bin/../lib/tokenctl/tokenctl-net.so"});
  CHECK(sys::net_module_candidates("/tokenctl", "../lib", "/usr/lib/tokenctl")[0] == "/tokenctl-net.so");
}

TEST_CASE("candidates without a readable /proc/self/exe: the absolute install folder, never a relative path") {
  // A relative candidate would load whatever tokenctl-net.so the working folder holds.
  CHECK(sys::net_module_candidates("", "../lib/tokenctl", "/usr/lib/tokenctl") ==
        std::vector<std::string>{"/usr/lib/tokenctl/tokenctl-net.so"});
  CHECK(sys::net_module_candidates("tokenctl", "../lib/tokenctl", "/opt/t/lib/tokenctl") ==
        std::vector<std::string>{"/opt/t/lib/tokenctl/tokenctl-net.so"});
}

TEST_CASE("a missing module: the message names every place searched and what to do") {
  std::string message = load_error({"/nonexistent/a/tokenctl-net.so", "/nonexistent/b/tokenctl-net.so"});
  const std::string start =
      "cannot load the network module tokenctl-net.so (searched: /nonexistent/a/tokenctl-net.so, "
      "/nonexistent/b/tokenctl-net.so): /nonexistent/a/tokenctl-net.so: cannot open shared object file";
  CHECK(message.rfind(start, 0) == 0);
  CHECK(message.size() > std::string("; reinstall tokenctl").size());
  CHECK(message.substr(message.size() - 20) == "; reinstall tokenctl");
}

TEST_CASE("a file that is there but is no module says so - before a missing one") {
  const std::string path = "/tmp/tokenctl-test-module-" + std::to_string(::getpid()) + ".so";
  std::ofstream(path) << "not an ELF file\n";
  std::string message = load_error({"/nonexistent/tokenctl-net.so", path});
  ::unlink(path.c_str());
  CHECK(message.find("): " + path + ": ") != std::string::npos);
  CHECK(message.find("/nonexistent/tokenctl-net.so: cannot open") == std::string::npos);
}

TEST_CASE("a shared library without the entry point is refused") {
  // The module itself is found by its entry point; libcurl (loaded already, via this test) has none.
  const std::string libcurl = "libcurl.so.4";
  std::string message = load_error({libcurl});
  CHECK(message.find("libcurl.so.4 has no tokenctl_net_module_v1") != std::string::npos);
}

TEST_CASE("net_module() looks beside the running executable first") {
  // This test program lives in the build tree's tests/ folder, where no module is.
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  REQUIRE(n > 0);
  std::string exe(buf, static_cast<std::size_t>(n));
  std::string dir = exe.substr(0, exe.rfind('/'));
  try {
    sys::net_module();
    MESSAGE("a tokenctl-net.so sits beside the test program; nothing to check");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("(searched: " + dir + "/tokenctl-net.so, " + dir + "/") != std::string::npos);
  }
}

TEST_SUITE_END();
