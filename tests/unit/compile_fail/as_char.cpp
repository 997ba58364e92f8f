// expect: a reply does not convert to a character type
// redis_ha::as<char> is refused: a one-character string or a small number?
#include <redis_ha/typed.hpp>

char refused(const redis_ha::reply& r) { return redis_ha::as<char>(r); }
