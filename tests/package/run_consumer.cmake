# Driver of the package tests: builds tests/package/app.cpp and
# tests/package/newcomer.cpp (the program written from the docs) one way and
# runs them against a real redis-server (through redis_ha_with_server).
#
#   cmake -DMODE=find_package|add_subdirectory|vendored|vendored_src
#         -DSOURCE_DIR=<redis-ha source tree> -DPACKAGE_DIR=<tests/package>
#         -DWORK_DIR=<scratch dir, wiped first> -DWITH_SERVER=<redis_ha_with_server>
#         [-DMAIN_BINARY_DIR=<redis-ha build tree>]  (find_package: what to install)
#         [-DCXX_COMPILER=...] [-DGENERATOR=...] [-DBUILD_TYPE=...] [-DCONFIG=...]
#         -P run_consumer.cmake
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS MODE SOURCE_DIR PACKAGE_DIR WORK_DIR WITH_SERVER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${WITH_SERVER}")
  message(FATAL_ERROR "run_consumer.cmake: redis_ha_with_server not found at ${WITH_SERVER} (build it first)")
endif()

# run_step(<description> COMMAND <cmd>... ) -- runs a command, shows its
# output only when it fails, and stops the test with a clear message.
function(run_step what)
  cmake_parse_arguments(PARSE_ARGV 1 arg "SHOW_OUTPUT" "TIMEOUT" "COMMAND")
  string(REPLACE ";" " " pretty "${arg_COMMAND}")
  message(STATUS "[${MODE}] ${what}: ${pretty}")
  set(timeout_args)
  if(arg_TIMEOUT)
    set(timeout_args TIMEOUT ${arg_TIMEOUT})
  endif()
  execute_process(COMMAND ${arg_COMMAND}
                  RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out
                  ERROR_VARIABLE out
                  ${timeout_args})
  if(NOT rc STREQUAL "0")
    message("${out}")
    message(FATAL_ERROR "[${MODE}] ${what} FAILED (exit status: ${rc})\n  command: ${pretty}")
  endif()
  if(arg_SHOW_OUTPUT)
    message("${out}")
  endif()
endfunction()

# Arguments shared by the nested CMake configurations.
set(configure_args)
if(GENERATOR)
  list(APPEND configure_args -G "${GENERATOR}")
endif()
if(CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(BUILD_TYPE)
  list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()
set(config_args)
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

if(MODE STREQUAL "find_package")
  if(NOT MAIN_BINARY_DIR)
    message(FATAL_ERROR "run_consumer.cmake: find_package mode needs -DMAIN_BINARY_DIR=<redis-ha build tree>")
  endif()
  set(prefix "${WORK_DIR}/prefix")
  run_step("install redis-ha into ${prefix}"
           COMMAND "${CMAKE_COMMAND}" --install "${MAIN_BINARY_DIR}" --prefix "${prefix}" ${config_args})

  # What the package must contain.
  foreach(f IN ITEMS
      include/redis_ha.hpp
      include/redis_ha/connection.hpp
      share/cmake/redis_ha/redis_haConfig.cmake
      share/cmake/redis_ha/redis_haConfigVersion.cmake
      share/cmake/redis_ha/redis_haTargets.cmake
      share/cmake/redis_ha/redis_haDependencies.cmake
      share/cmake/redis_ha/redis_haCompiledTargets.cmake
      share/cmake/redis_ha/FindAsio.cmake
      share/cmake/redis_ha/Findhiredis.cmake)
    if(NOT EXISTS "${prefix}/${f}")
      message(FATAL_ERROR "[${MODE}] the installed package lacks ${f} (looked in ${prefix})")
    endif()
  endforeach()

  set(build "${WORK_DIR}/build")
  run_step("configure the consumer with find_package(redis_ha)"
           COMMAND "${CMAKE_COMMAND}" -S "${PACKAGE_DIR}/find_package" -B "${build}"
                   ${configure_args} "-DCMAKE_PREFIX_PATH=${prefix}")
  # It must have used the fresh install, not some other redis_ha on the machine.
  file(STRINGS "${build}/CMakeCache.txt" dir_line REGEX "^redis_ha_DIR:")
  string(REGEX REPLACE "^redis_ha_DIR:[A-Z]+=" "" found_dir "${dir_line}")
  file(REAL_PATH "${found_dir}" found_dir)
  file(REAL_PATH "${prefix}/share/cmake/redis_ha" expected_dir)
  if(NOT found_dir STREQUAL expected_dir)
    message(FATAL_ERROR "[${MODE}] find_package(redis_ha) used ${found_dir}, expected ${expected_dir}")
  endif()
  run_step("build the consumer" COMMAND "${CMAKE_COMMAND}" --build "${build}" ${config_args})
  set(app "${build}/app")
  set(newcomer "${build}/newcomer")
  set(app_compiled "${build}/app_compiled")
  if(CONFIG AND NOT EXISTS "${app}" AND EXISTS "${build}/${CONFIG}/app")
    set(app "${build}/${CONFIG}/app")
    set(newcomer "${build}/${CONFIG}/newcomer")
    set(app_compiled "${build}/${CONFIG}/app_compiled")
  endif()

elseif(MODE STREQUAL "add_subdirectory")
  set(build "${WORK_DIR}/build")
  run_step("configure the consumer with add_subdirectory(redis-ha)"
           COMMAND "${CMAKE_COMMAND}" -S "${PACKAGE_DIR}/add_subdirectory" -B "${build}"
                   ${configure_args} "-DREDIS_HA_SOURCE_DIR=${SOURCE_DIR}")
  run_step("build the consumer" COMMAND "${CMAKE_COMMAND}" --build "${build}" ${config_args})
  # Nothing of redis-ha's own tests or examples was configured or built.
  foreach(d IN ITEMS tests examples)
    if(EXISTS "${build}/redis_ha/${d}")
      message(FATAL_ERROR "[${MODE}] redis-ha configured its ${d}/ as a subproject: ${build}/redis_ha/${d} exists")
    endif()
  endforeach()
  set(app "${build}/app")
  set(newcomer "${build}/newcomer")
  set(app_compiled "${build}/app_compiled")
  if(CONFIG AND NOT EXISTS "${app}" AND EXISTS "${build}/${CONFIG}/app")
    set(app "${build}/${CONFIG}/app")
    set(newcomer "${build}/${CONFIG}/newcomer")
    set(app_compiled "${build}/${CONFIG}/app_compiled")
  endif()

elseif(MODE STREQUAL "vendored")
  # No CMake package at all: the include/ directory and the documented flags.
  if(NOT CXX_COMPILER)
    set(CXX_COMPILER g++)
  endif()
  # Exactly the flags docs/consuming.md gives (no -DASIO_STANDALONE).
  set(app "${WORK_DIR}/app")
  run_step("compile with plain ${CXX_COMPILER} -I include/"
           COMMAND "${CXX_COMPILER}" -std=c++17 -I "${SOURCE_DIR}/include"
                   "-DREDIS_HA_PACKAGE_WAY=\"vendored\""
                   "${PACKAGE_DIR}/app.cpp" -o "${app}"
                   -lhiredis -lfmt -pthread)
  set(newcomer "${WORK_DIR}/newcomer")
  run_step("compile the program written from the docs with plain ${CXX_COMPILER}"
           COMMAND "${CXX_COMPILER}" -std=c++17 -I "${SOURCE_DIR}/include"
                   "-DREDIS_HA_PACKAGE_WAY=\"vendored\""
                   "${PACKAGE_DIR}/newcomer.cpp" -o "${newcomer}"
                   -lhiredis -lfmt -pthread)

elseif(MODE STREQUAL "vendored_src")
  # Vendored, separate compilation: every file with -DREDIS_HA_SEPARATE_COMPILATION,
  # one of them including <redis_ha/src.hpp> (docs/consuming.md).
  if(NOT CXX_COMPILER)
    set(CXX_COMPILER g++)
  endif()
  file(WRITE "${WORK_DIR}/redis_ha_src.cpp" "#include <redis_ha/src.hpp>\n")
  set(flags -std=c++17 -O1 -I "${SOURCE_DIR}/include" -DREDIS_HA_SEPARATE_COMPILATION)
  run_step("compile src.hpp once" COMMAND "${CXX_COMPILER}" ${flags} -c "${WORK_DIR}/redis_ha_src.cpp"
                                          -o "${WORK_DIR}/redis_ha_src.o")
  foreach(prog IN ITEMS app newcomer)
    run_step("compile ${prog}.cpp in separate mode"
             COMMAND "${CXX_COMPILER}" ${flags} "-DREDIS_HA_PACKAGE_WAY=\"vendored, src.hpp\""
                     -c "${PACKAGE_DIR}/${prog}.cpp" -o "${WORK_DIR}/${prog}.o")
    run_step("link ${prog}" COMMAND "${CXX_COMPILER}" "${WORK_DIR}/${prog}.o" "${WORK_DIR}/redis_ha_src.o"
                                    -o "${WORK_DIR}/${prog}" -lhiredis -lfmt -pthread)
  endforeach()
  set(app "${WORK_DIR}/app")
  set(newcomer "${WORK_DIR}/newcomer")

else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}' (find_package, add_subdirectory or vendored)")
endif()

foreach(program IN ITEMS "${app}" "${newcomer}" ${app_compiled})
  if(NOT EXISTS "${program}")
    message(FATAL_ERROR "[${MODE}] a consumer program was not built: ${program} is missing")
  endif()
endforeach()
run_step("run the consumer against a fresh redis-server"
         SHOW_OUTPUT TIMEOUT 120
         COMMAND "${WITH_SERVER}" -- "${app}")
run_step("run the program written from the docs against a fresh redis-server"
         SHOW_OUTPUT TIMEOUT 120
         COMMAND "${WITH_SERVER}" -- "${newcomer}")
if(app_compiled)
  run_step("run the consumer linked to redis_ha::redis_ha_compiled against a fresh redis-server"
           SHOW_OUTPUT TIMEOUT 120
           COMMAND "${WITH_SERVER}" -- "${app_compiled}")
endif()
message(STATUS "[${MODE}] OK")
