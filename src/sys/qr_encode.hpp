// Encoding text as a QR code with Debian's libqrencode (libqrencode4), loaded with dlopen() when a
// QR code is drawn (login --device on a terminal) and unloaded after: linked, it would be loaded
// at every start of tokenctl, the cached-token path included. The library only encodes; the
// drawing is tokenctl's (tokenctl/qr.hpp).
#pragma once

#include <optional>
#include <string>

#include "tokenctl/qr.hpp"

namespace tokenctl::sys {

inline constexpr const char* k_qrencode_library = "libqrencode.so.4";

// The part of libqrencode 4's C interface that tokenctl uses (qrencode.h, declared here so that
// building needs no libqrencode-dev; tests/unit/test_sys_qr_encode.cpp checks it against the
// header where the header is installed).
namespace qrencode_abi {
struct QRcode {
  int version;         // the symbol's version, 1 to 40
  int width;           // modules per side
  unsigned char* data; // width * width bytes, row by row; bit 0 set: a dark module
};
inline constexpr int QR_ECLEVEL_L = 0;
inline constexpr int QR_ECLEVEL_M = 1;
inline constexpr int QR_MODE_8 = 2;
// QRcode* QRcode_encodeString(const char* string, int version, QRecLevel level, QRencodeMode hint,
//                            int casesensitive): version 0 picks the smallest that fits.
using EncodeStringFn = QRcode* (*)(const char*, int, int, int, int);
using FreeFn = void (*)(QRcode*);
} // namespace qrencode_abi

// The error correction level: L restores 7% of the code, M 15%.
enum class QrLevel { low, medium };

// libqrencode, loaded; unloaded when the object goes.
class QrEncoder {
public:
  // Load `library` (RTLD_NOW | RTLD_LOCAL); return nullopt with `why_not` set ("libqrencode.so.4
  // is not installed (Debian package libqrencode4)", or what dlopen/dlsym said) when it cannot.
  static std::optional<QrEncoder> load(std::string& why_not, const char* library = k_qrencode_library);

  QrEncoder(QrEncoder&& other) noexcept;
  QrEncoder& operator=(QrEncoder&&) = delete;
  QrEncoder(const QrEncoder&) = delete;
  QrEncoder& operator=(const QrEncoder&) = delete;
  ~QrEncoder();

  // Encode `text` (bytes, as they are; the smallest version that holds them at `level`, in the
  // modes that suit each part: digits, upper-case letters, bytes). Return nullopt when it cannot
  // (too long for any QR code: more than about 2,900 bytes, or out of memory).
  [[nodiscard]] std::optional<QrMatrix> encode(const std::string& text, QrLevel level) const;

private:
  QrEncoder(void* handle, qrencode_abi::EncodeStringFn encode_fn, qrencode_abi::FreeFn release)
      : m_handle(handle), m_encode(encode_fn), m_free(release) {}
  void* m_handle;
  qrencode_abi::EncodeStringFn m_encode;
  qrencode_abi::FreeFn m_free;
};

} // namespace tokenctl::sys
