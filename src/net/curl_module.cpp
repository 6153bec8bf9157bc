// Entry point of the network module (placeholder until the libcurl client lands).
#include "net/module_abi.h"

namespace {
int http_perform(const tokenctl_http_request*, long*, char*, size_t) { return TOKENCTL_HTTP_FAILED; }
int random_bytes(unsigned char*, size_t) { return -1; }
void sha256(const unsigned char*, size_t, unsigned char*) {}
const tokenctl_net_module k_module{TOKENCTL_NET_ABI_VERSION, http_perform, random_bytes, sha256};
} // namespace

extern "C" __attribute__((visibility("default"))) const tokenctl_net_module* tokenctl_net_module_v1() {
  return &k_module;
}
