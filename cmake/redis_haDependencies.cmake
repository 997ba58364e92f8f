# Included by redis_haConfig.cmake (with this directory first on
# CMAKE_MODULE_PATH). Kept in its own file so that a failing find_dependency(),
# which return()s, only leaves this file and the config can restore
# CMAKE_MODULE_PATH before reporting the failure.
#
# A consumer that already found these packages keeps its targets: the Find
# modules here and fmt's config only create targets that do not exist yet.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(hiredis)   # Findhiredis.cmake -> hiredis::hiredis
find_dependency(Asio)      # FindAsio.cmake    -> asio::asio
find_dependency(fmt)       # fmt-config.cmake  -> fmt::fmt
# OpenSSL is optional: only redis_ha::tls (exported when redis-ha was built
# with OpenSSL) needs it. find_dependency() is not used on purpose: it would
# forward REQUIRED and make the whole package "not found" without OpenSSL.
# Without OpenSSL, redis_ha::redis_ha works and redis_ha::tls is not defined
# (redis_haConfig.cmake loads its export set only when OpenSSL::SSL exists).
if(NOT TARGET OpenSSL::SSL)
  find_package(OpenSSL QUIET)
endif()
set(_redis_ha_dependencies_found TRUE)
