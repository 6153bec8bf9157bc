// libqrencode through dlopen (sys/qr_encode.hpp): the declarations match the library's header,
// a known answer, and a missing library.
#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sys/qr_encode.hpp"

#if __has_include(<qrencode.h>)
#include <qrencode.h>
#define TOKENCTL_HAVE_QRENCODE_H 1
#endif

using namespace tokenctl;

namespace {

// "https://example.com/device?user_code=WDJB-MJHT" at level M, as `qrencode -t ASCII -m 0 -l M`
// (libqrencode 4.1.1) draws it: version 4, 33 by 33; '#' dark.
const std::vector<std::string> k_known_m = {
    "#######...#...##..##.###..#######", "#.....#...##...#.#....##..#.....#", "#.###.#..#.##.####..#.###.#.###.#",
    "#.###.#..#.#.#.#.#.#.#.##.#.###.#", "#.###.#...####..#..#.#.##.#.###.#", "#.....#.###..#....#.###...#.....#",
    "#######.#.#.#.#.#.#.#.#.#.#######", "..........###.#..########........", "#..#.##.###..###...#.#.#.#.#.....",
    ".##.#..#..#...#.#.#.#...####...##", "#...####.###....##.#.##....##.#.#", ".#.##..######.####......#.#.##...",
    "..#..###..#.#......#...#....##..#", "#..#....###.##.###...##...#.#.###", "..#.#.#####..#......#....##.#..#.",
    "###.##.#..##.#.#.#.#.####.##...#.", "..##.##.#.#.#...##.###.##.#.#..#.", "...###..###...#.#...##.###.#.#.#.",
    ".###..##..##.##...#...#..#....###", ".###...###..#....##.##.#.#.#...##", ".##.#.#........#####..####.....##",
    ".....#.#.##...###.###.#..###...##", "##.####....###.#..#.###...##..#.#", ".#..##..#.#.....#.#..#..#.#.##..#",
    "#.#.###.#.###.##.#.###.######..##", "........#.#..#..#..##.###...##.#.", "#######...#.###.....##..#.#.####.",
    "#.....#.###.#.###...#...#...#..##", "#.###.#..###....#.....#.######.##", "#.###.#.#..#.#.#...###....#.##.#.",
    "#.###.#..#.####..##..##..#..###.#", "#.....#...##.######..#...##..#...", "#######.###..#..#....#..#...#..#.",
};

std::vector<std::string> rows_of(const QrMatrix& m) {
  std::vector<std::string> rows;
  for (int y = 0; y < m.size; ++y) {
    std::string row;
    for (int x = 0; x < m.size; ++x) row += m.at(x, y) ? '#' : '.';
    rows.push_back(row);
  }
  return rows;
}

} // namespace

TEST_SUITE_BEGIN("sys.qr_encode");

#ifdef TOKENCTL_HAVE_QRENCODE_H
TEST_CASE("the declarations of libqrencode's interface match qrencode.h") {
  namespace abi = sys::qrencode_abi;
  static_assert(sizeof(abi::QRcode) == sizeof(QRcode));
  static_assert(offsetof(abi::QRcode, version) == offsetof(QRcode, version));
  static_assert(offsetof(abi::QRcode, width) == offsetof(QRcode, width));
  static_assert(offsetof(abi::QRcode, data) == offsetof(QRcode, data));
  static_assert(sizeof(QRecLevel) == sizeof(int) && sizeof(QRencodeMode) == sizeof(int));
  static_assert(abi::QR_ECLEVEL_L == QR_ECLEVEL_L && abi::QR_ECLEVEL_M == QR_ECLEVEL_M);
  static_assert(abi::QR_MODE_8 == QR_MODE_8);
  // The function types, as the header declares them (the enums, int-sized, are passed as int).
  // decltype only: the unit tests do not link libqrencode either.
  static_assert(
      std::is_same_v<decltype(&QRcode_encodeString), QRcode* (*)(const char*, int, QRecLevel, QRencodeMode, int)>);
  static_assert(std::is_same_v<decltype(&QRcode_free), void (*)(QRcode*)>);
  CHECK(sizeof(abi::QRcode) == sizeof(QRcode));
}
#else
TEST_CASE("the declarations of libqrencode's interface match qrencode.h") {
  MESSAGE("skipped: qrencode.h is not installed (apt-get install libqrencode-dev)");
}
#endif

TEST_CASE("a known answer: the matrix libqrencode gives, at levels M and L") {
  std::string why_not;
  const auto encoder = sys::QrEncoder::load(why_not);
  if (!encoder) {
    MESSAGE("skipped: " << why_not);
    return;
  }
  CHECK(why_not.empty());
  const auto m = encoder->encode("https://example.com/device?user_code=WDJB-MJHT", sys::QrLevel::medium);
  REQUIRE(m.has_value());
  CHECK(m->size == 33);
  CHECK(rows_of(*m) == k_known_m);
  const auto l = encoder->encode("https://example.com/device?user_code=WDJB-MJHT", sys::QrLevel::low);
  REQUIRE(l.has_value());
  CHECK(l->size == 29); // version 3: level L holds it in a smaller code
  // Both are correct QR codes: the three finder patterns at their corners.
  for (const QrMatrix* code : {&*m, &*l}) {
    const auto rows = rows_of(*code);
    const int far = code->size - 7;
    for (auto [x0, y0] : {std::pair{0, 0}, std::pair{far, 0}, std::pair{0, far}}) {
      CHECK(rows[static_cast<std::size_t>(y0)].substr(static_cast<std::size_t>(x0), 7) == "#######");
      CHECK(rows[static_cast<std::size_t>(y0 + 2)].substr(static_cast<std::size_t>(x0), 7) == "#.###.#");
    }
  }
}

TEST_CASE("what cannot be encoded: empty, an embedded NUL, more than any QR code holds") {
  std::string why_not;
  const auto encoder = sys::QrEncoder::load(why_not);
  if (!encoder) {
    MESSAGE("skipped: " << why_not);
    return;
  }
  CHECK_FALSE(encoder->encode("", sys::QrLevel::low).has_value());
  CHECK_FALSE(encoder->encode(std::string("https://a\0b", 11), sys::QrLevel::low).has_value());
  CHECK_FALSE(encoder->encode(std::string(8000, 'x'), sys::QrLevel::low).has_value());
  CHECK(encoder->encode(std::string(2000, 'x'), sys::QrLevel::low).has_value());
}

TEST_CASE("a missing library: nullopt and a reason, not an error") {
  std::string why_not;
  const auto encoder = sys::QrEncoder::load(why_not, "libqrencode-tokenctl-test-missing.so.4");
  CHECK_FALSE(encoder.has_value());
  CHECK(why_not == "libqrencode-tokenctl-test-missing.so.4 is not installed (Debian package libqrencode4)");
}

TEST_CASE("a library without libqrencode's functions: nullopt and a reason") {
  std::string why_not;
  const auto encoder = sys::QrEncoder::load(why_not, "libm.so.6");
  CHECK_FALSE(encoder.has_value());
  CHECK(why_not == "libm.so.6 has no QRcode_encodeString or QRcode_free");
}

TEST_SUITE_END();
