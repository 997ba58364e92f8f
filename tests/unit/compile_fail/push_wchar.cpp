// expect: request arguments must be strings, char or numbers
// A wide character has no encoding the server would understand.
#include <redis_ha/request.hpp>

void refused(redis_ha::request& req) { req.push("SET", "k", L'x'); }
