// expect: no conversion from a reply to this type; specialize redis_ha::reply_converter<T>
// A type without a reply_converter specialization names the customization point.
#include <redis_ha/typed.hpp>

struct not_convertible {
  int x = 0;
};

not_convertible refused(const redis_ha::reply& r) { return redis_ha::as<not_convertible>(r); }
