// expect: request arguments must be strings, char or numbers
// bool is refused: "1"/"0" or "true"/"false"? The caller says which.
#include <redis_ha/request.hpp>

void refused(redis_ha::request& req) { req.push("SET", "flag", true); }
