// Compile-time benchmark TU (i): Asio alone, the reference.
#include <asio.hpp>
int main() { return 0; }
