#include "cli/app.hpp"

int main(int argc, char** argv) { return tokenctl::cli::run(argc, argv); }
