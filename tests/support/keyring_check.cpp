// keyring-check: load the keyring module (tokenctl-keyring.so) with dlopen, as tokenctl will, and
// run one of its functions; print one JSON line on stdout with the result, how long it took and
// how long the dlopen took. Built by CMake (tests/CMakeLists.txt, target keyring_check); driven by tests/e2e/keyring-module.test.mjs, which
// sets up the bus and the keyring for each case.
//
//   keyring-check [--timeout MS] MODULE load                       dlopen only: time, libraries
//   keyring-check [--timeout MS] MODULE probe
//   keyring-check [--timeout MS] MODULE store PROFILE ISSUER LABEL  (the secret on stdin)
//   keyring-check [--timeout MS] MODULE lookup PROFILE ISSUER       ("secret_hex" on OK)
//   keyring-check [--timeout MS] MODULE erase PROFILE ISSUER
//   keyring-check [--timeout MS] MODULE roundtrip PROFILE ISSUER SIZE
//       in one process: store a SIZE-byte secret (every byte value, NUL included), look it up,
//       replace it, look it up, erase it, look it up (NOT_FOUND), erase (NOT_FOUND); "ok" says
//       whether every step gave what it should.
//
// This program links only libc and libdl (and its static C++ runtime): "before" lists the shared
// objects mapped before the dlopen, "after" those it added.
#include <dlfcn.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "abi/keyring_module.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

const char* code_name(int rc) {
  switch (rc) {
  case TOKENCTL_KEYRING_OK: return "OK";
  case TOKENCTL_KEYRING_NOT_FOUND: return "NOT_FOUND";
  case TOKENCTL_KEYRING_LOCKED: return "LOCKED";
  case TOKENCTL_KEYRING_NO_SERVICE: return "NO_SERVICE";
  case TOKENCTL_KEYRING_TIMEOUT: return "TIMEOUT";
  case TOKENCTL_KEYRING_FAILED: return "FAILED";
  case TOKENCTL_KEYRING_NO_COLLECTION: return "NO_COLLECTION";
  default: return "?";
  }
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string json_list(const std::set<std::string>& items) {
  std::string out = "[";
  for (const auto& item : items) out += (out.size() > 1 ? "," : "") + json_string(item);
  return out + "]";
}

std::string hex(const char* data, size_t len) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    auto b = static_cast<unsigned char>(data[i]);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// The shared objects mapped into this process.
std::set<std::string> mapped_objects() {
  std::set<std::string> out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    if (path.find(".so") != std::string::npos) out.insert(path);
  }
  return out;
}

int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  return -1;
}

struct Result {
  int rc;
  double ms;
  std::string error;
};

template <typename F>
Result timed(F&& call) {
  char errbuf[512];
  errbuf[0] = '\0';
  auto start = Clock::now();
  int rc = call(errbuf, sizeof errbuf);
  return Result{rc, ms_since(start), errbuf};
}

std::string result_json(const Result& r) {
  return "\"rc\":" + std::to_string(r.rc) + ",\"code\":\"" + code_name(r.rc) + "\",\"ms\":" + std::to_string(r.ms) +
         ",\"error\":" + json_string(r.error);
}

int usage() {
  std::cerr << "usage: keyring-check [--timeout MS] MODULE load|probe|store|lookup|erase|roundtrip ARGS...\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  int timeout_ms = 3000;
  if (args.size() >= 2 && args[0] == "--timeout") {
    timeout_ms = std::atoi(args[1].c_str());
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.size() < 2) return usage();
  const std::string module_path = args[0];
  const std::string command = args[1];

  std::set<std::string> before = mapped_objects();
  auto load_start = Clock::now();
  void* handle = dlopen(module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::cerr << "keyring-check: " << dlerror() << "\n";
    return 1;
  }
  auto entry = reinterpret_cast<tokenctl_keyring_entry_fn>(dlsym(handle, TOKENCTL_KEYRING_ENTRY));
  const tokenctl_keyring_module* module = entry != nullptr ? entry() : nullptr;
  double load_ms = ms_since(load_start);
  if (module == nullptr || module->abi_version != TOKENCTL_KEYRING_ABI_VERSION) {
    std::cerr << "keyring-check: " << module_path << " has no " TOKENCTL_KEYRING_ENTRY " of version "
              << TOKENCTL_KEYRING_ABI_VERSION << "\n";
    return 1;
  }
  std::string head = "{\"command\":" + json_string(command) + ",\"load_ms\":" + std::to_string(load_ms);

  if (command == "load") {
    std::set<std::string> after = mapped_objects(), added;
    for (const auto& object : after)
      if (before.count(object) == 0) added.insert(object);
    std::cout << head << ",\"before\":" << json_list(before) << ",\"added\":" << json_list(added)
              << ",\"threads\":" << thread_count() << "}" << std::endl;
    return 0;
  }

  if (command == "probe" && args.size() == 2) {
    Result r = timed([&](char* e, size_t n) { return module->probe(timeout_ms, e, n); });
    std::cout << head << "," << result_json(r) << ",\"threads\":" << thread_count() << "}" << std::endl;
    return 0;
  }

  if (command == "store" && args.size() == 5) {
    std::string secret((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    Result r = timed([&](char* e, size_t n) {
      return module->store(args[2].c_str(), args[3].c_str(), args[4].c_str(), secret.data(), secret.size(), timeout_ms,
                           e, n);
    });
    std::cout << head << "," << result_json(r) << ",\"threads\":" << thread_count() << "}" << std::endl;
    return 0;
  }

  if (command == "lookup" && args.size() == 4) {
    char* secret = nullptr;
    size_t len = 0;
    Result r = timed([&](char* e, size_t n) {
      return module->lookup(args[2].c_str(), args[3].c_str(), timeout_ms, &secret, &len, e, n);
    });
    std::string extra;
    if (r.rc == TOKENCTL_KEYRING_OK) {
      extra = ",\"len\":" + std::to_string(len) + ",\"secret_hex\":\"" + hex(secret, len) + "\"" +
              ",\"nul_terminated\":" + (secret[len] == '\0' ? "true" : "false");
      module->free_secret(secret, len);
    } else if (secret != nullptr || len != 0) {
      extra = ",\"bad_output\":true";
    }
    std::cout << head << "," << result_json(r) << extra << ",\"threads\":" << thread_count() << "}" << std::endl;
    return 0;
  }

  if (command == "erase" && args.size() == 4) {
    Result r =
        timed([&](char* e, size_t n) { return module->erase(args[2].c_str(), args[3].c_str(), timeout_ms, e, n); });
    std::cout << head << "," << result_json(r) << ",\"threads\":" << thread_count() << "}" << std::endl;
    return 0;
  }

  if (command == "roundtrip" && args.size() == 5) {
    const char* profile = args[2].c_str();
    const char* issuer = args[3].c_str();
    size_t size = std::strtoul(args[4].c_str(), nullptr, 10);
    std::string first(size, '\0'), second(size, '\0');
    unsigned x = 2463534242u;
    for (size_t i = 0; i < size; ++i) {
      first[i] = static_cast<char>(i & 0xff); // every byte value, NUL included
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      second[i] = static_cast<char>(x & 0xff);
    }
    std::string label = std::string("tokenctl: ") + profile + " (roundtrip)";
    bool ok = true;
    std::ostringstream steps;
    auto record = [&](const char* name, const Result& r, int want, const std::string& extra = "") {
      if (r.rc != want) ok = false;
      steps << (steps.tellp() > 0 ? "," : "") << "{\"step\":" << json_string(name) << "," << result_json(r)
            << ",\"want\":\"" << code_name(want) << "\"" << extra << "}";
    };
    auto lookup_expect = [&](const char* name, const std::string& want) {
      char* secret = nullptr;
      size_t len = 0;
      Result r =
          timed([&](char* e, size_t n) { return module->lookup(profile, issuer, timeout_ms, &secret, &len, e, n); });
      bool same = r.rc == TOKENCTL_KEYRING_OK && len == want.size() && std::memcmp(secret, want.data(), len) == 0 &&
                  secret[len] == '\0';
      if (r.rc == TOKENCTL_KEYRING_OK && !same) ok = false;
      if (r.rc == TOKENCTL_KEYRING_OK) module->free_secret(secret, len);
      record(name, r, TOKENCTL_KEYRING_OK, std::string(",\"same\":") + (same ? "true" : "false"));
    };
    record("store", timed([&](char* e, size_t n) {
             return module->store(profile, issuer, label.c_str(), first.data(), first.size(), timeout_ms, e, n);
           }),
           TOKENCTL_KEYRING_OK);
    lookup_expect("lookup", first);
    record("replace", timed([&](char* e, size_t n) {
             return module->store(profile, issuer, label.c_str(), second.data(), second.size(), timeout_ms, e, n);
           }),
           TOKENCTL_KEYRING_OK);
    lookup_expect("lookup replaced", second);
    record("erase", timed([&](char* e, size_t n) { return module->erase(profile, issuer, timeout_ms, e, n); }),
           TOKENCTL_KEYRING_OK);
    {
      char* secret = nullptr;
      size_t len = 0;
      Result r =
          timed([&](char* e, size_t n) { return module->lookup(profile, issuer, timeout_ms, &secret, &len, e, n); });
      if (secret != nullptr || len != 0) ok = false;
      record("lookup erased", r, TOKENCTL_KEYRING_NOT_FOUND);
    }
    record("erase again", timed([&](char* e, size_t n) { return module->erase(profile, issuer, timeout_ms, e, n); }),
           TOKENCTL_KEYRING_NOT_FOUND);
    std::cout << head << ",\"ok\":" << (ok ? "true" : "false") << ",\"steps\":[" << steps.str()
              << "],\"threads\":" << thread_count() << "}" << std::endl;
    return 0;
  }

  return usage();
}
