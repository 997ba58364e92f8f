#ifndef REDIS_HA_DETAIL_CONFIG_HPP
#define REDIS_HA_DETAIL_CONFIG_HPP

/// @file
/// Build mode. Header-only by default. With `REDIS_HA_SEPARATE_COMPILATION`
/// defined everywhere (the `redis_ha::redis_ha_compiled` target does it),
/// the non-template code and the default instantiations are compiled once,
/// in the translation unit that includes `<redis_ha/src.hpp>`, and headers
/// declare them `extern template` instead of defining them inline.

#if defined(REDIS_HA_SEPARATE_COMPILATION)
/// Out-of-line definitions: compiled once, by src.hpp.
#define REDIS_HA_DECL
#else
/// Header-only: the .ipp files are included by the headers.
#define REDIS_HA_HEADER_ONLY 1
#define REDIS_HA_DECL inline
#endif

#endif  // REDIS_HA_DETAIL_CONFIG_HPP
