#include <doctest/doctest.h>

#include "tokenctl/error.hpp"

TEST_CASE("errors carry the exit status of the contract") {
  tokenctl::Error e(tokenctl::ErrorKind::config, "x");
  CHECK(e.exit_code() == 5);
}
