// Compile-time benchmark TU (ii): the umbrella header, nothing used.
#include <redis_ha.hpp>
int main() { return 0; }
