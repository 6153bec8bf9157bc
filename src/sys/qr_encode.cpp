#include "sys/qr_encode.hpp"

#include <dlfcn.h>

#include <cstring>
#include <memory>
#include <utility>

namespace tokenctl::sys {

std::optional<QrEncoder> QrEncoder::load(std::string& why_not, const char* library) {
  // RTLD_LOCAL: its symbols stay out of the program's namespace; by soname, from the system's
  // library folders, as the dynamic linker would have found it.
  void* handle = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = ::dlerror();
    if (err != nullptr && std::strstr(err, "No such file") != nullptr)
      why_not = std::string(library) + " is not installed (Debian package libqrencode4)";
    else
      why_not = err != nullptr ? err : std::string("cannot load ") + library;
    return std::nullopt;
  }
  auto encode_fn = reinterpret_cast<qrencode_abi::EncodeStringFn>(::dlsym(handle, "QRcode_encodeString"));
  auto release = reinterpret_cast<qrencode_abi::FreeFn>(::dlsym(handle, "QRcode_free"));
  if (encode_fn == nullptr || release == nullptr) {
    why_not = std::string(library) + " has no QRcode_encodeString or QRcode_free";
    ::dlclose(handle);
    return std::nullopt;
  }
  return QrEncoder(handle, encode_fn, release);
}

QrEncoder::QrEncoder(QrEncoder&& other) noexcept
    : m_handle(std::exchange(other.m_handle, nullptr)), m_encode(other.m_encode), m_free(other.m_free) {}

QrEncoder::~QrEncoder() {
  if (m_handle != nullptr) ::dlclose(m_handle);
}

std::optional<QrMatrix> QrEncoder::encode(const std::string& text, QrLevel level) const {
  // A NUL would end the C string early: the code would say less than the text.
  if (m_handle == nullptr || text.empty() || text.find('\0') != std::string::npos) return std::nullopt;
  const int ec = level == QrLevel::medium ? qrencode_abi::QR_ECLEVEL_M : qrencode_abi::QR_ECLEVEL_L;
  // Case-sensitive, with QR_MODE_8 as the hint: no Kanji mode, the text's bytes kept as they are.
  const std::unique_ptr<qrencode_abi::QRcode, qrencode_abi::FreeFn> code(
      m_encode(text.c_str(), 0, ec, qrencode_abi::QR_MODE_8, 1), m_free);
  if (!code || code->width <= 0 || code->width > 177 || code->data == nullptr) return std::nullopt;
  QrMatrix m;
  m.size = code->width;
  const auto cells = static_cast<std::size_t>(code->width) * static_cast<std::size_t>(code->width);
  m.dark.resize(cells);
  for (std::size_t i = 0; i < cells; ++i) m.dark[i] = (code->data[i] & 1U) != 0;
  return m;
}

} // namespace tokenctl::sys
