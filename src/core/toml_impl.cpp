// The one translation unit that compiles toml++'s implementation (from Debian's headers).
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
