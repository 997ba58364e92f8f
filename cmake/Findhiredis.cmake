# Findhiredis -- the hiredis C client (Debian: libhiredis-dev), as the target
# hiredis::hiredis.
#
#   find_package(hiredis REQUIRED)
#   target_link_libraries(app PRIVATE hiredis::hiredis)
#
# Debian's HiredisConfig.cmake (hiredis 0.14) sets variables only, hence this
# module. Result variables: hiredis_FOUND, hiredis_INCLUDE_DIR,
# hiredis_LIBRARY, hiredis_VERSION (from hiredis/hiredis.h).
#
# If a hiredis::hiredis target already exists (the consumer found or built
# hiredis itself, e.g. hiredis >= 1.0's own CMake package), it is used as it
# is and nothing is searched.
if(TARGET hiredis::hiredis)
  set(hiredis_FOUND TRUE)
  return()
endif()

find_path(hiredis_INCLUDE_DIR hiredis/hiredis.h)
find_library(hiredis_LIBRARY NAMES hiredis)
if(hiredis_INCLUDE_DIR AND EXISTS "${hiredis_INCLUDE_DIR}/hiredis/hiredis.h")
  file(STRINGS "${hiredis_INCLUDE_DIR}/hiredis/hiredis.h" _hiredis_version_lines
       REGEX "^#define HIREDIS_(MAJOR|MINOR|PATCH) [0-9]+")
  foreach(_hiredis_part IN ITEMS MAJOR MINOR PATCH)
    if(_hiredis_version_lines MATCHES "HIREDIS_${_hiredis_part} ([0-9]+)")
      set(_hiredis_${_hiredis_part} "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  if(DEFINED _hiredis_MAJOR AND DEFINED _hiredis_MINOR AND DEFINED _hiredis_PATCH)
    set(hiredis_VERSION "${_hiredis_MAJOR}.${_hiredis_MINOR}.${_hiredis_PATCH}")
  endif()
  unset(_hiredis_version_lines)
  unset(_hiredis_part)
  unset(_hiredis_MAJOR)
  unset(_hiredis_MINOR)
  unset(_hiredis_PATCH)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(hiredis
  REQUIRED_VARS hiredis_LIBRARY hiredis_INCLUDE_DIR
  VERSION_VAR hiredis_VERSION)

if(hiredis_FOUND AND NOT TARGET hiredis::hiredis)
  add_library(hiredis::hiredis UNKNOWN IMPORTED)
  set_target_properties(hiredis::hiredis PROPERTIES
    IMPORTED_LOCATION "${hiredis_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${hiredis_INCLUDE_DIR}")
endif()
mark_as_advanced(hiredis_INCLUDE_DIR hiredis_LIBRARY)
